/**
 * Storage interfaces. Services call these; only implementations under storage/ know SQL or files.
 *
 * Every method is asynchronous even where the SQLite implementation completes synchronously inside,
 * so a PostgreSQL implementation can stand behind the same interfaces (design: scale-out).
 * A write method resolves only after its effects are durable on disk (fsync): callers acknowledge
 * the client after that, never before.
 */
import type { Readable } from 'node:stream';

// ---------------------------------------------------------------------------------------------
// Blobs

/** Where an object's (already encrypted) bytes live: inline in the metadata database, or in a file. */
export type BlobRef =
  | { kind: 'inline'; data: Buffer }
  | { kind: 'file'; id: string; size: number };

export interface BlobWriter {
  /** Append bytes. Resolves when the writer can take more (backpressure). */
  write(chunk: Buffer): Promise<void>;
  /**
   * Finish: small blobs (total <= inline threshold) come back inline; larger ones are fsynced,
   * renamed into place and the directory fsynced before this resolves.
   */
  finish(): Promise<BlobRef>;
  /** Abandon the write and remove any temporary file. Safe to call after a failure, twice, or after finish (removes the file). */
  abort(): Promise<void>;
}

export interface BlobStore {
  /** Bytes at or below this size are returned inline by BlobWriter.finish (design: about 128 KiB). */
  readonly inlineThreshold: number;
  createWriter(): BlobWriter;
  /** Read a blob, or the byte range [start, end] (inclusive) of it. */
  openRead(ref: BlobRef, range?: { start: number; end: number }): Readable;
  /**
   * The byte range [start, end] (inclusive) of a blob, in chunks that all live in one buffer reused
   * from chunk to chunk: a chunk is valid only until the next one is asked for, so the reader must
   * be done with it by then (decryption is: it copies what it keeps). No allocation per chunk, which
   * for large reads is what drives garbage collection. Leaving the loop early closes the file.
   */
  readChunks(ref: BlobRef, range: { start: number; end: number }): AsyncIterable<Buffer>;
  /**
   * Delete blobs that committed metadata no longer references (inline refs are ignored; missing
   * files are not an error). A reader that found the old metadata may still be about to read them,
   * so removal waits for the store's grace period and, after it, for every `retain` on the blob to
   * be released: a read that began before the overwrite or delete reads the whole version it began with.
   */
  delete(refs: BlobRef[]): Promise<void>;
  /**
   * Keep these blobs readable (not deleted by `delete`) until the returned function is called.
   * Readers hold it from the start of a read to its end; releasing twice is harmless.
   */
  retain(refs: BlobRef[]): () => void;
  /** Carry out deletions still waiting (their readers are gone when the server stops) and stop timers. */
  close(): Promise<void>;
  /** Remove files that no metadata references (after a crash between blob rename and metadata commit). */
  sweepOrphans(isReferenced: (fileId: string) => Promise<boolean>): Promise<number>;
}

// ---------------------------------------------------------------------------------------------
// Buckets

export type VersioningState = 'Unversioned' | 'Enabled' | 'Suspended';

export interface BucketRecord {
  name: string;
  region: string;
  ownerAccountId: string;
  createdAt: number; // epoch ms
  versioning: VersioningState;
  /** The LocationConstraint as the client sent it ('' for us-east-1; 'EU' kept as given). */
  locationConstraint: string;
  objectOwnership?: string;
}

/** The global bucket namespace: names are unique across all regions (and accounts). */
export interface BucketDirectory {
  /** Claim a name. Resolves false if the name is already taken (by anyone). */
  claim(entry: { name: string; region: string; ownerAccountId: string }): Promise<boolean>;
  lookup(name: string): Promise<{ name: string; region: string; ownerAccountId: string } | undefined>;
  release(name: string): Promise<void>;
  listByOwner(ownerAccountId: string): Promise<{ name: string; region: string; ownerAccountId: string }[]>;
}

// ---------------------------------------------------------------------------------------------
// Object versions

export type ReplicationStatus = 'PENDING' | 'COMPLETED' | 'FAILED' | 'REPLICA';

export interface ObjectEncryption {
  /** AES256 = SSE-S3; aws:kms = SSE-KMS; aws:kms:dsse = DSSE-KMS. */
  algorithm: 'AES256' | 'aws:kms' | 'aws:kms:dsse';
  /** Key ARN for KMS modes (always the full ARN). */
  kmsKeyArn?: string;
  bucketKeyEnabled?: boolean;
  /** The KMS encryption context the data key was generated under (KMS modes). */
  context?: Record<string, string>;
  /** The object's data key, wrapped: a KMS ciphertext blob (KMS modes), by the region's SSE-S3 key, or by the customer's key (SSE-C). */
  wrappedKey: Buffer;
  /** SSE-C (algorithm AES256): base64 MD5 of the customer's key; the key itself is never stored. */
  customerKeyMd5?: string;
  /**
   * SSE-C: the label the data key was wrapped under, when it is not this object's own
   * `sse-c:<bucket>/<key>`. A replica keeps its source's wrapped key (nobody holds the customer
   * key during replication), hence its source's label; records without it use their own.
   */
  customerWrapLabel?: string;
}

/** One stored piece of an object's bytes. A single PUT has one part (partNumber 0); multipart objects keep their parts. */
export interface ObjectPart {
  partNumber: number;
  /** Plaintext size of this part. */
  size: number;
  /** Part ETag without quotes (hex MD5 of the part's plaintext for multipart parts). */
  etag?: string;
  checksum?: Record<string, string>;
  blob: BlobRef;
}

export interface ObjectVersion {
  bucket: string;
  key: string;
  /** 'null' for the null version (unversioned or suspended buckets). */
  versionId: string;
  isDeleteMarker: boolean;
  lastModified: number; // epoch ms
  size: number; // plaintext size (0 for delete markers)
  /** ETag without quotes, e.g. 'd41d8cd98f00b204e9800998ecf8427e' or '<hex>-3'. */
  etag: string;
  ownerAccountId: string;
  storageClass: string;
  contentType?: string;
  /** Other system metadata: Cache-Control, Content-Disposition, Content-Encoding, Content-Language, Expires, x-amz-website-redirect-location. Keys lower-case header names. */
  systemMetadata: Record<string, string>;
  /** User metadata: x-amz-meta-* without the prefix, names lower-case. */
  userMetadata: Record<string, string>;
  tags?: Record<string, string>;
  /** Full-object or composite checksum, e.g. { algorithm: 'CRC32', value: 'base64', type: 'FULL_OBJECT' }. */
  checksum?: { algorithm: string; value: string; type: 'FULL_OBJECT' | 'COMPOSITE' };
  encryption?: ObjectEncryption;
  parts: ObjectPart[];
  replicationStatus?: ReplicationStatus;
  /** Per-destination replication state (destination bucket name -> status), aggregated into replicationStatus. */
  replicationDetail?: Record<string, { status: ReplicationStatus; failureReason?: string; ruleId?: string }>;
}

/** An object version as stored, with its place in history. */
export interface StoredObjectVersion extends ObjectVersion {
  /** Monotonic sequence within the region's database: larger = newer. Orders versions of a key. */
  seq: number;
  isLatest: boolean;
}

export interface ListLatestOptions {
  prefix?: string;
  /** Exclusive: start strictly after this key (UTF-8 byte order). */
  startAfter?: string;
  limit: number;
  /**
   * Roll keys up by this delimiter (ListObjects' CommonPrefixes): of the keys that share a common
   * prefix (`prefix`, then anything up to and including the first `delimiter` after it), only the
   * first comes back, and the store seeks past the others (a skip scan) instead of reading them.
   * Each returned version then stands for either itself or its common prefix; `limit` counts both.
   */
  delimiter?: string;
}

/**
 * What a listing page shows of a version (ListObjects, ListObjectsV2, ListObjectVersions): no
 * metadata, tags, parts or encryption, so a store can skip reading and decoding them for 1,000 rows.
 */
export type VersionSummary = Pick<
  StoredObjectVersion,
  'bucket' | 'key' | 'versionId' | 'isDeleteMarker' | 'lastModified' | 'size' | 'etag' | 'ownerAccountId' | 'storageClass' | 'checksum' | 'isLatest'
>;

export interface ListVersionsOptions {
  prefix?: string;
  /** Exclusive key marker: with versionIdMarker, start after that version of that key; alone, after all versions of the key. */
  keyMarker?: string;
  versionIdMarker?: string;
  limit: number;
}

/**
 * A conditional write (If-None-Match: * / If-Match: <etag>): a condition on the key's current
 * object that the store checks inside the same transaction as the write, so no other write can
 * come between check and commit. "Current object": the latest version, unless that is a delete
 * marker (then there is none). A failed condition rejects with WriteConditionFailed (./errors.ts)
 * and writes nothing.
 */
export type WriteCondition =
  /** Commit only if the key has no current object. */
  | { kind: 'if-none-match' }
  /** Commit only if the key's current object has this ETag (no quotes). */
  | { kind: 'if-match'; etag: string };

// ---------------------------------------------------------------------------------------------
// Replication outbox

export interface OutboxTask {
  id: number;
  bucket: string;
  key: string;
  versionId: string;
  /** What to replicate: a new version, a delete marker, or a change of an existing version's tags. */
  operation: 'put' | 'delete-marker' | 'tags';
  /** Destination bucket name and the rule that selected it (the configuration may change later). */
  destinationBucket: string;
  ruleId: string;
  attempts: number;
  /** Epoch ms when the task may next run. */
  notBefore: number;
  createdAt: number;
  lastError?: string;
  /** Parked: its destination is unreachable; it waits (not claimable) until the destination answers again. */
  parked?: boolean;
}

export type NewOutboxTask = Omit<OutboxTask, 'id' | 'attempts' | 'notBefore' | 'createdAt' | 'lastError' | 'parked'> & {
  notBefore?: number;
};

/** The replication state a finished outbox task leaves on its version. */
export interface ReplicationOutcomeUpdate {
  bucket: string;
  key: string;
  versionId: string;
  status: ReplicationStatus;
  destination: string;
  failureReason?: string;
  ruleId?: string;
}

/** Replication work not yet done, per source bucket, destination and rule (metrics, status tools). */
export interface ReplicationBacklog {
  bucket: string;
  destinationBucket: string;
  ruleId: string;
  operations: number;
  /** Plaintext bytes of the pending object versions (delete markers and tag changes count 0). */
  bytes: number;
  /** Epoch ms when the oldest pending operation was queued. */
  oldestCreatedAt: number;
}

/** Versions whose replication to a destination FAILED, counted by AWS's failure reason. */
export interface ReplicationFailureCount {
  bucket: string;
  destinationBucket: string;
  ruleId?: string;
  reason: string;
  count: number;
}

// ---------------------------------------------------------------------------------------------
// Multipart uploads

export interface MultipartUpload {
  uploadId: string;
  bucket: string;
  key: string;
  initiated: number;
  ownerAccountId: string;
  storageClass: string;
  contentType?: string;
  systemMetadata: Record<string, string>;
  userMetadata: Record<string, string>;
  tags?: Record<string, string>;
  checksumAlgorithm?: string;
  checksumType?: 'FULL_OBJECT' | 'COMPOSITE';
  encryption?: ObjectEncryption;
  /** The ACL asked for at creation, given to the completed object (opaque to storage). */
  acl?: unknown;
}

export interface UploadedPart {
  partNumber: number;
  size: number;
  etag: string; // hex, no quotes
  lastModified: number;
  checksum?: Record<string, string>;
  blob: BlobRef;
}

/**
 * What a completed multipart upload produced, kept for a while after completion so that a retried
 * CompleteMultipartUpload (its first response lost) gets the same answer instead of NoSuchUpload.
 */
export interface CompletedUpload {
  uploadId: string;
  bucket: string;
  key: string;
  versionId: string;
  /** The object's ETag (no quotes), '<md5>-<parts>'. */
  etag: string;
  checksum?: ObjectVersion['checksum'];
  /** What the response headers say of the encryption (never a key). */
  encryption?: Pick<ObjectEncryption, 'algorithm' | 'kmsKeyArn' | 'bucketKeyEnabled' | 'customerKeyMd5'>;
  /** The completed version's lastModified (epoch ms). */
  completedAt: number;
}

// ---------------------------------------------------------------------------------------------
// The per-region metadata store

export interface RegionMetadataStore {
  readonly region: string;

  // Buckets
  createBucket(bucket: BucketRecord): Promise<void>;
  getBucket(name: string): Promise<BucketRecord | undefined>;
  /** Every bucket of the region, by name (background tasks such as lifecycle walk them). */
  listBuckets(): Promise<BucketRecord[]>;
  updateBucket(name: string, patch: Partial<Omit<BucketRecord, 'name' | 'region'>>): Promise<void>;
  /** Deletes the bucket and its configurations. Caller checks emptiness first. */
  deleteBucket(name: string): Promise<void>;
  /** True if the bucket holds any object version, delete marker or multipart upload. */
  bucketHasContent(name: string): Promise<boolean>;
  /** Bucket sub-configurations stored as JSON by kind ('replication', 'encryption', 'policy', 'tagging', ...). */
  getBucketConfig<T = unknown>(bucket: string, kind: string): Promise<T | undefined>;
  putBucketConfig(bucket: string, kind: string, value: unknown): Promise<void>;
  deleteBucketConfig(bucket: string, kind: string): Promise<void>;

  // Object versions
  /**
   * Store a new version and make it the latest of its key, atomically with any outbox tasks.
   * If `version.versionId === 'null'`, an existing null version of the key is replaced and
   * returned in `displaced` (its blobs are for the caller to delete after commit).
   * The version id is always taken as given (replicas keep the source's id). An existing version
   * with the same non-null id is replaced in place (idempotent replication retries): it keeps its
   * `seq`, so it stays latest only if it already was, and comes back in `displaced`.
   * `seq` ordering: a replica keeps its `lastModified`, but is ordered by (first) arrival.
   * With `condition`, nothing is written unless it holds at commit (WriteConditionFailed).
   */
  putObjectVersion(
    version: ObjectVersion,
    outbox?: NewOutboxTask[],
    condition?: WriteCondition,
  ): Promise<{ displaced?: StoredObjectVersion }>;
  /**
   * A specific version, or the latest (which may be a delete marker) when versionId is undefined.
   * `withData: false` (HEAD) lets a store leave a small object's inline bytes unread until used.
   */
  getObjectVersion(bucket: string, key: string, versionId?: string, options?: { withData?: boolean }): Promise<StoredObjectVersion | undefined>;
  /** Permanently remove one version. Returns it (blobs for the caller to delete) or undefined. */
  deleteObjectVersion(bucket: string, key: string, versionId: string): Promise<StoredObjectVersion | undefined>;
  /** Latest versions that are not delete markers, keys ascending by UTF-8 bytes. */
  listLatest(bucket: string, options: ListLatestOptions): Promise<StoredObjectVersion[]>;
  /** All versions and delete markers: keys ascending, newest first within a key. */
  listVersions(bucket: string, options: ListVersionsOptions): Promise<StoredObjectVersion[]>;
  /**
   * The same pages as listLatest / listVersions, summaries only (what listing responses show).
   * Optional: a store without them is listed through listLatest / listVersions (see listing-source.ts).
   */
  listLatestSummaries?(bucket: string, options: ListLatestOptions): Promise<VersionSummary[]>;
  listVersionSummaries?(bucket: string, options: ListVersionsOptions): Promise<VersionSummary[]>;
  /** Set replication state of one version; `replicationDetail` is merged by destination. */
  updateReplication(
    bucket: string,
    key: string,
    versionId: string,
    update: { status: ReplicationStatus; destination?: string; failureReason?: string; ruleId?: string },
  ): Promise<void>;
  /**
   * Replace the tags of a version; with outbox tasks (tag-change replication), atomically marks the
   * version PENDING for those destinations and queues the tasks.
   */
  putObjectTags(bucket: string, key: string, versionId: string, tags: Record<string, string> | undefined, outbox?: NewOutboxTask[]): Promise<void>;
  /** The ACL document stored for a version (as the S3 layer wrote it), if any. */
  getObjectAcl<T = unknown>(bucket: string, key: string, versionId: string): Promise<T | undefined>;
  /** Replace a version's ACL (undefined removes it); it goes when the version goes. A missing version is ignored. */
  putObjectAcl(bucket: string, key: string, versionId: string, acl: unknown): Promise<void>;
  /** Is this blob file referenced by any version or uploaded part (orphan sweep)? */
  isBlobReferenced(fileId: string): Promise<boolean>;

  // Multipart
  createUpload(upload: MultipartUpload): Promise<void>;
  getUpload(uploadId: string): Promise<MultipartUpload | undefined>;
  /** Store a part; a part with the same number is replaced and returned (its blob to delete). */
  putPart(uploadId: string, part: UploadedPart): Promise<{ replaced?: UploadedPart }>;
  listParts(uploadId: string, options?: { partNumberMarker?: number; limit?: number }): Promise<UploadedPart[]>;
  listUploads(bucket: string, options: { prefix?: string; keyMarker?: string; uploadIdMarker?: string; limit: number }): Promise<MultipartUpload[]>;
  /**
   * Atomically: store the completed object version (with its outbox tasks), delete the upload and
   * all its part records, and record the completion (getCompletedUpload). Returns parts that were uploaded but not used (blobs to delete) and a displaced null version.
   * Checked in the same transaction, each failing with nothing written: the upload still exists
   * (UploadNotFound), every part of `version` is still the part record of that number with the same
   * blob (UploadPartChanged: an UploadPart replaced it meanwhile), and `condition` holds (WriteConditionFailed).
   */
  completeUpload(
    uploadId: string,
    version: ObjectVersion,
    outbox?: NewOutboxTask[],
    condition?: WriteCondition,
  ): Promise<{ unusedParts: UploadedPart[]; displaced?: StoredObjectVersion }>;
  /** The record completeUpload left for this upload id (until pruned), or undefined. */
  getCompletedUpload(uploadId: string): Promise<CompletedUpload | undefined>;
  /** Forget completions older than `before` (epoch ms); returns how many. */
  pruneCompletedUploads(before: number): Promise<number>;
  /** Delete the upload and its parts; returns the parts (blobs to delete), or undefined if no such upload. */
  abortUpload(uploadId: string): Promise<UploadedPart[] | undefined>;

  // Replication outbox
  /** Claim up to `limit` tasks due at `now`; a claimed task is hidden until `now + leaseMs` (a crashed worker's claim expires). */
  claimOutboxTasks(now: number, limit: number, leaseMs: number): Promise<OutboxTask[]>;
  /**
   * Remove a finished task; with `outcome`, record the version's replication state for the task's
   * destination in the same transaction (so a crash cannot separate the two).
   */
  completeOutboxTask(id: number, outcome?: ReplicationOutcomeUpdate): Promise<void>;
  /** Put a task back for a later attempt (transient failure): attempts + 1, notBefore, lastError; no longer parked. */
  retryOutboxTask(id: number, notBefore: number, lastError: string): Promise<void>;
  /**
   * Park a task whose destination is unreachable (attempts + 1, lastError, lease released): it is
   * not claimed again until its destination's tasks are released. Parked tasks stay in the outbox.
   */
  parkOutboxTask(id: number, lastError: string): Promise<void>;
  /**
   * Claim one parked task of a destination to probe it: the first (by id) after `afterId`, wrapping
   * around, not held by a live lease, and with no older task of its key for that destination (per-key
   * order). It stays parked; the probe's outcome completes or re-parks it.
   */
  claimParkedOutboxTask(destinationBucket: string, afterId: number, now: number, leaseMs: number): Promise<OutboxTask | undefined>;
  /** The destination answers again: its parked tasks become due at `now` (claimed oldest first). Returns how many. */
  releaseParkedOutboxTasks(destinationBucket: string, now: number): Promise<number>;
  /** Destinations with parked tasks (probing resumes after a restart). */
  parkedOutboxDestinations(): Promise<{ destinationBucket: string; tasks: number }[]>;
  /** Tasks not yet completed (for status tools and tests). */
  countOutboxTasks(bucket?: string): Promise<number>;
  /**
   * Pending tasks, oldest first (status tools, the replication-time threshold watch). `retrying`:
   * only those that already failed at least once (attempts > 0), found without reading the rest.
   */
  listOutboxTasks(options: { bucket?: string; createdBefore?: number; retrying?: boolean; limit: number }): Promise<OutboxTask[]>;
  /** Pending work grouped by source bucket, destination and rule. */
  replicationBacklog(bucket?: string): Promise<ReplicationBacklog[]>;
  /** FAILED versions of a bucket counted by destination and reason. */
  replicationFailures(bucket: string): Promise<ReplicationFailureCount[]>;
  /**
   * Queue replication of an existing version (Batch Replication, existing-object replication):
   * atomically marks it PENDING for each task's destination and inserts the tasks. False if the
   * version no longer exists (nothing queued).
   */
  queueReplication(bucket: string, key: string, versionId: string, outbox: NewOutboxTask[]): Promise<boolean>;
  /**
   * Release every lease at once. For a store that one process owns (embedded SQLite): at start, the
   * previous process's claims died with it, so its tasks need not wait for their leases to expire.
   */
  releaseOutboxClaims(): Promise<number>;

  /**
   * Resolves once every write this process committed before the call has been acknowledged to its
   * caller. A commit is visible to readers a moment before (embedded SQLite: while its WAL fsync
   * runs), so a report that reads the store and then what callers recorded in memory (replication
   * lag, events) waits for this in between.
   */
  settled(): Promise<void>;

  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// KMS keys (per region)

export type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion' | 'PendingReplicaDeletion' | 'Creating' | 'Updating' | 'Unavailable';

export interface KeyMaterial {
  /** 64 hex characters (AWS's KeyMaterialId shape). */
  id: string;
  /** The 256-bit key material, wrapped by the region's root key. Never stored unwrapped. */
  wrapped: Buffer;
  createdAt: number;
  rotationType?: 'AUTOMATIC' | 'ON_DEMAND';
}

export interface KmsKeyRecord {
  keyId: string; // uuid, or mrk-<32 hex>
  arn: string;
  accountId: string;
  region: string;
  createdAt: number;
  description: string;
  keyState: KeyState;
  keyUsage: 'ENCRYPT_DECRYPT';
  keySpec: 'SYMMETRIC_DEFAULT';
  origin: 'AWS_KMS';
  keyManager: 'CUSTOMER' | 'AWS';
  multiRegion: boolean;
  /** The key policy document (JSON text). */
  policy: string;
  tags: { TagKey: string; TagValue: string }[];
  deletionDate?: number;
  pendingWindowInDays?: number;
  rotationEnabled: boolean;
  rotationPeriodInDays?: number;
  /** When automatic rotation next creates new material (epoch ms), while rotation is enabled. */
  nextRotationAt?: number;
  /** Multi-Region keys: PRIMARY or REPLICA, and the primary's region. */
  multiRegionKeyType?: 'PRIMARY' | 'REPLICA';
  primaryRegion?: string;
  /** On a primary: the regions holding replicas. */
  replicaRegions?: string[];
  /** Oldest first; the last one is current. */
  materials: KeyMaterial[];
}

/** A KMS grant (reference §1.5 CreateGrant). */
export interface KmsGrantRecord {
  grantId: string;
  /** Secret handed to the creator; RetireGrant and GrantTokens accept it. */
  grantToken: string;
  /** The key's account and id. */
  accountId: string;
  keyId: string;
  name?: string;
  createdAt: number;
  granteePrincipal: string;
  retiringPrincipal?: string;
  /** arn:aws:iam::<account>:root of the account that created the grant. */
  issuingAccount: string;
  operations: string[];
  constraints?: { EncryptionContextSubset?: Record<string, string>; EncryptionContextEquals?: Record<string, string> };
}

export interface KmsAliasRecord {
  aliasName: string; // alias/...
  accountId: string;
  targetKeyId: string;
  createdAt: number;
  updatedAt: number;
}

/**
 * The cache-invalidation seam: a token that differs once any process has committed a change to what
 * the store covers. A cache keeps what it read with the token it saw and drops it when the token
 * moves, so a change made through one server process takes effect in every other at once (cluster
 * workers, `meridian` tools). SQLite: a counter bumped in the writing transaction (triggers), or
 * PRAGMA data_version; a PostgreSQL store can drive the same seam from LISTEN/NOTIFY.
 */
export interface ChangeFeed {
  changeToken(): Promise<string>;
}

/** Peer-protocol nonces already accepted, shared by the gateways of one database (split mode on PostgreSQL). */
export interface PeerNonceStore {
  /** Record a nonce until expiresAt (ms); false if any gateway recorded it already. */
  remember(nonce: string, expiresAt: number, now: number): Promise<boolean>;
}

/**
 * Which process of a deployment runs the time-driven background work (KMS rotation and deletion,
 * lifecycle expiration, pruning, expired STS sessions, the orphan sweep): exactly one at a time.
 * SQLite: the process that has the files (with several workers, the one the cluster primary names).
 * PostgreSQL: whichever gateway holds a session advisory lock on a connection of its own; the
 * database releases it when that connection dies, and the others keep trying to take it.
 */
export interface BackgroundLeadership {
  /** Whether this process leads now. */
  readonly leader: boolean;
  /** Start competing (idempotent); `onChange` fires with each gain and loss. */
  start(onChange: (leader: boolean) => void): void;
  /** Stop competing and give the lead up. */
  close(): Promise<void>;
}

export interface KmsKeyStore extends ChangeFeed {
  createKey(key: KmsKeyRecord): Promise<void>;
  /** By key id (not ARN) within an account. */
  getKey(accountId: string, keyId: string): Promise<KmsKeyRecord | undefined>;
  listKeys(accountId: string): Promise<KmsKeyRecord[]>;
  /** Every key of every account in the region (time-driven sweeps: deletion, rotation). */
  listAllKeys(): Promise<KmsKeyRecord[]>;
  /**
   * Patch a key. With `onlyIf`, the patch applies only if the predicate holds for the key as stored,
   * checked under the same lock as the write (a rotation guarded by the rotation date it saw cannot
   * happen twice, even from two gateways). Resolves whether it applied (false: no such key, or the
   * predicate failed).
   */
  updateKey(
    accountId: string,
    keyId: string,
    patch: Partial<Omit<KmsKeyRecord, 'keyId' | 'arn' | 'accountId' | 'region'>>,
    onlyIf?: (current: KmsKeyRecord) => boolean,
  ): Promise<boolean>;
  deleteKey(accountId: string, keyId: string): Promise<void>;
  createAlias(alias: KmsAliasRecord): Promise<boolean>; // false if exists
  getAlias(accountId: string, aliasName: string): Promise<KmsAliasRecord | undefined>;
  listAliases(accountId: string): Promise<KmsAliasRecord[]>;
  updateAlias(accountId: string, aliasName: string, targetKeyId: string, updatedAt: number): Promise<void>;
  deleteAlias(accountId: string, aliasName: string): Promise<void>;
  /** Grants; deleteKey removes a key's grants with it. */
  createGrant(grant: KmsGrantRecord): Promise<void>;
  /** A key's grants, oldest first. */
  listGrants(accountId: string, keyId: string): Promise<KmsGrantRecord[]>;
  getGrantByToken(grantToken: string): Promise<KmsGrantRecord | undefined>;
  /** Grants naming this retiring principal, in every account (ListRetirableGrants). */
  listRetirableGrants(retiringPrincipal: string): Promise<KmsGrantRecord[]>;
  /** False if there was no such grant. */
  deleteGrant(accountId: string, keyId: string, grantId: string): Promise<boolean>;
}

// ---------------------------------------------------------------------------------------------
// IAM / STS (global: one home region owns them)

export interface AccountRecord {
  accountId: string;
  name: string;
  createdAt: number;
}

/** Who a set of credentials belongs to. */
export type CredentialOwner =
  | { type: 'root'; accountId: string }
  | { type: 'user'; accountId: string; userName: string }
  | {
      type: 'session';
      accountId: string;
      roleName: string;
      sessionName: string;
      /** Inline session policy JSON passed to AssumeRole, if any. */
      sessionPolicy?: string;
      /** Managed session policies (PolicyArns) passed to AssumeRole, if any. */
      sessionPolicyArns?: string[];
      /** Who assumed the role (principal ARN or service name), for auditing. */
      sourceIdentity?: string;
    };

export interface AccessKeyRecord {
  accessKeyId: string;
  secretAccessKey: string;
  owner: CredentialOwner;
  status: 'Active' | 'Inactive';
  createdAt: number;
  /** Temporary credentials only. */
  sessionToken?: string;
  expiresAt?: number;
}

export interface UserRecord {
  accountId: string;
  userName: string;
  userId: string; // AIDA...
  path: string;
  arn: string;
  createdAt: number;
  permissionsBoundary?: string;
  tags: { Key: string; Value: string }[];
}

export interface RoleRecord {
  accountId: string;
  roleName: string;
  roleId: string; // AROA...
  path: string;
  arn: string;
  createdAt: number;
  assumeRolePolicyDocument: string; // JSON text
  description?: string;
  maxSessionDuration: number;
  permissionsBoundary?: string;
  tags: { Key: string; Value: string }[];
}

export interface ManagedPolicyRecord {
  accountId: string;
  policyName: string;
  policyId: string;
  arn: string;
  path: string;
  description?: string;
  defaultVersionId: string;
  versions: { versionId: string; document: string; createdAt: number }[];
  createdAt: number;
  updatedAt: number;
}

export interface GroupRecord {
  accountId: string;
  groupName: string;
  groupId: string; // AGPA...
  path: string;
  arn: string;
  createdAt: number;
}

export type PrincipalKind = 'user' | 'role' | 'group';

/** What a user can be changed to (UpdateUser, Put/DeleteUserPermissionsBoundary, tags). */
export type UserPatch = Partial<Pick<UserRecord, 'userName' | 'path' | 'arn' | 'permissionsBoundary' | 'tags'>>;

export interface IamStore {
  // accounts
  createAccount(account: AccountRecord): Promise<boolean>; // false if the id exists
  getAccount(accountId: string): Promise<AccountRecord | undefined>;
  listAccounts(): Promise<AccountRecord[]>;

  // access keys (long-term and temporary)
  putAccessKey(key: AccessKeyRecord): Promise<void>;
  getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined>;
  /** Long-term keys of a user (or, without userName, of the account root); temporary credentials are never listed. */
  listAccessKeys(owner: { accountId: string; userName?: string }): Promise<AccessKeyRecord[]>;
  updateAccessKeyStatus(accessKeyId: string, status: 'Active' | 'Inactive'): Promise<void>;
  deleteAccessKey(accessKeyId: string): Promise<void>;
  /** Remove temporary credentials that expired before `now`. */
  deleteExpiredSessions(now: number): Promise<number>;

  // users
  createUser(user: UserRecord): Promise<boolean>; // false if the name exists (case-insensitive)
  getUser(accountId: string, userName: string): Promise<UserRecord | undefined>;
  listUsers(accountId: string): Promise<UserRecord[]>;
  /**
   * Patch a user; optional fields set to undefined are removed. A new userName renames the user and
   * everything that hangs off the name (keys, inline policies, attachments, group memberships).
   * Resolves false if the user does not exist or the new name is taken.
   */
  updateUser(accountId: string, userName: string, patch: UserPatch): Promise<boolean>;
  /** Also removes the user's keys, inline policies, attachments and group memberships. */
  deleteUser(accountId: string, userName: string): Promise<void>;

  // groups and membership
  createGroup(group: GroupRecord): Promise<boolean>; // false if the name exists (case-insensitive)
  getGroup(accountId: string, groupName: string): Promise<GroupRecord | undefined>;
  listGroups(accountId: string): Promise<GroupRecord[]>;
  /** Also removes the group's inline policies, attachments and memberships. */
  deleteGroup(accountId: string, groupName: string): Promise<void>;
  /** Idempotent. */
  addUserToGroup(accountId: string, groupName: string, userName: string): Promise<void>;
  removeUserFromGroup(accountId: string, groupName: string, userName: string): Promise<boolean>;
  /** Groups the user belongs to, by name. */
  listGroupsForUser(accountId: string, userName: string): Promise<GroupRecord[]>;
  /** Members of a group, by name. */
  listGroupMembers(accountId: string, groupName: string): Promise<UserRecord[]>;

  // roles
  createRole(role: RoleRecord): Promise<boolean>; // false if the name exists (case-insensitive)
  getRole(accountId: string, roleName: string): Promise<RoleRecord | undefined>;
  listRoles(accountId: string): Promise<RoleRecord[]>;
  updateRole(accountId: string, roleName: string, patch: Partial<Pick<RoleRecord, 'assumeRolePolicyDocument' | 'description' | 'maxSessionDuration' | 'permissionsBoundary' | 'tags'>>): Promise<void>;
  deleteRole(accountId: string, roleName: string): Promise<void>;

  // inline policies of users, roles and groups
  putInlinePolicy(accountId: string, kind: PrincipalKind, principalName: string, policyName: string, document: string): Promise<void>;
  getInlinePolicy(accountId: string, kind: PrincipalKind, principalName: string, policyName: string): Promise<string | undefined>;
  listInlinePolicies(accountId: string, kind: PrincipalKind, principalName: string): Promise<{ policyName: string; document: string }[]>;
  deleteInlinePolicy(accountId: string, kind: PrincipalKind, principalName: string, policyName: string): Promise<boolean>;

  // managed policies and attachments
  createManagedPolicy(policy: ManagedPolicyRecord): Promise<boolean>;
  getManagedPolicy(arn: string): Promise<ManagedPolicyRecord | undefined>;
  listManagedPolicies(accountId: string): Promise<ManagedPolicyRecord[]>;
  updateManagedPolicy(arn: string, patch: Partial<Pick<ManagedPolicyRecord, 'defaultVersionId' | 'versions' | 'updatedAt' | 'description'>>): Promise<void>;
  deleteManagedPolicy(arn: string): Promise<void>;
  attachPolicy(accountId: string, kind: PrincipalKind, principalName: string, policyArn: string): Promise<void>;
  detachPolicy(accountId: string, kind: PrincipalKind, principalName: string, policyArn: string): Promise<boolean>;
  listAttachedPolicies(accountId: string, kind: PrincipalKind, principalName: string): Promise<string[]>;
  /** Who a managed policy is attached to (principal names as stored: lower-cased). */
  listPolicyAttachments(policyArn: string): Promise<{ accountId: string; kind: PrincipalKind; principalName: string }[]>;

  /**
   * A token that changes whenever anything in the IAM store may have changed (a write here or by
   * another process): callers may cache what they derive from users, roles, groups and policies
   * until it changes.
   */
  changeToken(): Promise<string>;

  close(): Promise<void>;
}
