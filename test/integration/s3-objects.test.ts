/**
 * S3 objects through the SDK v3 against a real server: Put/Get/Head/Delete with Buffer and stream
 * bodies (a stream makes SDK v3 send aws-chunked with a CRC32 trailer, reference kms-iam-sts-sigv4.md
 * §5.12), metadata, ranges, conditional reads, checksums (§6.3), error shapes (§6.2), awkward keys,
 * empty and multi-segment objects, and a presigned GET URL fetched with plain fetch (§5.8).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { s3Client } from '../support/clients.js';
import { bucketName, bytes, presignedUrl, rejects } from './helpers.js';

let m: MeridianProcess;
let s3: S3Client;
const bucket = bucketName('objects');

before(async () => {
  m = await startMeridianProcess();
  s3 = s3Client(m);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});
after(async () => {
  await m?.stop();
});

const s3ClientConfig = () => ({
  endpoint: m.httpEndpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey },
  maxAttempts: 1,
});
const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
const crc32Base64 = (b: Buffer) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(b));
  return out.toString('base64');
};

describe('Put, Get, Head, Delete', () => {
  test('a Buffer body round-trips with its ETag (MD5), Content-Type, user metadata and SSE-S3 by default', async () => {
    const body = Buffer.from('hello, meridian\n');
    const put = await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'plain.txt', Body: body, ContentType: 'text/plain', Metadata: { color: 'blue', 'Mixed-Case': 'Yes' } }),
    );
    assert.equal(put.ETag, `"${md5(body)}"`);
    assert.equal(put.ServerSideEncryption, 'AES256', 'every new object is at least SSE-S3 (reference §5.1)');
    assert.equal(put.VersionId, undefined, 'unversioned buckets return no x-amz-version-id');

    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'plain.txt' }));
    assert.deepEqual(await bytes(get.Body), body);
    assert.equal(get.ETag, put.ETag);
    assert.equal(get.ContentType, 'text/plain');
    assert.equal(get.ContentLength, body.length);
    assert.deepEqual(get.Metadata, { color: 'blue', 'mixed-case': 'Yes' }, 'metadata names come back lower-case');
    assert.equal(get.ServerSideEncryption, 'AES256');
    assert.equal(get.AcceptRanges, 'bytes');
    assert.ok(get.LastModified instanceof Date);
    assert.equal(get.VersionId, undefined);

    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'plain.txt' }));
    assert.equal(head.ContentLength, body.length);
    assert.equal(head.ETag, put.ETag);
    assert.deepEqual(head.Metadata, get.Metadata);

    const del = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'plain.txt' }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    await rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'plain.txt' })), 'NoSuchKey', 404);
    await rejects(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'plain.txt' })), 'NotFound', 404);
    // Deleting what is not there is still 204.
    assert.equal((await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'plain.txt' }))).$metadata.httpStatusCode, 204);
  });

  test('a stream body (aws-chunked with a CRC32 trailer) is stored byte for byte and its CRC32 echoed', async () => {
    const body = randomBytes(200_000);
    const chunks = [body.subarray(0, 70_000), body.subarray(70_000, 150_000), body.subarray(150_000)];
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'streamed.bin', Body: Readable.from(chunks), ContentLength: body.length }));
    assert.equal(put.ETag, `"${md5(body)}"`);
    assert.equal(put.ChecksumCRC32, crc32Base64(body));
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'streamed.bin' }));
    assert.deepEqual(await bytes(get.Body), body);
  });

  test('a Buffer body sends x-amz-checksum-crc32 as a header: the object keeps it, GET/HEAD return it only with checksum mode', async () => {
    const body = Buffer.from('checksummed content');
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'crc.txt', Body: body }));
    assert.equal(put.ChecksumCRC32, crc32Base64(body));
    assert.equal(put.ChecksumType, 'FULL_OBJECT');
    // SDK v3 asks for checksums on every GetObject by default; this client does not.
    const noMode = new S3Client({ ...s3ClientConfig(), responseChecksumValidation: 'WHEN_REQUIRED' });
    const plain = await noMode.send(new GetObjectCommand({ Bucket: bucket, Key: 'crc.txt' }));
    assert.equal(plain.ChecksumCRC32, undefined);
    await bytes(plain.Body);
    const withMode = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'crc.txt', ChecksumMode: 'ENABLED' }));
    assert.equal(withMode.ChecksumCRC32, crc32Base64(body));
    assert.deepEqual(await bytes(withMode.Body), body);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'crc.txt', ChecksumMode: 'ENABLED' }));
    assert.equal(head.ChecksumCRC32, crc32Base64(body));
  });

  test('an empty object: size 0 and the MD5 of nothing', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'empty', Body: Buffer.alloc(0) }));
    assert.equal(put.ETag, '"d41d8cd98f00b204e9800998ecf8427e"');
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'empty' }));
    assert.equal(get.ContentLength, 0);
    assert.equal((await bytes(get.Body)).length, 0);
  });

  test('a ~5 MB object (many 64 KiB segments) round-trips as a Buffer and as a stream', async () => {
    const body = randomBytes(5 * 1024 * 1024 + 12345);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big.bin', Body: body }));
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big.bin' }));
    assert.equal(get.ContentLength, body.length);
    assert.ok((await bytes(get.Body)).equals(body));

    const piecewise = Readable.from((function* () {
      for (let i = 0; i < body.length; i += 100_000) yield body.subarray(i, i + 100_000);
    })());
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big-streamed.bin', Body: piecewise, ContentLength: body.length }));
    assert.equal(put.ETag, `"${md5(body)}"`);
    const again = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big-streamed.bin' }));
    assert.ok((await bytes(again.Body)).equals(body));
  });
});

describe('ranges and conditional reads', () => {
  const body = randomBytes(300_000);
  before(async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ranged.bin', Body: body }));
  });

  const ranged = async (range: string) => {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ranged.bin', Range: range }));
    return { out, data: await bytes(out.Body) };
  };

  test('bytes=a-b, open bytes=a-, suffix bytes=-n and an end past the size: 206 with Content-Range', async () => {
    const cases: [string, number, number][] = [
      ['bytes=0-9', 0, 9],
      ['bytes=65530-131080', 65530, 131080], // crosses segment boundaries
      ['bytes=299990-', 299990, 299999],
      ['bytes=-100', 299900, 299999],
      ['bytes=299000-999999', 299000, 299999],
    ];
    for (const [range, start, end] of cases) {
      const { out, data } = await ranged(range);
      assert.equal(out.$metadata.httpStatusCode, 206, range);
      assert.equal(out.ContentRange, `bytes ${start}-${end}/${body.length}`, range);
      assert.equal(out.ContentLength, end - start + 1, range);
      assert.ok(data.equals(body.subarray(start, end + 1)), range);
    }
  });

  test('a range starting at or past the end: 416 InvalidRange', async () => {
    const err = await rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ranged.bin', Range: `bytes=${body.length}-` })), 'InvalidRange', 416);
    assert.equal(err.message, 'The requested range is not satisfiable');
  });

  // A 304 has no body, so SDK v3 can only name the error 'Unknown' (as against AWS).
  test('If-None-Match with the current ETag: 304; If-Match with another ETag: 412 PreconditionFailed', async () => {
    const etag = `"${md5(body)}"`;
    await rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ranged.bin', IfNoneMatch: etag })), 'Unknown', 304);
    await rejects(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'ranged.bin', IfNoneMatch: etag })), 'Unknown', 304);
    const other = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ranged.bin', IfNoneMatch: '"0123456789abcdef0123456789abcdef"' }));
    assert.equal(other.$metadata.httpStatusCode, 200);
    await bytes(other.Body);

    const err = await rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ranged.bin', IfMatch: '"0123456789abcdef0123456789abcdef"' })), 'PreconditionFailed', 412);
    assert.equal(err.Condition, 'If-Match');
    const ok = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ranged.bin', IfMatch: etag }));
    assert.equal(ok.ETag, etag);
    await bytes(ok.Body);
  });

  test('If-Modified-Since after the last change: 304; If-Unmodified-Since before it: 412', async () => {
    const future = new Date(Date.now() + 3_600_000);
    const past = new Date(Date.now() - 3_600_000);
    await rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ranged.bin', IfModifiedSince: future })), 'Unknown', 304);
    await rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ranged.bin', IfUnmodifiedSince: past })), 'PreconditionFailed', 412);
  });
});

describe('error shapes (§6.2)', () => {
  test('NoSuchKey carries Code, Message, Key and the RequestId of the x-amz-request-id header', async () => {
    const err = await rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'no/such key' })), 'NoSuchKey', 404);
    assert.equal(err.Code, 'NoSuchKey');
    assert.equal(err.message, 'The specified key does not exist.');
    assert.equal(err.Key, 'no/such key');
    assert.match(String(err.RequestId), /^[0-9A-F]{16}$/);
    assert.equal(err.RequestId, err.$metadata.requestId);
    assert.equal(err.$response?.headers['content-type'], 'application/xml');
  });

  test('NoSuchBucket carries Code, Message, BucketName and RequestId', async () => {
    const missing = bucketName('missing');
    const err = await rejects(s3.send(new GetObjectCommand({ Bucket: missing, Key: 'k' })), 'NoSuchBucket', 404);
    assert.equal(err.Code, 'NoSuchBucket');
    assert.equal(err.message, 'The specified bucket does not exist');
    assert.equal(err.BucketName, missing);
    assert.match(String(err.RequestId), /^[0-9A-F]{16}$/);
    await rejects(s3.send(new PutObjectCommand({ Bucket: missing, Key: 'k', Body: 'x' })), 'NoSuchBucket', 404);
  });

  test('a versionId other than "null" on an unversioned bucket: 400 InvalidArgument naming versionId', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'v.txt', Body: 'v' }));
    const ok = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'v.txt', VersionId: 'null' }));
    assert.equal(await ok.Body!.transformToString(), 'v');
    const err = await rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'v.txt', VersionId: 'nonsense' })), 'InvalidArgument', 400);
    assert.equal(err.message, 'Invalid version id specified');
    assert.equal(err.ArgumentName, 'versionId');
    assert.equal(err.ArgumentValue, 'nonsense');
  });
});

describe('keys', () => {
  const keys = [
    'with space.txt',
    'plus+sign',
    'percent%41literal',
    'ünïcødé/日本語/файл.txt',
    'emoji 🎉 party',
    'dir/sub dir/a+b%20c',
    'special !$&\'()*,;=:@[]~',
    'question?and#hash',
    'trailing/slash/',
    '  leading spaces',
  ];

  test('unusual keys round-trip exactly and are listed exactly', async () => {
    const prefixBucket = bucketName('keys');
    await s3.send(new CreateBucketCommand({ Bucket: prefixBucket }));
    for (const key of keys) {
      await s3.send(new PutObjectCommand({ Bucket: prefixBucket, Key: key, Body: `body of ${key}` }));
      const get = await s3.send(new GetObjectCommand({ Bucket: prefixBucket, Key: key }));
      assert.equal(await get.Body!.transformToString(), `body of ${key}`, key);
      await s3.send(new HeadObjectCommand({ Bucket: prefixBucket, Key: key }));
    }
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: prefixBucket }));
    const expected = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    assert.deepEqual(listed.Contents?.map((c) => c.Key), expected);
    for (const key of keys) await s3.send(new DeleteObjectCommand({ Bucket: prefixBucket, Key: key }));
    assert.equal((await s3.send(new ListObjectsV2Command({ Bucket: prefixBucket }))).KeyCount, 0);
  });

  test('a key longer than 1024 bytes: 400 KeyTooLongError', async () => {
    await rejects(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'é'.repeat(513), Body: 'x' })), 'KeyTooLongError', 400);
  });
});

describe('presigned URLs (§5.8)', () => {
  test('a presigned GET fetched with plain fetch returns the object; a tampered signature is 403 SignatureDoesNotMatch', async () => {
    const body = randomBytes(70_000);
    const key = 'presigned/a file+1.bin';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    const url = await presignedUrl(m, 'GET', bucket, key);
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(body));
    assert.equal(res.headers.get('etag'), `"${md5(body)}"`);

    const tampered = url.replace(/X-Amz-Signature=([0-9a-f])/, (_, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`);
    const bad = await fetch(tampered);
    assert.equal(bad.status, 403);
    assert.match(await bad.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
  });

  test('a presigned PUT uploads with plain fetch', async () => {
    const url = await presignedUrl(m, 'PUT', bucket, 'presigned/put.txt');
    const res = await fetch(url, { method: 'PUT', body: 'uploaded through a presigned URL' });
    assert.equal(res.status, 200);
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'presigned/put.txt' }));
    assert.equal(await get.Body!.transformToString(), 'uploaded through a presigned URL');
  });
});
