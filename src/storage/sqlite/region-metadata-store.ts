/**
 * RegionMetadataStore on one SQLite file per region. The concerns live in their own files
 * (region-buckets, region-objects, region-multipart, region-outbox); this class wires them to one
 * connection, so every write of the region (KMS keys included) shares the group commit.
 */
import { systemClock, type Clock } from '../../common/clock.js';
import type {
  BucketRecord,
  CompletedUpload,
  ListLatestOptions,
  ListVersionsOptions,
  MultipartUpload,
  NewOutboxTask,
  ObjectVersion,
  OutboxTask,
  RegionMetadataStore,
  ReplicationBacklog,
  ReplicationFailureCount,
  ReplicationOutcomeUpdate,
  ReplicationStatus,
  StoredObjectVersion,
  VersionSummary,
  UploadedPart,
  WriteCondition,
} from '../types.js';
import { SqliteConnection, type ConnectionOptions } from './connection.js';
import { RegionBuckets } from './region-buckets.js';
import { RegionMultipart } from './region-multipart.js';
import { RegionObjects } from './region-objects.js';
import { RegionOutbox } from './region-outbox.js';
import { REGION_MIGRATIONS } from './region-schema.js';

export interface RegionStoreOptions extends ConnectionOptions {
  /** Clock for outbox timestamps (createdAt, default notBefore). */
  clock?: Clock;
}

export class SqliteRegionMetadataStore implements RegionMetadataStore {
  private readonly buckets: RegionBuckets;
  private readonly objects: RegionObjects;
  private readonly multipart: RegionMultipart;
  private readonly outbox: RegionOutbox;

  constructor(
    /** The region's database; the KMS key store of the region uses it too. */
    readonly connection: SqliteConnection,
    readonly region: string,
    options: RegionStoreOptions = {},
  ) {
    this.buckets = new RegionBuckets(connection);
    this.outbox = new RegionOutbox(connection);
    this.objects = new RegionObjects(connection, this.outbox, options.clock ?? systemClock);
    this.multipart = new RegionMultipart(connection, this.objects);
  }

  static open(path: string, region: string, options: RegionStoreOptions = {}): SqliteRegionMetadataStore {
    return new SqliteRegionMetadataStore(SqliteConnection.open(path, REGION_MIGRATIONS, options), region, options);
  }

  // Buckets
  createBucket(bucket: BucketRecord): Promise<void> {
    return this.buckets.create(bucket);
  }
  getBucket(name: string): Promise<BucketRecord | undefined> {
    return this.buckets.get(name);
  }
  listBuckets(): Promise<BucketRecord[]> {
    return this.buckets.list();
  }
  updateBucket(name: string, patch: Partial<Omit<BucketRecord, 'name' | 'region'>>): Promise<void> {
    return this.buckets.update(name, patch);
  }
  deleteBucket(name: string): Promise<void> {
    return this.buckets.delete(name);
  }
  bucketHasContent(name: string): Promise<boolean> {
    return this.buckets.hasContent(name);
  }
  getBucketConfig<T = unknown>(bucket: string, kind: string): Promise<T | undefined> {
    return this.buckets.getConfig<T>(bucket, kind);
  }
  putBucketConfig(bucket: string, kind: string, value: unknown): Promise<void> {
    return this.buckets.putConfig(bucket, kind, value);
  }
  deleteBucketConfig(bucket: string, kind: string): Promise<void> {
    return this.buckets.deleteConfig(bucket, kind);
  }

  // Object versions
  putObjectVersion(version: ObjectVersion, outbox?: NewOutboxTask[], condition?: WriteCondition): Promise<{ displaced?: StoredObjectVersion }> {
    return this.objects.put(version, outbox, condition);
  }
  getObjectVersion(bucket: string, key: string, versionId?: string, options?: { withData?: boolean }): Promise<StoredObjectVersion | undefined> {
    return this.objects.get(bucket, key, versionId, options?.withData ?? true);
  }
  deleteObjectVersion(bucket: string, key: string, versionId: string): Promise<StoredObjectVersion | undefined> {
    return this.objects.delete(bucket, key, versionId);
  }
  listLatest(bucket: string, options: ListLatestOptions): Promise<StoredObjectVersion[]> {
    return this.objects.listLatest(bucket, options);
  }
  listVersions(bucket: string, options: ListVersionsOptions): Promise<StoredObjectVersion[]> {
    return this.objects.listVersions(bucket, options);
  }
  listLatestSummaries(bucket: string, options: ListLatestOptions): Promise<VersionSummary[]> {
    return this.objects.listLatestSummaries(bucket, options);
  }
  listVersionSummaries(bucket: string, options: ListVersionsOptions): Promise<VersionSummary[]> {
    return this.objects.listVersionSummaries(bucket, options);
  }
  updateReplication(
    bucket: string,
    key: string,
    versionId: string,
    update: { status: ReplicationStatus; destination?: string; failureReason?: string; ruleId?: string },
  ): Promise<void> {
    return this.objects.updateReplication(bucket, key, versionId, update);
  }
  putObjectTags(bucket: string, key: string, versionId: string, tags: Record<string, string> | undefined, outbox?: NewOutboxTask[]): Promise<void> {
    return this.objects.putTags(bucket, key, versionId, tags, outbox);
  }
  getObjectAcl<T = unknown>(bucket: string, key: string, versionId: string): Promise<T | undefined> {
    return this.objects.getAcl<T>(bucket, key, versionId);
  }
  putObjectAcl(bucket: string, key: string, versionId: string, acl: unknown): Promise<void> {
    return this.objects.putAcl(bucket, key, versionId, acl);
  }
  isBlobReferenced(fileId: string): Promise<boolean> {
    return this.connection.read(() => {
      const row = this.connection
        .stmt(`SELECT EXISTS (SELECT 1 FROM version_blobs WHERE file_id = ?)
                   OR EXISTS (SELECT 1 FROM upload_parts WHERE blob_file_id = ?) AS used`)
        .get(fileId, fileId) as { used: number };
      return row.used === 1;
    });
  }

  // Multipart
  createUpload(upload: MultipartUpload): Promise<void> {
    return this.multipart.create(upload);
  }
  getUpload(uploadId: string): Promise<MultipartUpload | undefined> {
    return this.multipart.get(uploadId);
  }
  putPart(uploadId: string, part: UploadedPart): Promise<{ replaced?: UploadedPart }> {
    return this.multipart.putPart(uploadId, part);
  }
  listParts(uploadId: string, options?: { partNumberMarker?: number; limit?: number }): Promise<UploadedPart[]> {
    return this.multipart.listParts(uploadId, options);
  }
  listUploads(
    bucket: string,
    options: { prefix?: string; keyMarker?: string; uploadIdMarker?: string; limit: number },
  ): Promise<MultipartUpload[]> {
    return this.multipart.list(bucket, options);
  }
  completeUpload(
    uploadId: string,
    version: ObjectVersion,
    outbox?: NewOutboxTask[],
    condition?: WriteCondition,
  ): Promise<{ unusedParts: UploadedPart[]; displaced?: StoredObjectVersion }> {
    return this.multipart.complete(uploadId, version, outbox, condition);
  }
  getCompletedUpload(uploadId: string): Promise<CompletedUpload | undefined> {
    return this.multipart.getCompleted(uploadId);
  }
  pruneCompletedUploads(before: number): Promise<number> {
    return this.multipart.pruneCompleted(before);
  }
  abortUpload(uploadId: string): Promise<UploadedPart[] | undefined> {
    return this.multipart.abort(uploadId);
  }

  // Replication outbox
  claimOutboxTasks(now: number, limit: number, leaseMs: number): Promise<OutboxTask[]> {
    return this.outbox.claim(now, limit, leaseMs);
  }
  completeOutboxTask(id: number, outcome?: ReplicationOutcomeUpdate): Promise<void> {
    if (!outcome) return this.outbox.complete(id);
    return this.connection.write(() => {
      const { bucket, key, versionId, ...update } = outcome;
      this.objects.updateReplicationSync(bucket, key, versionId, update);
      this.outbox.completeSync(id);
    });
  }
  retryOutboxTask(id: number, notBefore: number, lastError: string): Promise<void> {
    return this.outbox.retry(id, notBefore, lastError);
  }
  parkOutboxTask(id: number, lastError: string): Promise<void> {
    return this.outbox.park(id, lastError);
  }
  claimParkedOutboxTask(destinationBucket: string, afterId: number, now: number, leaseMs: number): Promise<OutboxTask | undefined> {
    return this.outbox.claimParked(destinationBucket, afterId, now, leaseMs);
  }
  releaseParkedOutboxTasks(destinationBucket: string, now: number): Promise<number> {
    return this.outbox.releaseParked(destinationBucket, now);
  }
  parkedOutboxDestinations(): Promise<{ destinationBucket: string; tasks: number }[]> {
    return this.outbox.parkedDestinations();
  }
  countOutboxTasks(bucket?: string): Promise<number> {
    return this.outbox.count(bucket);
  }
  releaseOutboxClaims(): Promise<number> {
    return this.outbox.releaseAll();
  }
  listOutboxTasks(options: { bucket?: string; createdBefore?: number; retrying?: boolean; limit: number }): Promise<OutboxTask[]> {
    return this.outbox.list(options);
  }
  replicationBacklog(bucket?: string): Promise<ReplicationBacklog[]> {
    return this.outbox.backlog(bucket);
  }
  replicationFailures(bucket: string): Promise<ReplicationFailureCount[]> {
    return this.objects.failures(bucket);
  }
  queueReplication(bucket: string, key: string, versionId: string, outbox: NewOutboxTask[]): Promise<boolean> {
    return this.objects.queueReplication(bucket, key, versionId, outbox);
  }

  settled(): Promise<void> {
    return this.connection.commits.settled();
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}
