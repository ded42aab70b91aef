/**
 * Multipart uploads through the SDK v3 against a real server: the multipart ETag
 * `"<md5 of the part md5s>-N"` (reference kms-iam-sts-sigv4.md §6.4), COMPOSITE CRC32 checksums
 * (§6.3), the errors of CompleteMultipartUpload, Abort, ListParts, ListMultipartUploads, and SSE-KMS
 * uploads (s3-replication-sse-versioning.md §5.1). @aws-sdk/lib-storage is not installed, so its
 * Upload helper is not exercised here.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import {
  ListObjectVersionsCommand,
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
  ListPartsCommand,
  PutBucketVersioningCommand,
  UploadPartCommand,
  type CompletedPart,
  type CreateMultipartUploadCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { kmsClient, s3Client } from '../support/clients.js';
import { bucketName, bytes, rejects } from './helpers.js';

let m: MeridianProcess;
let s3: S3Client;
const bucket = bucketName('multipart');
const MiB = 1024 * 1024;

before(async () => {
  m = await startMeridianProcess();
  s3 = s3Client(m);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});
after(async () => {
  await m?.stop();
});

const md5 = (b: Buffer) => createHash('md5').update(b).digest();
const crc32Raw = (b: Buffer) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(b));
  return out;
};

async function create(key: string, extra: Partial<CreateMultipartUploadCommandInput> = {}): Promise<string> {
  const out = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...extra }));
  assert.equal(out.Bucket, bucket);
  assert.equal(out.Key, key);
  return out.UploadId!;
}

async function upload(key: string, uploadId: string, partNumber: number, body: Buffer, checksum = false): Promise<CompletedPart> {
  const out = await s3.send(
    new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: body, ...(checksum ? { ChecksumAlgorithm: 'CRC32' } : {}) }),
  );
  assert.equal(out.ETag, `"${md5(body).toString('hex')}"`, 'a part ETag is the MD5 of the part');
  const part: CompletedPart = { PartNumber: partNumber, ETag: out.ETag! };
  if (checksum) part.ChecksumCRC32 = out.ChecksumCRC32!;
  return part;
}

describe('complete uploads', () => {
  test('three parts: ETag is the MD5 of the part MD5s with -3; the object is the parts in order', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB + 17), randomBytes(1234)];
    const key = 'three-parts.bin';
    const id = await create(key, { ContentType: 'application/x-test', Metadata: { origin: 'multipart' } });
    const done: CompletedPart[] = [];
    // Upload out of order: parts are assembled by number, not arrival.
    for (const n of [2, 3, 1]) done[n - 1] = await upload(key, id, n, parts[n - 1]!);
    const out = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: id, MultipartUpload: { Parts: done } }));
    const expectedEtag = `"${md5(Buffer.concat(parts.map(md5))).toString('hex')}-3"`;
    assert.equal(out.ETag, expectedEtag);
    assert.equal(out.Key, key);
    assert.equal(out.Bucket, bucket);

    const whole = Buffer.concat(parts);
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    assert.equal(get.ETag, expectedEtag);
    assert.equal(get.ContentType, 'application/x-test');
    assert.deepEqual(get.Metadata, { origin: 'multipart' });
    assert.equal(get.ContentLength, whole.length);
    assert.ok((await bytes(get.Body)).equals(whole));

    // A range across the part boundary.
    const start = 5 * MiB - 100;
    const range = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${start + 199}` }));
    assert.ok((await bytes(range.Body)).equals(whole.subarray(start, start + 200)));

    await rejects(s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: id })), 'NoSuchUpload', 404);
  });

  test('created with ChecksumAlgorithm CRC32: parts echo their CRC32; Complete returns the COMPOSITE CRC32 with -N', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(300_000)];
    const key = 'crc32-composite.bin';
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ChecksumAlgorithm: 'CRC32' }));
    assert.equal(created.ChecksumAlgorithm, 'CRC32');
    assert.equal(created.ChecksumType, 'COMPOSITE');
    const id = created.UploadId!;
    const done = [await upload(key, id, 1, parts[0]!, true), await upload(key, id, 2, parts[1]!, true)];
    assert.equal(done[0]!.ChecksumCRC32, crc32Raw(parts[0]!).toString('base64'));
    const composite = `${crc32Raw(Buffer.concat(parts.map(crc32Raw))).toString('base64')}-2`;

    const out = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: id, MultipartUpload: { Parts: done } }));
    assert.equal(out.ChecksumCRC32, composite);
    assert.equal(out.ChecksumType, 'COMPOSITE');
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
    assert.equal(head.ChecksumCRC32, composite);
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
    assert.ok((await bytes(get.Body)).equals(Buffer.concat(parts)));
  });

  test('a CRC32 upload: Complete must repeat each part checksum (missing: 400 InvalidRequest; different: 400 InvalidPart)', async () => {
    const key = 'crc32-missing.bin';
    const id = (await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ChecksumAlgorithm: 'CRC32' }))).UploadId!;
    const part = await upload(key, id, 1, Buffer.from('only part'), true);
    const err = await rejects(
      s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: id, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag! }] } })),
      'InvalidRequest',
      400,
    );
    assert.equal(err.message, 'The upload was created using a crc32 checksum. The complete request must include the checksum for each part. It was missing for part 1 in the request.');
    // A checksum that is not the part's is refused like a wrong ETag (InvalidPart, as other S3 implementations answer; unconfirmed against AWS).
    await rejects(
      s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: id, MultipartUpload: { Parts: [{ ...part, ChecksumCRC32: 'AAAAAA==' }] } })),
      'InvalidPart',
      400,
    );
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: id, MultipartUpload: { Parts: [part] } }));
  });

  test('in a versioned bucket, Complete returns the new version id', async () => {
    const b = bucketName('mpu-versions');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    const id = (await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'k' }))).UploadId!;
    const part = await s3.send(new UploadPartCommand({ Bucket: b, Key: 'k', UploadId: id, PartNumber: 1, Body: 'versioned multipart' }));
    const out = await s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'k', UploadId: id, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag! }] } }));
    assert.match(out.VersionId!, /^[A-Za-z0-9._]{32}$/);
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' }));
    assert.equal(head.VersionId, out.VersionId);
    assert.equal(head.ETag, out.ETag);
  });

  test('re-uploading a part number replaces it', async () => {
    const key = 'replaced-part.bin';
    const id = await create(key);
    await upload(key, id, 1, Buffer.from('first attempt'));
    const second = await upload(key, id, 1, Buffer.from('second attempt'));
    const listed = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: id }));
    assert.deepEqual(listed.Parts?.map((p) => [p.PartNumber, p.ETag, p.Size]), [[1, second.ETag, 14]]);
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: id, MultipartUpload: { Parts: [second] } }));
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    assert.equal(await get.Body!.transformToString(), 'second attempt');
  });

  test('SSE-KMS: Create, UploadPart and Complete report aws:kms and the key ARN; the object reads back', async () => {
    const key = await kmsClient(m).send(new CreateKeyCommand({}));
    const parts = [randomBytes(5 * MiB), randomBytes(70_000)];
    const name = 'kms-multipart.bin';
    const created = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: name, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.KeyMetadata!.KeyId! }),
    );
    assert.equal(created.ServerSideEncryption, 'aws:kms');
    assert.equal(created.SSEKMSKeyId, key.KeyMetadata!.Arn);
    const id = created.UploadId!;
    const done: CompletedPart[] = [];
    for (const [i, body] of parts.entries()) {
      const out = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: name, UploadId: id, PartNumber: i + 1, Body: body }));
      assert.equal(out.ServerSideEncryption, 'aws:kms');
      assert.equal(out.SSEKMSKeyId, key.KeyMetadata!.Arn);
      done.push({ PartNumber: i + 1, ETag: out.ETag! });
    }
    const out = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: name, UploadId: id, MultipartUpload: { Parts: done } }));
    assert.equal(out.ServerSideEncryption, 'aws:kms');
    assert.equal(out.SSEKMSKeyId, key.KeyMetadata!.Arn);
    assert.match(out.ETag!, /^"[0-9a-f]{32}-2"$/);
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: name }));
    assert.equal(get.SSEKMSKeyId, key.KeyMetadata!.Arn);
    assert.ok((await bytes(get.Body)).equals(Buffer.concat(parts)));
  });
});

describe('CompleteMultipartUpload errors', () => {
  test('parts out of order: 400 InvalidPartOrder', async () => {
    const key = 'order.bin';
    const id = await create(key);
    const p1 = await upload(key, id, 1, randomBytes(5 * MiB));
    const p2 = await upload(key, id, 2, Buffer.from('tail'));
    const err = await rejects(
      s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: id, MultipartUpload: { Parts: [p2, p1] } })),
      'InvalidPartOrder',
      400,
    );
    assert.equal(err.message, 'The list of parts was not in ascending order. Parts must be ordered by part number.');
    // The upload is still there and can be completed properly.
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: id, MultipartUpload: { Parts: [p1, p2] } }));
  });

  test('a wrong ETag or a part never uploaded: 400 InvalidPart', async () => {
    const key = 'invalid-part.bin';
    const id = await create(key);
    const p1 = await upload(key, id, 1, Buffer.from('only part'));
    await rejects(
      s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: id, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"00000000000000000000000000000000"' }] } })),
      'InvalidPart',
      400,
    );
    await rejects(
      s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: id, MultipartUpload: { Parts: [{ PartNumber: 2, ETag: p1.ETag! }] } })),
      'InvalidPart',
      400,
    );
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: id }));
  });

  test('a part other than the last smaller than 5 MiB: 400 EntityTooSmall', async () => {
    const key = 'too-small.bin';
    const id = await create(key);
    const p1 = await upload(key, id, 1, randomBytes(1024));
    const p2 = await upload(key, id, 2, randomBytes(1024));
    const err = await rejects(
      s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: id, MultipartUpload: { Parts: [p1, p2] } })),
      'EntityTooSmall',
      400,
    );
    assert.equal(err.message, 'Your proposed upload is smaller than the minimum allowed object size.');
    // A single small part is fine: the last part may be any size.
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: id, MultipartUpload: { Parts: [p1] } }));
  });

  test('CompleteMultipartUpload sent again after it succeeded (a lost response) answers the same; other requests still see NoSuchUpload', async () => {
    const key = 'retried.bin';
    const id = await create(key, { ChecksumAlgorithm: 'CRC32' });
    const parts = [await upload(key, id, 1, randomBytes(5 * MiB), true), await upload(key, id, 2, Buffer.from('tail'), true)];
    const complete = (list = parts, Key = key) => s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key, UploadId: id, MultipartUpload: { Parts: list } }));
    // Two at once (a client's retry racing its first attempt), then once more later.
    const [a, b] = await Promise.all([complete(), complete()]);
    const c = await complete();
    for (const r of [b, c]) {
      assert.equal(r.$metadata.httpStatusCode, 200);
      assert.equal(r.ETag, a.ETag);
      assert.equal(r.ChecksumCRC32, a.ChecksumCRC32);
      assert.equal(r.ServerSideEncryption, 'AES256');
      assert.equal(r.Key, key);
    }
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
    assert.equal(listed.Versions?.length, 1, 'completed once');
    // Not the same completion: another part list, another key; and the upload itself is gone.
    await rejects(complete([parts[0]!]), 'NoSuchUpload', 404);
    await rejects(complete(parts, 'other-key'), 'NoSuchUpload', 404);
    await rejects(s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: id })), 'NoSuchUpload', 404);
    await rejects(s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: id, PartNumber: 3, Body: 'late' })), 'NoSuchUpload', 404);
  });

  test('an unknown upload id: 404 NoSuchUpload for UploadPart, Complete, ListParts and Abort', async () => {
    const bogus = 'this-upload-does-not-exist';
    const calls = [
      () => s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'k', UploadId: bogus, PartNumber: 1, Body: 'x' })),
      () => s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'k', UploadId: bogus, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"x"' }] } })),
      () => s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'k', UploadId: bogus })),
      () => s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'k', UploadId: bogus })),
    ];
    for (const call of calls) {
      const err = await rejects(call(), 'NoSuchUpload', 404);
      assert.equal(err.message, 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.');
    }
  });
});

describe('Abort, ListParts, ListMultipartUploads', () => {
  test('Abort: 204, the upload and its parts are gone', async () => {
    const key = 'aborted.bin';
    const id = await create(key);
    await upload(key, id, 1, Buffer.from('doomed'));
    const out = await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: id }));
    assert.equal(out.$metadata.httpStatusCode, 204);
    await rejects(s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: id })), 'NoSuchUpload', 404);
    await rejects(s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: id, PartNumber: 2, Body: 'late' })), 'NoSuchUpload', 404);
    await rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })), 'NoSuchKey', 404);
  });

  test('ListParts pages with MaxParts and PartNumberMarker', async () => {
    const key = 'list-parts.bin';
    const id = await create(key);
    const uploaded: CompletedPart[] = [];
    for (let n = 1; n <= 5; n++) uploaded.push(await upload(key, id, n, Buffer.from(`part ${n}`.repeat(n))));
    const first = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: id, MaxParts: 2 }));
    assert.equal(first.IsTruncated, true);
    assert.deepEqual(first.Parts?.map((p) => p.PartNumber), [1, 2]);
    assert.equal(first.NextPartNumberMarker, '2');
    const rest = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: id, PartNumberMarker: first.NextPartNumberMarker! }));
    assert.equal(rest.IsTruncated, false);
    assert.deepEqual(rest.Parts?.map((p) => [p.PartNumber, p.ETag, p.Size]), uploaded.slice(2).map((p) => [p.PartNumber, p.ETag, `part ${p.PartNumber}`.length * p.PartNumber!]));
    assert.equal(rest.UploadId, id);
    assert.equal(rest.StorageClass, 'STANDARD');
    assert.ok(rest.Initiator?.ID);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: id }));
  });

  test('ListMultipartUploads lists in-progress uploads by key, with prefix filtering and paging', async () => {
    const b = bucketName('uploads');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const ids: Record<string, string> = {};
    for (const key of ['logs/b', 'logs/a', 'other', 'logs/a']) {
      const out = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: key }));
      ids[`${key}#${out.UploadId}`] = out.UploadId!;
    }
    const all = await s3.send(new ListMultipartUploadsCommand({ Bucket: b }));
    assert.equal(all.IsTruncated, false);
    assert.deepEqual(all.Uploads?.map((u) => u.Key), ['logs/a', 'logs/a', 'logs/b', 'other']);
    assert.deepEqual(new Set(all.Uploads?.map((u) => u.UploadId)), new Set(Object.values(ids)));
    const logs = await s3.send(new ListMultipartUploadsCommand({ Bucket: b, Prefix: 'logs/' }));
    assert.deepEqual(logs.Uploads?.map((u) => u.Key), ['logs/a', 'logs/a', 'logs/b']);

    const seen: string[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const page = await s3.send(new ListMultipartUploadsCommand({ Bucket: b, MaxUploads: 1, ...(keyMarker ? { KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker } : {}) }));
      seen.push(...(page.Uploads ?? []).map((u) => u.UploadId!));
      if (!page.IsTruncated) break;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
    assert.deepEqual(seen, all.Uploads?.map((u) => u.UploadId));

    // A delimiter folds keys into CommonPrefixes; paging one entry at a time visits each once.
    const grouped = await s3.send(new ListMultipartUploadsCommand({ Bucket: b, Delimiter: '/' }));
    assert.deepEqual(grouped.CommonPrefixes?.map((p) => p.Prefix), ['logs/']);
    assert.deepEqual(grouped.Uploads?.map((u) => u.Key), ['other']);
    assert.equal(grouped.Delimiter, '/');
    const entries: string[] = [];
    keyMarker = undefined;
    uploadIdMarker = undefined;
    for (;;) {
      const page: ListMultipartUploadsCommandOutput = await s3.send(
        new ListMultipartUploadsCommand({ Bucket: b, Delimiter: '/', MaxUploads: 1, ...(keyMarker ? { KeyMarker: keyMarker } : {}), ...(uploadIdMarker ? { UploadIdMarker: uploadIdMarker } : {}) }),
      );
      entries.push(...(page.CommonPrefixes ?? []).map((p) => `prefix:${p.Prefix}`), ...(page.Uploads ?? []).map((u) => `upload:${u.Key}`));
      if (!page.IsTruncated) break;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
    assert.deepEqual(entries, ['prefix:logs/', 'upload:other']);
    await assert.rejects(s3.send(new ListMultipartUploadsCommand({ Bucket: b, MaxUploads: -1 })), /max-uploads|InvalidArgument/);
  });
});
