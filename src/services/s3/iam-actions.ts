/**
 * Every S3 operation's IAM authorization (S3 User Guide, "Required permissions for Amazon S3 API
 * operations"; Service Authorization Reference for Amazon S3): the action(s) it needs, on which
 * resource, including the second authorization some operations carry (CopyObject reads its source,
 * PutObject with tags also needs s3:PutObjectTagging). This table is authoritative for all operations,
 * implemented or not; operations.ts rows may restate the main action, and a test keeps them in agreement.
 */
import type { S3Request } from './s3-request.js';

export type S3Scope = 'service' | 'bucket' | 'object';

/** One authorization an operation needs: an action on the request's own bucket/object, or on another. */
export interface S3Authorization {
  action: string;
  /** Where the action applies; default: the operation's own resource. */
  bucket?: string;
  key?: string;
  scope?: S3Scope;
  /** Why this one is needed besides the main action (explanations). */
  reason?: string;
  /**
   * Checked by the handler (through its RequestAuthorizer) once it has parsed and found what it
   * names, so malformed or missing sources get their own errors first: the copy source.
   */
  byHandler?: boolean;
}

type Rule = (req: S3Request) => S3Authorization[];

const one = (action: string): Rule => () => [{ action }];
const hasVersion = (req: S3Request) => req.query.has('versionId');
const versioned = (plain: string, withVersion: string): Rule => (req) => [{ action: hasVersion(req) ? withVersion : plain }];

const ACL_HEADERS = ['x-amz-acl', 'x-amz-grant-full-control', 'x-amz-grant-read', 'x-amz-grant-read-acp', 'x-amz-grant-write', 'x-amz-grant-write-acp'];
const hasAclHeaders = (req: S3Request) => ACL_HEADERS.some((h) => req.headers[h] !== undefined);

/** The source of a copy: x-amz-copy-source = [/]bucket/key[?versionId=...], URL-encoded. */
export function copySource(req: S3Request): { bucket: string; key: string; versionId?: string } | undefined {
  const raw = req.headers['x-amz-copy-source'];
  if (raw === undefined) return undefined;
  const [path, query] = raw.replace(/^\//, '').split('?', 2) as [string, string | undefined];
  const slash = path.indexOf('/');
  if (slash <= 0) return undefined;
  let bucket: string;
  let key: string;
  try {
    bucket = decodeURIComponent(path.slice(0, slash));
    key = decodeURIComponent(path.slice(slash + 1));
  } catch {
    return undefined;
  }
  const versionId = query ? new URLSearchParams(query).get('versionId') ?? undefined : undefined;
  return versionId === undefined ? { bucket, key } : { bucket, key, versionId };
}

function copyRule(req: S3Request): S3Authorization[] {
  const out: S3Authorization[] = [{ action: 's3:PutObject' }];
  if (req.headers['x-amz-tagging'] !== undefined && req.headers['x-amz-tagging-directive']?.toUpperCase() === 'REPLACE') {
    out.push({ action: 's3:PutObjectTagging', reason: 'x-amz-tagging with the REPLACE directive' });
  }
  if (hasAclHeaders(req)) out.push({ action: 's3:PutObjectAcl', reason: 'ACL headers' });
  const src = copySource(req);
  if (src) {
    const action = src.versionId !== undefined ? 's3:GetObjectVersion' : 's3:GetObject';
    out.push({ action, bucket: src.bucket, key: src.key, scope: 'object', reason: 'read the copy source', byHandler: true });
  }
  return out;
}

function putObjectRule(req: S3Request): S3Authorization[] {
  const out: S3Authorization[] = [{ action: 's3:PutObject' }];
  if (req.headers['x-amz-tagging'] !== undefined) out.push({ action: 's3:PutObjectTagging', reason: 'the x-amz-tagging header' });
  if (hasAclHeaders(req)) out.push({ action: 's3:PutObjectAcl', reason: 'ACL headers' });
  return out;
}

const bypassGovernance = (req: S3Request) => req.headers['x-amz-bypass-governance-retention']?.toLowerCase() === 'true';

export const S3_AUTHORIZATION: Record<string, { scope: S3Scope; rule: Rule; perObject?: boolean }> = {
  ListBuckets: { scope: 'service', rule: one('s3:ListAllMyBuckets') },
  CreateBucket: {
    scope: 'bucket',
    rule: (req) => {
      const out: S3Authorization[] = [{ action: 's3:CreateBucket' }];
      if (req.headers['x-amz-object-ownership'] !== undefined) out.push({ action: 's3:PutBucketOwnershipControls', reason: 'x-amz-object-ownership' });
      if (req.headers['x-amz-bucket-object-lock-enabled']?.toLowerCase() === 'true') {
        out.push({ action: 's3:PutBucketObjectLockConfiguration', reason: 'object lock' }, { action: 's3:PutBucketVersioning', reason: 'object lock' });
      }
      return out;
    },
  },
  HeadBucket: { scope: 'bucket', rule: one('s3:ListBucket') },
  DeleteBucket: { scope: 'bucket', rule: one('s3:DeleteBucket') },
  GetBucketLocation: { scope: 'bucket', rule: one('s3:GetBucketLocation') },
  ListObjects: { scope: 'bucket', rule: one('s3:ListBucket') },
  ListObjectsV2: { scope: 'bucket', rule: one('s3:ListBucket') },
  ListObjectVersions: { scope: 'bucket', rule: one('s3:ListBucketVersions') },
  ListMultipartUploads: { scope: 'bucket', rule: one('s3:ListBucketMultipartUploads') },
  // DeleteObjects is authorized per key (s3:DeleteObject / s3:DeleteObjectVersion) by its handler.
  DeleteObjects: { scope: 'bucket', rule: () => [], perObject: true },

  GetBucketVersioning: { scope: 'bucket', rule: one('s3:GetBucketVersioning') },
  PutBucketVersioning: { scope: 'bucket', rule: one('s3:PutBucketVersioning') },
  GetBucketReplication: { scope: 'bucket', rule: one('s3:GetReplicationConfiguration') },
  // PutBucketReplication also needs iam:PassRole on the role (checked by its handler).
  PutBucketReplication: { scope: 'bucket', rule: one('s3:PutReplicationConfiguration') },
  DeleteBucketReplication: { scope: 'bucket', rule: one('s3:PutReplicationConfiguration') },
  GetBucketPolicy: { scope: 'bucket', rule: one('s3:GetBucketPolicy') },
  PutBucketPolicy: { scope: 'bucket', rule: one('s3:PutBucketPolicy') },
  DeleteBucketPolicy: { scope: 'bucket', rule: one('s3:DeleteBucketPolicy') },
  GetBucketPolicyStatus: { scope: 'bucket', rule: one('s3:GetBucketPolicyStatus') },
  GetPublicAccessBlock: { scope: 'bucket', rule: one('s3:GetBucketPublicAccessBlock') },
  PutPublicAccessBlock: { scope: 'bucket', rule: one('s3:PutBucketPublicAccessBlock') },
  DeletePublicAccessBlock: { scope: 'bucket', rule: one('s3:PutBucketPublicAccessBlock') },
  GetBucketEncryption: { scope: 'bucket', rule: one('s3:GetEncryptionConfiguration') },
  PutBucketEncryption: { scope: 'bucket', rule: one('s3:PutEncryptionConfiguration') },
  DeleteBucketEncryption: { scope: 'bucket', rule: one('s3:PutEncryptionConfiguration') },
  GetBucketTagging: { scope: 'bucket', rule: one('s3:GetBucketTagging') },
  PutBucketTagging: { scope: 'bucket', rule: one('s3:PutBucketTagging') },
  DeleteBucketTagging: { scope: 'bucket', rule: one('s3:PutBucketTagging') },
  GetBucketCors: { scope: 'bucket', rule: one('s3:GetBucketCORS') },
  PutBucketCors: { scope: 'bucket', rule: one('s3:PutBucketCORS') },
  DeleteBucketCors: { scope: 'bucket', rule: one('s3:PutBucketCORS') },
  GetBucketAcl: { scope: 'bucket', rule: one('s3:GetBucketAcl') },
  PutBucketAcl: { scope: 'bucket', rule: one('s3:PutBucketAcl') },
  GetBucketLifecycleConfiguration: { scope: 'bucket', rule: one('s3:GetLifecycleConfiguration') },
  GetBucketLifecycle: { scope: 'bucket', rule: one('s3:GetLifecycleConfiguration') },
  PutBucketLifecycleConfiguration: { scope: 'bucket', rule: one('s3:PutLifecycleConfiguration') },
  PutBucketLifecycle: { scope: 'bucket', rule: one('s3:PutLifecycleConfiguration') },
  DeleteBucketLifecycle: { scope: 'bucket', rule: one('s3:PutLifecycleConfiguration') },
  // The router's name for DELETE ?lifecycle until it says DeleteBucketLifecycle, as botocore does.
  DeleteBucketLifecycleConfiguration: { scope: 'bucket', rule: one('s3:PutLifecycleConfiguration') },
  GetBucketOwnershipControls: { scope: 'bucket', rule: one('s3:GetBucketOwnershipControls') },
  PutBucketOwnershipControls: { scope: 'bucket', rule: one('s3:PutBucketOwnershipControls') },
  DeleteBucketOwnershipControls: { scope: 'bucket', rule: one('s3:PutBucketOwnershipControls') },
  GetBucketWebsite: { scope: 'bucket', rule: one('s3:GetBucketWebsite') },
  PutBucketWebsite: { scope: 'bucket', rule: one('s3:PutBucketWebsite') },
  DeleteBucketWebsite: { scope: 'bucket', rule: one('s3:DeleteBucketWebsite') },
  GetBucketLogging: { scope: 'bucket', rule: one('s3:GetBucketLogging') },
  PutBucketLogging: { scope: 'bucket', rule: one('s3:PutBucketLogging') },
  GetBucketNotificationConfiguration: { scope: 'bucket', rule: one('s3:GetBucketNotification') },
  PutBucketNotificationConfiguration: { scope: 'bucket', rule: one('s3:PutBucketNotification') },
  GetBucketRequestPayment: { scope: 'bucket', rule: one('s3:GetBucketRequestPayment') },
  PutBucketRequestPayment: { scope: 'bucket', rule: one('s3:PutBucketRequestPayment') },
  GetBucketAccelerateConfiguration: { scope: 'bucket', rule: one('s3:GetAccelerateConfiguration') },
  PutBucketAccelerateConfiguration: { scope: 'bucket', rule: one('s3:PutAccelerateConfiguration') },
  GetObjectLockConfiguration: { scope: 'bucket', rule: one('s3:GetBucketObjectLockConfiguration') },
  PutObjectLockConfiguration: { scope: 'bucket', rule: one('s3:PutBucketObjectLockConfiguration') },
  GetBucketAnalyticsConfiguration: { scope: 'bucket', rule: one('s3:GetAnalyticsConfiguration') },
  PutBucketAnalyticsConfiguration: { scope: 'bucket', rule: one('s3:PutAnalyticsConfiguration') },
  DeleteBucketAnalyticsConfiguration: { scope: 'bucket', rule: one('s3:PutAnalyticsConfiguration') },
  GetBucketMetricsConfiguration: { scope: 'bucket', rule: one('s3:GetMetricsConfiguration') },
  PutBucketMetricsConfiguration: { scope: 'bucket', rule: one('s3:PutMetricsConfiguration') },
  DeleteBucketMetricsConfiguration: { scope: 'bucket', rule: one('s3:PutMetricsConfiguration') },
  GetBucketInventoryConfiguration: { scope: 'bucket', rule: one('s3:GetInventoryConfiguration') },
  PutBucketInventoryConfiguration: { scope: 'bucket', rule: one('s3:PutInventoryConfiguration') },
  DeleteBucketInventoryConfiguration: { scope: 'bucket', rule: one('s3:PutInventoryConfiguration') },
  GetBucketIntelligentTieringConfiguration: { scope: 'bucket', rule: one('s3:GetIntelligentTieringConfiguration') },
  PutBucketIntelligentTieringConfiguration: { scope: 'bucket', rule: one('s3:PutIntelligentTieringConfiguration') },
  DeleteBucketIntelligentTieringConfiguration: { scope: 'bucket', rule: one('s3:PutIntelligentTieringConfiguration') },

  PutObject: { scope: 'object', rule: putObjectRule },
  CopyObject: { scope: 'object', rule: copyRule },
  GetObject: { scope: 'object', rule: versioned('s3:GetObject', 's3:GetObjectVersion') },
  HeadObject: { scope: 'object', rule: versioned('s3:GetObject', 's3:GetObjectVersion') },
  SelectObjectContent: { scope: 'object', rule: one('s3:GetObject') },
  GetObjectAttributes: {
    scope: 'object',
    rule: (req) =>
      hasVersion(req)
        ? [{ action: 's3:GetObjectVersionAttributes' }, { action: 's3:GetObjectVersion', reason: 'reading attributes also needs read access' }]
        : [{ action: 's3:GetObjectAttributes' }, { action: 's3:GetObject', reason: 'reading attributes also needs read access' }],
  },
  DeleteObject: {
    scope: 'object',
    rule: (req) => {
      const out: S3Authorization[] = [{ action: hasVersion(req) ? 's3:DeleteObjectVersion' : 's3:DeleteObject' }];
      if (bypassGovernance(req)) out.push({ action: 's3:BypassGovernanceRetention', reason: 'x-amz-bypass-governance-retention' });
      return out;
    },
  },
  GetObjectTagging: { scope: 'object', rule: versioned('s3:GetObjectTagging', 's3:GetObjectVersionTagging') },
  PutObjectTagging: { scope: 'object', rule: versioned('s3:PutObjectTagging', 's3:PutObjectVersionTagging') },
  DeleteObjectTagging: { scope: 'object', rule: versioned('s3:DeleteObjectTagging', 's3:DeleteObjectVersionTagging') },
  GetObjectAcl: { scope: 'object', rule: versioned('s3:GetObjectAcl', 's3:GetObjectVersionAcl') },
  PutObjectAcl: { scope: 'object', rule: versioned('s3:PutObjectAcl', 's3:PutObjectVersionAcl') },
  GetObjectRetention: { scope: 'object', rule: one('s3:GetObjectRetention') },
  PutObjectRetention: {
    scope: 'object',
    rule: (req) => [{ action: 's3:PutObjectRetention' }, ...(bypassGovernance(req) ? [{ action: 's3:BypassGovernanceRetention', reason: 'x-amz-bypass-governance-retention' }] : [])],
  },
  GetObjectLegalHold: { scope: 'object', rule: one('s3:GetObjectLegalHold') },
  PutObjectLegalHold: { scope: 'object', rule: one('s3:PutObjectLegalHold') },
  GetObjectTorrent: { scope: 'object', rule: one('s3:GetObjectTorrent') },
  RestoreObject: { scope: 'object', rule: one('s3:RestoreObject') },
  CreateMultipartUpload: { scope: 'object', rule: putObjectRule },
  UploadPart: { scope: 'object', rule: one('s3:PutObject') },
  UploadPartCopy: { scope: 'object', rule: copyRule },
  CompleteMultipartUpload: { scope: 'object', rule: one('s3:PutObject') },
  AbortMultipartUpload: { scope: 'object', rule: one('s3:AbortMultipartUpload') },
  ListParts: { scope: 'object', rule: one('s3:ListMultipartUploadParts') },
};

/** The authorizations a request needs; undefined for an operation this table does not know. */
export function s3Authorizations(name: string, req: S3Request): S3Authorization[] | undefined {
  return S3_AUTHORIZATION[name]?.rule(req);
}

/**
 * Actions whose requests carry s3:ExistingObjectTag/<key> (the tags of the object as stored):
 * reading or changing an existing object's data, tags or ACL.
 */
export const EXISTING_OBJECT_TAG_ACTIONS = new Set(
  [
    's3:GetObject',
    's3:GetObjectVersion',
    's3:GetObjectAcl',
    's3:GetObjectVersionAcl',
    's3:GetObjectTagging',
    's3:GetObjectVersionTagging',
    's3:PutObjectAcl',
    's3:PutObjectVersionAcl',
    's3:PutObjectTagging',
    's3:PutObjectVersionTagging',
    's3:DeleteObjectTagging',
    's3:DeleteObjectVersionTagging',
    's3:GetObjectAttributes',
    's3:GetObjectVersionAttributes',
    's3:GetObjectVersionForReplication',
    's3:ReplicateTags',
  ].map((a) => a.toLowerCase()),
);
