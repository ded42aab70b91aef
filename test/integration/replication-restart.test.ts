/**
 * "A crash can delay replication, never lose it": SIGKILL the server while replication of many
 * SSE-KMS objects is in flight; after a restart on the same data every acknowledged version
 * replicates, re-encrypted under the destination key, with its bytes intact.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { eventually, s3Client } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { setUpReplication } from '../support/replication-setup.js';

/** Object bodies derived from their key, so the replica can be checked without keeping copies. */
function bodyOf(key: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(key).digest();
  for (let off = 0; off < size; off += block.length) {
    block.copy(out, off);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

let m: MeridianProcess;

before(async () => {
  m = await startMeridianProcess({ tls: false });
});

after(async () => {
  await m?.stop();
});

it('replication pending at a SIGKILL completes after restart, for every acknowledged version', async (t) => {
  const s = await setUpReplication(m);
  const keys = Array.from({ length: 120 }, (_, i) => `obj-${String(i).padStart(3, '0')}`);
  const acknowledged = new Map<string, string>();
  const put = s3Client(m, 'us-east-1');
  let next = 0;
  await Promise.all(
    Array.from({ length: 12 }, async () => {
      while (next < keys.length) {
        const key = keys[next++]!;
        const size = key.endsWith('0') ? 300 * 1024 : 2048; // file blobs and inline blobs
        const r = await put.send(new PutObjectCommand({ Bucket: s.src, Key: key, Body: bodyOf(key, size), ServerSideEncryption: 'aws:kms', SSEKMSKeyId: s.srcKeyArn }));
        acknowledged.set(key, r.VersionId!);
      }
    }),
  );
  // How much was still pending when the process died (a diagnostic, not an assertion: timing varies).
  const sample = keys.slice(-20);
  const pending = await Promise.all(sample.map(async (key) => (await put.send(new HeadObjectCommand({ Bucket: s.src, Key: key }))).ReplicationStatus === 'PENDING'));
  await m.kill();
  t.diagnostic(`${pending.filter(Boolean).length} of the last ${sample.length} versions were PENDING at the SIGKILL`);

  m = await startMeridianProcess({ dataDir: m.dataDir, accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey, tls: false });
  const src = s3Client(m, 'us-east-1');
  const dest = s3Client(m, 'us-east-2');
  for (const [key, versionId] of acknowledged) {
    const head = await eventually(async () => {
      const h = await src.send(new HeadObjectCommand({ Bucket: s.src, Key: key, VersionId: versionId }));
      return h.ReplicationStatus === 'COMPLETED' ? h : undefined;
    }, 60_000, 100);
    assert.equal(head.VersionId, versionId);
    const replica = await dest.send(new GetObjectCommand({ Bucket: s.dest, Key: key, VersionId: versionId }));
    assert.equal(replica.ReplicationStatus, 'REPLICA');
    assert.equal(replica.SSEKMSKeyId, s.destKeyArn);
    const bytes = Buffer.from(await replica.Body!.transformToByteArray());
    assert.ok(bytes.equals(bodyOf(key, bytes.length)) && bytes.length === (key.endsWith('0') ? 300 * 1024 : 2048), `replica of ${key} has the source bytes`);
  }
});
