/**
 * One open SQLite file with its group commit and a prepared-statement cache. Several stores can
 * share a connection (the global file holds the bucket directory and IAM; a region file holds the
 * region metadata and its KMS keys), so they also share commits.
 */
import type Database from 'better-sqlite3';
import { currentReadEpoch } from '../../common/read-epoch.js';
import { GroupCommit, type WriteOptions } from './group-commit.js';
import { openDatabase, type SqliteDatabase } from './open-database.js';

export interface ConnectionOptions {
  busyTimeoutMs?: number;
  /** Operations per group-commit transaction at most. */
  maxBatch?: number;
}

export class SqliteConnection {
  readonly commits: GroupCommit;
  private readonly statements = new Map<string, Database.Statement>();
  private closing: Promise<void> | undefined;
  private readonly localChanges = new Map<string, number>();
  private dataVersionSeen: { epoch: number; value: unknown } | undefined;

  constructor(readonly db: SqliteDatabase, options: ConnectionOptions = {}) {
    this.commits = new GroupCommit(db, options.maxBatch);
  }

  static open(path: string, migrations: readonly string[], options: ConnectionOptions = {}): SqliteConnection {
    const db = openDatabase(path, { migrations, ...(options.busyTimeoutMs !== undefined ? { busyTimeoutMs: options.busyTimeoutMs } : {}) });
    return new SqliteConnection(db, options);
  }

  /** A prepared statement, compiled once per SQL text. */
  stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** SQL texts prepared so far (tests check their query plans). */
  preparedSql(): string[] {
    return [...this.statements.keys()];
  }

  /** Queue a synchronous write; resolves after its transaction is durable (committed only, with `durable: false`). */
  write<T>(fn: () => T, options?: WriteOptions): Promise<T> {
    return this.commits.write(fn, options);
  }

  /** Run a synchronous read at once. */
  read<T>(fn: () => T): Promise<T> {
    return this.commits.read(fn);
  }

  /**
   * Called inside a write that changes rows of `topic` (e.g. 'buckets', 'kms'): caches of that topic
   * on this connection (row-cache.ts) drop what they hold, whichever store object wrote.
   */
  noteChange(topic: string): void {
    this.localChanges.set(topic, (this.localChanges.get(topic) ?? 0) + 1);
  }

  /** How many writes through this connection changed `topic` so far. */
  changesTo(topic: string): number {
    return this.localChanges.get(topic) ?? 0;
  }

  /**
   * SQLite's PRAGMA data_version: it moves when ANOTHER connection (another process) commits, never
   * for this connection's own commits. Read at most once per read epoch (common/read-epoch.ts), so
   * every cache on this connection shares one check per request. Call it inside a read.
   */
  dataVersion(): unknown {
    const epoch = currentReadEpoch();
    if (this.dataVersionSeen?.epoch !== epoch) this.dataVersionSeen = { epoch, value: this.stmt('PRAGMA data_version').pluck().get() };
    return this.dataVersionSeen.value;
  }

  get isOpen(): boolean {
    return this.db.open && this.closing === undefined;
  }

  /** Let queued writes commit, then close the file. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.commits.close();
      this.statements.clear();
      this.db.close();
    })();
    return this.closing;
  }
}
