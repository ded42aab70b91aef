/**
 * RegionMetadataStore on the shared PostgreSQL database: one region's rows (tagged `region`). Any
 * number of gateways may open the same region at once; every decision that must hold across them
 * (conditional writes, per-key order, multipart completion, outbox claims) is taken inside one
 * short transaction (see region-objects, region-multipart, region-outbox).
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
  UploadedPart,
  VersionSummary,
  WriteCondition,
} from '../types.js';
import type { PgDatabase } from './database.js';
import { PgRegionBuckets } from './region-buckets.js';
import { PgRegionMultipart } from './region-multipart.js';
import { PgRegionObjects } from './region-objects.js';
import { PgRegionOutbox } from './region-outbox.js';

export interface PgRegionStoreOptions {
  /** Clock for outbox timestamps (createdAt, default notBefore). */
  clock?: Clock;
  /** Whether close() also closes the database (true when the store opened it). */
  ownsDatabase?: boolean;
}

export class PgRegionMetadataStore implements RegionMetadataStore {
  private readonly buckets: PgRegionBuckets;
  private readonly objects: PgRegionObjects;
  private readonly multipart: PgRegionMultipart;
  private readonly outbox: PgRegionOutbox;
  private readonly ownsDatabase: boolean;

  constructor(
    readonly db: PgDatabase,
    readonly region: string,
    options: PgRegionStoreOptions = {},
  ) {
    this.ownsDatabase = options.ownsDatabase ?? false;
    this.buckets = new PgRegionBuckets(db, region);
    this.outbox = new PgRegionOutbox(db, region);
    this.objects = new PgRegionObjects(db, region, this.outbox, options.clock ?? systemClock);
    this.multipart = new PgRegionMultipart(db, region, this.objects);
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
  getObjectVersion(bucket: string, key: string, versionId?: string): Promise<StoredObjectVersion | undefined> {
    return this.objects.get(bucket, key, versionId);
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
    return this.objects.isBlobReferenced(fileId);
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
  listUploads(bucket: string, options: { prefix?: string; keyMarker?: string; uploadIdMarker?: string; limit: number }): Promise<MultipartUpload[]> {
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
  async completeOutboxTask(id: number, outcome?: ReplicationOutcomeUpdate): Promise<void> {
    if (!outcome) return this.outbox.complete(id);
    await this.db.transaction(async (tx) => {
      const { bucket, key, versionId, ...update } = outcome;
      await this.objects.updateReplicationIn(tx, bucket, key, versionId, update);
      await this.outbox.completeIn(tx, id);
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

  /** Closes the database only if this store opened it (it is usually shared with other stores). */
  /** A PostgreSQL commit is acknowledged as it becomes visible: nothing to wait for. */
  async settled(): Promise<void> {}

  async close(): Promise<void> {
    if (this.ownsDatabase) await this.db.close();
  }
}
