/**
 * Every S3 operation maps to its IAM action(s) and resource (S3 User Guide, "Required permissions
 * for Amazon S3 API operations"); the operation table and the action table agree.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { IMPLEMENTED_S3_OPERATIONS, resolveS3Operation, refineByHeaders } from './operations.js';
import { copySource, S3_AUTHORIZATION, s3Authorizations } from './iam-actions.js';
import type { S3Request } from './s3-request.js';

function request(method: string, path: string, headers: Record<string, string> = {}): S3Request {
  const url = new URL(`http://x${path}`);
  const [, bucket, ...rest] = url.pathname.split('/');
  const req: S3Request = {
    method,
    query: url.searchParams,
    headers,
    body: new PassThrough(),
    payload: () => ({ decodedLength: 0, md5: '' }),
    caller: { principal: { type: 'Anonymous' }, secureTransport: false, loopback: true },
    region: 'us-east-1',
    requestId: 'r',
  };
  if (bucket) req.bucket = bucket;
  if (rest.length > 0 && rest.join('/') !== '') req.key = rest.join('/');
  return req;
}

function actionsOf(method: string, path: string, headers: Record<string, string> = {}): { name: string; actions: string[] } {
  const req = request(method, path, headers);
  const op = refineByHeaders(resolveS3Operation(req.method, req.bucket, req.key, req.query), req.headers);
  const auths = s3Authorizations(op.name, req);
  assert.ok(auths, `no IAM action for ${op.name}`);
  return { name: op.name, actions: auths.map((a) => (a.bucket ? `${a.action} on ${a.bucket}/${a.key}` : a.action)) };
}

test('every implemented operation is in the action table, with the same main action and scope', () => {
  for (const op of IMPLEMENTED_S3_OPERATIONS) {
    const entry = S3_AUTHORIZATION[op.name];
    assert.ok(entry, `${op.name} has no IAM authorization`);
    assert.equal(entry.scope, op.scope, `${op.name} scope`);
    if (op.action && !entry.perObject) {
      const req = request('GET', '/b/k');
      assert.equal(entry.rule(req)[0]?.action, op.action(req), `${op.name} main action`);
    }
  }
});

const CASES: [string, string, Record<string, string>, string, string[]][] = [
  ['GET', '/', {}, 'ListBuckets', ['s3:ListAllMyBuckets']],
  ['PUT', '/b', {}, 'CreateBucket', ['s3:CreateBucket']],
  ['PUT', '/b', { 'x-amz-object-ownership': 'BucketOwnerEnforced' }, 'CreateBucket', ['s3:CreateBucket', 's3:PutBucketOwnershipControls']],
  ['HEAD', '/b', {}, 'HeadBucket', ['s3:ListBucket']],
  ['GET', '/b?list-type=2', {}, 'ListObjectsV2', ['s3:ListBucket']],
  ['GET', '/b?versions', {}, 'ListObjectVersions', ['s3:ListBucketVersions']],
  ['GET', '/b?uploads', {}, 'ListMultipartUploads', ['s3:ListBucketMultipartUploads']],
  ['PUT', '/b?policy', {}, 'PutBucketPolicy', ['s3:PutBucketPolicy']],
  ['GET', '/b?policyStatus', {}, 'GetBucketPolicyStatus', ['s3:GetBucketPolicyStatus']],
  ['DELETE', '/b?publicAccessBlock', {}, 'DeletePublicAccessBlock', ['s3:PutBucketPublicAccessBlock']],
  ['DELETE', '/b?replication', {}, 'DeleteBucketReplication', ['s3:PutReplicationConfiguration']],
  ['PUT', '/b?encryption', {}, 'PutBucketEncryption', ['s3:PutEncryptionConfiguration']],
  ['GET', '/b?cors', {}, 'GetBucketCors', ['s3:GetBucketCORS']],
  ['PUT', '/b?lifecycle', {}, 'PutBucketLifecycleConfiguration', ['s3:PutLifecycleConfiguration']],
  ['GET', '/b?object-lock', {}, 'GetObjectLockConfiguration', ['s3:GetBucketObjectLockConfiguration']],
  ['GET', '/b?notification', {}, 'GetBucketNotificationConfiguration', ['s3:GetBucketNotification']],
  ['POST', '/b?delete', {}, 'DeleteObjects', []],
  ['PUT', '/b/k', {}, 'PutObject', ['s3:PutObject']],
  ['PUT', '/b/k', { 'x-amz-tagging': 'a=1', 'x-amz-acl': 'private' }, 'PutObject', ['s3:PutObject', 's3:PutObjectTagging', 's3:PutObjectAcl']],
  ['PUT', '/b/k', { 'x-amz-copy-source': '/src/a%20b.txt' }, 'CopyObject', ['s3:PutObject', 's3:GetObject on src/a b.txt']],
  ['PUT', '/b/k', { 'x-amz-copy-source': 'src/a?versionId=v1' }, 'CopyObject', ['s3:PutObject', 's3:GetObjectVersion on src/a']],
  ['PUT', '/b/k?partNumber=1&uploadId=u', { 'x-amz-copy-source': 'src/a' }, 'UploadPartCopy', ['s3:PutObject', 's3:GetObject on src/a']],
  ['GET', '/b/k', {}, 'GetObject', ['s3:GetObject']],
  ['GET', '/b/k?versionId=v', {}, 'GetObject', ['s3:GetObjectVersion']],
  ['HEAD', '/b/k?versionId=v', {}, 'HeadObject', ['s3:GetObjectVersion']],
  ['DELETE', '/b/k?versionId=v', {}, 'DeleteObject', ['s3:DeleteObjectVersion']],
  ['DELETE', '/b/k', { 'x-amz-bypass-governance-retention': 'true' }, 'DeleteObject', ['s3:DeleteObject', 's3:BypassGovernanceRetention']],
  ['GET', '/b/k?tagging', {}, 'GetObjectTagging', ['s3:GetObjectTagging']],
  ['PUT', '/b/k?tagging&versionId=v', {}, 'PutObjectTagging', ['s3:PutObjectVersionTagging']],
  ['DELETE', '/b/k?tagging', {}, 'DeleteObjectTagging', ['s3:DeleteObjectTagging']],
  ['GET', '/b/k?acl&versionId=v', {}, 'GetObjectAcl', ['s3:GetObjectVersionAcl']],
  ['GET', '/b/k?attributes', {}, 'GetObjectAttributes', ['s3:GetObjectAttributes', 's3:GetObject']],
  ['POST', '/b/k?uploads', {}, 'CreateMultipartUpload', ['s3:PutObject']],
  ['PUT', '/b/k?partNumber=1&uploadId=u', {}, 'UploadPart', ['s3:PutObject']],
  ['POST', '/b/k?uploadId=u', {}, 'CompleteMultipartUpload', ['s3:PutObject']],
  ['DELETE', '/b/k?uploadId=u', {}, 'AbortMultipartUpload', ['s3:AbortMultipartUpload']],
  ['GET', '/b/k?uploadId=u', {}, 'ListParts', ['s3:ListMultipartUploadParts']],
  ['POST', '/b/k?restore', {}, 'RestoreObject', ['s3:RestoreObject']],
];

for (const [method, path, headers, name, actions] of CASES) {
  test(`${method} ${path}${Object.keys(headers).length ? ' ' + JSON.stringify(headers) : ''} → ${name}: ${actions.join(', ') || 'per object'}`, () => {
    assert.deepEqual(actionsOf(method, path, headers), { name, actions });
  });
}

test('every bucket and object sub-resource operation S3 has maps to an IAM action', () => {
  const subresources = ['accelerate', 'acl', 'analytics', 'cors', 'encryption', 'intelligent-tiering', 'inventory', 'lifecycle', 'logging', 'metrics', 'notification', 'object-lock', 'ownershipControls', 'policy', 'publicAccessBlock', 'replication', 'requestPayment', 'tagging', 'versioning', 'website'];
  const missing: string[] = [];
  for (const sub of subresources) {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const req = request(method, `/b?${sub}`);
      const op = resolveS3Operation(method, 'b', undefined, req.query);
      // Some verb/sub-resource pairs do not exist in S3 (e.g. DELETE ?versioning); those resolve to names AWS lacks.
      const exists = !['DeleteBucketVersioning', 'DeleteBucketAcl', 'DeleteBucketAccelerateConfiguration', 'DeleteBucketLogging', 'DeleteBucketNotificationConfiguration', 'DeleteBucketRequestPayment', 'DeleteObjectLockConfiguration', 'DeleteBucketLocation'].includes(op.name);
      if (exists && !S3_AUTHORIZATION[op.name]) missing.push(op.name);
    }
  }
  for (const sub of ['acl', 'tagging', 'retention', 'legal-hold', 'attributes']) {
    for (const method of ['GET', 'PUT']) {
      const op = resolveS3Operation(method, 'b', 'k', new URLSearchParams(sub));
      if (!(method === 'PUT' && sub === 'attributes') && !S3_AUTHORIZATION[op.name]) missing.push(op.name);
    }
  }
  assert.deepEqual(missing, []);
});

test('x-amz-copy-source: URL-decoded, leading slash optional, versionId', () => {
  assert.deepEqual(copySource(request('PUT', '/b/k', { 'x-amz-copy-source': '/my-bucket/dir/a%2Bb.txt' })), { bucket: 'my-bucket', key: 'dir/a+b.txt' });
  assert.deepEqual(copySource(request('PUT', '/b/k', { 'x-amz-copy-source': 'my-bucket/k?versionId=abc' })), { bucket: 'my-bucket', key: 'k', versionId: 'abc' });
  assert.equal(copySource(request('PUT', '/b/k', { 'x-amz-copy-source': 'nokey' })), undefined);
});
