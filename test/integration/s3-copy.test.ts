/**
 * CopyObject and UploadPartCopy through the SDK v3: metadata and tagging directives, version-id
 * sources, copy onto itself, x-amz-copy-source-if-* conditions, checksums, SSE-KMS sources in
 * another region (cross-region copy), part copies with ranges, and the errors AWS answers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { iamClient, kmsClient, s3Client } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { bucketName, bytes, rejects } from './helpers.js';

let m: MeridianProcess;
let s3: S3Client;
let bucket: string;

before(async () => {
  m = await startMeridianProcess();
  s3 = s3Client(m);
  bucket = bucketName('copy');
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});
after(async () => {
  await m?.stop();
});

const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
const src = (b: string, k: string, versionId?: string) => `${b}/${encodeURIComponent(k)}${versionId ? `?versionId=${versionId}` : ''}`;

async function body(b: string, k: string, versionId?: string): Promise<Buffer> {
  return bytes((await s3.send(new GetObjectCommand({ Bucket: b, Key: k, ...(versionId ? { VersionId: versionId } : {}) }))).Body);
}

describe('CopyObject', () => {
  test('COPY (the default) keeps content type, system and user metadata and tags; the storage class is not copied', async () => {
    const data = Buffer.from('copy me, please');
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'src/a b.txt',
        Body: data,
        ContentType: 'text/plain',
        CacheControl: 'max-age=60',
        Metadata: { colour: 'blue' },
        Tagging: 'team=storage&tier=1',
        StorageClass: 'STANDARD_IA',
      }),
    );
    const out = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'dst/a b.txt', CopySource: src(bucket, 'src/a b.txt') }));
    assert.equal(out.CopyObjectResult?.ETag, `"${md5(data)}"`);
    assert.ok(out.CopyObjectResult?.LastModified instanceof Date);
    assert.equal(out.ServerSideEncryption, 'AES256');
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dst/a b.txt' }));
    assert.equal(head.ContentType, 'text/plain');
    assert.equal(head.CacheControl, 'max-age=60');
    assert.deepEqual(head.Metadata, { colour: 'blue' });
    assert.equal(head.StorageClass, undefined, 'STANDARD: the source class is not carried over');
    assert.equal(head.TagCount, 2);
    assert.deepEqual(await body(bucket, 'dst/a b.txt'), data);
  });

  test('REPLACE takes metadata and tags from the copy request', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'r-src', Body: 'x', ContentType: 'text/plain', Metadata: { old: '1' }, Tagging: 'a=1' }));
    await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'r-dst',
        CopySource: src(bucket, 'r-src'),
        MetadataDirective: 'REPLACE',
        ContentType: 'application/json',
        Metadata: { new: '2' },
        TaggingDirective: 'REPLACE',
        Tagging: 'b=2',
      }),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'r-dst' }));
    assert.equal(head.ContentType, 'application/json');
    assert.deepEqual(head.Metadata, { new: '2' });
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'r-dst' }));
    assert.deepEqual(tags.TagSet, [{ Key: 'b', Value: '2' }]);
  });

  test('copy onto itself needs a change (REPLACE, storage class, encryption); naming an old version restores it', async () => {
    const b = bucketName('copy-self');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'first', Metadata: { n: '1' } }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'second' }));
    const err = await rejects(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'k', CopySource: src(b, 'k') })), 'InvalidRequest', 400);
    assert.match(err.message, /copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes/);

    const replaced = await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'k', CopySource: src(b, 'k'), MetadataDirective: 'REPLACE', Metadata: { n: 'changed' } }));
    assert.match(replaced.VersionId!, /^[A-Za-z0-9._]{32}$/);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' }))).Metadata?.n, 'changed');

    const restored = await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'k', CopySource: src(b, 'k', v1.VersionId) }));
    assert.equal(restored.CopySourceVersionId, v1.VersionId);
    assert.equal((await body(b, 'k')).toString(), 'first');
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' }))).Metadata?.n, '1');
    const sse = await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'k', CopySource: src(b, 'k'), ServerSideEncryption: 'AES256' }));
    assert.equal(sse.ServerSideEncryption, 'AES256', 'restating the encryption counts as a change');
  });

  test('x-amz-copy-source-if-*: 412 PreconditionFailed when a condition does not hold', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond', Body: 'c' }));
    const copy = (extra: Record<string, unknown>) => s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'cond-copy', CopySource: src(bucket, 'cond'), ...extra }));
    const past = new Date(Date.now() - 3600_000);
    const future = new Date(Date.now() + 3600_000);
    await rejects(copy({ CopySourceIfMatch: '"0000"' }), 'PreconditionFailed', 412);
    await rejects(copy({ CopySourceIfNoneMatch: put.ETag }), 'PreconditionFailed', 412);
    await rejects(copy({ CopySourceIfModifiedSince: future }), 'PreconditionFailed', 412);
    await rejects(copy({ CopySourceIfUnmodifiedSince: past }), 'PreconditionFailed', 412);
    // If-Match true wins over a false If-Unmodified-Since (S3's documented combination).
    await copy({ CopySourceIfMatch: put.ETag, CopySourceIfUnmodifiedSince: past });
    await copy({ CopySourceIfNoneMatch: '"other"', CopySourceIfModifiedSince: past });
  });

  test('the source checksum algorithm carries over, recomputed for the new object', async () => {
    const data = randomBytes(3000);
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sha-src', Body: data, ChecksumAlgorithm: 'SHA256' }));
    const out = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'sha-dst', CopySource: src(bucket, 'sha-src') }));
    assert.equal(out.CopyObjectResult?.ChecksumSHA256, put.ChecksumSHA256);
    assert.equal(out.CopyObjectResult?.ChecksumSHA256, createHash('sha256').update(data).digest('base64'));
    const asked = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'crc-dst', CopySource: src(bucket, 'sha-src'), ChecksumAlgorithm: 'CRC32C' }));
    assert.ok(asked.CopyObjectResult?.ChecksumCRC32C);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'crc-dst', ChecksumMode: 'ENABLED' }));
    assert.equal(head.ChecksumCRC32C, asked.CopyObjectResult?.ChecksumCRC32C);
  });

  test('a multi-segment file-backed object copies byte for byte', async () => {
    const data = randomBytes(700_000);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big', Body: data }));
    const out = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'big-copy', CopySource: src(bucket, 'big') }));
    assert.equal(out.CopyObjectResult?.ETag, `"${md5(data)}"`);
    assert.deepEqual(await body(bucket, 'big-copy'), data);
  });

  test('cross-region: an SSE-KMS source in us-east-2 copied into a us-east-1 bucket, re-encrypted as asked', async () => {
    const east2 = s3Client(m, 'us-east-2');
    const srcBucket = bucketName('copy-east2');
    await east2.send(new CreateBucketCommand({ Bucket: srcBucket, CreateBucketConfiguration: { LocationConstraint: 'us-east-2' } }));
    const key = await kmsClient(m, 'us-east-2').send(new CreateKeyCommand({}));
    const data = randomBytes(150_000);
    await east2.send(new PutObjectCommand({ Bucket: srcBucket, Key: 'secret', Body: data, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.KeyMetadata!.Arn }));
    const out = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'from-east2', CopySource: src(srcBucket, 'secret') }));
    assert.equal(out.ServerSideEncryption, 'AES256', 'the target takes the copy request’s encryption, not the source’s');
    assert.deepEqual(await body(bucket, 'from-east2'), data);
  });

  test('errors: missing source key, bucket, version; a delete marker by id; a bad directive; a bad copy source', async () => {
    await rejects(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'd', CopySource: src(bucket, 'nope') })), 'NoSuchKey', 404);
    await rejects(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'd', CopySource: src(bucketName('missing'), 'k') })), 'NoSuchBucket', 404);
    const b = bucketName('copy-err');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v' }));
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
    await rejects(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'd', CopySource: src(b, 'k') })), 'NoSuchKey', 404);
    const e = await rejects(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'd', CopySource: src(b, 'k', marker.VersionId) })), 'InvalidRequest', 400);
    assert.match(e.message, /may not specifically refer to a delete marker by version id/);
    await rejects(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'd', CopySource: src(b, 'k', 'A'.repeat(32)) })), 'NoSuchVersion', 404);
    await rejects(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'd', CopySource: src(b, 'k', 'bad') })), 'InvalidArgument', 400);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ok', Body: 'ok' }));
    await rejects(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'd', CopySource: src(bucket, 'ok'), MetadataDirective: 'MERGE' as 'COPY' })), 'InvalidArgument', 400);
    await rejects(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'd', CopySource: 'no-key-here' })), 'InvalidArgument', 400);
  });

  test('reading the source is authorized too: s3:PutObject on the target alone is AccessDenied', async () => {
    const iam = iamClient(m);
    await iam.send(new CreateUserCommand({ UserName: 'copier' }));
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'copier' }))).AccessKey!;
    await iam.send(
      new PutUserPolicyCommand({
        UserName: 'copier',
        PolicyName: 'put-only',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: `arn:aws:s3:::${bucket}/copied/*` }] }),
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'private', Body: 'p' }));
    const user = s3Client(m, 'us-east-1', { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! });
    const e = await rejects(user.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copied/x', CopySource: src(bucket, 'private') })), 'AccessDenied', 403);
    assert.match(e.message, /s3:GetObject/);
  });
});

describe('UploadPartCopy', () => {
  test('parts copied by range assemble the source exactly', async () => {
    const data = randomBytes(7 * 1024 * 1024 + 123);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'mp-src', Body: data }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp-dst' }));
    const split = 5 * 1024 * 1024;
    const p1 = await s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'mp-dst', UploadId, PartNumber: 1, CopySource: src(bucket, 'mp-src'), CopySourceRange: `bytes=0-${split - 1}` }));
    const p2 = await s3.send(
      new UploadPartCopyCommand({ Bucket: bucket, Key: 'mp-dst', UploadId, PartNumber: 2, CopySource: src(bucket, 'mp-src'), CopySourceRange: `bytes=${split}-${data.length - 1}` }),
    );
    assert.equal(p1.CopyPartResult?.ETag, `"${md5(data.subarray(0, split))}"`);
    assert.equal(p2.CopyPartResult?.ETag, `"${md5(data.subarray(split))}"`);
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'mp-dst',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.CopyPartResult!.ETag }, { PartNumber: 2, ETag: p2.CopyPartResult!.ETag }] },
      }),
    );
    assert.match(done.ETag!, /-2"$/);
    assert.deepEqual(await body(bucket, 'mp-dst'), data);
  });

  test('a whole-object part copy, and the range errors AWS gives', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'small', Body: 'twelve bytes' }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'small-mp' }));
    const whole = await s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'small-mp', UploadId, PartNumber: 1, CopySource: src(bucket, 'small') }));
    assert.equal(whole.CopyPartResult?.ETag, `"${md5('twelve bytes')}"`);
    const outside = await rejects(
      s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'small-mp', UploadId, PartNumber: 2, CopySource: src(bucket, 'small'), CopySourceRange: 'bytes=0-12' })),
      'InvalidArgument',
      400,
    );
    assert.match(outside.message, /Range specified is not valid for source object of size: 12/);
    await rejects(s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'small-mp', UploadId, PartNumber: 2, CopySource: src(bucket, 'small'), CopySourceRange: 'bytes=5-' })), 'InvalidArgument', 400);
    await rejects(s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'small-mp', UploadId, PartNumber: 0, CopySource: src(bucket, 'small') })), 'InvalidArgument', 400);
    await rejects(s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'small-mp', UploadId: 'nope', PartNumber: 1, CopySource: src(bucket, 'small') })), 'NoSuchUpload', 404);
  });
});
