/**
 * One PostgreSQL database (a connection pool) shared by every store of a deployment: the global
 * stores and each region's metadata and KMS keys. Transactions are short (a handful of statements,
 * never around a body upload or a network call) and retried when PostgreSQL aborts them for a
 * deadlock or serialization failure, which concurrent gateways can cause.
 *
 * Every commit is durable when it resolves as long as the server keeps synchronous_commit on (its
 * default); unlike the SQLite backend there is no group commit here: PostgreSQL batches WAL
 * flushes of concurrent commits itself (commit_delay / the WAL writer).
 */
import pg from 'pg';
import { ServiceError } from '../../common/errors.js';
import { MetadataUnavailable } from '../errors.js';

const { Pool, types } = pg;

// Epoch milliseconds, sequence numbers and counts are bigint/numeric in SQL; they stay far below
// 2^53 (epoch ms until the year 287,396), so they come back as numbers.
const INT8 = 20;
const NUMERIC = 1700;
const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === INT8 || oid === NUMERIC) return (value: string) => Number(value);
    return types.getTypeParser(oid, format as 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

export interface PgDatabaseOptions {
  /** Connections in the pool at most (default 10). */
  max?: number;
  /** Shown in pg_stat_activity. */
  applicationName?: string;
  /** How long to wait for a connection before failing (ms, default 10 s). */
  connectionTimeoutMs?: number;
}

/** Where statements run: a transaction's client, or the pool (each statement on its own). */
export interface Tx {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
}

/** Errors that mean "no database right now" rather than "this statement is wrong". */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
export function isUnavailable(e: unknown): boolean {
  if (e instanceof MetadataUnavailable) return true;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (UNAVAILABLE_CODES.has(code)) return true;
    // SQLSTATE class 08 (connection exception), 57P01-57P03 (shutdown, crash, cannot connect now), 53300 (too many connections).
    if (/^08/.test(code) || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300') return true;
  }
  const message = e instanceof Error ? e.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/.test(message);
}

/**
 * What to throw for a failed statement: MetadataUnavailable when the database is out of reach, a
 * 400 for text PostgreSQL cannot store (U+0000 in a key: SQLite stores it, PostgreSQL `text`
 * cannot), else the error itself.
 */
function unavailableOr(e: unknown): unknown {
  if (isUnavailable(e) && !(e instanceof MetadataUnavailable)) return new MetadataUnavailable(e);
  if ((e as { code?: unknown }).code === '22021') {
    return new ServiceError('InvalidArgument', 400, 'Object keys, upload ids and version ids containing the character U+0000 cannot be stored by this deployment (PostgreSQL metadata).');
  }
  return e;
}

/** SQLSTATEs after which the whole transaction may simply run again. */
const RETRYABLE = new Set(['40001', '40P01']); // serialization_failure, deadlock_detected
const MAX_ATTEMPTS = 20;

export class PgDatabase {
  readonly pool: pg.Pool;
  private closing: Promise<void> | undefined;

  constructor(readonly url: string, options: PgDatabaseOptions = {}) {
    this.pool = new Pool({
      connectionString: url,
      max: options.max ?? 10,
      application_name: options.applicationName ?? 'meridian',
      connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
      types: typeParsers,
    });
    // An idle client that loses its connection (server restart) must not crash the process: the
    // pool drops it and the next checkout opens a new one.
    this.pool.on('error', () => undefined);
  }

  /** Statements outside a transaction, each on its own (the pool as a Tx). */
  get direct(): Tx {
    return {
      query: async <R extends pg.QueryResultRow>(sql: string, params?: unknown[]) => {
        try {
          return await this.pool.query<R>(sql, params);
        } catch (e) {
          throw unavailableOr(e);
        }
      },
    };
  }

  /** One statement outside a transaction (reads, single-statement writes). */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    try {
      return (await this.pool.query<R>(sql, params as unknown[])).rows;
    } catch (e) {
      throw unavailableOr(e);
    }
  }

  /** One statement; the number of rows it changed. */
  async execute(sql: string, params: readonly unknown[] = []): Promise<number> {
    try {
      return (await this.pool.query(sql, params as unknown[])).rowCount ?? 0;
    } catch (e) {
      throw unavailableOr(e);
    }
  }

  /**
   * Run `fn` in a READ COMMITTED transaction and commit. On a deadlock or serialization failure
   * the transaction is rolled back and `fn` runs again (it must have no effect outside the
   * transaction); any other error rolls back and rejects.
   */
  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (e) {
        throw unavailableOr(e);
      }
      let broken = false;
      // The connection may die between two statements (PostgreSQL shut down): with no query running,
      // the client emits 'error', which would end the process if nobody listened. The next statement fails anyway.
      const onError = () => {
        broken = true;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (e) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true; // the connection is gone; do not return it to the pool
        }
        const code = (e as { code?: string }).code;
        if (code && RETRYABLE.has(code) && attempt < MAX_ATTEMPTS) continue;
        if (isUnavailable(e)) broken = true;
        throw unavailableOr(e);
      } finally {
        client.off('error', onError);
        client.release(broken ? true : undefined);
      }
    }
  }

  get isOpen(): boolean {
    return this.closing === undefined;
  }

  /** Close every connection. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= this.pool.end();
    return this.closing;
  }
}

/** A stable 64-bit lock id for pg_advisory_xact_lock, from text (hashtextextended in SQL). */
export const ADVISORY_LOCK_SQL = 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))';

/** The lock name of one key of one bucket of one region: every write of that key takes it first. */
export function keyLockName(region: string, bucket: string, key: string): string {
  // Region and bucket names contain no '/', so the joined name is unambiguous.
  return `object/${region}/${bucket}/${key}`;
}
