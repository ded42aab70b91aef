/**
 * Opening the PostgreSQL metadata backend: the stores over one pool, the LISTEN session, leader
 * election, and the schema checks and migrations. Imported on demand by index.ts, so a server on
 * the embedded SQLite backend never loads the driver.
 */
import { PgBucketDirectory } from './postgres/bucket-directory.js';
import { PgDatabase, type PgDatabaseOptions } from './postgres/database.js';
import { PgIamStore } from './postgres/iam-store.js';
import { PgKmsKeyStore } from './postgres/kms-key-store.js';
import { PgLeadership } from './postgres/leadership.js';
import { PgPeerNonceStore } from './postgres/peer-nonces.js';
import { checkPostgresSchema, migratePostgres, PG_SCHEMA_VERSION, postgresSchemaVersion } from './postgres/migrate.js';
import { PgRegionMetadataStore } from './postgres/region-metadata-store.js';
import { OutboxNotificationListener } from './postgres/outbox-notifications.js';
import type { PostgresMetadata } from './index.js';

/**
 * Open the PostgreSQL metadata database and check its schema: it must be at exactly this build's
 * version (older: run `meridian migrate`; newer: this build is too old). Rejects with
 * SchemaVersionMismatch or the connection error, and closes the pool it opened.
 */
export async function openPostgresMetadata(url: string, options: PgDatabaseOptions = {}): Promise<PostgresMetadata> {
  const db = new PgDatabase(url, options);
  try {
    await checkPostgresSchema(db);
  } catch (e) {
    await db.close();
    throw e;
  }
  let listener: OutboxNotificationListener | undefined;
  return {
    url,
    global: { directory: new PgBucketDirectory(db), iam: new PgIamStore(db), close: async () => undefined },
    regionStore: (region, o = {}) => new PgRegionMetadataStore(db, region, o.clock ? { clock: o.clock } : {}),
    kmsKeyStore: (region) => new PgKmsKeyStore(db, region),
    peerNonces: new PgPeerNonceStore(db),
    onOutboxWork: (fn) => (listener ??= new OutboxNotificationListener(url, options.applicationName ?? 'meridian')).subscribe(fn),
    leadership: (o) => new PgLeadership({ url, retryMs: o.retryMs, applicationName: `${options.applicationName ?? 'meridian'} (leader election)`, ...(o.onError ? { onError: o.onError } : {}) }),
    close: async () => {
      await listener?.close();
      await db.close();
    },
  };
}

/** Create or upgrade the PostgreSQL schema (`meridian migrate`). */
export async function migratePostgresMetadata(url: string): Promise<{ from: number; to: number }> {
  const db = new PgDatabase(url, { max: 1 });
  try {
    return await migratePostgres(db);
  } finally {
    await db.close();
  }
}

/** The schema version of a PostgreSQL metadata database (0: none yet) and the one this build needs. */
export async function postgresMetadataVersion(url: string): Promise<{ found: number; known: number }> {
  const db = new PgDatabase(url, { max: 1 });
  try {
    return { found: await postgresSchemaVersion(db), known: PG_SCHEMA_VERSION };
  } finally {
    await db.close();
  }
}
