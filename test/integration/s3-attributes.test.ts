/**
 * GetObjectAttributes and GetObject/HeadObject with ?partNumber through the SDK v3: the attributes
 * of single-PUT and multipart objects (parts pages, checksums), reading one part of a multipart
 * object, and the errors for parts that do not exist or clash with Range.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { computeChecksum } from '../../src/crypto/index.js';
import { s3Client } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { bucketName, bytes, rejects } from './helpers.js';

let m: MeridianProcess;
let s3: S3Client;
let bucket: string;
const parts = [randomBytes(5 * 1024 * 1024), randomBytes(5 * 1024 * 1024), randomBytes(777)];
const whole = Buffer.concat(parts);

before(async () => {
  m = await startMeridianProcess();
  s3 = s3Client(m);
  bucket = bucketName('attrs');
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp', ChecksumAlgorithm: 'CRC32C', StorageClass: 'STANDARD_IA' }));
  const done = [];
  for (const [i, body] of parts.entries()) {
    const out = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId, PartNumber: i + 1, Body: body, ChecksumAlgorithm: 'CRC32C' }));
    done.push({ PartNumber: i + 1, ETag: out.ETag!, ChecksumCRC32C: out.ChecksumCRC32C! });
  }
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'mp', UploadId, MultipartUpload: { Parts: done } }));
});
after(async () => {
  await m?.stop();
});

describe('GetObjectAttributes', () => {
  test('a single-PUT object: unquoted ETag, checksum, storage class and size; no parts', async () => {
    const body = Buffer.from('attributes, not bytes');
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'single', Body: body, ChecksumAlgorithm: 'SHA1' }));
    const out = await s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'single', ObjectAttributes: ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'] }));
    assert.equal(out.ETag, createHash('md5').update(body).digest('hex'));
    assert.deepEqual(out.Checksum, { ChecksumSHA1: computeChecksum('SHA1', body), ChecksumType: 'FULL_OBJECT' });
    assert.equal(out.ObjectParts, undefined);
    assert.equal(out.StorageClass, 'STANDARD');
    assert.equal(out.ObjectSize, body.length);
    assert.equal(out.VersionId, put.VersionId);
    assert.ok(out.LastModified instanceof Date);
    const some = await s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'single', ObjectAttributes: ['ObjectSize'] }));
    assert.equal(some.ObjectSize, body.length);
    assert.equal(some.ETag, undefined, 'only what was asked for');
  });

  test('a multipart object: parts with sizes and checksums, paged by max-parts and part-number-marker', async () => {
    const out = await s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'mp', ObjectAttributes: ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'], MaxParts: 2 }));
    assert.match(out.ETag!, /^[0-9a-f]{32}-3$/);
    assert.equal(out.Checksum?.ChecksumType, 'COMPOSITE');
    assert.equal(out.StorageClass, 'STANDARD_IA');
    assert.equal(out.ObjectSize, whole.length);
    assert.equal(out.ObjectParts?.TotalPartsCount, 3);
    assert.equal(out.ObjectParts?.IsTruncated, true);
    assert.equal(String(out.ObjectParts?.NextPartNumberMarker), '2');
    assert.deepEqual(out.ObjectParts?.Parts, [
      { PartNumber: 1, Size: parts[0]!.length, ChecksumCRC32C: computeChecksum('CRC32C', parts[0]!) },
      { PartNumber: 2, Size: parts[1]!.length, ChecksumCRC32C: computeChecksum('CRC32C', parts[1]!) },
    ]);
    const rest = await s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'mp', ObjectAttributes: ['ObjectParts'], PartNumberMarker: '2' }));
    assert.equal(rest.ObjectParts?.IsTruncated, false);
    assert.deepEqual(rest.ObjectParts?.Parts?.map((p) => p.PartNumber), [3]);
  });

  test('errors: an unknown attribute name, a missing key, a delete marker', async () => {
    await rejects(s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'single', ObjectAttributes: ['Colour' as 'ETag'] })), 'InvalidArgument', 400);
    await rejects(s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'missing', ObjectAttributes: ['ETag'] })), 'NoSuchKey', 404);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'deleted', Body: 'x' }));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'deleted' }));
    await rejects(s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'deleted', ObjectAttributes: ['ETag'] })), 'NoSuchKey', 404);
  });
});

describe('GetObject and HeadObject with partNumber', () => {
  test('each part of a multipart object, with x-amz-mp-parts-count and its part checksum', async () => {
    let offset = 0;
    for (const [i, p] of parts.entries()) {
      const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp', PartNumber: i + 1, ChecksumMode: 'ENABLED' }));
      assert.equal(get.$metadata.httpStatusCode, 206);
      assert.equal(get.PartsCount, 3);
      assert.equal(get.ContentRange, `bytes ${offset}-${offset + p.length - 1}/${whole.length}`);
      assert.equal(get.ChecksumCRC32C, computeChecksum('CRC32C', p));
      assert.deepEqual(await bytes(get.Body), p);
      offset += p.length;
    }
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'mp', PartNumber: 2 }));
    assert.equal(head.ContentLength, parts[1]!.length);
    assert.equal(head.PartsCount, 3);
  });

  test('a single-PUT object has one part; beyond the last part is 400 InvalidPart; with Range is 400', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'one', Body: 'only part' }));
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'one', PartNumber: 1 }));
    assert.equal((await bytes(get.Body)).toString(), 'only part');
    assert.equal(get.PartsCount, undefined);
    await rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'one', PartNumber: 2 })), 'InvalidPart', 400);
    await rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp', PartNumber: 4 })), 'InvalidPart', 400);
    await rejects(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'mp', PartNumber: 4 })), 'Unknown', 400);
    await rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp', PartNumber: 1, Range: 'bytes=0-1' })), 'InvalidRequest', 400);
    await rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp', PartNumber: 10001 })), 'InvalidArgument', 400);
  });
});
