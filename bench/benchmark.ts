/**
 * The benchmark itself: the same workloads, with the same client code (bench/http-client.ts), against
 * a real Meridian process and against a trivial node:http server (bench/baseline-server.ts) in the same
 * run. The ratio Meridian ÷ baseline is the figure; absolute numbers only describe this machine.
 *
 * Workloads (the two servers alternate round by round, and which goes first alternates too, so a burst
 * of outside load hits both columns alike; each throughput figure is the median of its rounds):
 *   - 4 KiB PUT and GET, ops/s: N requests in flight in closed loops for fixed-length rounds, after an
 *     untimed warm-up; default encryption (SSE-S3) and SSE-KMS. Every PUT creates a new key;
 *   - 64 MiB PUT and GET, MB/s (10^6 bytes/s): one stream, after untimed warm-up transfers; bodies
 *     streamed from a 1 MiB buffer and counted on arrival (never held whole); SSE-S3 and SSE-KMS;
 *   - peak RSS of each server process during the 4 KiB phase and during the 64 MiB phase;
 *   - replication lag p50/p99 in the seed scenario (SSE-KMS, us-east-1 → us-east-2): PUT acknowledged
 *     → the source version reports x-amz-replication-status COMPLETED (by then the replica is
 *     committed and readable in the destination region), with 1 writer and with several. Its baseline
 *     column is one 4 KiB PUT+GET round trip against the baseline server: the floor of a copy from
 *     one region to another on this machine.
 * Also recorded: CPU cores used by each server and by the client, and how much CPU other processes
 * took during the run (a noisy machine makes noisy figures).
 */
import { createHash, randomBytes } from 'node:crypto';
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { BenchClient, type BenchRequest } from './http-client.js';
import { OutsideLoad, PeakRss, processTree, startBaseline, startMeridian } from './processes.js';
import { LoadClient } from './load-driver.js';
import { geometricMean, ratioRows, summarise, type TargetCheck } from './targets.js';
import { largeRows, listRows, mediumRows, rssRows, smallRows, warmUp, type Ctx, type WarmupCurve } from './workloads.js';
import { createBucket, enableVersioning, kmsCreateKey, setUpReplication } from './scenario.js';
import { sseComparisonRows } from './sse.js';
import { replicationLoadRows, splitModeRows } from './replication-rows.js';

export type Mode = 'full' | 'quick' | 'smoke';

export interface BenchSettings {
  mode: Mode;
  /** Requests in flight for the 4 KiB workloads. */
  concurrency: number;
  smallSize: number;
  smallWarmupMs: number;
  /**
   * Before the first measured row: rounds of this length of each small-object request against each
   * server until its rate levels off, at most warmupMaxRounds per request kind (workloads.ts warmUp).
   */
  warmupRoundMs: number;
  warmupMaxRounds: number;
  /** Timed rounds per server per 4 KiB workload (alternating servers), and each round's length. */
  smallRounds: number;
  smallRoundMs: number;
  largeSize: number;
  largeWarmup: number;
  largeIterations: number;
  replicationObjects: number;
  /**
   * Writer counts for the replication workload, one lag measurement each: every writer PUTs an
   * object and waits for its replica before the next (1 = lag of an idle system; more = under load).
   */
  replicationWriters: number[];
  replicationPollMs: number;
  /** Sequential baseline PUT+GET round trips (replication lag's baseline column). */
  roundTrips: number;
  /** Steady load for the lag-under-load figures: 4 KiB SSE-KMS PUTs per second, for this long. */
  steadyRate: number;
  steadySeconds: number;
  /** Large (largeSize) SSE-KMS objects replicated by one batch job for the throughput figure. */
  replicationLargeCount: number;
  /** Medium objects: size in MiB and requests in flight. */
  mediumMiB: number;
  mediumConcurrency: number;
  /** Large objects transferred at once for the aggregate figure (the single stream is always measured). */
  largeStreams: number;
  /** Listing: keys in the listed bucket, requests in flight. */
  listKeys: number;
  listConcurrency: number;
  /** RSS under streaming: clients (half PUT, half GET) and object sizes in MiB. */
  rssClients: number;
  rssSizesMiB: number[];
  /** MERIDIAN_WORKERS for the server; undefined = the server's default. */
  workers?: number;
}

export const PRESETS: Record<Mode, BenchSettings> = {
  full: {
    mode: 'full',
    concurrency: 32,
    smallSize: 4096,
    smallWarmupMs: 500,
    warmupRoundMs: 1_000,
    warmupMaxRounds: 8,
    smallRounds: 5,
    smallRoundMs: 1_000,
    largeSize: 64 * 1024 * 1024,
    // A fresh V8 heap needs a few hundred MB of traffic before throughput settles (young-generation sizing).
    largeWarmup: 2,
    largeIterations: 5,
    replicationObjects: 200,
    replicationWriters: [1, 4],
    replicationPollMs: 2,
    roundTrips: 1000,
    steadyRate: 500,
    steadySeconds: 10,
    replicationLargeCount: 4,
    mediumMiB: 1,
    mediumConcurrency: 4,
    largeStreams: 8,
    listKeys: 2000,
    listConcurrency: 4,
    rssClients: 16,
    rssSizesMiB: [64, 1024],
  },
  quick: {
    mode: 'quick',
    concurrency: 32,
    smallSize: 4096,
    smallWarmupMs: 500,
    warmupRoundMs: 500,
    warmupMaxRounds: 4,
    smallRounds: 2,
    smallRoundMs: 1_000,
    largeSize: 64 * 1024 * 1024,
    largeWarmup: 0,
    largeIterations: 3,
    replicationObjects: 50,
    replicationWriters: [1, 4],
    replicationPollMs: 2,
    roundTrips: 200,
    steadyRate: 50,
    steadySeconds: 4,
    replicationLargeCount: 2,
    mediumMiB: 1,
    mediumConcurrency: 4,
    largeStreams: 8,
    listKeys: 2000,
    listConcurrency: 4,
    rssClients: 16,
    rssSizesMiB: [64],
  },
  // For the smoke test: proves every figure is produced, measures nothing worth quoting.
  smoke: {
    mode: 'smoke',
    concurrency: 4,
    smallSize: 4096,
    smallWarmupMs: 0,
    warmupRoundMs: 200,
    warmupMaxRounds: 1,
    smallRounds: 1,
    smallRoundMs: 200,
    largeSize: 4 * 1024 * 1024,
    largeWarmup: 0,
    largeIterations: 1,
    replicationObjects: 4,
    replicationWriters: [1, 2],
    replicationPollMs: 2,
    roundTrips: 10,
    steadyRate: 10,
    steadySeconds: 1,
    replicationLargeCount: 1,
    mediumMiB: 1,
    mediumConcurrency: 2,
    largeStreams: 2,
    listKeys: 1001,
    listConcurrency: 2,
    rssClients: 4,
    rssSizesMiB: [4],
  },
};

export type Unit = 'ops/s' | 'MB/s' | 'keys/s' | 'ms' | 'MiB';

export interface Row {
  id: string;
  workload: string;
  unit: Unit;
  meridian: number;
  baseline: number;
  /** meridian ÷ baseline. For ops/s and MB/s higher is better (1 = as fast as the floor); for ms and MiB lower is better. */
  ratio: number;
  /** What the baseline column measures when it is not the same workload. */
  baselineNote?: string;
  detail?: Record<string, number | string>;
}

export interface BenchResult {
  settings: BenchSettings;
  machine: {
    cpus: number;
    cpuModel: string;
    memoryGiB: number;
    node: string;
    platform: string;
    kernel: string;
    /** 1-minute load average when the run started (nothing of the benchmark's was running yet). */
    loadAverageAtStart: number;
    /** Meridian's processes once started (primary and workers: MERIDIAN_WORKERS, or the server's default). */
    meridianProcesses?: number;
    /** Share of the machine's CPU time spent busy outside the benchmark's processes during the run (0..1); figures are noisy when it is high. */
    outsideCpuShare?: number;
  };
  startedAt: string;
  durationS: number;
  rows: Row[];
  /** Rates of the warm-up rounds before the first row (workloads.ts warmUp), per request kind. */
  warmup?: WarmupCurve[];
  /** Issue 12's targets checked against the rows (bench/targets.ts). */
  targets?: TargetCheck[];
  /** Geometric mean of the ratio workloads (bench/targets.ts ratioRows). */
  geometricMean?: number;
}

type Target = 'meridian' | 'baseline';

const KIB = 1024;
const MIB = 1024 * 1024;

function sizeLabel(bytes: number): string {
  return bytes >= MIB ? `${bytes / MIB} MiB` : `${bytes / KIB} KiB`;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `workers` loops each running `op` back to back until `durationMs` has passed. */
export async function closedLoop(workers: number, durationMs: number, op: (seq: number) => Promise<void>): Promise<{ ops: number; seconds: number; latenciesMs: number[] }> {
  let seq = 0;
  const latencies: number[] = [];
  const start = performance.now();
  const deadline = start + durationMs;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await op(seq++);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  return { ops: latencies.length, seconds, latenciesMs: latencies.sort((a, b) => a - b) };
}

export type Workload = 'small' | 'medium' | 'large' | 'list' | 'rss' | 'sse' | 'replication' | 'replication-load' | 'split';
export const WORKLOADS: readonly Workload[] = ['small', 'medium', 'large', 'list', 'rss', 'sse', 'replication', 'replication-load', 'split'];

export interface RunOptions {
  settings: BenchSettings;
  /** Which workload groups to run (default: all). */
  only?: readonly Workload[];
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
}

export async function runBenchmark(opts: RunOptions): Promise<BenchResult> {
  const s = opts.settings;
  const log = opts.log ?? (() => undefined);
  const startedAt = new Date();
  const t0 = performance.now();
  const loadAverageAtStart = loadavg()[0]!;
  const rows: Row[] = [];
  const want = (w: Workload) => !opts.only || opts.only.includes(w);

  log(`starting Meridian and the baseline server (${s.mode} run)`);
  const [meridian, baseline, load] = await Promise.all([startMeridian(s.workers), startBaseline(), LoadClient.start()]);
  const creds = { accessKeyId: meridian.accessKeyId, secretAccessKey: meridian.secretAccessKey };
  const maxSockets = Math.max(s.concurrency, ...s.replicationWriters) * 2;
  const clients: Record<Target, BenchClient> = {
    meridian: new BenchClient(meridian.httpEndpoint, creds, maxSockets),
    baseline: new BenchClient(baseline.endpoint, creds, maxSockets),
  };
  const pids = { meridian: meridian.child.pid!, baseline: baseline.child.pid! };
  // Workers start after the primary prints its address: give them a moment to appear in /proc.
  await new Promise((r) => setTimeout(r, 1000));
  const meridianProcesses = processTree(pids.meridian).length;
  log(`  Meridian: ${meridianProcesses} process(es) (MERIDIAN_WORKERS=${s.workers ?? "the server's default"})`);
  // This process's tree: the servers, the load client and anything else the run starts.
  const outside = new OutsideLoad([process.pid]);
  let outsideCpuShare: number | undefined;
  let warmup: WarmupCurve[] | undefined;
  try {
    // ------------------------------------------------------------------------------ setup
    const bucket = 'bench-objects';
    const region = 'us-east-1';
    await createBucket(clients.meridian, bucket, region);
    const kmsKey = await kmsCreateKey(clients.meridian, region, 'bench SSE-KMS key');
    const sse: Record<'sse-s3' | 'sse-kms', { label: string; headers: Record<string, string> }> = {
      // No SSE header: the bucket default, SSE-S3 (every Meridian object is encrypted at rest).
      'sse-s3': { label: 'SSE-S3 (default)', headers: {} },
      'sse-kms': { label: 'SSE-KMS', headers: { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': kmsKey.arn } },
    };

    const small = randomBytes(s.smallSize);
    const smallLabel = sizeLabel(s.smallSize);
    const mib = (b: number) => b / MIB;
    const targets = {
      meridian: { endpoint: meridian.httpEndpoint, ...creds },
      baseline: { endpoint: baseline.endpoint, ...creds },
    };
    const ctx: Ctx = { s, load, targets, pids, bucket, region, sse, log };
    // Peak RSS over the throughput workloads (small, medium, large), each server's whole process tree.
    const throughput = want('small') || want('medium') || want('large');
    if (throughput && s.warmupMaxRounds > 0 && s.warmupRoundMs > 0) {
      log(`warming up both servers (small objects${want('medium') ? ' and 1 MiB ones' : ''}, until each rate levels off)`);
      warmup = await warmUp(ctx, { medium: want('medium') });
    }
    const throughputPeak = throughput ? new PeakRss([pids.meridian, pids.baseline]) : undefined;
    if (want('small')) rows.push(...(await smallRows(ctx)));
    if (want('medium')) rows.push(...(await mediumRows(ctx)));
    if (want('large')) rows.push(...(await largeRows(ctx)));
    if (throughputPeak) {
      const peaks = throughputPeak.stop();
      rows.push({
        id: 'peak-rss-throughput',
        workload: 'peak RSS during the throughput workloads',
        unit: 'MiB',
        meridian: mib(peaks.get(pids.meridian)!),
        baseline: mib(peaks.get(pids.baseline)!),
        ratio: peaks.get(pids.meridian)! / peaks.get(pids.baseline)!,
        baselineNote: `the baseline holds a preallocated ${sizeLabel(64 * MIB)} GET buffer`,
      });
    }
    if (want('large')) {
      // Untimed: Meridian gives back exactly the bytes it was given (a fresh object, hashed as it arrives).
      const chunk = randomBytes(MIB);
      const repeat = Math.ceil(s.largeSize / MIB);
      const h = createHash('sha256');
      for (let i = 0; i < repeat; i++) h.update(chunk);
      await clients.meridian.ok({ method: 'PUT', path: `/${bucket}/verify-large`, region, service: 's3', stream: { chunk, repeat } });
      await verifyContent(clients.meridian, { method: 'GET', path: `/${bucket}/verify-large`, region, service: 's3' }, h.digest('hex'));
    }
    if (want('list')) {
      const listBucket = 'bench-list';
      await createBucket(clients.meridian, listBucket, region);
      await enableVersioning(clients.meridian, listBucket, region);
      log(`  writing ${s.listKeys} keys to list`);
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < s.listKeys) await clients.meridian.ok({ method: 'PUT', path: `/${listBucket}/dir-${next % 10}/key-${String(next++).padStart(7, '0')}`, region, service: 's3', body: small });
        }),
      );
      const pageBytes = { v2: 0, versions: 0 };
      for (const [kind, query] of [['v2', 'list-type=2'], ['versions', 'versions']] as const) {
        const r = await clients.meridian.ok({ method: 'GET', path: `/${listBucket}?${query}&max-keys=1000`, region, service: 's3', collect: true });
        const keys = r.body!.toString('utf8').match(/<Key>/g)?.length ?? 0;
        if (keys !== 1000) throw new Error(`${query}: a 1000-key page listed ${keys} keys`);
        pageBytes[kind] = r.bytes;
      }
      rows.push(...(await listRows(ctx, pageBytes, listBucket)));
    }
    if (want('rss')) rows.push(...(await rssRows(ctx)));

    // ------------------------------------------------- SSE-KMS against SSE-S3 (bench/sse.ts)
    if (want('sse')) rows.push(...(await sseComparisonRows(clients.meridian, load, targets.meridian, bucket, region, kmsKey.arn, s, log)));

    // -------------------------------------------------------------- replication lag
    if (want('replication')) {
      log('  setting up the replication scenario (keys, buckets, versioning, role, PutBucketReplication)');
      const scenario = await setUpReplication(clients.meridian, 'bench-crr-src', 'bench-crr-dest');
      const rtts = await roundTrips(clients.baseline, bucket, region, small, s.roundTrips);
      const note = `one ${smallLabel} PUT+GET round trip against the baseline server (the floor of a cross-region copy on this machine)`;
      for (const writers of s.replicationWriters) {
        const lags = await replicationLags(clients.meridian, scenario, s, small, writers);
        await verifyReplicas(clients.meridian, scenario, lags.versions);
        log(`  replication lag, ${writers} writer(s): p50 ${percentile(lags.ms, 50).toFixed(1)} ms, p99 ${percentile(lags.ms, 99).toFixed(1)} ms (baseline PUT+GET ${percentile(rtts, 50).toFixed(2)} / ${percentile(rtts, 99).toFixed(2)} ms)`);
        for (const p of [50, 99]) {
          const mv = percentile(lags.ms, p);
          const bv = percentile(rtts, p);
          rows.push({
            id: `replication-lag-w${writers}-p${p}`,
            workload: `replication lag p${p}, ${smallLabel} SSE-KMS us-east-1 → us-east-2, ${writers} writer${writers === 1 ? '' : 's'}`,
            unit: 'ms',
            meridian: mv,
            baseline: bv,
            ratio: mv / bv,
            baselineNote: note,
            detail: { objects: lags.ms.length, pollIntervalMs: s.replicationPollMs, meridianMaxMs: lags.ms[lags.ms.length - 1]!, meridianPutP50Ms: percentile(lags.putMs, 50) },
          });
        }
      }
    }
    // ------------------------------------- replication under load, in one process and in two
    if (want('replication-load') || want('split')) {
      const rtts = await roundTrips(clients.baseline, bucket, region, small, s.roundTrips);
      if (want('replication-load')) {
        log('  replication under load, one process');
        const scenario = await setUpReplication(clients.meridian, 'bench-load-src', 'bench-load-dest');
        rows.push(...(await replicationLoadRows(clients.meridian, scenario, s, small, rtts, 'one process', log, () => meridian.logs())));
      }
      if (want('split')) {
        log('  replication under load, two processes (split mode)');
        rows.push(...(await splitModeRows(s, small, rtts, log)));
      }
    }
    outsideCpuShare = outside.fraction();
  } finally {
    clients.meridian.close();
    clients.baseline.close();
    await Promise.all([meridian.stop(), baseline.stop(), load.close()]);
  }

  const cpu = cpus();
  const machine: BenchResult['machine'] = {
    cpus: cpu.length,
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${platform()} ${arch()}`,
    kernel: release(),
    loadAverageAtStart,
    meridianProcesses,
  };
  if (outsideCpuShare !== undefined) machine.outsideCpuShare = outsideCpuShare;
  const result: BenchResult = {
    settings: s,
    machine,
    startedAt: startedAt.toISOString(),
    durationS: (performance.now() - t0) / 1000,
    rows,
    ...(warmup && warmup.length > 0 ? { warmup } : {}),
    geometricMean: geometricMean(ratioRows(rows).map((r) => r.ratio)),
  };
  result.targets = summarise(result);
  return result;
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Untimed: the object reads back byte for byte (hashed as it arrives, never held whole). */
async function verifyContent(client: BenchClient, req: BenchRequest, expectedSha: string): Promise<void> {
  const hash = createHash('sha256');
  await client.ok({ ...req, onData: (c) => hash.update(c) });
  if (hash.digest('hex') !== expectedSha) throw new Error(`${req.path}: content read back differs from what was written`);
}

/**
 * Each writer PUTs a 4 KiB SSE-KMS object into the source bucket, then polls HEAD on that version
 * until it reports COMPLETED; lag = first COMPLETED answer − PUT acknowledgement (so it includes up
 * to one poll interval and one HEAD of measurement overhead).
 */
async function replicationLags(
  client: BenchClient,
  scenario: Awaited<ReturnType<typeof setUpReplication>>,
  s: BenchSettings,
  body: Buffer,
  writers: number,
): Promise<{ ms: number[]; putMs: number[]; versions: { key: string; versionId: string }[] }> {
  const { bucket, region, keyArn } = scenario.source;
  const ms: number[] = [];
  const putMs: number[] = [];
  const versions: { key: string; versionId: string }[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (next < s.replicationObjects) {
        const key = `crr-w${writers}-${next++}`;
        const sent = performance.now();
        const put = await client.ok({
          method: 'PUT',
          path: `/${bucket}/${key}`,
          region,
          service: 's3',
          headers: { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': keyArn },
          body,
        });
        const acked = performance.now();
        putMs.push(acked - sent);
        const versionId = String(put.headers['x-amz-version-id'] ?? '');
        if (!versionId) throw new Error('PUT into a versioned bucket returned no x-amz-version-id');
        versions.push({ key, versionId });
        const deadline = acked + 60_000;
        for (;;) {
          const head = await client.ok({ method: 'HEAD', path: `/${bucket}/${key}?versionId=${encodeURIComponent(versionId)}`, region, service: 's3' });
          const status = head.headers['x-amz-replication-status'];
          if (status === 'COMPLETED') {
            ms.push(performance.now() - acked);
            break;
          }
          if (status === 'FAILED') throw new Error(`replication of ${key} FAILED (see the Meridian log)`);
          if (performance.now() > deadline) throw new Error(`replication of ${key} still ${String(status)} after 60 s`);
          await sleep(s.replicationPollMs);
        }
      }
    }),
  );
  return { ms: ms.sort((a, b) => a - b), putMs: putMs.sort((a, b) => a - b), versions };
}

/** Untimed: every replica exists in the destination with status REPLICA, under the destination key. */
async function verifyReplicas(client: BenchClient, scenario: Awaited<ReturnType<typeof setUpReplication>>, versions: { key: string; versionId: string }[]): Promise<void> {
  const { bucket, region, keyArn } = scenario.destination;
  for (const v of versions) {
    const head = await client.ok({ method: 'HEAD', path: `/${bucket}/${v.key}?versionId=${encodeURIComponent(v.versionId)}`, region, service: 's3' }, `HEAD replica ${v.key}`);
    if (head.headers['x-amz-replication-status'] !== 'REPLICA') throw new Error(`replica ${v.key} has status ${String(head.headers['x-amz-replication-status'])}`);
    if (head.headers['x-amz-server-side-encryption-aws-kms-key-id'] !== keyArn) throw new Error(`replica ${v.key} is not encrypted under the destination key`);
  }
}

/** Sequential 4 KiB PUT then GET of the same key; milliseconds per pair, sorted. */
async function roundTrips(client: BenchClient, bucket: string, region: string, body: Buffer, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n + Math.min(50, n); i++) {
    const path = `/${bucket}/rtt-${i}`;
    const a = performance.now();
    await client.ok({ method: 'PUT', path, region, service: 's3', body });
    await client.ok({ method: 'GET', path, region, service: 's3' });
    // The first few (connection set-up, JIT) are warm-up.
    if (i >= Math.min(50, n)) out.push(performance.now() - a);
  }
  return out.sort((a, b) => a - b);
}
