/**
 * "A crash can delay replication, never lose it": SIGKILL the server while replication of many
 * SSE-KMS objects is in flight; after a restart on the same data every acknowledged version
 * replicates, re-encrypted under the destination key, with its bytes intact, exactly once: the
 * destination holds one replica per source version (a replica written again after the crash
 * replaces itself, it does not add a version). Once with only replication going on, once with the
 * destination region busy with writes of its own, so replica writes queue behind them at the kill.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectVersionsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { join } from 'node:path';
import { openRegionMetadataStore } from '../../src/storage/index.js';
import { eventually, s3Client } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { setUpReplication } from '../support/replication-setup.js';
import { signedFetch } from './signed-fetch.js';

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

/** Every version of a bucket as key → version ids (all pages). */
async function versionsOf(client: S3Client, bucket: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const page = await client.send(new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }));
    for (const v of page.Versions ?? []) out.set(v.Key!, [...(out.get(v.Key!) ?? []), v.VersionId!]);
    assert.equal(page.DeleteMarkers?.length ?? 0, 0);
    if (!page.IsTruncated) return out;
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
}

/**
 * After the restart: every source version (acknowledged ones, and any the crash committed without
 * an answer) becomes COMPLETED, and the destination holds exactly the source's versions, each once.
 */
async function convergesExactlyOnce(s: { src: string; dest: string; destKeyArn: string }, acknowledged: Iterable<[key: string, versionId: string]>, sizeOf: (key: string) => number): Promise<void> {
  const src = s3Client(m, 'us-east-1');
  const dest = s3Client(m, 'us-east-2');
  const sourceVersions = await versionsOf(src, s.src);
  for (const [key, versionId] of acknowledged) assert.ok(sourceVersions.get(key)?.includes(versionId), `acknowledged ${key} ${versionId} is kept`);
  for (const [key, ids] of sourceVersions) {
    for (const versionId of ids) {
      await eventually(async () => ((await src.send(new HeadObjectCommand({ Bucket: s.src, Key: key, VersionId: versionId }))).ReplicationStatus === 'COMPLETED' ? true : undefined), 60_000, 100);
    }
  }
  const replicas = await versionsOf(dest, s.dest);
  assert.deepEqual(
    [...replicas].map(([k, ids]) => [k, [...ids].sort()]).sort(),
    [...sourceVersions].map(([k, ids]) => [k, [...ids].sort()]).sort(),
    'the destination holds each source version exactly once',
  );
  for (const [key, versionId] of acknowledged) {
    const replica = await dest.send(new GetObjectCommand({ Bucket: s.dest, Key: key, VersionId: versionId }));
    assert.equal(replica.ReplicationStatus, 'REPLICA');
    assert.equal(replica.SSEKMSKeyId, s.destKeyArn);
    const bytes = Buffer.from(await replica.Body!.transformToByteArray());
    assert.ok(bytes.length === sizeOf(key) && bytes.equals(bodyOf(key, bytes.length)), `replica of ${key} has the source bytes`);
  }
}

/** Every replication task waits this long once claimed, so each SIGKILL below lands with replication in flight. */
const env = { MERIDIAN_TEST_REPLICATION_DELAY_MS: '300' };

/** Replication tasks the dead process left in its source region's outbox. */
async function outboxLeftBy(dead: MeridianProcess): Promise<number> {
  const left = openRegionMetadataStore(join(dead.dataDir, 'us-east-1', 'meta.db'), 'us-east-1');
  try {
    return await left.countOutboxTasks();
  } finally {
    await left.close();
  }
}

before(async () => {
  m = await startMeridianProcess({ tls: false, env });
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
  await m.kill();
  const pendingAtKill = await outboxLeftBy(m);
  t.diagnostic(`${pendingAtKill} replication tasks were pending at the SIGKILL`);
  assert.ok(pendingAtKill > 0, 'the SIGKILL landed with replication in flight');

  m = await startMeridianProcess({ dataDir: m.dataDir, accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey, tls: false, env });
  await convergesExactlyOnce(s, acknowledged, (key) => (key.endsWith('0') ? 300 * 1024 : 2048));
});

it('a SIGKILL while the destination region is busy with writes of its own: every version converges exactly once', async (t) => {
  // Replication here must not keep up with the writers, or the SIGKILL could land on an empty
  // outbox (seen on a loaded CI machine): each task waits longer until the crash.
  await m.stop();
  m = await startMeridianProcess({ dataDir: m.dataDir, accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey, tls: false, env: { MERIDIAN_TEST_REPLICATION_DELAY_MS: '1500' } });
  const s = await setUpReplication(m);
  // Small (inline), medium and large objects: a large one takes long enough to replicate to be caught in flight.
  const sizeOf = (key: string) => (key.endsWith('5') ? 4 * 1024 * 1024 : key.endsWith('3') ? 256 * 1024 : 4096);
  // The destination region's own load: writers filling another us-east-2 bucket (same database,
  // same commits, same disk) with large SSE-KMS objects under the destination key.
  const busy = `busy-${s.dest}`;
  const east2 = s3Client(m, 'us-east-2');
  await east2.send(new CreateBucketCommand({ Bucket: busy, CreateBucketConfiguration: { LocationConstraint: 'us-east-2' } }));
  let stopBusy = false;
  let busyWrites = 0;
  const busyLoad = Promise.all(
    Array.from({ length: 4 }, async (_, w) => {
      const client = s3Client(m, 'us-east-2');
      for (let i = 0; !stopBusy; i++) {
        try {
          await client.send(new PutObjectCommand({ Bucket: busy, Key: `w${w}-${i}`, Body: bodyOf(`w${w}-${i}`, 512 * 1024), ServerSideEncryption: 'aws:kms', SSEKMSKeyId: s.destKeyArn }));
          busyWrites++;
        } catch {
          return; // the process was killed
        }
      }
    }),
  );
  // 70 keys, the first 10 written twice (versions of one key must converge too). Once 30 PUTs are
  // acknowledged, the process is SIGKILLed the moment its status shows replication pending, with
  // source PUTs and the destination's own writes still going on.
  const distinct = Array.from({ length: 70 }, (_, i) => `busy-obj-${String(i).padStart(3, '0')}`);
  const keys = [...distinct.slice(0, 30), ...distinct.slice(0, 10), ...distinct.slice(30)];
  const acknowledged: [string, string][] = [];
  let next = 0;
  let killed = false;
  const writers = Promise.all(
    Array.from({ length: 8 }, async () => {
      const put = s3Client(m, 'us-east-1');
      while (next < keys.length && !killed) {
        const key = keys[next++]!;
        try {
          const r = await put.send(new PutObjectCommand({ Bucket: s.src, Key: key, Body: bodyOf(key, sizeOf(key)), ServerSideEncryption: 'aws:kms', SSEKMSKeyId: s.srcKeyArn }));
          acknowledged.push([key, r.VersionId!]);
        } catch {
          return; // killed while in flight: not acknowledged (it may or may not have committed)
        }
      }
    }),
  );
  await eventually(async () => (acknowledged.length >= 30 ? true : undefined), 60_000, 5);
  await eventually(async () => {
    const status = await signedFetch(m, 'GET', '/_meridian/replication/status', { query: `bucket=${s.src}` });
    return (JSON.parse(status.text) as { pending: { operations: number } }).pending.operations >= 5 ? true : undefined;
  }, 60_000, 2);
  await m.kill();
  killed = true;
  stopBusy = true;
  await Promise.all([writers, busyLoad]);
  // What the crash left to do, read from the dead process's data directory.
  const pendingAtKill = await outboxLeftBy(m);
  t.diagnostic(`${pendingAtKill} replication tasks were pending at the SIGKILL, after ${acknowledged.length} acknowledged PUTs; the destination had taken ${busyWrites} writes of its own`);
  assert.ok(busyWrites > 0, 'the destination region was busy');
  assert.ok(pendingAtKill > 0, 'the SIGKILL landed with replication in flight');

  m = await startMeridianProcess({ dataDir: m.dataDir, accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey, tls: false, env });
  await convergesExactlyOnce(s, acknowledged, sizeOf);
  const versions = await versionsOf(s3Client(m, 'us-east-2'), s.dest);
  for (const [key, n] of [...distinct.slice(0, 10)].map((k) => [k, acknowledged.filter(([a]) => a === k).length] as const)) {
    assert.ok((versions.get(key)?.length ?? 0) >= n, `the ${n} acknowledged versions of ${key} are replicated`);
  }
});
