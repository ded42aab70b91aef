/**
 * Fresh, migrated PostgreSQL databases for storage tests: the schema is migrated once into a
 * template database, and each test gets its own copy (CREATE DATABASE … TEMPLATE), dropped after.
 */
import { PgDatabase, type PgDatabaseOptions } from '../postgres/database.js';
import { migratePostgres } from '../postgres/migrate.js';
import type { ThrowawayPostgres } from './throwaway-postgres.js';

export interface TestDatabase {
  db: PgDatabase;
  url: string;
  /** Close the pool and drop the database. */
  drop(): Promise<void>;
}

let templates = 0;

/** Migrate a template once; the returned function hands out fresh copies of it. */
export async function migratedDatabases(server: ThrowawayPostgres): Promise<(options?: PgDatabaseOptions) => Promise<TestDatabase>> {
  const template = `meridian_template_${process.pid}_${++templates}`;
  const setup = new PgDatabase(await server.createDatabase(template), { max: 1 });
  try {
    await migratePostgres(setup);
  } finally {
    await setup.close();
  }
  let n = 0;
  return async (options) => {
    const name = `${template}_copy_${++n}`;
    await server.psql(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
    const url = server.urlFor(name);
    const db = new PgDatabase(url, options);
    return {
      db,
      url,
      drop: async () => {
        await db.close();
        await server.psql(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      },
    };
  };
}
