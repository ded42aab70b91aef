/**
 * Replication of SSE-C objects (reference s3-replication-sse-versioning.md §2.1): they replicate by
 * default with no extra permission and without the customer key — the replica is the source's
 * ciphertext and customer-wrapped data key, never decrypted — and answers only to the same key at
 * the destination. A destination that blocks SSE-C refuses them: FAILED, DstPutObjectNotPermitted.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { eventually, s3Client } from '../support/clients.js';
import { meridianCli } from '../support/meridian-cli.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { setUpReplication } from '../support/replication-setup.js';
import { bytes, rejects } from './helpers.js';

function customerKey() {
  const key = randomBytes(32);
  return { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(key).digest('base64') };
}

/** A body with a random marker repeated through it, so the marker lands in every segment. */
function markedBody(size: number): { body: Buffer; marker: Buffer } {
  const marker = Buffer.from(`SSE-C-REPLICA-MARKER-${randomBytes(8).toString('hex')}`);
  const body = randomBytes(size);
  for (let i = 0; i < size; i += marker.length + 200) marker.copy(body, i, 0, Math.min(marker.length, size - i));
  return { body, marker };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/** Files of the data directory holding any needle, raw, hex or base64. */
function onDisk(dataDir: string, needles: Buffer[]): string[] {
  const hits: string[] = [];
  for (const f of filesUnder(dataDir)) {
    const content = readFileSync(f);
    for (const n of needles) {
      if ([n, Buffer.from(n.toString('hex')), Buffer.from(n.toString('base64'))].some((form) => content.includes(form))) hits.push(f);
    }
  }
  return hits;
}

describe('replication of SSE-C objects', () => {
  let m: MeridianProcess;

  before(async () => {
    m = await startMeridianProcess({ tls: false });
  });

  after(async () => {
    await m?.stop();
  });

  it('replicates without the customer key; the replica reads back only with that key, and is not plaintext on disk', async () => {
    const s = await setUpReplication(m);
    const src = s3Client(m);
    const dst = s3Client(m, 'us-east-2');
    const sseC = customerKey();
    const large = markedBody(300_000); // a blob file
    const small = markedBody(2_000); // inline in the database
    const putLarge = await src.send(new PutObjectCommand({ Bucket: s.src, Key: 'large.bin', Body: large.body, ChecksumAlgorithm: 'CRC32', Metadata: { colour: 'blue' }, ...sseC }));
    const putSmall = await src.send(new PutObjectCommand({ Bucket: s.src, Key: 'small.bin', Body: small.body, ...sseC }));

    for (const [key, put, body] of [['large.bin', putLarge, large.body], ['small.bin', putSmall, small.body]] as const) {
      await eventually(async () => ((await src.send(new HeadObjectCommand({ Bucket: s.src, Key: key, ...sseC }))).ReplicationStatus === 'COMPLETED' ? true : undefined));
      const got = await dst.send(new GetObjectCommand({ Bucket: s.dest, Key: key, ChecksumMode: 'ENABLED', ...sseC }));
      assert.ok((await bytes(got.Body)).equals(body), `${key}: the replica's bytes are the source's`);
      assert.equal(got.ReplicationStatus, 'REPLICA');
      assert.equal(got.VersionId, put.VersionId);
      assert.equal(got.ETag, put.ETag);
      assert.equal(got.SSECustomerAlgorithm, 'AES256');
      assert.equal(got.SSECustomerKeyMD5, sseC.SSECustomerKeyMD5);
      assert.equal(got.ServerSideEncryption, undefined);
      if (put.ChecksumCRC32) assert.equal(got.ChecksumCRC32, put.ChecksumCRC32);
    }
    const head = await dst.send(new HeadObjectCommand({ Bucket: s.dest, Key: 'large.bin', ...sseC }));
    assert.deepEqual(head.Metadata, { colour: 'blue' });
    const range = await dst.send(new GetObjectCommand({ Bucket: s.dest, Key: 'large.bin', Range: 'bytes=65530-131080', ...sseC }));
    assert.ok((await bytes(range.Body)).equals(large.body.subarray(65530, 131081)));

    // As for any SSE-C object: no key is 400 InvalidRequest, another key 403 AccessDenied (HEAD included).
    await rejects(dst.send(new GetObjectCommand({ Bucket: s.dest, Key: 'large.bin' })), 'InvalidRequest', 400);
    await rejects(dst.send(new GetObjectCommand({ Bucket: s.dest, Key: 'large.bin', ...customerKey() })), 'AccessDenied', 403);
    // HEAD has no body: the SDK sees only the 403.
    await rejects(dst.send(new HeadObjectCommand({ Bucket: s.dest, Key: 'small.bin', ...customerKey() })), 'Unknown', 403);

    assert.deepEqual(onDisk(m.dataDir, [large.marker, small.marker, Buffer.from(sseC.SSECustomerKey, 'base64')]), [], 'no plaintext and no customer key at rest');

    const explained = await meridianCli(m, ['replication', 'explain', '--bucket', s.src, '--key', 'large.bin']);
    assert.equal(explained.code, 0, explained.stderr);
    assert.match(explained.stdout, /encryption SSE-C/);
    assert.match(explained.stdout, /SSE-C: it replicates as stored .* no KMS call and no customer key/);
    assert.match(explained.stdout, /Replication to .* is COMPLETED; every check passes/);
    assert.doesNotMatch(explained.stdout, /kms:(Decrypt|Encrypt)/);
  });

  it('a multipart SSE-C object keeps its part layout and ETag in the replica', async () => {
    const s = await setUpReplication(m);
    const src = s3Client(m);
    const dst = s3Client(m, 'us-east-2');
    const sseC = customerKey();
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(70_000)];
    const { UploadId } = await src.send(new CreateMultipartUploadCommand({ Bucket: s.src, Key: 'mp.bin', ...sseC }));
    const etags: string[] = [];
    for (const [i, body] of parts.entries()) {
      etags.push((await src.send(new UploadPartCommand({ Bucket: s.src, Key: 'mp.bin', UploadId, PartNumber: i + 1, Body: body, ...sseC }))).ETag!);
    }
    const done = await src.send(
      new CompleteMultipartUploadCommand({ Bucket: s.src, Key: 'mp.bin', UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }),
    );
    await eventually(async () => ((await src.send(new HeadObjectCommand({ Bucket: s.src, Key: 'mp.bin', ...sseC }))).ReplicationStatus === 'COMPLETED' ? true : undefined));
    const got = await dst.send(new GetObjectCommand({ Bucket: s.dest, Key: 'mp.bin', ...sseC }));
    assert.ok((await bytes(got.Body)).equals(Buffer.concat(parts)));
    assert.equal(got.ETag, done.ETag);
    assert.match(got.ETag!, /-2"$/);
    const part2 = await dst.send(new GetObjectCommand({ Bucket: s.dest, Key: 'mp.bin', PartNumber: 2, ...sseC }));
    assert.equal(part2.PartsCount, 2);
    assert.ok((await bytes(part2.Body)).equals(parts[1]!));
  });

  it('a destination that blocks SSE-C refuses the replica: FAILED with DstPutObjectNotPermitted, explained; other objects still replicate', async () => {
    const s = await setUpReplication(m);
    const src = s3Client(m);
    const dst = s3Client(m, 'us-east-2');
    await dst.send(
      new PutBucketEncryptionCommand({
        Bucket: s.dest,
        ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BlockedEncryptionTypes: { EncryptionType: ['SSE-C'] } }] },
      }),
    );
    const sseC = customerKey();
    const put = await src.send(new PutObjectCommand({ Bucket: s.src, Key: 'blocked.bin', Body: 'secret', ...sseC }));
    await src.send(new PutObjectCommand({ Bucket: s.src, Key: 'plain.bin', Body: 'plain' }));
    await eventually(async () => ((await src.send(new HeadObjectCommand({ Bucket: s.src, Key: 'blocked.bin', ...sseC }))).ReplicationStatus === 'FAILED' ? true : undefined));
    await eventually(async () => ((await src.send(new HeadObjectCommand({ Bucket: s.src, Key: 'plain.bin' }))).ReplicationStatus === 'COMPLETED' ? true : undefined));
    await rejects(dst.send(new HeadObjectCommand({ Bucket: s.dest, Key: 'blocked.bin', ...sseC })), 'NotFound', 404);

    const status = await meridianCli(m, ['replication', 'status', '--bucket', s.src, '--json']);
    assert.deepEqual(JSON.parse(status.stdout).failed.byReason.map((f: { reason: string; count: number }) => [f.reason, f.count]), [['DstPutObjectNotPermitted', 1]]);
    const explained = await meridianCli(m, ['replication', 'explain', '--bucket', s.src, '--key', 'blocked.bin', '--version-id', put.VersionId!]);
    assert.equal(explained.code, 0, explained.stderr);
    assert.match(explained.stdout, /fails with DstPutObjectNotPermitted/);
    assert.ok(explained.stdout.includes(`Destination bucket ${s.dest} blocks SSE-C (BlockedEncryptionTypes`), explained.stdout);
  });
});
