/**
 * The in-process ReplicationTransport: S3 (as s3.amazonaws.com) assumes the replication role
 * through STS, then reads the source and writes the replica with the role's credentials through
 * the same authorizer, KMS and storage paths any caller uses.
 */
import type { Readable } from 'node:stream';
import { denialMessage } from '../../policy/index.js';
import { ReplicationFailure, TransientReplicationError } from '../../replication/failure.js';
import type { DestinationBucket, ReplicationTransport, RoleCredentials, SourceVersion, WriteOptions } from '../../replication/ports.js';
import type { ReplicationConfiguration, ReplicationRule } from '../../replication/config.js';
import type { ObjectPart, ObjectVersion } from '../../storage/types.js';
import type { Caller } from '../caller.js';
import type { IdentityResolver } from '../iam/identity.js';
import { StsService } from '../sts/sts-service.js';
import { inlineObjectData, readObjectData, readSealedBlob } from './object-data.js';
import { failureFrom, ReplicaWriter, type RemoteReplicaWriter, type ReplicaSettings } from './replica-writer.js';
import type { S3Context } from './s3-context.js';
import { customerWrapLabelOf } from './sse.js';

export interface ReplicationTransportDeps {
  /** The S3 context of the source region (this worker's region). */
  source: S3Context;
  /** Any region's S3 context (the destination may be anywhere). */
  region(name: string): Promise<S3Context | undefined>;
  sts: StsService;
  identity: IdentityResolver;
  /** Split mode: the writer for a destination region another process serves. */
  remote?: (region: string) => RemoteReplicaWriter | undefined;
}

const S3_SERVICE = 's3.amazonaws.com';

function sourcePart(p: ObjectPart, open: () => Readable, bytes?: () => Buffer): SourceVersion['parts'][number] {
  const part: SourceVersion['parts'][number] = { partNumber: p.partNumber, size: p.size, open };
  if (bytes) part.bytes = bytes;
  if (p.etag !== undefined) part.etag = p.etag;
  if (p.checksum) part.checksum = p.checksum;
  return part;
}

/** The settings of a rule's Destination the destination region applies. */
export function replicaSettings(rule: ReplicationRule): ReplicaSettings {
  const s: ReplicaSettings = {};
  if (rule.destination.storageClass !== undefined) s.storageClass = rule.destination.storageClass;
  if (rule.destination.replicaKmsKeyId !== undefined) s.replicaKmsKeyId = rule.destination.replicaKmsKeyId;
  if (rule.destination.accessControlTranslation) s.ownerOverride = true;
  return s;
}

/**
 * Reads happen in this (the source) region; writes go to the destination through `writer` —
 * in-process, or in split mode a ReplicaWriter reached over HTTP (see services/s3/peer-transport).
 */
export class InProcessReplicationTransport implements ReplicationTransport {
  private readonly writer: ReplicaWriter;

  constructor(private readonly deps: ReplicationTransportDeps) {
    this.writer = new ReplicaWriter(deps.region);
  }

  async roleCaller(creds: RoleCredentials): Promise<Caller> {
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

  /** Authorize a source-side action on an object as the role (bucket policy included). */
  private async askSource(caller: Caller, bucket: string, key: string, versionId: string, action: string) {
    const ctx = this.deps.source;
    const record = await ctx.meta.getBucket(bucket);
    if (!record) throw new ReplicationFailure('SrcBucketNotFound', `Source bucket ${bucket} not found`);
    const policyText = await ctx.meta.getBucketConfig<string>(bucket, 'policy');
    const q: Parameters<typeof ctx.authorizer.decide>[1] = {
      action,
      resource: `arn:aws:s3:::${bucket}/${key}`,
      resourceAccount: record.ownerAccountId,
      context: { 's3:versionid': versionId, 'aws:requestedregion': ctx.region },
    };
    if (policyText) q.resourcePolicy = { name: `bucket policy of ${bucket}`, policy: ctx.authorizer.parse(policyText, 'resource') };
    return ctx.authorizer.decide(caller, q);
  }

  async readSource(creds: RoleCredentials, bucket: string, key: string, versionId: string): Promise<SourceVersion> {
    const ctx = this.deps.source;
    const caller = await this.roleCaller(creds);
    const read = await this.askSource(caller, bucket, key, versionId, 's3:GetObjectVersionForReplication');
    if (read.decision.outcome !== 'Allow') {
      const message = denialMessage(read.input.request, read.decision);
      throw new ReplicationFailure('SrcGetObjectNotPermitted', message, message);
    }
    const v = await ctx.meta.getObjectVersion(bucket, key, versionId);
    if (!v || v.isDeleteMarker) throw new ReplicationFailure('SrcVersionNotFound', `Version ${versionId} of ${bucket}/${key} no longer exists`);
    // Without s3:GetObjectVersionTagging the object still replicates, without its tags (reference §2.1).
    const withTags = async (source: SourceVersion): Promise<SourceVersion> => {
      if (v.tags && (await this.askSource(caller, bucket, key, versionId, 's3:GetObjectVersionTagging')).decision.outcome === 'Allow') source.tags = v.tags;
      return source;
    };
    const enc = v.encryption!;
    if (enc.customerKeyMd5) {
      // SSE-C (reference §2.1): replicated without the customer key, as stored — sealed bytes and wrapped key.
      return withTags({
        version: v,
        sealed: { wrappedKey: enc.wrappedKey, customerKeyMd5: enc.customerKeyMd5, wrapLabel: customerWrapLabelOf(bucket, key, enc) },
        parts: v.parts.map((p: ObjectPart) => {
          const blob = p.blob;
          return sourcePart(p, () => readSealedBlob(ctx.blobs, blob), blob.kind === 'inline' ? () => blob.data : undefined);
        }),
      });
    }
    let dataKey: Buffer;
    try {
      dataKey = await ctx.sse.dataKeyOf(caller, bucket, key, enc);
    } catch (e) {
      throw failureFrom(
        e,
        { AccessDenied: 'SrcGetObjectNotPermitted', 'KMS.DisabledException': 'SrcKmsKeyInvalidState', 'KMS.KMSInvalidStateException': 'SrcKmsKeyInvalidState', 'KMS.NotFoundException': 'SrcKmsKeyInvalidState' },
      );
    }
    return withTags({
      version: v,
      parts: v.parts.map((p: ObjectPart) => sourcePart(p, () => readObjectData(ctx.blobs, [p], dataKey), p.blob.kind === 'inline' ? () => inlineObjectData([p], dataKey)! : undefined)),
    });
  }

  async readSourceTags(creds: RoleCredentials, bucket: string, key: string, versionId: string): Promise<Record<string, string> | undefined> {
    const caller = await this.roleCaller(creds);
    const read = await this.askSource(caller, bucket, key, versionId, 's3:GetObjectVersionTagging');
    if (read.decision.outcome !== 'Allow') {
      const message = denialMessage(read.input.request, read.decision);
      throw new ReplicationFailure('SrcGetTaggingNotPermitted', message, message);
    }
    const v = await this.deps.source.meta.getObjectVersion(bucket, key, versionId);
    if (!v || v.isDeleteMarker) throw new ReplicationFailure('SrcVersionNotFound', `Version ${versionId} of ${bucket}/${key} no longer exists`);
    return v.tags;
  }

  async readDeleteMarker(bucket: string, key: string, versionId: string): Promise<ObjectVersion | undefined> {
    const v = await this.deps.source.meta.getObjectVersion(bucket, key, versionId);
    return v?.isDeleteMarker ? v : undefined;
  }

  /** Where writes to a destination go: this process's writer, or the peer serving its region. */
  private async sink(destination: DestinationBucket): Promise<RemoteReplicaWriter> {
    if (await this.deps.region(destination.region)) {
      const writer = this.writer;
      const caller = (creds: RoleCredentials) => this.roleCaller(creds);
      return {
        writeReplica: async (creds, d, settings, source, opts) => writer.writeReplica(await caller(creds), d, settings, source, opts),
        writeDeleteMarker: async (creds, d, marker, opts) => writer.writeDeleteMarker(await caller(creds), d, marker, opts),
        writeTags: async (creds, d, key, versionId, tags, opts) => writer.writeTags(await caller(creds), d, key, versionId, tags, opts),
      };
    }
    const remote = this.deps.remote?.(destination.region);
    // Not a permanent failure: the operator can add the peer and restart.
    if (!remote) throw new TransientReplicationError(`Region ${destination.region} of ${destination.name} is not served by this process and has no --peer`);
    return remote;
  }

  async writeReplica(creds: RoleCredentials, destination: DestinationBucket, rule: ReplicationRule, source: SourceVersion, opts?: WriteOptions): Promise<void> {
    await (await this.sink(destination)).writeReplica(creds, destination, replicaSettings(rule), source, opts);
  }

  async writeDeleteMarker(creds: RoleCredentials, destination: DestinationBucket, marker: ObjectVersion, opts?: WriteOptions): Promise<void> {
    await (await this.sink(destination)).writeDeleteMarker(creds, destination, marker, opts);
  }

  async writeReplicaTags(creds: RoleCredentials, destination: DestinationBucket, key: string, versionId: string, tags: Record<string, string> | undefined, opts?: WriteOptions): Promise<void> {
    await (await this.sink(destination)).writeTags(creds, destination, key, versionId, tags, opts);
  }
}
