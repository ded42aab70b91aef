/**
 * A throwaway PostgreSQL per test file (see src/storage/testing/throwaway-postgres.ts): initdb as
 * the postgres user into a temp directory, random loopback port, torn down after.
 */
export {
  postgresBinDir,
  postgresUnavailable,
  startThrowawayPostgres,
  type ThrowawayPostgres,
  type ThrowawayPostgresOptions,
} from '../../src/storage/testing/throwaway-postgres.js';
