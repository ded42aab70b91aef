/**
 * Opening a SQLite file the way every Meridian store wants it: WAL, durable commits, foreign keys,
 * a busy timeout, and schema migrations tracked in PRAGMA user_version.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type SqliteDatabase = Database.Database;

export interface OpenDatabaseOptions {
  /** Ordered migration scripts; migration i brings the schema from version i to i + 1. */
  migrations: readonly string[];
  /** How long a statement waits for another connection's lock before SQLITE_BUSY (ms). */
  busyTimeoutMs?: number;
}

/** Open (creating if needed) a database file and bring its schema up to date. */
export function openDatabase(path: string, options: OpenDatabaseOptions): SqliteDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    // FULL: the WAL is fsynced at every commit, so a commit is durable when it returns.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
    migrate(db, options.migrations);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/** Apply the migrations the database has not seen yet, each in its own transaction. Idempotent. */
export function migrate(db: SqliteDatabase, migrations: readonly string[]): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new Error(
      `database schema version ${current} is newer than this build knows (${migrations.length}); refusing to open`,
    );
  }
  for (let v = current; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}
