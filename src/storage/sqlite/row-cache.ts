/**
 * Rows that nearly every request reads (its access key, its bucket, the bucket's policy, encryption
 * and replication configurations), kept in memory for one SQLite connection and dropped as soon as
 * they may be stale. Each was a statement of its own per request, and in a server under load each
 * cost far more than the same statement in a loop (measured: 4–5 µs alone, 15–20 µs in the server).
 *
 * What drops them:
 * - a write through this connection: writes of the cached tables call `conn.noteChange(topic)`
 *   inside the write, or, with `clearOnAnyCommit`, any transaction this connection commits does;
 * - a commit by any other connection (another cluster worker, a CLI command): SQLite's
 *   `PRAGMA data_version` moves. With a `counter` (a one-row table that triggers on the cached
 *   tables bump), the rows are dropped only if it moved too, so other workers' object writes do not
 *   empty the cache; without one, any other commit does.
 * The database is asked at most once per read epoch (common/read-epoch.ts): once per request.
 *
 * Values are the raw rows (or undefined for "no row"); callers build fresh objects from them, so no
 * caller can change what another one reads.
 */
import type { SqliteConnection } from './connection.js';

export interface RowCacheOptions {
  /** The topic this connection's writes of the cached tables note (SqliteConnection.noteChange). */
  topic?: string;
  /** SQL reading a change counter bumped by triggers on the cached tables, in any connection. */
  counterSql?: string;
  /** Drop everything when this connection commits any transaction (for rarely written files). */
  clearOnAnyCommit?: boolean;
  /** Entries at most; when full the cache starts over (keys are names a client can make up). */
  maxEntries?: number;
  /** Keep "no row" answers too (default true); off where a client can ask for endless made-up keys. */
  keepMisses?: boolean;
}

export class RowCache<V> {
  private readonly rows = new Map<string, V>();
  private localChanges = 0;
  private transactions = -1;
  private dataVersion: unknown;
  private counter: unknown;
  private readonly maxEntries: number;

  constructor(
    private readonly conn: SqliteConnection,
    private readonly opts: RowCacheOptions = {},
  ) {
    this.maxEntries = opts.maxEntries ?? 10_000;
  }

  /** The cached row for key, or load() read now and kept. Call it inside a read (synchronously). */
  get(key: string, load: () => V): V {
    this.validate();
    if (this.rows.has(key)) return this.rows.get(key) as V;
    const value = load();
    if (value === undefined && this.opts.keepMisses === false) return value;
    if (this.rows.size >= this.maxEntries) this.rows.clear();
    this.rows.set(key, value);
    return value;
  }

  private validate(): void {
    const { topic, clearOnAnyCommit, counterSql } = this.opts;
    if (topic !== undefined) {
      const n = this.conn.changesTo(topic);
      if (n !== this.localChanges) {
        this.localChanges = n;
        this.rows.clear();
      }
    }
    if (clearOnAnyCommit) {
      const t = this.conn.commits.stats.transactions;
      if (t !== this.transactions) {
        this.transactions = t;
        this.rows.clear();
      }
    }
    const dataVersion = this.conn.dataVersion();
    if (dataVersion === this.dataVersion) return;
    this.dataVersion = dataVersion;
    if (counterSql === undefined) {
      this.rows.clear();
      return;
    }
    const counter = this.conn.stmt(counterSql).pluck().get();
    if (counter !== this.counter) {
      this.counter = counter;
      this.rows.clear();
    }
  }
}
