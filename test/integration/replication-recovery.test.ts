/**
 * Recovery in seconds, across processes (split mode): the destination region's process is stopped
 * while SSE-KMS objects are written, for 30 real seconds or for a day of (test clock) business time
 * during which the source keeps trying. Its tasks are parked under one probe of the destination;
 * when the process is back, every version is COMPLETED within 5 s, exactly once, under the
 * destination key — not after each task's own exponential backoff (80 s after a 30 s outage,
 * 5 minutes after a long one, before this was fixed).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HeadObjectCommand, ListObjectVersionsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { eventually, s3Client } from '../support/clients.js';
import { meridianCli } from '../support/meridian-cli.js';
import { setUpReplication } from '../support/replication-setup.js';
import { startSplitPair, type SplitPair } from '../support/split-mode.js';
import { advanceClock, DAY } from '../support/test-clock.js';

/**
 * Recovery must come from the destination probe, not from per-task backoff, which would next retry
 * tens of seconds after the destination returns (or after its 5-minute cap, after a long outage).
 * The target itself (within 5 s) is a speed figure, measured and printed here and recorded in
 * BENCHMARKS.md ("Replication recovery"); the bound asserted leaves room for a loaded machine.
 */
const RECOVERY_BOUND_MS = 20_000;

interface Status {
  pending: { operations: number };
  retrying: { parked?: boolean }[];
  unreachableDestinations: { destinationBucket: string; region?: string; lastError: string }[];
}

describe('split mode: recovery when the destination process returns', () => {
  let pair: SplitPair;

  before(async () => {
    pair = await startSplitPair({ MERIDIAN_TEST_CLOCK: 'on', MERIDIAN_FAULTS: 'on' });
  });

  after(async () => {
    await pair?.stop();
  });

  async function outage(wait: () => Promise<void>, count: number): Promise<number> {
    const s = await setUpReplication(pair.east1);
    const src = s3Client(pair.east1, 'us-east-1');
    await pair.east2.stop({ keepData: true });
    const keys = Array.from({ length: count }, (_, i) => `obj-${i}`);
    await Promise.all(keys.map((k) => src.send(new PutObjectCommand({ Bucket: s.src, Key: k, Body: `body of ${k}`, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: s.srcKeyArn }))));

    const st = await eventually(async () => {
      const r = await meridianCli(pair.east1, ['replication', 'status', '--bucket', s.src, '--json']);
      const report = JSON.parse(r.stdout) as Status;
      return report.retrying.length === count && report.retrying.every((t) => t.parked) ? report : undefined;
    }, 30_000, 250);
    assert.deepEqual(st.unreachableDestinations.map((d) => [d.destinationBucket, d.region]), [[s.dest, 'us-east-2']]);
    assert.match(st.unreachableDestinations[0]!.lastError, /ECONNREFUSED/);
    for (const k of keys.slice(0, 3)) assert.equal((await src.send(new HeadObjectCommand({ Bucket: s.src, Key: k }))).ReplicationStatus, 'PENDING');

    await wait();
    await pair.start('east2');
    const back = Date.now();
    await eventually(async () => {
      const st = await Promise.all(keys.map(async (k) => (await src.send(new HeadObjectCommand({ Bucket: s.src, Key: k }))).ReplicationStatus));
      return st.every((x) => x === 'COMPLETED') ? true : undefined;
    }, RECOVERY_BOUND_MS, 100);
    const took = Date.now() - back;

    const dest = s3Client(pair.east2, 'us-east-2');
    const versions = (await dest.send(new ListObjectVersionsCommand({ Bucket: s.dest }))).Versions ?? [];
    assert.deepEqual(versions.map((v) => v.Key).sort(), [...keys].sort(), 'each version replicated exactly once');
    const replica = await dest.send(new HeadObjectCommand({ Bucket: s.dest, Key: keys[0]! }));
    assert.equal(replica.ReplicationStatus, 'REPLICA');
    assert.equal(replica.SSEKMSKeyId, s.destKeyArn);
    return took;
  }

  it('a 35-second outage: 20 SSE-KMS versions COMPLETED within seconds of the destination process returning', async () => {
    // Per-task backoff (0.5 s doubling) would next retry 63.5 s after the first failure: ~25 s late.
    const took = await outage(() => new Promise((r) => setTimeout(r, 35_000)), 20);
    process.stdout.write(`# split mode, 35 s outage: 20 versions COMPLETED ${took} ms after the destination returned\n`);
  });

  it('a peer made unreachable by a fault (sent to the source process) heals the same way when the fault ends', async () => {
    const s = await setUpReplication(pair.east1);
    const src = s3Client(pair.east1, 'us-east-1');
    const added = await meridianCli(pair.east1, ['faults', 'add', '--kind', 'unreachable', '--target', 'us-east-2', '--duration', '10m', '--json']);
    assert.equal(added.code, 0, added.stderr);
    const keys = ['p-1', 'p-2', 'p-3'];
    await Promise.all(keys.map((k) => src.send(new PutObjectCommand({ Bucket: s.src, Key: k, Body: k, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: s.srcKeyArn }))));
    await eventually(async () => {
      const r = JSON.parse((await meridianCli(pair.east1, ['replication', 'status', '--bucket', s.src, '--json'])).stdout) as Status;
      return r.unreachableDestinations.length === 1 && /injected fault/.test(r.unreachableDestinations[0]!.lastError) ? true : undefined;
    }, 30_000, 250);
    await advanceClock(pair.east1, 600);
    await eventually(async () => {
      const st = await Promise.all(keys.map(async (k) => (await src.send(new HeadObjectCommand({ Bucket: s.src, Key: k }))).ReplicationStatus));
      return st.every((x) => x === 'COMPLETED') ? true : undefined;
    }, RECOVERY_BOUND_MS, 100);
    const versions = (await s3Client(pair.east2, 'us-east-2').send(new ListObjectVersionsCommand({ Bucket: s.dest }))).Versions ?? [];
    assert.deepEqual(versions.map((v) => v.Key).sort(), keys);
  });

  it('a day-long outage: as fast', async () => {
    // A day in hourly steps, the source trying all along: per-task backoffs would have reached their 5-minute cap.
    const took = await outage(async () => {
      for (let h = 0; h < 24; h++) {
        await advanceClock(pair.east1, DAY / 24);
        await new Promise((r) => setTimeout(r, 250));
      }
    }, 10);
    process.stdout.write(`# split mode, 24 h outage: 10 versions COMPLETED ${took} ms after the destination returned\n`);
  });
});
