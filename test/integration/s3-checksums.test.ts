/**
 * Flexible checksums end to end through the SDK v3 (reference kms-iam-sts-sigv4.md §6.3):
 * PutObject with each of CRC32, CRC32C, CRC64NVME, SHA1 and SHA256; BadDigest and InvalidDigest;
 * multipart COMPOSITE and FULL_OBJECT (parts' CRCs combined into the whole object's CRC), parts
 * sent without checksums, and the checksum-mode combinations AWS refuses.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { computeChecksum, type ChecksumAlgorithm } from '../../src/crypto/index.js';
import { s3Client } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { bucketName, bytes, rejects } from './helpers.js';
import { signedFetch } from './signed-fetch.js';

let m: MeridianProcess;
let s3: S3Client;
let bucket: string;

before(async () => {
  m = await startMeridianProcess();
  s3 = s3Client(m);
  bucket = bucketName('sums');
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});
after(async () => {
  await m?.stop();
});

const ALGORITHMS: ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];
const field = (a: string) => `Checksum${a}` as 'ChecksumCRC32';

describe('PutObject checksums', () => {
  for (const algorithm of ALGORITHMS) {
    test(`${algorithm}: validated, stored and returned with checksum mode`, async () => {
      const data = randomBytes(100_000);
      const expected = computeChecksum(algorithm, data);
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `put-${algorithm}`, Body: data, ChecksumAlgorithm: algorithm }));
      assert.equal(put[field(algorithm)], expected);
      assert.equal(put.ChecksumType, 'FULL_OBJECT');
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `put-${algorithm}`, ChecksumMode: 'ENABLED' }));
      assert.equal(head[field(algorithm)], expected);
      const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `put-${algorithm}`, ChecksumMode: 'ENABLED' }));
      assert.equal(get[field(algorithm)], expected);
      assert.deepEqual(await bytes(get.Body), data);
    });
  }

  test('a checksum or Content-MD5 that does not match the body: 400 BadDigest, nothing stored; a malformed Content-MD5: InvalidDigest', async () => {
    const body = 'the real body';
    const wrongSha = computeChecksum('SHA256', Buffer.from('another body'));
    const r1 = await signedFetch(m, 'PUT', `/${bucket}/bad-digest`, { body, headers: { 'x-amz-checksum-sha256': wrongSha } });
    assert.equal(r1.status, 400);
    assert.match(r1.text, /<Code>BadDigest<\/Code>/);
    const r2 = await signedFetch(m, 'PUT', `/${bucket}/bad-digest`, { body, headers: { 'content-md5': createHash('md5').update('x').digest('base64') } });
    assert.equal(r2.status, 400);
    assert.match(r2.text, /<Code>BadDigest<\/Code>/);
    const r3 = await signedFetch(m, 'PUT', `/${bucket}/bad-digest`, { body, headers: { 'content-md5': 'not-base64-md5' } });
    assert.equal(r3.status, 400);
    assert.match(r3.text, /<Code>InvalidDigest<\/Code>/);
    await rejects(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'bad-digest' })), 'NotFound', 404);
  });

  test('large bodies (hashed on the digest thread): the ETag is their MD5, a wrong Content-MD5 or SHA-256 stores nothing', async () => {
    const body = randomBytes(3 * 1024 * 1024 + 5);
    const md5 = createHash('md5').update(body);
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'large', Body: body }));
    assert.equal(put.ETag, `"${md5.copy().digest('hex')}"`);
    assert.deepEqual(await bytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'large' }))).Body), body);
    const wrongMd5 = await signedFetch(m, 'PUT', `/${bucket}/large-bad`, { body, headers: { 'content-md5': createHash('md5').update('x').digest('base64') } });
    assert.equal(wrongMd5.status, 400);
    assert.match(wrongMd5.text, /<Code>BadDigest<\/Code>/);
    const wrongSha = await signedFetch(m, 'PUT', `/${bucket}/large-bad`, { body, payloadHash: createHash('sha256').update('x').digest('hex') });
    assert.equal(wrongSha.status, 400);
    assert.match(wrongSha.text, /<Code>XAmzContentSHA256Mismatch<\/Code>/);
    await rejects(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'large-bad' })), 'NotFound', 404);
  });
});

describe('multipart checksums', () => {
  const partA = randomBytes(5 * 1024 * 1024);
  const partB = randomBytes(1234);
  const whole = Buffer.concat([partA, partB]);

  async function uploadParts(key: string, algorithm: ChecksumAlgorithm, type: 'COMPOSITE' | 'FULL_OBJECT', client: S3Client = s3, sendPartChecksums = true) {
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ChecksumAlgorithm: algorithm, ChecksumType: type }));
    assert.equal(created.ChecksumAlgorithm, algorithm);
    assert.equal(created.ChecksumType, type);
    const parts: CompletedPart[] = [];
    for (const [i, body] of [partA, partB].entries()) {
      const out = await client.send(
        new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: created.UploadId, PartNumber: i + 1, Body: body, ...(sendPartChecksums ? { ChecksumAlgorithm: algorithm } : {}) }),
      );
      const part: CompletedPart = { PartNumber: i + 1, ETag: out.ETag! };
      if (sendPartChecksums) {
        assert.equal(out[field(algorithm)], computeChecksum(algorithm, body));
        part[field(algorithm)] = out[field(algorithm)]!;
      }
      parts.push(part);
    }
    return { uploadId: created.UploadId!, parts };
  }

  for (const algorithm of ['CRC32', 'CRC32C', 'CRC64NVME'] as const) {
    test(`FULL_OBJECT ${algorithm}: the parts' CRCs combine into the CRC of the whole object`, async () => {
      const key = `full-${algorithm}`;
      const { uploadId, parts } = await uploadParts(key, algorithm, 'FULL_OBJECT');
      const expected = computeChecksum(algorithm, whole);
      const done = await s3.send(
        new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts }, ChecksumType: 'FULL_OBJECT', [field(algorithm)]: expected }),
      );
      assert.equal(done[field(algorithm)], expected);
      assert.equal(done.ChecksumType, 'FULL_OBJECT');
      const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
      assert.equal(get[field(algorithm)], expected);
      assert.equal(get.ChecksumType, 'FULL_OBJECT');
      assert.deepEqual(await bytes(get.Body), whole);
    });
  }

  test('FULL_OBJECT: a whole-object checksum in Complete that does not match is 400 BadDigest; the upload survives', async () => {
    const { uploadId, parts } = await uploadParts('full-wrong', 'CRC32C', 'FULL_OBJECT');
    await rejects(
      s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'full-wrong', UploadId: uploadId, MultipartUpload: { Parts: parts }, ChecksumCRC32C: 'AAAAAA==' })),
      'BadDigest',
      400,
    );
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'full-wrong', UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    assert.equal(done.ChecksumCRC32C, computeChecksum('CRC32C', whole));
  });

  test('parts uploaded without checksums get the upload’s algorithm computed by Meridian', async () => {
    const bare = new S3Client({ endpoint: m.httpEndpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey }, maxAttempts: 1, requestChecksumCalculation: 'WHEN_REQUIRED' });
    const { uploadId, parts } = await uploadParts('full-bare', 'CRC32', 'FULL_OBJECT', bare, false);
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'full-bare', UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    assert.equal(done.ChecksumCRC32, computeChecksum('CRC32', whole));
  });

  for (const algorithm of ['SHA1', 'SHA256'] as const) {
    test(`COMPOSITE ${algorithm}: the checksum of the part checksums, with -N, in Complete and HeadObject`, async () => {
      const key = `composite-${algorithm}`;
      const { uploadId, parts } = await uploadParts(key, algorithm, 'COMPOSITE');
      const composite = `${computeChecksum(algorithm, [partA, partB].map((p) => createHash(algorithm.toLowerCase()).update(p).digest()))}-2`;
      const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
      assert.equal(done[field(algorithm)], composite);
      assert.equal(done.ChecksumType, 'COMPOSITE');
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
      assert.equal(head[field(algorithm)], composite);
    });
  }

  test('modes AWS refuses: FULL_OBJECT with SHA, COMPOSITE with CRC64NVME, a type without an algorithm', async () => {
    const e1 = await rejects(s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'x', ChecksumAlgorithm: 'SHA256', ChecksumType: 'FULL_OBJECT' })), 'InvalidRequest', 400);
    assert.match(e1.message, /FULL_OBJECT checksum type cannot be used with the sha256 checksum algorithm/);
    await rejects(s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'x', ChecksumAlgorithm: 'CRC64NVME', ChecksumType: 'COMPOSITE' })), 'InvalidRequest', 400);
    await rejects(s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'x', ChecksumType: 'FULL_OBJECT' })), 'InvalidRequest', 400);
  });
});
