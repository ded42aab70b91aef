/**
 * What the replication pipeline needs from the services, as interfaces. The in-process
 * implementation calls the regions' S3, KMS and STS directly; a split-mode implementation reaches
 * the destination region over HTTP. Every call made with role credentials is authorized by the
 * services exactly as for any other caller: there is no privileged path.
 */
import type { Readable } from 'node:stream';
import type { ObjectVersion } from '../storage/types.js';
import type { ReplicationConfiguration, ReplicationRule } from './config.js';

/** Temporary credentials of the replication role, as STS issued them to s3.amazonaws.com. */
export interface RoleCredentials {
  roleArn: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiresAt: number;
}

/**
 * An SSE-C source: nobody holds the customer key during replication, so the object travels as
 * stored — its sealed segments and its customer-wrapped data key, never decrypted — and the
 * replica answers to the same customer key.
 */
export interface SealedSource {
  wrappedKey: Buffer;
  customerKeyMd5: string;
  /** The label the data key is wrapped under (the source's bucket and key, or further back). */
  wrapLabel: string;
}

/**
 * A source version as read for replication: metadata plus each part's bytes, opened lazily —
 * plaintext, or for a sealed (SSE-C) source the part's stored ciphertext (header and segments).
 */
export interface SourceVersion {
  version: ObjectVersion;
  /** Tags are included only if the role may read them (s3:GetObjectVersionTagging). */
  tags?: Record<string, string>;
  sealed?: SealedSource;
  parts: {
    partNumber: number;
    size: number;
    etag?: string;
    checksum?: Record<string, string>;
    open(): Readable;
    /**
     * The same bytes at once, for a small part already in memory (stored inline, or received whole):
     * replicas of small objects then need no stream machinery, whose per-object cost (Readable.from,
     * stream.pipeline and the AbortError its finish allocates) outweighed the copy itself.
     */
    bytes?(): Buffer;
  }[];
  /** A source received from another process: resolves once its bytes are proven intact; the writer awaits it before committing. */
  verify?(): Promise<void>;
}

export interface DestinationBucket {
  name: string;
  region: string;
  ownerAccountId: string;
}

/** Explain runs every check of a write without storing anything. */
export interface WriteOptions {
  dryRun?: boolean;
}

export interface ReplicationTransport {
  replicationConfig(sourceBucket: string): Promise<ReplicationConfiguration | undefined>;
  /** Assume the rule's role as s3.amazonaws.com; the trust policy sees aws:SourceAccount and aws:SourceArn. */
  assumeRole(roleArn: string, sourceAccount: string, sourceBucket: string): Promise<RoleCredentials>;
  sourceBucketOwner(sourceBucket: string): Promise<string | undefined>;
  /** Read a version as the role (s3:GetObjectVersionForReplication, kms:Decrypt in the source region). */
  readSource(creds: RoleCredentials, bucket: string, key: string, versionId: string): Promise<SourceVersion>;
  findDestination(bucket: string): Promise<DestinationBucket | undefined>;
  /** Write the replica as the role (s3:ReplicateObject, kms:Encrypt under ReplicaKmsKeyID in the destination region). */
  writeReplica(creds: RoleCredentials, destination: DestinationBucket, rule: ReplicationRule, source: SourceVersion, opts?: WriteOptions): Promise<void>;
  /** Replicate a delete marker as the role (s3:ReplicateDelete). */
  writeDeleteMarker(creds: RoleCredentials, destination: DestinationBucket, marker: ObjectVersion, opts?: WriteOptions): Promise<void>;
  /** Read a version's current tags as the role (s3:GetObjectVersionTagging); for tag-change replication. */
  readSourceTags(creds: RoleCredentials, bucket: string, key: string, versionId: string): Promise<Record<string, string> | undefined>;
  /** Replace the replica's tags as the role (s3:ReplicateTags); the replica version must exist (DstVersionNotFound). */
  writeReplicaTags(
    creds: RoleCredentials,
    destination: DestinationBucket,
    key: string,
    versionId: string,
    tags: Record<string, string> | undefined,
    opts?: WriteOptions,
  ): Promise<void>;
  /** The source version's marker, for delete-marker tasks. */
  readDeleteMarker(bucket: string, key: string, versionId: string): Promise<ObjectVersion | undefined>;
}
