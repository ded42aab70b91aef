/**
 * The replication worker against a real SQLite region store and a scripted transport: what a
 * source version's status becomes for success, permanent failure and transient trouble, and that
 * no task is lost across a restart.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OffsetClock } from '../common/clock.js';
import { DependencyUnavailableError } from '../common/errors.js';
import { openRegionMetadataStore } from '../storage/index.js';
import type { ObjectVersion, RegionMetadataStore } from '../storage/types.js';
import type { ReplicationConfiguration } from './config.js';
import { ReplicationFailure } from './failure.js';
import type { ReplicationTransport, RoleCredentials, SourceVersion } from './ports.js';
import { ReplicationWorker, type ReplicationEvent } from './worker.js';

const CONFIG: ReplicationConfiguration = {
  role: 'arn:aws:iam::000000000000:role/r',
  rules: [{ id: 'rule-1', prefix: '', status: 'Enabled', destination: { bucket: 'arn:aws:s3:::dst' } }],
};

function version(key: string, versionId: string): ObjectVersion {
  return {
    bucket: 'src', key, versionId, isDeleteMarker: false, lastModified: 1, size: 0, etag: 'e', ownerAccountId: '000000000000',
    storageClass: 'STANDARD', systemMetadata: {}, userMetadata: {}, parts: [],
    replicationStatus: 'PENDING', replicationDetail: { dst: { status: 'PENDING', ruleId: 'rule-1' } },
  };
}

/** A transport whose writeReplica does whatever the test scripts for each call. */
class ScriptedTransport implements ReplicationTransport {
  script: Array<() => void> = [];
  written: string[] = [];
  /** Awaited before each replica is written (to hold one back). */
  gate: (key: string, versionId: string) => Promise<void> = async () => undefined;
  /** The destination does not answer (every write fails as a refused connection). */
  down = false;
  /** Writes tried (answered or not). */
  tried = 0;
  /** The size each source version reports (0 unless set). */
  size = 0;
  async replicationConfig() {
    return CONFIG;
  }
  async assumeRole(roleArn: string): Promise<RoleCredentials> {
    return { roleArn, accessKeyId: 'ASIA', secretAccessKey: 's', sessionToken: 't', expiresAt: Number.MAX_SAFE_INTEGER };
  }
  async sourceBucketOwner() {
    return '000000000000';
  }
  async readSource(_c: RoleCredentials, _bucket: string, key: string, versionId: string): Promise<SourceVersion> {
    return { version: { ...version(key, versionId), size: this.size }, parts: [] };
  }
  async findDestination(bucket: string) {
    return { name: bucket, region: 'us-east-2', ownerAccountId: '000000000000' };
  }
  async writeReplica(_c: RoleCredentials, _d: unknown, _r: unknown, source: SourceVersion) {
    await this.gate(source.version.key, source.version.versionId);
    this.tried++;
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:9001');
    const step = this.script.shift();
    step?.();
    this.written.push(`${source.version.key}@${source.version.versionId}`);
  }
  async writeDeleteMarker() {}
  async readDeleteMarker() {
    return undefined;
  }
  async readSourceTags(_c: RoleCredentials, _bucket: string, key: string) {
    return { source: key };
  }
  async writeReplicaTags(_c: RoleCredentials, _d: unknown, key: string, versionId: string, tags: Record<string, string> | undefined) {
    this.written.push(`tags ${key}@${versionId} ${JSON.stringify(tags)}`);
  }
}

describe('replication worker', () => {
  let dir: string;
  let store: RegionMetadataStore;
  let clock: OffsetClock;
  let transport: ScriptedTransport;
  let events: ReplicationEvent[];
  let worker: ReplicationWorker;

  function newWorker(): ReplicationWorker {
    return new ReplicationWorker({ region: 'us-east-1', store, transport, clock, pollMs: 20, probe: { minMs: 20, maxMs: 60 }, onEvent: (e) => events.push(e) });
  }

  async function putVersion(key: string, versionId: string): Promise<void> {
    await store.putObjectVersion(version(key, versionId), [{ bucket: 'src', key, versionId, operation: 'put', destinationBucket: 'dst', ruleId: 'rule-1' }]);
  }

  async function until(cond: () => Promise<boolean>, timeoutMs = 30_000, intervalMs = 10): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'meridian-worker-'));
    clock = new OffsetClock();
    store = openRegionMetadataStore(join(dir, 'meta.db'), 'us-east-1', { clock });
    await store.createBucket({ name: 'src', region: 'us-east-1', ownerAccountId: '000000000000', createdAt: 0, versioning: 'Enabled', locationConstraint: '' });
    transport = new ScriptedTransport();
    events = [];
    worker = newWorker();
  });

  afterEach(async () => {
    await worker.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a replicated version becomes COMPLETED and its task is gone', async () => {
    await putVersion('a', 'v1');
    worker.start();
    await until(async () => (await store.getObjectVersion('src', 'a', 'v1'))?.replicationStatus === 'COMPLETED' && (await store.countOutboxTasks()) === 0);
    assert.deepEqual(transport.written, ['a@v1']);
  });

  it('a permanent failure becomes FAILED with the AWS failure reason, and is not retried', async () => {
    transport.script.push(() => {
      throw new ReplicationFailure('DstPutObjectNotPermitted', 'denied', 'no identity-based policy allows the kms:Encrypt action');
    });
    await putVersion('a', 'v1');
    worker.start();
    // The status is recorded with the task's removal, and the event follows once that is durable
    // (the commit is visible to readers a moment before): wait for all three.
    await until(async () => (await store.getObjectVersion('src', 'a', 'v1'))?.replicationStatus === 'FAILED' && (await store.countOutboxTasks()) === 0 && events.some((e) => e.kind === 'failed'));
    const v = await store.getObjectVersion('src', 'a', 'v1');
    assert.equal(v?.replicationDetail?.dst?.failureReason, 'DstPutObjectNotPermitted');
    assert.equal(await store.countOutboxTasks(), 0);
    assert.equal(events.find((e) => e.kind === 'failed')?.detail, 'no identity-based policy allows the kms:Encrypt action');
  });

  it('transient trouble before the destination keeps the version PENDING and retries the task after a backoff', async () => {
    let config: ReplicationConfiguration = { ...CONFIG, rules: [{ ...CONFIG.rules[0]!, status: 'Disabled' }] };
    transport.replicationConfig = async () => config;
    await putVersion('a', 'v1');
    worker.start();
    await until(async () => events.some((e) => e.kind === 'retry'));
    assert.equal((await store.getObjectVersion('src', 'a', 'v1'))?.replicationStatus, 'PENDING');
    const [waiting] = await store.listOutboxTasks({ limit: 10 });
    assert.equal(waiting?.parked, undefined, 'not the destination: the task has its own backoff');
    assert.match(waiting?.lastError ?? '', /disabled/);
    config = CONFIG;
    await clock.advance(60_000); // past the backoff
    worker.wake();
    await until(async () => (await store.getObjectVersion('src', 'a', 'v1'))?.replicationStatus === 'COMPLETED');
  });

  it('an unreachable destination parks its tasks under one probe timer; when it answers, every parked task completes at once, in order', async () => {
    transport.down = true;
    for (let i = 0; i < 10; i++) for (const v of ['v1', 'v2']) await putVersion(`k${i}`, v);
    worker.start();
    // The v1s park; each v2 waits unclaimed behind its key's v1 (per-key order).
    // Parked in the store, and known to the worker (it learns when the park is durable, a moment after others can read it).
    await until(async () => (await store.parkedOutboxDestinations())[0]?.tasks === 10 && worker.unreachableDestinations().length === 1);
    assert.ok(worker.probeTimers() <= 1, 'one timer for the destination (none while its probe runs)');
    assert.deepEqual(worker.unreachableDestinations().map((d) => [d.destinationBucket, d.region, d.lastError]), [['dst', 'us-east-2', 'connect ECONNREFUSED 127.0.0.1:9001']]);
    // Probes keep failing: each tries one task, the others wait untried.
    const before = transport.tried;
    await until(async () => (worker.unreachableDestinations()[0]?.failedProbes ?? 0) >= 3);
    assert.ok(transport.tried - before <= worker.unreachableDestinations()[0]!.failedProbes + 1, 'a probe tries one task, not all of them');
    for (let i = 0; i < 10; i++) assert.equal((await store.getObjectVersion('src', `k${i}`, 'v1'))?.replicationStatus, 'PENDING');

    await clock.advance(24 * 3600_000); // a day-long outage: the probe interval does not grow with it
    transport.down = false;
    await until(async () => (await store.countOutboxTasks()) === 0);
    assert.deepEqual(worker.unreachableDestinations(), []);
    assert.equal(worker.probeTimers(), 0);
    assert.equal(transport.written.length, 20, 'each version exactly once');
    assert.equal(new Set(transport.written).size, 20);
    for (let i = 0; i < 10; i++) {
      assert.ok(transport.written.indexOf(`k${i}@v1`) < transport.written.indexOf(`k${i}@v2`), `k${i}: v1 before v2`);
      assert.equal((await store.getObjectVersion('src', `k${i}`, 'v2'))?.replicationStatus, 'COMPLETED');
    }
  });

  it('the home region away (split mode: no destination lookup, no role session): tasks park PENDING, none FAILED, and complete once it answers', async () => {
    let homeAway = true;
    const away = () => new DependencyUnavailableError("The home region us-east-1's process (IAM, STS, accounts, bucket names) at http://127.0.0.1:9 is not reachable (connect ECONNREFUSED). Please retry later.", 'http://127.0.0.1:9');
    const findDestination = transport.findDestination.bind(transport);
    transport.findDestination = async (bucket: string) => {
      if (homeAway) throw away();
      return findDestination(bucket);
    };
    for (let i = 0; i < 4; i++) await putVersion(`k${i}`, 'v1');
    worker.start();
    await until(async () => (await store.parkedOutboxDestinations())[0]?.tasks === 4 && worker.unreachableDestinations().length === 1);
    assert.match(worker.unreachableDestinations()[0]?.lastError ?? '', /home region us-east-1's process .* is not reachable/);
    // The destination is known; now the role's session cannot be had.
    homeAway = false;
    const assumeRole = transport.assumeRole.bind(transport);
    let sessionAway = true;
    transport.assumeRole = async (roleArn: string) => {
      if (sessionAway) throw away();
      return assumeRole(roleArn);
    };
    await until(async () => (worker.unreachableDestinations()[0]?.failedProbes ?? 0) >= 2);
    assert.equal(worker.unreachableDestinations()[0]?.region, 'us-east-2');
    for (let i = 0; i < 4; i++) assert.equal((await store.getObjectVersion('src', `k${i}`, 'v1'))?.replicationStatus, 'PENDING');
    assert.equal(events.filter((e) => e.kind === 'failed').length, 0);
    sessionAway = false;
    await until(async () => (await store.countOutboxTasks()) === 0);
    for (let i = 0; i < 4; i++) assert.equal((await store.getObjectVersion('src', `k${i}`, 'v1'))?.replicationStatus, 'COMPLETED');
    assert.equal(transport.written.length, 4);
  });

  it('a task that keeps failing before the destination does not block the probe of the others', async () => {
    transport.down = true;
    await putVersion('a', 'v1');
    await putVersion('b', 'v1');
    worker.start();
    await until(async () => (await store.parkedOutboxDestinations())[0]?.tasks === 2);
    // 'a' now fails at the source on every attempt (its probe leaves it to its own backoff); 'b' reaches the destination.
    transport.readSource = async (_c, _b, key, versionId) => {
      if (key === 'a') throw new Error('source blob unreadable');
      return { version: version(key, versionId), parts: [] };
    };
    transport.down = false;
    await until(async () => (await store.getObjectVersion('src', 'b', 'v1'))?.replicationStatus === 'COMPLETED');
    assert.equal((await store.getObjectVersion('src', 'a', 'v1'))?.replicationStatus, 'PENDING');
  });

  it('parked tasks survive a restart: the next worker probes their destination and completes them', async () => {
    transport.down = true;
    for (let i = 0; i < 5; i++) await putVersion(`k${i}`, 'v1');
    worker.start({ ownsStore: true });
    await until(async () => (await store.parkedOutboxDestinations())[0]?.tasks === 5);
    await worker.stop();
    transport.down = false;
    worker = newWorker();
    worker.start({ ownsStore: true });
    await until(async () => (await store.countOutboxTasks()) === 0);
    assert.equal(transport.written.length, 5);
  });

  it('with 100,000 parked tasks, one probe timer and no task held in memory; all complete once the destination answers', async () => {
    await worker.stop();
    worker = new ReplicationWorker({ region: 'us-east-1', store, transport, clock, pollMs: 20, batchSize: 256, probe: { minMs: 20, maxMs: 60 }, onEvent: () => undefined });
    transport.down = true;
    const N = 100_000;
    for (let i = 0; i < N; i += 2000) {
      await Promise.all(Array.from({ length: Math.min(2000, N - i) }, (_, j) => putVersion(`k${i + j}`, 'v1')));
    }
    worker.start();
    // Slow polls over 100,000 rows: the check must not starve the worker it watches.
    await until(async () => (await store.parkedOutboxDestinations())[0]?.tasks === N && worker.unreachableDestinations().length === 1, 300_000, 500);
    assert.ok(worker.probeTimers() <= 1, 'one timer for the destination (none while its probe runs)');
    assert.equal(worker.unreachableDestinations().length, 1);
    assert.ok(transport.tried < 1000, `parked without being tried (${transport.tried} writes tried)`);
    transport.down = false;
    await until(async () => (await store.countOutboxTasks()) === 0, 300_000, 500);
    assert.equal(transport.written.length, N);
    assert.equal(worker.probeTimers(), 0);
  });

  it('versions of one key replicate in the order they were written', async () => {
    for (let i = 1; i <= 5; i++) await putVersion('k', `v${i}`);
    worker.start();
    await until(async () => (await store.countOutboxTasks()) === 0);
    assert.deepEqual(transport.written, ['k@v1', 'k@v2', 'k@v3', 'k@v4', 'k@v5']);
  });

  it('a slow replica does not hold back versions written after it', async () => {
    let release!: () => void;
    const blocked = new Promise<void>((r) => (release = r));
    let slowStarted = false;
    transport.gate = async (key) => {
      if (key !== 'slow') return;
      slowStarted = true;
      await blocked;
    };
    await putVersion('slow', 'v1');
    worker.start();
    await until(async () => slowStarted);
    // Written while the slow one is in flight: claimed and completed without waiting for it.
    await putVersion('fast', 'v1');
    worker.wake();
    await until(async () => (await store.getObjectVersion('src', 'fast', 'v1'))?.replicationStatus === 'COMPLETED');
    assert.equal((await store.getObjectVersion('src', 'slow', 'v1'))?.replicationStatus, 'PENDING');
    release();
    await until(async () => (await store.getObjectVersion('src', 'slow', 'v1'))?.replicationStatus === 'COMPLETED');
  });

  it("a key's version written while its previous version is in flight replicates after it", async () => {
    let release!: () => void;
    const blocked = new Promise<void>((r) => (release = r));
    let started = false;
    transport.gate = async (key, versionId) => {
      if (key !== 'k' || versionId !== 'v1') return;
      started = true;
      await blocked;
    };
    await putVersion('k', 'v1');
    worker.start();
    await until(async () => started);
    await putVersion('k', 'v2');
    worker.wake();
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(transport.written, [], 'v2 waits for v1');
    release();
    await until(async () => (await store.countOutboxTasks()) === 0);
    assert.deepEqual(transport.written, ['k@v1', 'k@v2']);
  });

  it('no more than batchSize tasks are in flight at once', async () => {
    await worker.stop();
    worker = new ReplicationWorker({ region: 'us-east-1', store, transport, clock, pollMs: 20, batchSize: 3, onEvent: (e) => events.push(e) });
    let inFlight = 0;
    let peak = 0;
    transport.gate = async () => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
    };
    for (let i = 0; i < 12; i++) await putVersion(`k${i}`, 'v1');
    worker.start();
    await until(async () => (await store.countOutboxTasks()) === 0);
    assert.equal(transport.written.length, 12);
    assert.equal(peak, 3);
  });

  it('small replicas run up to batchSize at once, large ones only about maxBytesInFlight worth', async () => {
    await worker.stop();
    const window = (batchSize: number, maxBytesInFlight: number) =>
      new ReplicationWorker({ region: 'us-east-1', store, transport, clock, pollMs: 20, batchSize, maxBytesInFlight, onEvent: (e) => events.push(e) });
    let inFlight = 0;
    let peak = 0;
    let open!: () => void;
    let gate = new Promise<void>((r) => (open = r));
    transport.gate = async () => {
      peak = Math.max(peak, ++inFlight);
      await gate;
      inFlight--;
    };
    // 300 small versions: the window grows past the 64 it starts with (sizes unknown) to all 200 slots.
    transport.size = 4096;
    worker = window(200, 1024 * 1024);
    for (let i = 0; i < 300; i++) await putVersion(`small${i}`, 'v1');
    worker.start();
    await until(async () => inFlight === 200);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(peak, 200, 'never more than batchSize');
    open();
    await until(async () => (await store.countOutboxTasks()) === 0);
    await worker.stop();

    // Large versions (400 KiB against 1 MiB in flight): two are sent at once, and no more are claimed meanwhile.
    transport.size = 400 * 1024;
    peak = 0;
    gate = new Promise<void>((r) => (open = r));
    worker = window(200, 1024 * 1024);
    for (let i = 0; i < 20; i++) await putVersion(`large${i}`, 'v1');
    worker.start();
    await until(async () => inFlight === 2);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(peak, 2);
    assert.equal(worker.window.inFlight, 800 * 1024);
    open();
    await until(async () => (await store.countOutboxTasks()) === 0);
    assert.equal(peak, 2);
    assert.equal(worker.window.tasks(), 2, 'the window now holds about 1 MiB of such replicas');
    assert.equal(worker.window.inFlight, 0);
  });

  it('a task claimed by a process that died is picked up at once by the next one owning the store', async () => {
    await putVersion('a', 'v1');
    // A previous process claimed the task with a long lease, then died.
    assert.equal((await store.claimOutboxTasks(clock.now(), 10, 3_600_000)).length, 1);
    worker.start({ ownsStore: true });
    await until(async () => (await store.getObjectVersion('src', 'a', 'v1'))?.replicationStatus === 'COMPLETED');
  });

  it('a tag change is replicated as its own operation after the version, and the version returns to COMPLETED', async () => {
    await putVersion('a', 'v1');
    await store.putObjectTags('src', 'a', 'v1', { source: 'a' }, [{ bucket: 'src', key: 'a', versionId: 'v1', operation: 'tags', destinationBucket: 'dst', ruleId: 'rule-1' }]);
    worker.start();
    await until(async () => (await store.countOutboxTasks()) === 0);
    assert.deepEqual(transport.written, ['a@v1', 'tags a@v1 {"source":"a"}']);
    assert.equal((await store.getObjectVersion('src', 'a', 'v1'))?.replicationStatus, 'COMPLETED');
  });
});
