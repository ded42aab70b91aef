/**
 * The S3 operation table, keyed by the AWS operation name (as botocore's model names them): how a
 * REST request maps to an operation, which IAM action authorizes it, at what resource, and which
 * handler serves it. Operations without a handler answer 501 NotImplemented naming themselves.
 */
import type { S3Handler } from './s3-context.js';
import type { S3Request } from './s3-request.js';
import * as bucketEncryption from './handlers/bucket-encryption.js';
import * as acl from './handlers/acl.js';
import * as bucketPolicy from './handlers/bucket-policy.js';
import * as buckets from './handlers/buckets.js';
import * as copy from './handlers/copy.js';
import * as cors from './handlers/cors.js';
import * as deletes from './handlers/deletes.js';
import * as lifecycle from './handlers/lifecycle.js';
import * as listing from './handlers/listing.js';
import * as attributes from './handlers/object-attributes.js';
import * as multipart from './handlers/multipart.js';
import * as multipartListing from './handlers/multipart-listing.js';
import * as objects from './handlers/objects.js';
import * as replication from './handlers/replication-config.js';
import * as restore from './handlers/restore.js';
import * as tagging from './handlers/tagging.js';

export interface S3Operation {
  name: string;
  /** What the IAM action is checked against. */
  scope: 'service' | 'bucket' | 'object';
  /** The IAM action authorizing the request (some depend on the request, e.g. versionId). */
  action?: (req: S3Request) => string;
  handler?: S3Handler;
  /** Answered for a bucket in any region, without a region redirect. */
  anyRegion?: boolean;
  /** The bucket need not exist (it is being created). */
  createsBucket?: boolean;
  /** The handler authorizes each object it touches (DeleteObjects): no bucket-level check. */
  authorizesPerObject?: boolean;
}

const fixed = (action: string) => () => action;
const versioned = (plain: string, withVersion: string) => (req: S3Request) => (req.query.has('versionId') ? withVersion : plain);

const IMPLEMENTED: S3Operation[] = [
  { name: 'ListBuckets', scope: 'service', action: fixed('s3:ListAllMyBuckets'), handler: buckets.listBuckets },
  { name: 'CreateBucket', scope: 'bucket', action: fixed('s3:CreateBucket'), handler: buckets.createBucket, createsBucket: true },
  { name: 'HeadBucket', scope: 'bucket', action: fixed('s3:ListBucket'), handler: buckets.headBucket },
  { name: 'DeleteBucket', scope: 'bucket', action: fixed('s3:DeleteBucket'), handler: buckets.deleteBucket },
  { name: 'GetBucketLocation', scope: 'bucket', action: fixed('s3:GetBucketLocation'), handler: buckets.getBucketLocation, anyRegion: true },
  { name: 'GetBucketVersioning', scope: 'bucket', action: fixed('s3:GetBucketVersioning'), handler: buckets.getBucketVersioning },
  { name: 'PutBucketVersioning', scope: 'bucket', action: fixed('s3:PutBucketVersioning'), handler: buckets.putBucketVersioning },
  { name: 'GetBucketReplication', scope: 'bucket', action: fixed('s3:GetReplicationConfiguration'), handler: replication.getBucketReplication },
  { name: 'PutBucketReplication', scope: 'bucket', action: fixed('s3:PutReplicationConfiguration'), handler: replication.putBucketReplication },
  { name: 'DeleteBucketReplication', scope: 'bucket', action: fixed('s3:PutReplicationConfiguration'), handler: replication.deleteBucketReplication },
  { name: 'GetBucketTagging', scope: 'bucket', action: fixed('s3:GetBucketTagging'), handler: tagging.getBucketTagging },
  { name: 'PutBucketTagging', scope: 'bucket', action: fixed('s3:PutBucketTagging'), handler: tagging.putBucketTagging },
  { name: 'DeleteBucketTagging', scope: 'bucket', action: fixed('s3:PutBucketTagging'), handler: tagging.deleteBucketTagging },
  { name: 'GetBucketEncryption', scope: 'bucket', action: fixed('s3:GetEncryptionConfiguration'), handler: bucketEncryption.getBucketEncryption },
  { name: 'PutBucketEncryption', scope: 'bucket', action: fixed('s3:PutEncryptionConfiguration'), handler: bucketEncryption.putBucketEncryption },
  { name: 'DeleteBucketEncryption', scope: 'bucket', action: fixed('s3:PutEncryptionConfiguration'), handler: bucketEncryption.deleteBucketEncryption },
  { name: 'GetBucketAcl', scope: 'bucket', action: fixed('s3:GetBucketAcl'), handler: acl.getBucketAcl },
  { name: 'PutBucketAcl', scope: 'bucket', action: fixed('s3:PutBucketAcl'), handler: acl.putBucketAcl },
  { name: 'GetBucketOwnershipControls', scope: 'bucket', action: fixed('s3:GetBucketOwnershipControls'), handler: acl.getBucketOwnershipControls },
  { name: 'PutBucketOwnershipControls', scope: 'bucket', action: fixed('s3:PutBucketOwnershipControls'), handler: acl.putBucketOwnershipControls },
  { name: 'DeleteBucketOwnershipControls', scope: 'bucket', action: fixed('s3:PutBucketOwnershipControls'), handler: acl.deleteBucketOwnershipControls },
  { name: 'GetBucketCors', scope: 'bucket', action: fixed('s3:GetBucketCORS'), handler: cors.getBucketCors },
  { name: 'PutBucketCors', scope: 'bucket', action: fixed('s3:PutBucketCORS'), handler: cors.putBucketCors },
  { name: 'DeleteBucketCors', scope: 'bucket', action: fixed('s3:PutBucketCORS'), handler: cors.deleteBucketCors },
  { name: 'GetBucketLifecycleConfiguration', scope: 'bucket', action: fixed('s3:GetLifecycleConfiguration'), handler: lifecycle.getBucketLifecycleConfiguration },
  { name: 'PutBucketLifecycleConfiguration', scope: 'bucket', action: fixed('s3:PutLifecycleConfiguration'), handler: lifecycle.putBucketLifecycleConfiguration },
  { name: 'DeleteBucketLifecycle', scope: 'bucket', action: fixed('s3:PutLifecycleConfiguration'), handler: lifecycle.deleteBucketLifecycle },
  { name: 'GetBucketPolicy', scope: 'bucket', action: fixed('s3:GetBucketPolicy'), handler: bucketPolicy.getBucketPolicy },
  { name: 'PutBucketPolicy', scope: 'bucket', action: fixed('s3:PutBucketPolicy'), handler: bucketPolicy.putBucketPolicy },
  { name: 'DeleteBucketPolicy', scope: 'bucket', action: fixed('s3:DeleteBucketPolicy'), handler: bucketPolicy.deleteBucketPolicy },
  { name: 'GetBucketPolicyStatus', scope: 'bucket', action: fixed('s3:GetBucketPolicyStatus'), handler: bucketPolicy.getBucketPolicyStatus },
  { name: 'GetPublicAccessBlock', scope: 'bucket', action: fixed('s3:GetBucketPublicAccessBlock'), handler: bucketPolicy.getPublicAccessBlock },
  { name: 'PutPublicAccessBlock', scope: 'bucket', action: fixed('s3:PutBucketPublicAccessBlock'), handler: bucketPolicy.putPublicAccessBlock },
  { name: 'DeletePublicAccessBlock', scope: 'bucket', action: fixed('s3:PutBucketPublicAccessBlock'), handler: bucketPolicy.deletePublicAccessBlock },
  { name: 'ListObjects', scope: 'bucket', action: fixed('s3:ListBucket'), handler: listing.listObjects },
  { name: 'ListObjectsV2', scope: 'bucket', action: fixed('s3:ListBucket'), handler: listing.listObjectsV2 },
  { name: 'ListObjectVersions', scope: 'bucket', action: fixed('s3:ListBucketVersions'), handler: listing.listObjectVersions },
  { name: 'ListMultipartUploads', scope: 'bucket', action: fixed('s3:ListBucketMultipartUploads'), handler: multipartListing.listMultipartUploads },
  { name: 'PutObject', scope: 'object', action: fixed('s3:PutObject'), handler: objects.putObject },
  { name: 'GetObject', scope: 'object', action: versioned('s3:GetObject', 's3:GetObjectVersion'), handler: objects.getObject },
  { name: 'HeadObject', scope: 'object', action: versioned('s3:GetObject', 's3:GetObjectVersion'), handler: objects.headObject },
  { name: 'DeleteObject', scope: 'object', action: versioned('s3:DeleteObject', 's3:DeleteObjectVersion'), handler: deletes.deleteObject },
  { name: 'DeleteObjects', scope: 'bucket', action: fixed('s3:DeleteObject'), handler: deletes.deleteObjects, authorizesPerObject: true },
  { name: 'CopyObject', scope: 'object', action: fixed('s3:PutObject'), handler: copy.copyObject },
  { name: 'UploadPartCopy', scope: 'object', action: fixed('s3:PutObject'), handler: copy.uploadPartCopy },
  { name: 'GetObjectAttributes', scope: 'object', action: versioned('s3:GetObjectAttributes', 's3:GetObjectVersionAttributes'), handler: attributes.getObjectAttributes },
  { name: 'GetObjectAcl', scope: 'object', action: versioned('s3:GetObjectAcl', 's3:GetObjectVersionAcl'), handler: acl.getObjectAcl },
  { name: 'PutObjectAcl', scope: 'object', action: versioned('s3:PutObjectAcl', 's3:PutObjectVersionAcl'), handler: acl.putObjectAcl },
  { name: 'RestoreObject', scope: 'object', action: fixed('s3:RestoreObject'), handler: restore.restoreObject },
  { name: 'GetObjectTagging', scope: 'object', action: versioned('s3:GetObjectTagging', 's3:GetObjectVersionTagging'), handler: tagging.getObjectTagging },
  { name: 'PutObjectTagging', scope: 'object', action: versioned('s3:PutObjectTagging', 's3:PutObjectVersionTagging'), handler: tagging.putObjectTagging },
  { name: 'DeleteObjectTagging', scope: 'object', action: versioned('s3:DeleteObjectTagging', 's3:DeleteObjectVersionTagging'), handler: tagging.deleteObjectTagging },
  { name: 'CreateMultipartUpload', scope: 'object', action: fixed('s3:PutObject'), handler: multipart.createMultipartUpload },
  { name: 'UploadPart', scope: 'object', action: fixed('s3:PutObject'), handler: multipart.uploadPart },
  { name: 'CompleteMultipartUpload', scope: 'object', action: fixed('s3:PutObject'), handler: multipart.completeMultipartUpload },
  { name: 'AbortMultipartUpload', scope: 'object', action: fixed('s3:AbortMultipartUpload'), handler: multipart.abortMultipartUpload },
  { name: 'ListParts', scope: 'object', action: fixed('s3:ListMultipartUploadParts'), handler: multipartListing.listParts },
];

const BY_NAME = new Map(IMPLEMENTED.map((op) => [op.name, op]));
/** The implemented operations' rows (tests check each against the IAM action table, iam-actions.ts). */
export const IMPLEMENTED_S3_OPERATIONS: readonly S3Operation[] = IMPLEMENTED;

/** Names of the operations Meridian serves (docs/s3-compatibility.md is checked against them). */
export const IMPLEMENTED_OPERATIONS: readonly string[] = IMPLEMENTED.filter((op) => op.handler).map((op) => op.name);

/** Bucket sub-resources and the operation-name stem AWS uses for them. */
const BUCKET_SUBRESOURCES: Record<string, string> = {
  accelerate: 'BucketAccelerateConfiguration',
  acl: 'BucketAcl',
  analytics: 'BucketAnalyticsConfiguration',
  cors: 'BucketCors',
  encryption: 'BucketEncryption',
  'intelligent-tiering': 'BucketIntelligentTieringConfiguration',
  inventory: 'BucketInventoryConfiguration',
  lifecycle: 'BucketLifecycleConfiguration',
  location: 'BucketLocation',
  logging: 'BucketLogging',
  metrics: 'BucketMetricsConfiguration',
  notification: 'BucketNotificationConfiguration',
  'object-lock': 'ObjectLockConfiguration',
  ownershipControls: 'BucketOwnershipControls',
  policy: 'BucketPolicy',
  policyStatus: 'BucketPolicyStatus',
  publicAccessBlock: 'PublicAccessBlock',
  replication: 'BucketReplication',
  requestPayment: 'BucketRequestPayment',
  tagging: 'BucketTagging',
  versioning: 'BucketVersioning',
  website: 'BucketWebsite',
  metadataTable: 'BucketMetadataTableConfiguration',
};

const OBJECT_SUBRESOURCES: Record<string, string> = {
  acl: 'ObjectAcl',
  tagging: 'ObjectTagging',
  retention: 'ObjectRetention',
  'legal-hold': 'ObjectLegalHold',
  torrent: 'ObjectTorrent',
  attributes: 'ObjectAttributes',
};

const VERB: Record<string, string> = { GET: 'Get', PUT: 'Put', DELETE: 'Delete', HEAD: 'Head' };

function named(name: string, scope: S3Operation['scope']): S3Operation {
  return BY_NAME.get(name) ?? { name, scope };
}

/** Map a REST request to its operation (the handler may be missing: NotImplemented). */
export function resolveS3Operation(method: string, bucket: string | undefined, key: string | undefined, query: URLSearchParams): S3Operation {
  if (!bucket) {
    if (method === 'GET') return named('ListBuckets', 'service');
    return { name: `${VERB[method] ?? method}Service`, scope: 'service' };
  }
  if (key === undefined) {
    for (const [sub, stem] of Object.entries(BUCKET_SUBRESOURCES)) {
      if (!query.has(sub)) continue;
      const verb = VERB[method];
      if (!verb || verb === 'Head') break;
      // The model names the lifecycle delete DeleteBucketLifecycle (no "Configuration").
      if (verb === 'Delete' && sub === 'lifecycle') return named('DeleteBucketLifecycle', 'bucket');
      return named(`${verb}${stem}`, 'bucket');
    }
    switch (method) {
      case 'GET':
        if (query.has('versions')) return named('ListObjectVersions', 'bucket');
        if (query.has('uploads')) return named('ListMultipartUploads', 'bucket');
        if (query.get('list-type') === '2') return named('ListObjectsV2', 'bucket');
        if (query.has('session')) return named('CreateSession', 'bucket');
        return named('ListObjects', 'bucket');
      case 'PUT':
        return named('CreateBucket', 'bucket');
      case 'HEAD':
        return named('HeadBucket', 'bucket');
      case 'DELETE':
        return named('DeleteBucket', 'bucket');
      case 'POST':
        if (query.has('delete')) return named('DeleteObjects', 'bucket');
        return named('PostObject', 'bucket');
    }
    return { name: `${method}Bucket`, scope: 'bucket' };
  }
  for (const [sub, stem] of Object.entries(OBJECT_SUBRESOURCES)) {
    if (!query.has(sub)) continue;
    const verb = VERB[method];
    if (verb && verb !== 'Head') return named(`${verb}${stem}`, 'object');
  }
  switch (method) {
    case 'GET':
      if (query.has('uploadId')) return named('ListParts', 'object');
      return named('GetObject', 'object');
    case 'HEAD':
      return named('HeadObject', 'object');
    case 'PUT':
      if (query.has('uploadId') || query.has('partNumber')) return named('UploadPart', 'object');
      return named('PutObject', 'object');
    case 'DELETE':
      if (query.has('uploadId')) return named('AbortMultipartUpload', 'object');
      return named('DeleteObject', 'object');
    case 'POST':
      if (query.has('uploads')) return named('CreateMultipartUpload', 'object');
      if (query.has('uploadId')) return named('CompleteMultipartUpload', 'object');
      if (query.has('restore')) return named('RestoreObject', 'object');
      if (query.has('select')) return named('SelectObjectContent', 'object');
      return { name: 'PostObject', scope: 'object' };
  }
  return { name: `${method}Object`, scope: 'object' };
}

/** CopyObject and UploadPartCopy are recognised by their header, not the URL. */
export function refineByHeaders(op: S3Operation, headers: Record<string, string | undefined>): S3Operation {
  if (headers['x-amz-copy-source'] === undefined) return op;
  if (op.name === 'PutObject') return named('CopyObject', 'object');
  if (op.name === 'UploadPart') return named('UploadPartCopy', 'object');
  return op;
}
