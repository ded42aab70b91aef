/**
 * Encryption at rest, checked on the disk itself: no plaintext object byte, KMS plaintext, data key,
 * SSE-C key or unwrapped KMS key material appears in any file of the data directory (databases, WAL
 * and shared-memory files, blobs), nor in the log; and a flipped byte in a stored object makes GET
 * fail — an error response when the damage is in the first segment read, a cut connection later —
 * never altered data.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CreateKeyCommand, EncryptCommand, GenerateDataKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { unwrapKey } from '../../src/crypto/index.js';
import { eventually, kmsClient, s3Client } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { bucketName, bytes, rejects } from './helpers.js';

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

/** Every file (and the log) that holds any of the needles, in raw, hex or base64 form. */
function findOnDisk(dataDir: string, logs: string, needles: Record<string, Buffer>): string[] {
  const hits: string[] = [];
  const files = filesUnder(dataDir);
  for (const [name, needle] of Object.entries(needles)) {
    const forms = [needle, Buffer.from(needle.toString('hex')), Buffer.from(needle.toString('base64'))];
    for (const f of files) {
      const content = readFileSync(f);
      if (forms.some((form) => content.includes(form))) hits.push(`${name} in ${f}`);
    }
    if (forms.some((form) => logs.includes(form.toString('latin1')))) hits.push(`${name} in the log`);
  }
  return hits;
}

describe('no plaintext at rest', () => {
  let m: MeridianProcess;
  before(async () => {
    m = await startMeridianProcess({ tls: false, env: { MERIDIAN_LOG_LEVEL: 'debug' } });
  });
  after(async () => {
    await m?.stop();
  });

  test('objects of every mode and size, KMS plaintexts, data keys, SSE-C keys and key material never reach the disk unencrypted', async () => {
    const s3: S3Client = s3Client(m);
    const kms: KMSClient = kmsClient(m);
    const bucket = bucketName('rest');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    const marker = (label: string) => Buffer.from(`MERIDIAN-MARKER-${label}-${randomBytes(8).toString('hex')}`);
    const needles: Record<string, Buffer> = {};
    const put = async (label: string, size: number, extra: Record<string, unknown>) => {
      const m1 = marker(label);
      needles[label] = m1;
      // The marker repeated through the body, so it lands in every segment.
      const body = Buffer.alloc(size);
      for (let i = 0; i < size; i += m1.length + 100) m1.copy(body, i, 0, Math.min(m1.length, size - i));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: label, Body: body, ...extra }));
    };
    await put('sse-s3-inline', 4096, {});
    await put('sse-s3-file', 700_000, {});
    await put('sse-kms-inline', 4096, { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key });
    await put('sse-kms-file', 700_000, { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key });
    const customerKey = randomBytes(32);
    needles['sse-c key'] = customerKey;
    const sseC = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: customerKey.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(customerKey).digest('base64') };
    await put('sse-c-file', 300_000, sseC);
    const kmsPlain = marker('kms-encrypt');
    needles['kms-encrypt'] = kmsPlain;
    await kms.send(new EncryptCommand({ KeyId: key, Plaintext: kmsPlain }));
    const dataKey = await kms.send(new GenerateDataKeyCommand({ KeyId: key, KeySpec: 'AES_256' }));
    needles['generated data key'] = Buffer.from(dataKey.Plaintext!);

    // The KMS key material, unwrapped here with the region's root key, must exist only wrapped.
    const regionDir = join(m.dataDir, 'us-east-1');
    const rootKey = readFileSync(join(regionDir, 'root.key'));
    const db = new Database(join(regionDir, 'meta.db'), { readonly: true });
    const rows = db.prepare('SELECT body FROM kms_keys').all() as { body: string }[];
    db.close();
    for (const row of rows) {
      const k = JSON.parse(row.body) as { arn: string; materials: { id: string; wrapped: string }[] };
      for (const mat of k.materials) {
        needles[`material ${mat.id.slice(0, 8)}`] = unwrapKey(rootKey, Buffer.from(mat.wrapped, 'base64'), `kms-material:${k.arn}:${mat.id}`);
      }
    }
    assert.ok(rows.length >= 1);

    const files = filesUnder(m.dataDir).map((f) => f.slice(m.dataDir.length));
    assert.ok(files.some((f) => f.endsWith('meta.db-wal')), `the search covers the WAL file too: ${files.join(', ')}`);
    assert.ok(files.some((f) => f.includes('/blobs/')), 'and blob files');
    assert.deepEqual(findOnDisk(m.dataDir, m.logs(), needles), [], 'while running (WAL not yet checkpointed)');
    // Reads still return the plaintext (the check above is not vacuous).
    const got = await bytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'sse-kms-file' }))).Body);
    assert.ok(got.includes(needles['sse-kms-file']!));
    await m.stop({ keepData: true });
    assert.deepEqual(findOnDisk(m.dataDir, m.logs(), needles), [], 'after a clean stop (checkpointed)');
  });
});

describe('tampering', () => {
  let m: MeridianProcess;
  let s3: S3Client;
  const bucket = bucketName('tamper');
  before(async () => {
    m = await startMeridianProcess({ tls: false });
    s3 = s3Client(m);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(async () => {
    await m?.stop();
  });

  function blobFiles(): string[] {
    return filesUnder(join(m.dataDir, 'us-east-1', 'blobs')).filter((f) => !f.includes('/blobs/tmp/'));
  }

  function flipByte(file: string, offset: number): void {
    const content = readFileSync(file);
    content[offset] ^= 0x01;
    writeFileSync(file, content);
  }

  test('a flipped byte in the first segment: GET answers 500 InternalError, before any data', async () => {
    const before = new Set(blobFiles());
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'first', Body: randomBytes(400_000), ServerSideEncryption: 'aws:kms' }));
    const file = blobFiles().find((f) => !before.has(f))!;
    flipByte(file, 24 + 1000); // inside segment 0 (after the 24-byte header)
    const e = await rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'first' })), 'InternalError', 500);
    assert.match(e.message, /internal error/);
    // The cause is logged with the request id (the client sees only InternalError).
    await eventually(async () => (/failed authentication/.test(m.logs()) ? true : undefined), 5000);
  });

  test('a flipped byte further in: the body breaks off (connection cut), it never completes with altered data', async () => {
    const body = randomBytes(3_000_000);
    const before = new Set(blobFiles());
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'later', Body: body }));
    const file = blobFiles().find((f) => !before.has(f))!;
    // Inside segment 30: past the first file read (1.25 MiB, 19 segments and a bit), so the status line is gone when it fails.
    flipByte(file, 24 + 30 * (65536 + 16) + 10);
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'later' }));
    assert.equal(res.$metadata.httpStatusCode, 200);
    await assert.rejects(bytes(res.Body), 'the body must not complete');
    // A range that avoids the damaged segment still reads.
    const ok = await bytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'later', Range: 'bytes=0-65535' }))).Body);
    assert.ok(ok.equals(body.subarray(0, 65536)));
    // A range that starts in it is refused before data.
    await rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'later', Range: `bytes=${30 * 65536 + 5}-${30 * 65536 + 50}` })), 'InternalError', 500);
  });

  test('an object read in one go (up to 1.25 MiB of blob) is authenticated whole before the status line: a flipped byte anywhere → 500', async () => {
    const body = randomBytes(400_000);
    const before = new Set(blobFiles());
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'one-read', Body: body }));
    const file = blobFiles().find((f) => !before.has(f))!;
    flipByte(file, 24 + 5 * (65536 + 16) + 10); // inside segment 5 of 7
    await rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'one-read' })), 'InternalError', 500);
    const ok = await bytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'one-read', Range: 'bytes=0-65535' }))).Body);
    assert.ok(ok.equals(body.subarray(0, 65536)));
  });

  test('a flipped byte in a small object stored inline in the database: 500 InternalError', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'inline', Body: 'small and inline' }));
    await m.stop({ keepData: true });
    const dbFile = join(m.dataDir, 'us-east-1', 'meta.db');
    const db = new Database(dbFile);
    const row = db.prepare('SELECT seq, inline_data FROM object_versions WHERE bucket = ? AND key = ?').get(bucket, 'inline') as { seq: number; inline_data: Buffer };
    const data = Buffer.from(row.inline_data);
    data[data.length - 20] ^= 0x80;
    db.prepare('UPDATE object_versions SET inline_data = ? WHERE seq = ?').run(data, row.seq);
    db.close();
    m = await startMeridianProcess({ tls: false, dataDir: m.dataDir, accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey });
    s3 = s3Client(m);
    await rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'inline' })), 'InternalError', 500);
  });

  test("keys cached by earlier reads do not open another object's bytes: records swapped while the server runs answer 500", async () => {
    // Both objects read first, so the server holds their unwrapped and derived keys in its caches.
    const bodies = { 'swap-a': randomBytes(3000), 'swap-b': randomBytes(3000), 'swap-c': randomBytes(3000) };
    for (const [key, body] of Object.entries(bodies)) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      assert.ok((await bytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body)).equals(body));
    }
    const db = new Database(join(m.dataDir, 'us-east-1', 'meta.db'));
    try {
      const row = (key: string) =>
        db.prepare('SELECT seq, encryption, inline_data FROM object_versions WHERE bucket = ? AND key = ? ORDER BY seq DESC LIMIT 1').get(bucket, key) as { seq: number; encryption: string; inline_data: Buffer };
      const a = row('swap-a');
      // b gets a's wrapped key and bytes: a's key is bound to a's name, so it does not unwrap as b's.
      db.prepare('UPDATE object_versions SET encryption = ?, inline_data = ? WHERE seq = ?').run(a.encryption, a.inline_data, row('swap-b').seq);
      // c keeps its own key but gets a's bytes: sealed under another data key, they fail authentication.
      db.prepare('UPDATE object_versions SET inline_data = ? WHERE seq = ?').run(a.inline_data, row('swap-c').seq);
    } finally {
      db.close();
    }
    await rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'swap-b' })), 'InternalError', 500);
    await rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'swap-c' })), 'InternalError', 500);
    assert.ok((await bytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'swap-a' }))).Body)).equals(bodies['swap-a']), 'a still reads');
  });
});
