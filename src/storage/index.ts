/**
 * The storage layer's factories. Callers decide paths; every store resolves writes only once they
 * are durable. Interfaces are in ./types.js.
 */
import type { BucketDirectory, IamStore, KmsKeyStore } from './types.js';
import { FsBlobStore, type FsBlobStoreOptions } from './fs/blob-store.js';
import { SqliteBucketDirectory } from './sqlite/bucket-directory.js';
import { SqliteConnection, type ConnectionOptions } from './sqlite/connection.js';
import { GLOBAL_MIGRATIONS } from './sqlite/global-schema.js';
import { SqliteIamStore } from './sqlite/iam-store.js';
import { SqliteKmsKeyStore } from './sqlite/kms-key-store.js';
import { SqliteRegionMetadataStore, type RegionStoreOptions } from './sqlite/region-metadata-store.js';

export type * from './types.js';
export { UploadNotFound, UploadPartChanged, WriteConditionFailed } from './errors.js';
export type { ConnectionOptions } from './sqlite/connection.js';
export type { RegionStoreOptions } from './sqlite/region-metadata-store.js';
export type { GroupCommitStats } from './sqlite/group-commit.js';
export { FsBlobStore, type FsBlobStoreOptions } from './fs/blob-store.js';
export { SqliteRegionMetadataStore } from './sqlite/region-metadata-store.js';

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
