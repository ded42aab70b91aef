/**
 * The storage layer's factories. Callers decide paths; every store resolves writes only once they
 * are durable. Interfaces are in ./types.js.
 */
import type { BackgroundLeadership, BucketDirectory, IamStore, KmsKeyStore, PeerNonceStore, RegionMetadataStore } from './types.js';
import { FsBlobStore, type FsBlobStoreOptions } from './fs/blob-store.js';
import { SqliteBucketDirectory } from './sqlite/bucket-directory.js';
import { SqliteConnection, type ConnectionOptions } from './sqlite/connection.js';
import { GLOBAL_MIGRATIONS } from './sqlite/global-schema.js';
import { SqliteIamStore } from './sqlite/iam-store.js';
import { SqliteKmsKeyStore } from './sqlite/kms-key-store.js';
import { SqliteRegionMetadataStore, type RegionStoreOptions } from './sqlite/region-metadata-store.js';
import type { Clock } from '../common/clock.js';
import type { PgDatabaseOptions } from './postgres/database.js';
import type { OutboxWakeUp } from './postgres/outbox-notifications.js';
import Database from 'better-sqlite3';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REGION_MIGRATIONS } from './sqlite/region-schema.js';

export type * from './types.js';
export { MetadataUnavailable, UploadNotFound, UploadPartChanged, WriteConditionFailed } from './errors.js';
export type { ConnectionOptions } from './sqlite/connection.js';
export type { RegionStoreOptions } from './sqlite/region-metadata-store.js';
export type { GroupCommitStats } from './sqlite/group-commit.js';
export { FsBlobStore, type FsBlobStoreOptions } from './fs/blob-store.js';
export { SqliteRegionMetadataStore } from './sqlite/region-metadata-store.js';
export { SchemaVersionMismatch, PG_SCHEMA_VERSION } from './postgres/migrate.js';
export type { PgDatabaseOptions } from './postgres/database.js';

/** One region's metadata database (created on first use). Its KMS keys live in the same file: see openKmsKeyStore. */
export function openRegionMetadataStore(path: string, region: string, options?: RegionStoreOptions): SqliteRegionMetadataStore {
  return SqliteRegionMetadataStore.open(path, region, options);
}

/** The KMS key store of a region: same database file and group commit as the region's metadata; closed with it. */
export function openKmsKeyStore(regionStore: SqliteRegionMetadataStore): KmsKeyStore {
  return new SqliteKmsKeyStore(regionStore.connection);
}

export interface GlobalStores {
  directory: BucketDirectory;
  iam: IamStore;
  /** Let pending writes commit, then close the file. */
  close(): Promise<void>;
}

/** The global database (bucket-name directory + IAM/STS) in one file, sharing one group commit. */
export function openGlobalStores(path: string, options?: ConnectionOptions): GlobalStores {
  const conn = SqliteConnection.open(path, GLOBAL_MIGRATIONS, options);
  return {
    directory: new SqliteBucketDirectory(conn),
    iam: new SqliteIamStore(conn),
    close: () => conn.close(),
  };
}

/** A bucket directory alone in its own file (tests, tools). */
export function openBucketDirectory(path: string, options?: ConnectionOptions): BucketDirectory & { close(): Promise<void> } {
  return SqliteBucketDirectory.open(path, options);
}

/** An IAM store alone in its own file (tests, tools). */
export function openIamStore(path: string, options?: ConnectionOptions): IamStore {
  return SqliteIamStore.open(path, options);
}

/** The filesystem blob store of a region's data directory. Cleans leftover temp files on creation. */
export function createFsBlobStore(dir: string, options?: FsBlobStoreOptions): FsBlobStore {
  return new FsBlobStore(dir, options);
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL (MERIDIAN_METADATA_URL): every region's metadata and the global stores in one database

/** The PostgreSQL metadata of a deployment: one connection pool for the global stores and every region. */
export interface PostgresMetadata {
  readonly url: string;
  global: GlobalStores;
  /** A region's metadata store (rows tagged with the region); closing it leaves the pool open. */
  regionStore(region: string, options?: { clock?: Clock }): RegionMetadataStore;
  /** A region's KMS key store. */
  kmsKeyStore(region: string): KmsKeyStore;
  /**
   * Told when any gateway commits replication tasks for a region (LISTEN/NOTIFY), and with
   * undefined after each (re)connection of the listening session (poll every region once).
   */
  onOutboxWork(fn: OutboxWakeUp): () => void;
  /** Split mode: the peer-protocol nonces every gateway on this database has accepted. */
  peerNonces: PeerNonceStore;
  /** Leader election for the time-driven background work among the gateways on this database (its own connection). */
  leadership(options: { retryMs: number; onError?: (e: unknown) => void }): BackgroundLeadership;
  /** Close the pool and the listening session (after every store is done). */
  close(): Promise<void>;
}

/**
 * Embedded SQLite: the files belong to this process (or its cluster, whose primary names the worker
 * that runs the background work), so there is no one to compete with: it leads from start.
 */
export function soleLeadership(): BackgroundLeadership {
  let leader = false;
  return {
    get leader() {
      return leader;
    },
    start(onChange) {
      if (leader) return;
      leader = true;
      onChange(true);
    },
    close: async () => undefined,
  };
}

export { isPostgresUrl } from './metadata-url.js';

/**
 * Open the PostgreSQL metadata database and check its schema: it must be at exactly this build's
 * version (older: run `meridian migrate`; newer: this build is too old). Rejects with
 * SchemaVersionMismatch or the connection error, and closes the pool it opened. The PostgreSQL
 * stores and their driver are loaded only here (postgres-metadata.ts): an embedded server never
 * carries them (about 15 MB per process).
 */
export async function openPostgresMetadata(url: string, options: PgDatabaseOptions = {}): Promise<PostgresMetadata> {
  return (await import('./postgres-metadata.js')).openPostgresMetadata(url, options);
}

/** Create or upgrade the PostgreSQL schema (`meridian migrate`). */
export async function migratePostgresMetadata(url: string): Promise<{ from: number; to: number }> {
  return (await import('./postgres-metadata.js')).migratePostgresMetadata(url);
}

/** The schema version of a PostgreSQL metadata database (0: none yet) and the one this build needs. */
export async function postgresMetadataVersion(url: string): Promise<{ found: number; known: number }> {
  return (await import('./postgres-metadata.js')).postgresMetadataVersion(url);
}

// ---------------------------------------------------------------------------------------------
// SQLite migrations (`meridian migrate` without a metadata URL)

/**
 * Bring the SQLite files of a data directory to this build's schema: the global database (created
 * if missing) and every region's meta.db present. Opening a file migrates it (as the server does on
 * start); this reports the versions before and after. Refuses a file newer than this build.
 */
export async function migrateSqliteMetadata(dataDir: string): Promise<{ file: string; from: number; to: number }[]> {
  const files: { file: string; migrations: readonly string[] }[] = [{ file: join(dataDir, 'global', 'global.db'), migrations: GLOBAL_MIGRATIONS }];
  if (existsSync(dataDir)) {
    for (const d of readdirSync(dataDir).sort()) {
      const meta = join(dataDir, d, 'meta.db');
      if (existsSync(meta)) files.push({ file: meta, migrations: REGION_MIGRATIONS });
    }
  }
  const out: { file: string; from: number; to: number }[] = [];
  for (const { file, migrations } of files) {
    let from = 0;
    if (existsSync(file)) {
      const peek = new Database(file, { readonly: true });
      try {
        from = peek.pragma('user_version', { simple: true }) as number;
      } finally {
        peek.close();
      }
    }
    const conn = SqliteConnection.open(file, migrations);
    await conn.close();
    out.push({ file, from, to: migrations.length });
  }
  return out;
}
