/**
 * The destination half of replication: writes a replica, a delete marker or a tag change into a
 * destination bucket as the replication role, checking what AWS checks there (s3:ReplicateObject,
 * s3:ReplicateDelete, s3:ReplicateTags, s3:ObjectOwnerOverrideToBucketOwner, with the bucket
 * policy for cross-account destinations) and encrypting under ReplicaKmsKeyID as the role
 * (kms:Encrypt via s3.<destination-region>). In-process replication calls it directly; in split
 * mode the destination process calls it for a request the role signed.
 */
import { secureRandomBytes as randomBytes } from '../../common/random.js';
import { isServiceError } from '../../common/errors.js';
import { denialMessage } from '../../policy/index.js';
import { ReplicationFailure, type FailureReason } from '../../replication/failure.js';
import type { DestinationBucket, RoleCredentials, SourceVersion, WriteOptions } from '../../replication/ports.js';
import type { BlobRef, ObjectEncryption, ObjectPart, ObjectVersion } from '../../storage/types.js';
import type { Caller } from '../caller.js';
import { bucketEncryption } from './bucket-encryption.js';
import { writeEncryptedBlob, writeEncryptedBuffer, writeSealedBlob, writeSealedBuffer } from './object-data.js';
import type { S3Context } from './s3-context.js';

/** What of the rule's Destination the destination needs. */
export interface ReplicaSettings {
  storageClass?: string;
  replicaKmsKeyId?: string;
  /** AccessControlTranslation Owner=Destination: the replica belongs to the destination bucket owner. */
  ownerOverride?: boolean;
}

/**
 * A destination region served by another process (split mode): the same three writes, sent there
 * signed with the role's session credentials; that process authorizes them itself.
 */
export interface RemoteReplicaWriter {
  writeReplica(creds: RoleCredentials, destination: DestinationBucket, settings: ReplicaSettings, source: SourceVersion, opts?: WriteOptions): Promise<void>;
  writeDeleteMarker(creds: RoleCredentials, destination: DestinationBucket, marker: ObjectVersion, opts?: WriteOptions): Promise<void>;
  writeTags(creds: RoleCredentials, destination: DestinationBucket, key: string, versionId: string, tags: Record<string, string> | undefined, opts?: WriteOptions): Promise<void>;
}

/**
 * Map a service error to a failure reason, given what each kind of error means at this stage. A
 * server fault (5xx: a dependency unavailable, an internal error) is no verdict on the replica, so
 * it is never mapped, not even to the fallback: it stays what it is and the task is retried.
 */
export function failureFrom(e: unknown, mapping: Partial<Record<string, FailureReason>>, fallback?: FailureReason): unknown {
  if (!isServiceError(e) || e.isServerFault) return e;
  const reason = mapping[e.code] ?? fallback;
  return reason ? new ReplicationFailure(reason, `${e.code}: ${e.message}`, e.message) : e;
}

export class ReplicaWriter {
  constructor(private readonly region: (name: string) => Promise<S3Context | undefined>) {}

  private async destinationContext(destination: DestinationBucket) {
    const ctx = await this.region(destination.region);
    const record = await ctx?.meta.getBucket(destination.name);
    if (!ctx || !record) throw new ReplicationFailure('DstBucketNotFound', `Destination bucket ${destination.name} not found`);
    if (record.versioning !== 'Enabled') throw new ReplicationFailure('DstBucketUnversioned', `Destination bucket ${destination.name} does not have versioning enabled`);
    const policyText = await ctx.meta.getBucketConfig<string>(destination.name, 'policy');
    const resourcePolicy = policyText ? { name: `bucket policy of ${destination.name}`, policy: ctx.authorizer.parse(policyText, 'resource') } : undefined;
    return { ctx, record, resourcePolicy };
  }

  /** Authorize one destination action as the role, or fail with `reason` and the policy explanation. */
  private async require(
    dst: Awaited<ReturnType<ReplicaWriter['destinationContext']>>,
    caller: Caller,
    action: string,
    key: string,
    reason: FailureReason,
    context?: Record<string, string | undefined>,
  ): Promise<void> {
    const q: Parameters<S3Context['authorizer']['decide']>[1] = {
      action,
      resource: `arn:aws:s3:::${dst.record.name}/${key}`,
      resourceAccount: dst.record.ownerAccountId,
      context: { 'aws:requestedregion': dst.ctx.region, ...context },
    };
    if (dst.resourcePolicy) q.resourcePolicy = dst.resourcePolicy;
    const { input, decision } = await dst.ctx.authorizer.decide(caller, q);
    if (decision.outcome !== 'Allow') {
      const message = denialMessage(input.request, decision);
      throw new ReplicationFailure(reason, message, message);
    }
  }

  async writeReplica(caller: Caller, destination: DestinationBucket, settings: ReplicaSettings, source: SourceVersion, opts: WriteOptions = {}): Promise<void> {
    const dst = await this.destinationContext(destination);
    const { ctx } = dst;
    const v = source.version;
    const sourceKms = v.encryption?.algorithm === 'aws:kms' || v.encryption?.algorithm === 'aws:kms:dsse';
    const replicaKey = sourceKms ? settings.replicaKmsKeyId : undefined;
    // Resolve the replica key to its ARN for the condition key, as S3 records key ids (reference §5.2).
    let replicaKeyArn: string | undefined;
    if (replicaKey) {
      try {
        replicaKeyArn = (await ctx.kms.resolveKey(caller, replicaKey)).arn;
      } catch (e) {
        throw failureFrom(e, { NotFoundException: 'DstKmsKeyNotFound' }, 'DstKmsKeyNotFound');
      }
    }
    await this.require(dst, caller, 's3:ReplicateObject', v.key, 'DstPutObjectNotPermitted', {
      // An SSE-C write carries no x-amz-server-side-encryption header.
      's3:x-amz-server-side-encryption': source.sealed ? undefined : sourceKms ? v.encryption!.algorithm : 'AES256',
      's3:x-amz-server-side-encryption-aws-kms-key-id': replicaKeyArn,
    });
    // A destination that blocks SSE-C blocks replica writes of SSE-C objects too (reference §2.1; decisions.md).
    if (source.sealed && (await bucketEncryption(ctx.meta, destination.name)).blockedEncryptionTypes?.includes('SSE-C')) {
      throw new ReplicationFailure(
        'DstPutObjectNotPermitted',
        `Destination bucket ${destination.name} blocks SSE-C (BlockedEncryptionTypes in its default encryption), so it refuses replicas of SSE-C objects`,
        `remove SSE-C from BlockedEncryptionTypes of ${destination.name} (PutBucketEncryption) to accept them`,
      );
    }
    if (settings.ownerOverride) await this.require(dst, caller, 's3:ObjectOwnerOverrideToBucketOwner', v.key, 'DstPutObjectNotPermitted');
    // The destination may refuse tags by denying s3:ReplicateTags (reference §2.1): the object still replicates.
    let tags = source.tags;
    if (tags) {
      try {
        await this.require(dst, caller, 's3:ReplicateTags', v.key, 'DstPutTaggingNotPermitted');
      } catch (e) {
        // Only a denial drops the tags; a decision that could not be made (the home away) retries the replica.
        if (!(e instanceof ReplicationFailure)) throw e;
        tags = undefined;
      }
    }

    if (source.sealed) {
      // SSE-C: the replica is the source as stored (nobody here holds the customer key).
      if (opts.dryRun) return;
      const { wrappedKey, customerKeyMd5, wrapLabel } = source.sealed;
      const encryption: ObjectEncryption = { algorithm: 'AES256', wrappedKey, customerKeyMd5, customerWrapLabel: wrapLabel };
      await this.store(dst, destination, settings, source, tags, encryption, (p) => (p.bytes ? writeSealedBuffer(ctx.blobs, p.bytes(), p.size) : writeSealedBlob(ctx.blobs, p.open(), p.size)));
      return;
    }

    const dataKey = randomBytes(32);
    try {
      let encryption: ObjectEncryption;
      if (replicaKey) {
        try {
          encryption = await ctx.sse.wrapDataKeyWithKms(caller, destination.name, v.key, replicaKey, v.encryption!.algorithm, dataKey, v.encryption!.bucketKeyEnabled);
        } catch (e) {
          throw failureFrom(e, {
            'KMS.NotFoundException': 'DstKmsKeyNotFound',
            'KMS.DisabledException': 'DstKmsKeyInvalidState',
            'KMS.KMSInvalidStateException': 'DstKmsKeyInvalidState',
            AccessDenied: 'DstPutObjectNotPermitted',
          });
        }
      } else {
        encryption = ctx.sse.wrapDataKeySseS3(destination.name, v.key, dataKey);
      }
      if (opts.dryRun) return;
      // A small part is sealed in one call (in memory already, or gathered: its size is declared), not through the encrypting stream.
      await this.store(dst, destination, settings, source, tags, encryption, (p) =>
        p.bytes ? writeEncryptedBuffer(ctx.blobs, p.bytes(), dataKey, p.size) : writeEncryptedBlob(ctx.blobs, p.open(), dataKey, p.size),
      );
    } finally {
      dataKey.fill(0);
    }
  }

  /** Write the replica's parts with `writePart`, then its version; on failure nothing is left behind. */
  private async store(
    dst: Awaited<ReturnType<ReplicaWriter['destinationContext']>>,
    destination: DestinationBucket,
    settings: ReplicaSettings,
    source: SourceVersion,
    tags: Record<string, string> | undefined,
    encryption: ObjectEncryption,
    writePart: (p: SourceVersion['parts'][number]) => Promise<BlobRef>,
  ): Promise<void> {
    const { ctx } = dst;
    const v = source.version;
    const parts: ObjectPart[] = [];
    try {
      for (const p of source.parts) {
        const part: ObjectPart = { partNumber: p.partNumber, size: p.size, blob: await writePart(p) };
        if (p.etag !== undefined) part.etag = p.etag;
        if (p.checksum) part.checksum = p.checksum;
        parts.push(part);
      }
      // Bytes from another process are committed only once they are proven to be what it sent.
      await source.verify?.();
      const replica: ObjectVersion = {
        ...v,
        bucket: destination.name,
        storageClass: settings.storageClass ?? v.storageClass,
        ownerAccountId: settings.ownerOverride ? dst.record.ownerAccountId : v.ownerAccountId,
        encryption,
        parts,
        replicationStatus: 'REPLICA',
      };
      delete replica.replicationDetail;
      delete replica.tags;
      if (tags) replica.tags = tags;
      const { displaced } = await ctx.meta.putObjectVersion(replica);
      if (displaced) await ctx.blobs.delete(displaced.parts.map((p) => p.blob)).catch(() => undefined);
    } catch (e) {
      await ctx.blobs.delete(parts.map((p) => p.blob)).catch(() => undefined);
      throw e;
    }
  }

  async writeDeleteMarker(caller: Caller, destination: DestinationBucket, marker: ObjectVersion, opts: WriteOptions = {}): Promise<void> {
    const dst = await this.destinationContext(destination);
    await this.require(dst, caller, 's3:ReplicateDelete', marker.key, 'DstDelObjNotPermitted');
    if (opts.dryRun) return;
    const replica: ObjectVersion = { ...marker, bucket: destination.name, parts: [] };
    delete replica.replicationStatus;
    delete replica.replicationDetail;
    const { displaced } = await dst.ctx.meta.putObjectVersion(replica);
    if (displaced) await dst.ctx.blobs.delete(displaced.parts.map((p) => p.blob)).catch(() => undefined);
  }

  async writeTags(caller: Caller, destination: DestinationBucket, key: string, versionId: string, tags: Record<string, string> | undefined, opts: WriteOptions = {}): Promise<void> {
    const dst = await this.destinationContext(destination);
    await this.require(dst, caller, 's3:ReplicateTags', key, 'DstPutTaggingNotPermitted');
    const replica = await dst.ctx.meta.getObjectVersion(destination.name, key, versionId);
    if (!replica || replica.isDeleteMarker) throw new ReplicationFailure('DstVersionNotFound', `Version ${versionId} of ${destination.name}/${key} does not exist at the destination`);
    if (opts.dryRun) return;
    await dst.ctx.meta.putObjectTags(destination.name, key, versionId, tags);
  }
}
