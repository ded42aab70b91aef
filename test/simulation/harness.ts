/**
 * One seeded run of the replication simulation. Real: the region metadata store (SQLite in a
 * temporary directory, reopened from disk after each crash), its outbox, the replication worker,
 * the destination backoff and probes, the replication stages. Simulated: time (virtual; no real
 * timer fires), the network and destinations (world.ts), the clients writing versions, and
 * process crashes (the worker and its store are dropped mid-flight, the store reopened from the
 * file, a new worker started). After the faults end, time runs on until the outbox drains, then
 * the invariants are checked.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '../../src/faults/seeded-random.js';
import { ReplicationWorker } from '../../src/replication/worker.js';
import { openRegionMetadataStore, type SqliteRegionMetadataStore } from '../../src/storage/index.js';
import type { ObjectVersion, RegionMetadataStore } from '../../src/storage/types.js';
import { VirtualTime } from './virtual-time.js';
import { contentOf, DENIED_PREFIX, DESTINATIONS, OWNER, sha, SimTransport, SOURCE_BUCKET, World, type FaultKind, type FaultWindow } from './world.js';

export interface SeedResult {
  seed: number;
  violations: string[];
  /** The drawn scenario, for reading a failure. */
  scenario: Record<string, unknown>;
  stats: { versions: number; crashes: number; faults: number; virtualMs: number; completed: number; failed: number };
}

const REGION = 'us-east-1';
const START = Date.UTC(2026, 0, 1);
/** Virtual time allowed after the faults end for every task to settle. */
const QUIET_MS = 30 * 60 * 1000;

/** A store whose calls a crash cuts off: after it, calls never answer (the process is gone). */
function guarded(store: RegionMetadataStore, world: World, pid: number, counter: { n: number }): RegionMetadataStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (world.alivePid !== pid) return new Promise(() => undefined);
        counter.n++;
        return (v.apply(target, args) as Promise<unknown>).finally(() => counter.n--);
      };
    },
  });
}

/** Let the process run until it waits only on virtual time: no store call, stream or message being handled. */
async function settle(world: World, store: { n: number }): Promise<void> {
  for (let i = 0, quiet = 0; quiet < 2; i++) {
    await new Promise((r) => setImmediate(r));
    quiet = store.n === 0 && world.busy === 0 ? quiet + 1 : 0;
    if (i > 100_000) throw new Error('the simulated process never settles (livelock?)');
  }
}

export async function runSeed(seed: number): Promise<SeedResult> {
  const rnd = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const between = (a: number, b: number): number => a + Math.floor(rnd() * (b - a));

  // The scenario, drawn first from the seed.
  const loadMs = between(5_000, 120_000);
  const faultsEnd = loadMs + between(0, 60_000);
  const faults: FaultWindow[] = [];
  const kinds: FaultKind[] = ['unreachable', 'slow', 'flaky', 'throttle', 'kms-disabled'];
  for (let i = between(0, 6); i > 0; i--) {
    const start = between(0, faultsEnd);
    faults.push({ destination: pick(DESTINATIONS).bucket, kind: pick(kinds), start: START + start, end: START + start + between(100, 90_000), rate: 0.2 + rnd() * 0.8, latencyMs: between(200, 8_000) });
  }
  const crashes = Array.from({ length: between(0, 4) }, () => between(0, faultsEnd)).sort((a, b) => a - b);
  const keys = [...Array.from({ length: between(1, 6) }, (_, i) => `k${i}`), ...(rnd() < 0.3 ? [`${DENIED_PREFIX}k`] : [])];
  const writes = between(5, 60);
  const batchSize = between(1, 12);
  const ownsStore = rnd() < 0.7;
  const leaseMs = pick([2_000, 30_000, 300_000]);
  const crashOnResponse = rnd() < 0.3 ? rnd() * 0.05 : 0;
  const stsErrorRate = rnd() < 0.2 ? rnd() * 0.1 : 0;

  const time = new VirtualTime(START);
  const world = new World({ time, random: seededRandom(seed ^ 0x5eed), faults, crashOnResponse, stsErrorRate, faultsEnd: START + faultsEnd });
  const violations = world.violations;
  // A RAM disk where there is one: the store's fsyncs cost nothing there, and durability across a
  // simulated crash does not need them (the process dies, not the machine).
  const dir = mkdtempSync(join(process.env.MERIDIAN_SIM_DIR ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir()), 'meridian-sim-'));
  const path = join(dir, 'region.db');
  const calls = { n: 0 };
  let pid = 0;
  let raw: SqliteRegionMetadataStore | undefined;
  let store: RegionMetadataStore | undefined;
  let crashCount = 0;
  let worker: ReplicationWorker | undefined;
  const terminal = new Map<string, number>(); // outcome events per (version, destination)
  let completed = 0;
  let failed = 0;

  const start = (): void => {
    pid++;
    world.alivePid = pid;
    raw = openRegionMetadataStore(path, REGION, { clock: time });
    store = guarded(raw, world, pid, calls);
    worker = new ReplicationWorker({
      region: REGION,
      store,
      transport: new SimTransport(world, pid, store),
      clock: time,
      pollMs: 5_000,
      batchSize,
      leaseMs,
      timers: time.timersFor(pid),
      probe: { random: seededRandom(seed * 31 + pid) },
      onEvent: (e) => {
        if (process.env.MERIDIAN_SIM_TRACE) console.log(`${time.now() - START} pid ${pid} ${e.kind} ${e.task.key}@${e.task.versionId} -> ${e.task.destinationBucket} #${e.task.id} attempts ${e.task.attempts}${e.task.parked ? ' parked' : ''} ${e.message ?? e.reason ?? ''}`);
        if (e.kind !== 'completed' && e.kind !== 'failed') return;
        const id = `${e.task.key}@${e.task.versionId} -> ${e.task.destinationBucket}`;
        terminal.set(id, (terminal.get(id) ?? 0) + 1);
      },
    });
    worker.start({ ownsStore });
  };

  const crash = (): void => {
    if (world.alivePid !== pid || !raw) return;
    if (process.env.MERIDIAN_SIM_TRACE) console.log(`${time.now() - START} crash pid ${pid}`);
    crashCount++;
    world.alivePid = -1; // the worker, its timers and its in-flight calls die; messages on the wire do not
    time.kill(pid);
    const closing = raw;
    raw = undefined;
    store = undefined;
    world.busy++;
    void closing.close().finally(() => world.busy--);
    time.at(between(0, 30_000), () => {
      if (world.alivePid === -1) start();
    });
  };
  world.onCrash = crash;

  // Source versions, in commit order per key.
  const source: { key: string; versionId: string; deleteMarker: boolean }[] = [];
  const order = new Map<string, string[]>();
  let next = 0;
  for (let i = 0; i < writes; i++) {
    time.at(between(0, loadMs), () => {
      if (!store) return; // the process is down: the client's write fails and is not retried
      const key = pick(keys);
      const versionId = `v${String(next++).padStart(6, '0')}`;
      const deleteMarker = rnd() < 0.1;
      const v: ObjectVersion = {
        bucket: SOURCE_BUCKET, key, versionId, isDeleteMarker: deleteMarker, lastModified: time.now(), size: deleteMarker ? 0 : contentOf(key, versionId).length,
        etag: deleteMarker ? '' : sha(contentOf(key, versionId)).slice(0, 32), ownerAccountId: OWNER, storageClass: 'STANDARD', systemMetadata: {}, userMetadata: {}, parts: [],
        replicationStatus: 'PENDING',
        replicationDetail: Object.fromEntries(DESTINATIONS.map((d) => [d.bucket, { status: 'PENDING' as const, ruleId: d.ruleId }])),
      };
      const tasks = DESTINATIONS.map((d) => ({ bucket: SOURCE_BUCKET, key, versionId, operation: deleteMarker ? ('delete-marker' as const) : ('put' as const), destinationBucket: d.bucket, ruleId: d.ruleId }));
      void store.putObjectVersion(v, tasks).then(
        () => {
          source.push({ key, versionId, deleteMarker });
          if (world.alivePid === pid) worker?.wake(); // as the server does after a commit with outbox tasks
          order.set(key, [...(order.get(key) ?? []), versionId]);
        },
        () => undefined,
      );
    });
  }
  for (const at of crashes) time.at(at, crash);

  start();
  await raw!.createBucket({ name: SOURCE_BUCKET, region: REGION, ownerAccountId: OWNER, createdAt: START, versioning: 'Enabled', locationConstraint: '' });

  // After the faults: look every 10 s whether everything has drained.
  let drained = false;
  const watch = (): void => {
    if (time.now() >= START + faultsEnd && store && raw) {
      world.busy++;
      void raw.countOutboxTasks().then((n) => {
        world.busy--;
        if (n === 0 && world.inFlight === 0) drained = true;
      });
    }
    time.at(10_000, watch);
  };
  time.at(faultsEnd + 1, watch);

  try {
    const deadline = START + faultsEnd + QUIET_MS;
    for (;;) {
      await settle(world, calls);
      if (drained) break;
      const at = time.peek();
      if (at === undefined || at > deadline) break;
      time.fireNext();
    }
    await settle(world, calls);
    if (!raw) violations.push('the source process is down at the end of the run');
    else await check(raw);
  } finally {
    world.alivePid = -1;
    time.kill(pid);
    await raw?.close();
    rmSync(dir, { recursive: true, force: true });
  }

  async function check(db: SqliteRegionMetadataStore): Promise<void> {
    const left = await db.listOutboxTasks({ limit: 100_000 });
    for (const t of left) violations.push(`outbox task left after the faults ended: ${t.key}@${t.versionId} -> ${t.destinationBucket} (${t.parked ? 'parked' : `attempts ${t.attempts}`}: ${t.lastError ?? ''})`);
    for (const s of source) {
      const v = await db.getObjectVersion(SOURCE_BUCKET, s.key, s.versionId);
      for (const d of DESTINATIONS) {
        const id = `${s.key}@${s.versionId} -> ${d.bucket}`;
        const detail = v?.replicationDetail?.[d.bucket];
        const log = world.log(s.key, s.versionId, d.bucket);
        const last = log.delivered.at(-1);
        const replica = world.destinations.get(d.bucket)!.objects.get(s.key)?.filter((r) => r.versionId === s.versionId) ?? [];
        const events = terminal.get(id) ?? 0;
        if (events !== 1) violations.push(`${id}: ${events} outcomes recorded (want exactly 1)`);
        if (!detail || detail.status === 'PENDING') {
          violations.push(`${id}: still ${detail?.status ?? 'untracked'}`);
          continue;
        }
        if (replica.length > 1) violations.push(`${id}: the destination holds it ${replica.length} times`);
        if (detail.status === 'COMPLETED') {
          completed++;
          if (!last?.ok) violations.push(`${id}: COMPLETED but the destination's last answer was ${last ? `a refusal (${(last as { reason: string }).reason})` : 'never heard'}`);
          const r = replica[0];
          if (!r) violations.push(`${id}: COMPLETED but missing at the destination`);
          else if (s.deleteMarker) {
            if (!r.deleteMarker) violations.push(`${id}: a delete marker arrived as an object`);
          } else {
            if (r.deleteMarker || r.sha !== sha(contentOf(s.key, s.versionId))) violations.push(`${id}: the replica's bytes differ from the source's`);
            if (r.kmsKeyArn !== d.kmsKeyArn) violations.push(`${id}: replica encrypted under ${r.kmsKeyArn}, want ${d.kmsKeyArn}`);
          }
        } else if (detail.status === 'FAILED') {
          failed++;
          const want = last && !last.ok ? last.reason : undefined;
          if (detail.failureReason !== want) violations.push(`${id}: FAILED with ${detail.failureReason}, but the destination's last answer was ${want ?? 'a success'}`);
          if (s.key.startsWith(DENIED_PREFIX) && detail.failureReason !== 'DstPutObjectNotPermitted') violations.push(`${id}: a denied key FAILED with ${detail.failureReason}`);
          if (replica.length && log.appliedUndelivered === 0) violations.push(`${id}: FAILED yet the destination holds it`);
        }
        if (s.key.startsWith(DENIED_PREFIX) && detail.status !== 'FAILED') violations.push(`${id}: a denied key ended ${detail.status}`);
      }
    }
    // Per-key order: versions of a key first reach each destination in the order they were written.
    for (const d of DESTINATIONS) {
      for (const [key, replicas] of world.destinations.get(d.bucket)!.objects) {
        const want = order.get(key) ?? [];
        const pos = replicas.map((r) => want.indexOf(r.versionId));
        for (let i = 1; i < pos.length; i++) {
          if (pos[i]! < pos[i - 1]!) {
            violations.push(`order: ${d.bucket}/${key}: ${replicas[i]!.versionId} arrived before ${replicas[i - 1]!.versionId}, out of source order (${replicas.map((r) => r.versionId).join(', ')})`);
            break;
          }
        }
        for (const r of replicas) if (!want.includes(r.versionId)) violations.push(`${d.bucket}/${key}: holds ${r.versionId}, which the source never committed`);
      }
    }
  }

  return {
    seed,
    violations,
    scenario: { loadMs, faultsEnd, faults: faults.map((f) => `${f.kind} ${f.destination} ${f.start - START}..${f.end - START}`), crashes, keys, writes, batchSize, ownsStore, leaseMs, crashOnResponse, stsErrorRate },
    stats: { versions: source.length, crashes: crashCount, faults: faults.length, virtualMs: time.now() - START, completed, failed },
  };
}

/** How to rerun one seed by itself. */
export function rerunHint(seed: number): string {
  return `rerun: npm run simulate -- --seed ${seed}`;
}
