/**
 * Versioned migrations of the PostgreSQL schema, tracked in `schema_version` (one row per applied
 * migration). `meridian migrate` applies what is missing, under a session advisory lock so that
 * two migrating processes do not race; each migration commits with its version row or not at all.
 * A gateway only checks: it refuses a schema newer than it knows and, on an older one, says to run
 * `meridian migrate` (it never upgrades a shared database by itself while other gateways run).
 */
import type { PgDatabase } from './database.js';
import { PG_MIGRATIONS } from './schema.js';

/** The schema version this build writes and reads. */
export const PG_SCHEMA_VERSION = PG_MIGRATIONS.length;

/** Session lock id held while migrating (any constant unlikely to collide with other applications). */
const MIGRATION_LOCK = 'meridian schema migration';

/** The database's schema is not the one this build knows. */
export class SchemaVersionMismatch extends Error {
  constructor(
    readonly found: number,
    readonly known: number,
  ) {
    super(
      found > known
        ? `the metadata database has schema version ${found}, newer than this build of Meridian knows (${known}): upgrade Meridian, or point it at another database`
        : `the metadata database has schema version ${found}; this build of Meridian needs ${known}: run \`meridian migrate\` (with the same metadata URL) first`,
    );
    this.name = 'SchemaVersionMismatch';
  }
}

/** The version the database is at (0: no Meridian schema yet). */
export async function postgresSchemaVersion(db: PgDatabase): Promise<number> {
  const [exists] = await db.query<{ t: string | null }>(`SELECT to_regclass('schema_version')::text AS t`);
  if (!exists?.t) return 0;
  const [row] = await db.query<{ v: number | null }>('SELECT max(version)::int AS v FROM schema_version');
  return row?.v ?? 0;
}

/** Reject unless the database is at exactly the version this build knows. */
export async function checkPostgresSchema(db: PgDatabase): Promise<void> {
  const found = await postgresSchemaVersion(db);
  if (found !== PG_SCHEMA_VERSION) throw new SchemaVersionMismatch(found, PG_SCHEMA_VERSION);
}

/** Apply the migrations the database lacks. Idempotent; refuses a database newer than this build. */
export async function migratePostgres(db: PgDatabase): Promise<{ from: number; to: number }> {
  const client = await db.pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [MIGRATION_LOCK]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_version (
        version integer PRIMARY KEY,
        description text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const from = (await client.query<{ v: number | null }>('SELECT max(version)::int AS v FROM schema_version')).rows[0]?.v ?? 0;
      if (from > PG_SCHEMA_VERSION) throw new SchemaVersionMismatch(from, PG_SCHEMA_VERSION);
      for (let v = from; v < PG_SCHEMA_VERSION; v++) {
        const m = PG_MIGRATIONS[v]!;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_version (version, description) VALUES ($1, $2)', [v + 1, m.description]);
          await client.query('COMMIT');
        } catch (e) {
          await client.query('ROLLBACK');
          throw new Error(`migration ${v + 1} (${m.description}) failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
        }
      }
      return { from, to: PG_SCHEMA_VERSION };
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [MIGRATION_LOCK]);
    }
  } finally {
    client.release();
  }
}
