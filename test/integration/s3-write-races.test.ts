/**
 * Writes that race: conditional writes decided at commit (If-None-Match: *, If-Match), with AWS's
 * 412 PreconditionFailed / 409 ConditionalRequestConflict / 404 NoSuchKey answers, on PutObject,
 * CopyObject and CompleteMultipartUpload; reads that outlive an overwrite or delete of what they
 * read; CompleteMultipartUpload racing an UploadPart of the same part.
 *
 * The server runs with MERIDIAN_BLOB_DELETE_GRACE_MS=0: deleted blobs go at once unless a read
 * holds them, so nothing here passes thanks to a grace period.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { eventually, s3Client } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { blobFileIds, bucketName, bytes, rejects } from './helpers.js';
import { heldRequest } from './held-request.js';
import { request } from 'node:http';
import { createHash } from 'node:crypto';
import { presignedUrl } from './helpers.js';

let m: MeridianProcess;
let s3: S3Client;
let bucket: string;

before(async () => {
  m = await startMeridianProcess({ env: { MERIDIAN_BLOB_DELETE_GRACE_MS: '0' } });
  s3 = s3Client(m);
  bucket = bucketName('races');
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});
after(async () => {
  await m?.stop();
});

async function body(key: string): Promise<Buffer> {
  return bytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body);
}

describe('conditional writes are decided at commit', () => {
  test('of 16 concurrent PUTs of one new key with If-None-Match: *, exactly one gets 200; the others 412', async () => {
    const bodies = Array.from({ length: 16 }, () => randomBytes(300 * 1024));
    const results = await Promise.allSettled(bodies.map((Body) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'lock', Body, IfNoneMatch: '*' }))));
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    assert.equal(won.length, 1, `winners: ${won.join(', ')}`);
    for (const r of results) {
      if (r.status === 'rejected') assert.equal((r.reason as Error).name, 'PreconditionFailed');
    }
    assert.ok((await body('lock')).equals(bodies[won[0]!]!), 'the stored object is the winner’s');
  });

  test('compare-and-swap: of 8 concurrent PUTs with If-Match of the current ETag, exactly one replaces it', async () => {
    const first = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cas', Body: 'v0' }));
    const bodies = Array.from({ length: 8 }, () => randomBytes(300 * 1024));
    const results = await Promise.allSettled(bodies.map((Body) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cas', Body, IfMatch: first.ETag! }))));
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    assert.equal(won.length, 1);
    for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as Error).name, 'PreconditionFailed');
    assert.ok((await body('cas')).equals(bodies[won[0]!]!));
  });

  test('If-Match on an object deleted while the PUT was in flight: 409 ConditionalRequestConflict, nothing written', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'gone', Body: 'v1' }));
    const before = new Set(blobFileIds(m.dataDir));
    // Half the body (256 KiB) is past the inline limit (128 KiB), so the server opens a blob file for it.
    const held = await heldRequest(m, 'PUT', `/${bucket}/gone`, randomBytes(512 * 1024), { headers: { 'if-match': put.ETag! } });
    // The PUT has begun (its body is being written, so the object was there when it started) before
    // the DELETE is sent: the client having sent the bytes does not mean the server has read them.
    await eventually(async () => (blobFileIds(m.dataDir).some((f) => !before.has(f)) ? true : undefined), 10_000, 5);
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'gone' }));
    const r = await held.finish();
    assert.equal(r.status, 409, r.text);
    assert.match(r.text, /<Code>ConditionalRequestConflict<\/Code>/);
    await rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'gone' })), 'NoSuchKey', 404);
  });

  test('If-None-Match: * on a PUT whose key was created while it was in flight: 412, the other write stays', async () => {
    const held = await heldRequest(m, 'PUT', `/${bucket}/late`, randomBytes(256 * 1024), { headers: { 'if-none-match': '*' } });
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'late', Body: 'first' }));
    const r = await held.finish();
    assert.equal(r.status, 412, r.text);
    assert.match(r.text, /<Code>PreconditionFailed<\/Code>/);
    assert.equal((await body('late')).toString(), 'first');
  });

  test('If-None-Match with an ETag, or with If-Match, is 501 NotImplemented (AWS accepts only *)', async () => {
    const e = await rejects(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'x', Body: 'x', IfNoneMatch: '"abc"' })), 'NotImplemented', 501);
    assert.equal(e.message, 'A header you provided implies functionality that is not implemented');
    await rejects(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'x', Body: 'x', IfNoneMatch: '*', IfMatch: '"abc"' })), 'NotImplemented', 501);
  });

  test('CopyObject: If-None-Match: * and If-Match hold for the destination', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: 'source' }));
    const dst = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'dst', Body: 'destination' }));
    const copy = (extra: { IfNoneMatch?: string; IfMatch?: string }, Key = 'dst') => s3.send(new CopyObjectCommand({ Bucket: bucket, Key, CopySource: `${bucket}/src`, ...extra }));
    await rejects(copy({ IfNoneMatch: '*' }), 'PreconditionFailed', 412);
    await rejects(copy({ IfMatch: '"00000000000000000000000000000000"' }), 'PreconditionFailed', 412);
    await rejects(copy({ IfMatch: dst.ETag! }, 'no-such-dst'), 'NoSuchKey', 404);
    assert.equal((await body('dst')).toString(), 'destination');
    await copy({ IfMatch: dst.ETag! });
    assert.equal((await body('dst')).toString(), 'source');
    await copy({ IfNoneMatch: '*' }, 'fresh');
    assert.equal((await body('fresh')).toString(), 'source');
  });

  test('CompleteMultipartUpload with If-None-Match: * loses to a PUT that committed first: 412, the upload stays completable', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp-lock' }));
    const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp-lock', UploadId, PartNumber: 1, Body: 'multipart' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'mp-lock', Body: 'single' }));
    const complete = (extra: { IfNoneMatch?: string }) =>
      s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'mp-lock', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] }, ...extra }));
    await rejects(complete({ IfNoneMatch: '*' }), 'PreconditionFailed', 412);
    assert.equal((await body('mp-lock')).toString(), 'single');
    await complete({});
    assert.equal((await body('mp-lock')).toString(), 'multipart');
  });

  test('in a versioned bucket, losing conditional writes leave no version behind', async () => {
    const vb = bucketName('races-v');
    await s3.send(new CreateBucketCommand({ Bucket: vb }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: vb, VersioningConfiguration: { Status: 'Enabled' } }));
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => s3.send(new PutObjectCommand({ Bucket: vb, Key: 'k', Body: randomBytes(200 * 1024), IfNoneMatch: '*' }))));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: vb }));
    assert.equal(versions.Versions?.length, 1);
  });
});

/** A GET that reads the first bytes of the response, then waits until told to read the rest. */
async function pausedGet(url: string): Promise<{ status: number; rest(): Promise<Buffer> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      const chunks: Buffer[] = [];
      res.once('data', (first: Buffer) => {
        chunks.push(first);
        res.pause();
        resolve({
          status: res.statusCode ?? 0,
          rest: () =>
            new Promise<Buffer>((done, fail) => {
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => done(Buffer.concat(chunks)));
              res.on('error', fail);
              res.on('aborted', () => fail(new Error('response cut short')));
              res.resume();
            }),
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const MiB = 1024 * 1024;

describe('reads keep the version they started with', () => {
  test('a GET of a multipart object overwritten and then deleted mid-read still returns every byte', async () => {
    // The first part is far larger than what socket buffers hold, so the server cannot have opened
    // the second part when the client pauses.
    const parts = [randomBytes(24 * MiB), randomBytes(2 * MiB)];
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'big' }));
    const etags = [];
    for (const [i, Body] of parts.entries()) etags.push((await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'big', UploadId, PartNumber: i + 1, Body }))).ETag!);
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'big', UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
    const get = await pausedGet(await presignedUrl(m, 'GET', bucket, 'big'));
    assert.equal(get.status, 200);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big', Body: 'replaced' }));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'big' }));
    const got = await get.rest();
    assert.equal(got.length, 26 * MiB);
    assert.ok(got.equals(Buffer.concat(parts)), 'the old version, whole');
    await rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big' })), 'NoSuchKey', 404);
  });

  test('a GET of a single-part object overwritten mid-read returns the old bytes', async () => {
    const old = randomBytes(16 * MiB);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'single', Body: old }));
    const get = await pausedGet(await presignedUrl(m, 'GET', bucket, 'single'));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'single', Body: 'new' }));
    assert.ok((await get.rest()).equals(old));
    assert.equal((await body('single')).toString(), 'new');
  });
});

describe('CompleteMultipartUpload racing UploadPart of the same part', () => {
  test('every completed object reads back whole, made of the part its ETag names', async () => {
    const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
    // Rounds run side by side so completions and part commits interleave in every order.
    const round = async (n: number): Promise<string> => {
      const key = `race-${n}`;
      const first = randomBytes(200 * 1024);
      const second = randomBytes(200 * 1024);
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
      const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: first }));
      // The replacing upload is already half sent: its commit and the completion land together.
      const replacing = await heldRequest(m, 'PUT', `/${bucket}/${key}`, second, { query: { partNumber: '1', uploadId: UploadId! } });
      const [replaced, completed] = await Promise.allSettled([
        replacing.finish(),
        s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } })),
      ]);
      assert.equal(replaced.status, 'fulfilled', replaced.status === 'rejected' ? String(replaced.reason) : '');
      if (completed.status === 'rejected') {
        // The completion saw the new part (its ETag no longer the one named): AWS's InvalidPart.
        assert.equal((completed.reason as Error).name, 'InvalidPart', String(completed.reason));
        return 'replaced first';
      }
      const stored = await body(key);
      assert.ok(stored.equals(first), `round ${n}: the object is the part the completion named, whole`);
      assert.equal(completed.value.ETag, `"${createHash('md5').update(Buffer.from(md5(first), 'hex')).digest('hex')}-1"`);
      return 'completed';
    };
    const outcomes = await Promise.all(Array.from({ length: 24 }, (_, n) => round(n)));
    assert.ok(outcomes.includes('completed'));
  });
});
