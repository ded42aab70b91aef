/**
 * A full disk under the data directory (a small tmpfs, mounted as root): writes fail with 503
 * ServiceUnavailable (AWS SDKs retry it), nothing half-written is visible, what was stored before
 * stays readable, and the server serves writes again once space is freed. Skipped, with the
 * reason, where mounting is not permitted.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { s3Client } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { blobFileIds, bucketName, bytes, rejects } from './helpers.js';

const mountPoint = mkdtempSync(join(tmpdir(), 'meridian-tmpfs-'));
let skip: string | false = false;
try {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mountPoint], { stdio: 'pipe' });
} catch (e) {
  skip = `cannot mount a tmpfs here (needs root): ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}`;
}

const dataDir = join(mountPoint, 'data');
const filler = join(mountPoint, 'filler');
let m: MeridianProcess;
let s3: S3Client;
const bucket = bucketName('full');

before(async () => {
  if (skip) return;
  // Deleted blobs go at once: the test frees space by deleting its filler, not by waiting.
  m = await startMeridianProcess({ dataDir, env: { MERIDIAN_BLOB_DELETE_GRACE_MS: '0' } });
  s3 = s3Client(m);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});
after(async () => {
  if (!skip) {
    await m?.stop({ keepData: true });
    execFileSync('umount', [mountPoint]);
  }
  rmSync(mountPoint, { recursive: true, force: true });
});

/** Write to `filler` until the file system refuses (ENOSPC). */
function fillDisk(): void {
  const fd = openSync(filler, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
}

describe('a full disk', { skip }, () => {
  test('writes fail with 503 ServiceUnavailable, leave nothing behind, and succeed again once space is freed', async () => {
    const before = randomBytes(1024 * 1024);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'before', Body: before }));
    const files = blobFileIds(dataDir);
    fillDisk();

    const big = randomBytes(2 * 1024 * 1024);
    const e = await rejects(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big', Body: big })), 'ServiceUnavailable', 503);
    assert.match(e.message, /out of storage space/);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp' })).catch(() => ({ UploadId: undefined }));
    if (UploadId) await rejects(s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId, PartNumber: 1, Body: big })), 'ServiceUnavailable', 503);

    // Small objects live in the database: each either commits whole (SQLite may reuse WAL space) or fails whole with 503.
    const small = new Map<string, Buffer>();
    for (let i = 0; i < 40; i++) {
      const body = randomBytes(100 * 1024);
      try {
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `small-${i}`, Body: body }));
        small.set(`small-${i}`, body);
      } catch (err) {
        assert.equal((err as Error).name, 'ServiceUnavailable', String(err));
        await rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: `small-${i}` })), 'NoSuchKey', 404);
      }
    }
    assert.ok(small.size < 40, 'the database ran out of space too');

    assert.deepEqual(blobFileIds(dataDir), files, 'no half-written blob is left');
    await rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big' })), 'NoSuchKey', 404);
    assert.ok((await bytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'before' }))).Body)).equals(before), 'earlier data is intact');
    for (const [key, body] of small) assert.ok((await bytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body)).equals(body));

    unlinkSync(filler);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big', Body: big }));
    assert.ok((await bytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big' }))).Body)).equals(big));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'small-after', Body: 'fine' }));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    assert.deepEqual(
      listed.Contents?.map((c) => c.Key).sort(),
      ['before', 'big', ...small.keys(), 'small-after'].sort(),
    );
  });
});
