/**
 * `meridian fsck [--repair]` on a data directory damaged on purpose: a missing blob, a truncated
 * one, a flipped byte, an orphan and a leftover temporary file are each reported; --repair removes
 * only the orphans; the damaged objects stay listed (reported, never silently dropped).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { openSync, readSync, closeSync, truncateSync, unlinkSync, writeFileSync, writeSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { kmsClient, s3Client } from '../support/clients.js';
import { meridianOnDataDir } from '../support/meridian-cli.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';

let m: MeridianProcess;
const bucket = 'fsck-bucket';
const MiB = 1024 * 1024;

/** The blob file ids of an object's parts, read from the region database (as fsck's reader would). */
function blobIds(key: string): string[] {
  const db = new Database(join(m.dataDir, 'us-east-1', 'meta.db'), { readonly: true });
  try {
    const rows = db.prepare('SELECT b.file_id FROM version_blobs b JOIN object_versions v ON v.seq = b.seq WHERE v.key = ? ORDER BY b.file_id').all(key) as { file_id: string }[];
    return rows.map((r) => r.file_id);
  } finally {
    db.close();
  }
}
const blobPath = (id: string) => join(m.dataDir, 'us-east-1', 'blobs', id.slice(0, 2), id);

before(async () => {
  m = await startMeridianProcess();
  const s3 = s3Client(m);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const kmsKey = (await kmsClient(m).send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  for (const key of ['sse-s3', 'to-delete', 'to-truncate']) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: randomBytes(300 * 1024) }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'to-flip', Body: randomBytes(300 * 1024), ServerSideEncryption: 'aws:kms', SSEKMSKeyId: kmsKey }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'small', Body: 'inline bytes' }));
  const customerKey = randomBytes(32);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sse-c', Body: randomBytes(300 * 1024), SSECustomerAlgorithm: 'AES256', SSECustomerKey: customerKey.toString('base64') }));
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'multi' }));
  const parts = [];
  for (const [i, size] of [5 * MiB, MiB].entries()) {
    const out = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'multi', UploadId, PartNumber: i + 1, Body: randomBytes(size) }));
    parts.push({ PartNumber: i + 1, ETag: out.ETag! });
  }
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'multi', UploadId, MultipartUpload: { Parts: parts } }));
  const pending = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'in-progress' }));
  await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'in-progress', UploadId: pending.UploadId, PartNumber: 1, Body: randomBytes(200 * 1024) }));
  await m.stop({ keepData: true });
});
after(async () => {
  await m?.stop();
});

describe('meridian fsck', () => {
  test('a sound data directory: exit 0, everything checked', async () => {
    const r = await meridianOnDataDir(['fsck'], m.dataDir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Checked 7 object versions \(8 parts\) and 1 uploaded parts in us-east-1: 0 missing, 0 wrong size, 0 damaged, 0 orphaned; 1 not verifiable/);
  });

  test('damage is reported with exit 2; --repair removes orphans only and never drops an object', async () => {
    const [deleted] = blobIds('to-delete');
    unlinkSync(blobPath(deleted!));
    const [truncated] = blobIds('to-truncate');
    truncateSync(blobPath(truncated!), 1000);
    const [flipped] = blobIds('to-flip');
    const fd = openSync(blobPath(flipped!), 'r+');
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, 100_000);
    byte[0] ^= 0xff;
    writeSync(fd, byte, 0, 1, 100_000);
    closeSync(fd);
    const orphanId = randomBytes(16).toString('hex');
    writeFileSync(blobPath(orphanId), randomBytes(5000));
    const leftover = join(m.dataDir, 'us-east-1', 'blobs', 'tmp', randomBytes(16).toString('hex'));
    writeFileSync(leftover, 'half a write');

    const check = await meridianOnDataDir(['fsck'], m.dataDir);
    assert.equal(check.code, 2, check.stdout + check.stderr);
    assert.match(check.stdout, new RegExp(`missing +${bucket}/to-delete version null: blob ${deleted} does not exist`));
    assert.match(check.stdout, new RegExp(`size +${bucket}/to-truncate version null: blob ${truncated} is 1000 bytes`));
    assert.match(check.stdout, new RegExp(`damaged +${bucket}/to-flip version null: blob ${flipped} fails authentication`));
    assert.match(check.stdout, new RegExp(`orphan +blob ${orphanId} \\(5000 bytes\\) is referenced by no metadata\\n`));
    assert.match(check.stdout, /orphan +temporary file .* is referenced by no metadata/);
    assert.match(check.stdout, /1 missing, 1 wrong size, 1 damaged, 2 orphaned;/);
    assert.ok(existsSync(blobPath(orphanId)), 'a check alone changes nothing');

    const repair = await meridianOnDataDir(['fsck', '--repair'], m.dataDir);
    assert.equal(repair.code, 2, 'missing and damaged objects remain problems');
    assert.match(repair.stdout, /2 orphaned \(2 removed\)/);
    assert.equal(existsSync(blobPath(orphanId)), false);
    assert.equal(existsSync(leftover), false);

    const again = await meridianOnDataDir(['fsck'], m.dataDir);
    assert.match(again.stdout, /1 missing, 1 wrong size, 1 damaged, 0 orphaned;/);

    // The server still lists every object: nothing was dropped behind the operator's back.
    const restarted = await startMeridianProcess({ dataDir: m.dataDir, accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey });
    try {
      const listed = await s3Client(restarted).send(new ListObjectsV2Command({ Bucket: bucket }));
      assert.deepEqual(listed.Contents?.map((c) => c.Key), ['multi', 'small', 'sse-c', 'sse-s3', 'to-delete', 'to-flip', 'to-truncate']);
    } finally {
      await restarted.stop({ keepData: true });
    }
  });
});
