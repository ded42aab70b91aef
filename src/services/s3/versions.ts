/**
 * Version-id rules and version lookup shared by object handlers (reference §6): the null version,
 * delete markers answering 404/405, version-id validation; and the replication plan written with
 * each new version.
 */
import { ServiceError } from '../../common/errors.js';
import { newVersionId } from '../../common/ids.js';
import type { ReplicationConfiguration } from '../../replication/config.js';
import { candidateEncryption, planReplication, type ReplicationCandidate } from '../../replication/rules.js';
import type { BucketRecord, NewOutboxTask, ObjectVersion, StoredObjectVersion } from '../../storage/types.js';
import { invalidArgument, noSuchKey, noSuchVersion } from './s3-errors.js';
import type { S3Context } from './s3-context.js';
import { httpDate } from './object-headers.js';

const VERSION_ID = /^[A-Za-z0-9._]{32}$/;

/** The version id a new write gets: a fresh id when versioning is Enabled, else 'null'. */
export function versionIdForWrite(bucket: BucketRecord): string {
  return bucket.versioning === 'Enabled' ? newVersionId() : 'null';
}

/** Validate a versionId query parameter (reference §6.2): unversioned buckets know only 'null'. */
export function checkVersionId(bucket: BucketRecord, versionId: string | null): string | undefined {
  if (versionId === null) return undefined;
  if (versionId === 'null') return versionId;
  if (bucket.versioning === 'Unversioned' || !VERSION_ID.test(versionId)) {
    throw invalidArgument('Invalid version id specified', 'versionId', versionId);
  }
  return versionId;
}

/**
 * The version a GET/HEAD addresses. The latest being a delete marker is 404 NoSuchKey with
 * x-amz-delete-marker; addressing a delete marker by id is 405 MethodNotAllowed.
 */
export async function readableVersion(
  ctx: S3Context,
  bucket: BucketRecord,
  key: string,
  versionId: string | undefined,
  method: string,
  options?: { withData?: boolean },
): Promise<StoredObjectVersion> {
  const v = await ctx.meta.getObjectVersion(bucket.name, key, versionId, options);
  if (!v) {
    if (versionId !== undefined) throw noSuchVersion(key, versionId);
    throw noSuchKey(key);
  }
  if (v.isDeleteMarker) {
    const headers: Record<string, string> = { 'x-amz-delete-marker': 'true', 'x-amz-version-id': v.versionId };
    if (versionId === undefined) throw noSuchKey(key, headers);
    throw new ServiceError(
      'MethodNotAllowed',
      405,
      'The specified method is not allowed against this resource.',
      { Method: method, ResourceType: 'DeleteMarker' },
      { ...headers, allow: 'DELETE', 'last-modified': httpDate(v.lastModified) },
    );
  }
  return v;
}

/** The bucket's replication configuration, if any. */
export async function replicationConfig(ctx: S3Context, bucket: string): Promise<ReplicationConfiguration | undefined> {
  return ctx.meta.getBucketConfig<ReplicationConfiguration>(bucket, 'replication');
}

/**
 * Decide replication for a new version and fill in its PENDING status; returns the outbox tasks to
 * commit in the same transaction as the version.
 */
export async function planVersionReplication(ctx: S3Context, version: ObjectVersion, extra: Pick<ReplicationCandidate, 'isReplica'> = { isReplica: false }): Promise<NewOutboxTask[]> {
  const config = await replicationConfig(ctx, version.bucket);
  const candidate: ReplicationCandidate = { key: version.key, isDeleteMarker: version.isDeleteMarker, isReplica: extra.isReplica, storageClass: version.storageClass };
  if (version.tags) candidate.tags = version.tags;
  if (version.encryption) candidate.encryption = candidateEncryption(version.encryption);
  const plan = planReplication(config, candidate);
  if (plan.length === 0) return [];
  version.replicationStatus = 'PENDING';
  version.replicationDetail = Object.fromEntries(plan.map((p) => [p.destinationBucket, { status: 'PENDING' as const, ruleId: p.ruleId }]));
  return plan.map((p) => ({
    bucket: version.bucket,
    key: version.key,
    versionId: version.versionId,
    operation: version.isDeleteMarker ? ('delete-marker' as const) : ('put' as const),
    destinationBucket: p.destinationBucket,
    ruleId: p.ruleId,
  }));
}

/**
 * Tag-change replication (reference §2.1, §2.4): the tasks to commit with a version's new tags
 * (`ctx.meta.putObjectTags(..., tasks)`, then `ctx.replicationQueued()`). A source version's tag
 * change goes to every destination it was (or is being) replicated to; a replica's goes back only
 * under rules of its bucket with ReplicaModifications Enabled. PutObjectTagging and
 * DeleteObjectTagging both call this.
 */
export async function planTagReplication(ctx: S3Context, version: StoredObjectVersion): Promise<NewOutboxTask[]> {
  if (version.isDeleteMarker) return [];
  const config = await replicationConfig(ctx, version.bucket);
  if (!config) return [];
  const task = (destinationBucket: string, ruleId: string): NewOutboxTask => ({
    bucket: version.bucket,
    key: version.key,
    versionId: version.versionId,
    operation: 'tags',
    destinationBucket,
    ruleId,
  });
  if (version.replicationStatus === 'REPLICA') {
    const candidate: ReplicationCandidate = { key: version.key, isDeleteMarker: false, isReplica: false, storageClass: version.storageClass };
    if (version.tags) candidate.tags = version.tags;
    if (version.encryption) candidate.encryption = candidateEncryption(version.encryption);
    const withMods: ReplicationConfiguration = { ...config, rules: config.rules.filter((r) => r.replicaModifications === 'Enabled') };
    return planReplication(withMods, candidate).map((p) => task(p.destinationBucket, p.ruleId));
  }
  const enabled = new Set(config.rules.filter((r) => r.status === 'Enabled').map((r) => r.id));
  return Object.entries(version.replicationDetail ?? {})
    .filter(([, d]) => d.status !== 'FAILED' && d.ruleId !== undefined && enabled.has(d.ruleId))
    .map(([destination, d]) => task(destination, d.ruleId!));
}
