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
    // First, so that everything below waits for other processes (cluster workers, tools) instead of
    // failing with SQLITE_BUSY, including the switch to WAL on a file another process is creating.
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
    db.pragma('journal_mode = WAL');
    // FULL while migrating (each migration durable when it returns); the group commit that takes the
    // connection over switches to NORMAL and fsyncs the WAL itself, off the event loop.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db, options.migrations);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/**
 * Apply the migrations the database has not seen yet, each in its own transaction. Idempotent, and
 * safe when several processes open the same file at once (cluster workers): the version is read
 * again under the write lock, so a migration another process applied meanwhile is not applied twice.
 */
export function migrate(db: SqliteDatabase, migrations: readonly string[]): void {
  const version = () => db.pragma('user_version', { simple: true }) as number;
  const tooNew = (v: number) => new Error(`database schema version ${v} is newer than this build knows (${migrations.length}); refusing to open`);
  if (version() > migrations.length) throw tooNew(version());
  while (version() < migrations.length) {
    db.transaction(() => {
      const v = version();
      if (v >= migrations.length) return;
      db.exec(migrations[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}
