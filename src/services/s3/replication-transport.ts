/**
 * The in-process ReplicationTransport: S3 (as s3.amazonaws.com) assumes the replication role
 * through STS, then reads the source and writes the replica with the role's credentials through
 * the same authorizer, KMS and storage paths any caller uses.
 */
import { randomBytes } from 'node:crypto';
import { isServiceError } from '../../common/errors.js';
import { denialMessage } from '../../policy/index.js';
import { ReplicationFailure, type FailureReason } from '../../replication/failure.js';
import type { DestinationBucket, ReplicationTransport, RoleCredentials, SourceVersion } from '../../replication/ports.js';
import type { ReplicationConfiguration, ReplicationRule } from '../../replication/config.js';
import type { ObjectEncryption, ObjectPart, ObjectVersion } from '../../storage/types.js';
import type { Caller } from '../caller.js';
import type { IdentityResolver } from '../iam/identity.js';
import { StsService } from '../sts/sts-service.js';
import { readObjectData, writeEncryptedBlob } from './object-data.js';
import type { S3Context } from './s3-context.js';

export interface ReplicationTransportDeps {
  /** The S3 context of the source region (this worker's region). */
  source: S3Context;
  /** Any region's S3 context (the destination may be anywhere). */
  region(name: string): Promise<S3Context | undefined>;
  sts: StsService;
  identity: IdentityResolver;
}

const S3_SERVICE = 's3.amazonaws.com';

/** Map an error from a service call to a failure reason, given what each kind of error means at this stage. */
function failureFrom(e: unknown, mapping: Partial<Record<string, FailureReason>>, fallback?: FailureReason): unknown {
  if (!isServiceError(e)) return e;
  const reason = mapping[e.code] ?? fallback;
  return reason ? new ReplicationFailure(reason, `${e.code}: ${e.message}`, e.message) : e;
}

export class InProcessReplicationTransport implements ReplicationTransport {
  constructor(private readonly deps: ReplicationTransportDeps) {}

  private async roleCaller(creds: RoleCredentials): Promise<Caller> {
    const resolved = await this.deps.identity.resolve(creds.accessKeyId);
    const caller: Caller = { principal: resolved.principal, accessKeyId: creds.accessKeyId, secureTransport: true, loopback: true, authType: 'REST-HEADER' };
    if (resolved.tokenIssueTime !== undefined) caller.tokenIssueTime = resolved.tokenIssueTime;
    if (resolved.sessionPolicy) caller.sessionPolicy = resolved.sessionPolicy;
    return caller;
  }

  async replicationConfig(sourceBucket: string): Promise<ReplicationConfiguration | undefined> {
    return this.deps.source.meta.getBucketConfig<ReplicationConfiguration>(sourceBucket, 'replication');
  }

  async sourceBucketOwner(sourceBucket: string): Promise<string | undefined> {
    return (await this.deps.source.meta.getBucket(sourceBucket))?.ownerAccountId;
  }

  async assumeRole(roleArn: string, sourceAccount: string, sourceBucket: string): Promise<RoleCredentials> {
    try {
      const assumed = await this.deps.sts.assumeRole(StsService.servicePrincipal(S3_SERVICE), {
        roleArn,
        roleSessionName: 's3-replication',
        sourceAccount,
        sourceArn: `arn:aws:s3:::${sourceBucket}`,
      });
      const c = assumed.credentials;
      return { roleArn, accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken!, expiresAt: c.expiresAt! };
    } catch (e) {
      throw failureFrom(e, { AccessDenied: 'AssumeRoleNotPermitted', ValidationError: 'AssumeRoleNotPermitted' });
    }
  }

  async findDestination(bucket: string): Promise<DestinationBucket | undefined> {
    const entry = await this.deps.source.directory.lookup(bucket);
    return entry ? { name: entry.name, region: entry.region, ownerAccountId: entry.ownerAccountId } : undefined;
  }

  async readSource(creds: RoleCredentials, bucket: string, key: string, versionId: string): Promise<SourceVersion> {
    const ctx = this.deps.source;
    const caller = await this.roleCaller(creds);
    const record = await ctx.meta.getBucket(bucket);
    if (!record) throw new ReplicationFailure('SrcBucketNotFound', `Source bucket ${bucket} not found`);
    const policyText = await ctx.meta.getBucketConfig<string>(bucket, 'policy');
    const resourcePolicy = policyText ? { name: `bucket policy of ${bucket}`, policy: ctx.authorizer.parse(policyText, 'resource') } : undefined;
    const objectArn = `arn:aws:s3:::${bucket}/${key}`;
    const ask = async (action: string) => {
      const q: Parameters<typeof ctx.authorizer.decide>[1] = { action, resource: objectArn, resourceAccount: record.ownerAccountId, context: { 's3:versionid': versionId } };
      if (resourcePolicy) q.resourcePolicy = resourcePolicy;
      return ctx.authorizer.decide(caller, q);
    };
    const read = await ask('s3:GetObjectVersionForReplication');
    if (read.decision.outcome !== 'Allow') {
      const message = denialMessage(read.input.request, read.decision);
      throw new ReplicationFailure('SrcGetObjectNotPermitted', message, message);
    }
    const v = await ctx.meta.getObjectVersion(bucket, key, versionId);
    if (!v || v.isDeleteMarker) throw new ReplicationFailure('SrcVersionNotFound', `Version ${versionId} of ${bucket}/${key} no longer exists`);
    let dataKey: Buffer;
    try {
      dataKey = await ctx.sse.dataKeyOf(caller, bucket, key, v.encryption!);
    } catch (e) {
      throw failureFrom(
        e,
        { AccessDenied: 'SrcGetObjectNotPermitted', 'KMS.DisabledException': 'SrcKmsKeyInvalidState', 'KMS.KMSInvalidStateException': 'SrcKmsKeyInvalidState', 'KMS.NotFoundException': 'SrcKmsKeyInvalidState' },
      );
    }
    // Without s3:GetObjectVersionTagging the object still replicates, without its tags (reference §2.1).
    const tagsAllowed = v.tags ? (await ask('s3:GetObjectVersionTagging')).decision.outcome === 'Allow' : false;
    const source: SourceVersion = {
      version: v,
      parts: v.parts.map((p: ObjectPart) => {
        const part: SourceVersion['parts'][number] = { partNumber: p.partNumber, size: p.size, open: () => readObjectData(ctx.blobs, [p], dataKey) };
        if (p.etag !== undefined) part.etag = p.etag;
        if (p.checksum) part.checksum = p.checksum;
        return part;
      }),
    };
    if (tagsAllowed && v.tags) source.tags = v.tags;
    return source;
  }

  async readDeleteMarker(bucket: string, key: string, versionId: string): Promise<ObjectVersion | undefined> {
    const v = await this.deps.source.meta.getObjectVersion(bucket, key, versionId);
    return v?.isDeleteMarker ? v : undefined;
  }

  private async destinationContext(destination: DestinationBucket) {
    const ctx = await this.deps.region(destination.region);
    const record = await ctx?.meta.getBucket(destination.name);
    if (!ctx || !record) throw new ReplicationFailure('DstBucketNotFound', `Destination bucket ${destination.name} not found`);
    if (record.versioning !== 'Enabled') throw new ReplicationFailure('DstBucketUnversioned', `Destination bucket ${destination.name} does not have versioning enabled`);
    const policyText = await ctx.meta.getBucketConfig<string>(destination.name, 'policy');
    const resourcePolicy = policyText ? { name: `bucket policy of ${destination.name}`, policy: ctx.authorizer.parse(policyText, 'resource') } : undefined;
    return { ctx, record, resourcePolicy };
  }

  async writeReplica(creds: RoleCredentials, destination: DestinationBucket, rule: ReplicationRule, source: SourceVersion): Promise<void> {
    const { ctx, record, resourcePolicy } = await this.destinationContext(destination);
    const caller = await this.roleCaller(creds);
    const v = source.version;
    const sourceKms = v.encryption?.algorithm === 'aws:kms' || v.encryption?.algorithm === 'aws:kms:dsse';
    const replicaKey = sourceKms ? rule.destination.replicaKmsKeyId : undefined;
    // Resolve the replica key to its ARN for the condition key, as S3 records key ids (reference §5.2).
    let replicaKeyArn: string | undefined;
    if (replicaKey) {
      try {
        replicaKeyArn = (await ctx.kms.resolveKey(caller, replicaKey)).arn;
      } catch (e) {
        throw failureFrom(e, { NotFoundException: 'DstKmsKeyNotFound' }, 'DstKmsKeyNotFound');
      }
    }
    const q: Parameters<typeof ctx.authorizer.decide>[1] = {
      action: 's3:ReplicateObject',
      resource: `arn:aws:s3:::${destination.name}/${v.key}`,
      resourceAccount: record.ownerAccountId,
      context: {
        's3:x-amz-server-side-encryption': sourceKms ? v.encryption!.algorithm : 'AES256',
        's3:x-amz-server-side-encryption-aws-kms-key-id': replicaKeyArn,
      },
    };
    if (resourcePolicy) q.resourcePolicy = resourcePolicy;
    const allowed = await ctx.authorizer.decide(caller, q);
    if (allowed.decision.outcome !== 'Allow') {
      const message = denialMessage(allowed.input.request, allowed.decision);
      throw new ReplicationFailure('DstPutObjectNotPermitted', message, message);
    }

    const dataKey = randomBytes(32);
    try {
      let encryption: ObjectEncryption;
      if (replicaKey) {
        try {
          encryption = await ctx.sse.wrapDataKeyWithKms(caller, destination.name, v.key, replicaKey, v.encryption!.algorithm, dataKey);
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
      const parts: ObjectPart[] = [];
      try {
        for (const p of source.parts) {
          const blob = await writeEncryptedBlob(ctx.blobs, p.open(), dataKey);
          const part: ObjectPart = { partNumber: p.partNumber, size: p.size, blob };
          if (p.etag !== undefined) part.etag = p.etag;
          if (p.checksum) part.checksum = p.checksum;
          parts.push(part);
        }
        const replica: ObjectVersion = {
          ...v,
          bucket: destination.name,
          storageClass: rule.destination.storageClass ?? v.storageClass,
          encryption,
          parts,
          replicationStatus: 'REPLICA',
        };
        delete replica.replicationDetail;
        delete replica.tags;
        if (source.tags) replica.tags = source.tags;
        const { displaced } = await ctx.meta.putObjectVersion(replica);
        if (displaced) await ctx.blobs.delete(displaced.parts.map((p) => p.blob)).catch(() => undefined);
      } catch (e) {
        await ctx.blobs.delete(parts.map((p) => p.blob)).catch(() => undefined);
        throw e;
      }
    } finally {
      dataKey.fill(0);
    }
  }

  async writeDeleteMarker(creds: RoleCredentials, destination: DestinationBucket, marker: ObjectVersion): Promise<void> {
    const { ctx, record, resourcePolicy } = await this.destinationContext(destination);
    const caller = await this.roleCaller(creds);
    const q: Parameters<typeof ctx.authorizer.decide>[1] = {
      action: 's3:ReplicateDelete',
      resource: `arn:aws:s3:::${destination.name}/${marker.key}`,
      resourceAccount: record.ownerAccountId,
    };
    if (resourcePolicy) q.resourcePolicy = resourcePolicy;
    const allowed = await ctx.authorizer.decide(caller, q);
    if (allowed.decision.outcome !== 'Allow') {
      const message = denialMessage(allowed.input.request, allowed.decision);
      throw new ReplicationFailure('DstDelObjNotPermitted', message, message);
    }
    const replica: ObjectVersion = { ...marker, bucket: destination.name, parts: [] };
    delete replica.replicationStatus;
    delete replica.replicationDetail;
    const { displaced } = await ctx.meta.putObjectVersion(replica);
    if (displaced) await ctx.blobs.delete(displaced.parts.map((p) => p.blob)).catch(() => undefined);
  }
}
