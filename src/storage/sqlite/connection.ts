/**
 * One open SQLite file with its group commit and a prepared-statement cache. Several stores can
 * share a connection (the global file holds the bucket directory and IAM; a region file holds the
 * region metadata and its KMS keys), so they also share commits.
 */
import type Database from 'better-sqlite3';
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
