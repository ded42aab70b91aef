/**
 * Runs every storage contract, unchanged, against the PostgreSQL implementations on a throwaway
 * PostgreSQL server (default collation ICU, not C); each test on a fresh copy of a migrated database.
 */
import { after, it } from 'node:test';
import { runBucketDirectoryContract } from './contract/bucket-directory.contract.js';
import { runIamStoreContract } from './contract/iam-store.contract.js';
import { runKmsKeyStoreContract } from './contract/kms-key-store.contract.js';
import { runRegionMetadataStoreContract } from './contract/region-metadata-store.contract.js';
import { PgBucketDirectory } from './postgres/bucket-directory.js';
import { PgIamStore } from './postgres/iam-store.js';
import { PgKmsKeyStore } from './postgres/kms-key-store.js';
import { PgRegionMetadataStore } from './postgres/region-metadata-store.js';
import { migratedDatabases } from './testing/postgres-databases.js';
import { postgresUnavailable, startThrowawayPostgres } from './testing/throwaway-postgres.js';

const skip = postgresUnavailable();
const server = skip ? undefined : await startThrowawayPostgres();
after(() => server?.destroy());
const fresh = server ? await migratedDatabases(server) : undefined;

function factory<T>(open: (t: Awaited<ReturnType<NonNullable<typeof fresh>>>) => T) {
  return async () => {
    if (!fresh) throw new Error(skip);
    const t = await fresh();
    return { store: open(t), cleanup: () => t.drop() };
  };
}

if (skip) {
  it('storage contracts on PostgreSQL', { skip }, () => undefined);
} else {
  runRegionMetadataStoreContract('postgres', factory((t) => new PgRegionMetadataStore(t.db, 'us-east-1')));
  runKmsKeyStoreContract('postgres', factory((t) => new PgKmsKeyStore(t.db, 'us-east-1')));
  runBucketDirectoryContract('postgres', factory((t) => new PgBucketDirectory(t.db)));
  runIamStoreContract('postgres', factory((t) => new PgIamStore(t.db)));
}
