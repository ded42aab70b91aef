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
import { CpuMeter, OutsideLoad, PeakRss, memoryOf, startBaseline, startMeridian } from './processes.js';
import { createBucket, kmsCreateKey, setUpReplication } from './scenario.js';
import { sseComparisonRows } from './sse.js';
import { replicationLoadRows, splitModeRows } from './replication-rows.js';

export type Mode = 'full' | 'quick' | 'smoke';

export interface BenchSettings {
  mode: Mode;
  /** Requests in flight for the 4 KiB workloads. */
  concurrency: number;
  smallSize: number;
  smallWarmupMs: number;
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
}

export const PRESETS: Record<Mode, BenchSettings> = {
  full: {
    mode: 'full',
    concurrency: 32,
    smallSize: 4096,
    smallWarmupMs: 1_000,
    smallRounds: 7,
    smallRoundMs: 2_000,
    largeSize: 64 * 1024 * 1024,
    // A fresh V8 heap needs a few hundred MB of traffic before throughput settles (young-generation sizing).
    largeWarmup: 3,
    largeIterations: 11,
    replicationObjects: 200,
    replicationWriters: [1, 4],
    replicationPollMs: 2,
    roundTrips: 1000,
    steadyRate: 100,
    steadySeconds: 10,
    replicationLargeCount: 4,
  },
  quick: {
    mode: 'quick',
    concurrency: 32,
    smallSize: 4096,
    smallWarmupMs: 500,
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
  },
  // For the smoke test: proves every figure is produced, measures nothing worth quoting.
  smoke: {
    mode: 'smoke',
    concurrency: 4,
    smallSize: 4096,
    smallWarmupMs: 0,
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
  },
};

export type Unit = 'ops/s' | 'MB/s' | 'ms' | 'MiB';

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
    /** Share of the machine's CPU time spent busy outside the benchmark's processes during the run (0..1); figures are noisy when it is high. */
    outsideCpuShare?: number;
  };
  startedAt: string;
  durationS: number;
  rows: Row[];
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

export type Workload = 'small' | 'large' | 'sse' | 'replication' | 'replication-load' | 'split';
export const WORKLOADS: readonly Workload[] = ['small', 'large', 'sse', 'replication', 'replication-load', 'split'];

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
  const [meridian, baseline] = await Promise.all([startMeridian(), startBaseline()]);
  const creds = { accessKeyId: meridian.accessKeyId, secretAccessKey: meridian.secretAccessKey };
  const maxSockets = Math.max(s.concurrency, ...s.replicationWriters) * 2;
  const clients: Record<Target, BenchClient> = {
    meridian: new BenchClient(meridian.httpEndpoint, creds, maxSockets),
    baseline: new BenchClient(baseline.endpoint, creds, maxSockets),
  };
  const pids = { meridian: meridian.child.pid!, baseline: baseline.child.pid! };
  const outside = new OutsideLoad(['self', pids.meridian, pids.baseline]);
  let outsideCpuShare: number | undefined;
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

    // -------------------------------------------------------------------- 4 KiB ops/s
    // Rounds alternate between the two servers (and which goes first), so a burst of outside load
    // hits both columns alike; each figure is the median of its rounds.
    const order = (round: number): Target[] => (round % 2 === 0 ? ['meridian', 'baseline'] : ['baseline', 'meridian']);
    const small = randomBytes(s.smallSize);
    const smallLabel = sizeLabel(s.smallSize);
    const mib = (b: number) => b / MIB;
    const baselineBufferNote = `the baseline holds a preallocated ${sizeLabel(64 * MIB)} GET buffer`;
    if (want('small')) {
      const smallPeak = new PeakRss([pids.meridian, pids.baseline]);
      for (const enc of ['sse-s3', 'sse-kms'] as const) {
        const written: Record<Target, number> = { meridian: 0, baseline: 0 };
        const prefix = `small-${enc}`;
        const put = (t: Target) => async () => {
          // Every PUT creates a new object (keys 0, 1, 2, ... in the order they are sent).
          await clients[t].ok({ method: 'PUT', path: `/${bucket}/${prefix}-${written[t]++}`, region, service: 's3', headers: { 'content-type': 'application/octet-stream', ...sse[enc].headers }, body: small });
        };
        const get = (t: Target) => async (seq: number) => {
          // Every PUT had finished before the GETs start: keys 0..written-1 all exist.
          const res = await clients[t].ok({ method: 'GET', path: `/${bucket}/${prefix}-${(seq * 7919) % Math.max(1, written[t])}`, region, service: 's3' });
          if (res.bytes !== s.smallSize) throw new Error(`${t}: GET returned ${res.bytes} bytes, expected ${s.smallSize}`);
        };
        for (const [verb, make] of [['PUT', put], ['GET', get]] as const) {
          const rates: Record<Target, number[]> = { meridian: [], baseline: [] };
          const latencies: Record<Target, number[]> = { meridian: [], baseline: [] };
          // Cores used by the server under test and by this (client) process, per round.
          const serverCpu: Record<Target, number[]> = { meridian: [], baseline: [] };
          const clientCpu: Record<Target, number[]> = { meridian: [], baseline: [] };
          for (const t of order(0)) if (s.smallWarmupMs > 0) await closedLoop(s.concurrency, s.smallWarmupMs, make(t));
          for (let round = 0; round < s.smallRounds; round++) {
            for (const t of order(round)) {
              const meter = new CpuMeter([pids[t], 'self']);
              const r = await closedLoop(s.concurrency, s.smallRoundMs, make(t));
              const [server, client] = meter.stop();
              rates[t].push(r.ops / r.seconds);
              latencies[t].push(...r.latenciesMs);
              serverCpu[t].push(server!);
              clientCpu[t].push(client!);
            }
          }
          const mv = median(rates.meridian);
          const bv = median(rates.baseline);
          log(`  ${smallLabel} ${verb} ${sse[enc].label}: Meridian ${mv.toFixed(0)} ops/s, baseline ${bv.toFixed(0)} ops/s`);
          const lm = latencies.meridian.sort((a, b) => a - b);
          const lb = latencies.baseline.sort((a, b) => a - b);
          rows.push({
            id: `${verb.toLowerCase()}-${s.smallSize}-${enc}`,
            workload: `${smallLabel} ${verb} ${sse[enc].label}, ${s.concurrency} in flight`,
            unit: 'ops/s',
            meridian: mv,
            baseline: bv,
            ratio: mv / bv,
            detail: {
              rounds: s.smallRounds,
              roundSeconds: s.smallRoundMs / 1000,
              meridianRounds: rates.meridian.map((x) => Math.round(x)).join(' '),
              baselineRounds: rates.baseline.map((x) => Math.round(x)).join(' '),
              meridianP50Ms: percentile(lm, 50),
              meridianP99Ms: percentile(lm, 99),
              baselineP50Ms: percentile(lb, 50),
              baselineP99Ms: percentile(lb, 99),
              meridianServerCores: median(serverCpu.meridian),
              baselineServerCores: median(serverCpu.baseline),
              clientCoresAgainstMeridian: median(clientCpu.meridian),
              clientCoresAgainstBaseline: median(clientCpu.baseline),
            },
          });
        }
      }
      const smallPeaks = smallPeak.stop();
      rows.push({
        id: 'peak-rss-small',
        workload: `peak RSS during the ${smallLabel} workloads`,
        unit: 'MiB',
        meridian: mib(smallPeaks.get(pids.meridian)!),
        baseline: mib(smallPeaks.get(pids.baseline)!),
        ratio: smallPeaks.get(pids.meridian)! / smallPeaks.get(pids.baseline)!,
        baselineNote: baselineBufferNote,
      });
    }

    // ------------------------------------------------------------------- 64 MiB MB/s
    if (want('large')) {
      const chunk = randomBytes(MIB);
      const repeat = Math.ceil(s.largeSize / MIB);
      const largeSize = repeat * MIB;
      const largeLabel = sizeLabel(largeSize);
      const expectedSha = (() => {
        const h = createHash('sha256');
        for (let i = 0; i < repeat; i++) h.update(chunk);
        return h.digest('hex');
      })();
      const largePeak = new PeakRss([pids.meridian, pids.baseline]);
      const rssBeforeLarge = memoryOf(pids.meridian)?.rss ?? NaN;
      for (const enc of ['sse-s3', 'sse-kms'] as const) {
        const prefix = `large-${enc}`;
        const putReq = (key: string): BenchRequest => ({
          method: 'PUT',
          path: `/${bucket}/${key}`,
          region,
          service: 's3',
          headers: { 'content-type': 'application/octet-stream', ...sse[enc].headers },
          stream: { chunk, repeat },
        });
        const getReq = (key: string): BenchRequest => ({ method: 'GET', path: `/${bucket}/${key}`, region, service: 's3' });
        // CPU seconds the server under test used during its transfers, and their wall-clock seconds
        // (summed over iterations: one transfer is too short for /proc's 10 ms ticks).
        const zero = () => ({ cpu: 0, client: 0, wall: 0 });
        const serverCpu: Record<'PUT' | 'GET', Record<Target, { cpu: number; client: number; wall: number }>> = {
          PUT: { meridian: zero(), baseline: zero() },
          GET: { meridian: zero(), baseline: zero() },
        };
        const timed = async (t: Target, req: BenchRequest): Promise<number> => {
          const meter = new CpuMeter([pids[t], 'self']);
          const a = performance.now();
          const res = await clients[t].ok(req);
          const seconds = (performance.now() - a) / 1000;
          const mb = largeSize / 1e6 / seconds;
          const [server, client] = meter.stop();
          const acc = serverCpu[req.method as 'PUT' | 'GET'][t];
          acc.cpu += server! * seconds;
          acc.client += client! * seconds;
          acc.wall += seconds;
          if (req.method === 'GET' && res.bytes !== largeSize) throw new Error(`${t}: GET returned ${res.bytes} bytes, expected ${largeSize}`);
          return mb;
        };
        for (const t of order(0)) {
          for (let i = 0; i < s.largeWarmup; i++) {
            await clients[t].ok(putReq(`${prefix}-warmup-${i}`));
            await clients[t].ok(getReq(`${prefix}-warmup-${i}`));
          }
        }
        const rates: Record<'PUT' | 'GET', Record<Target, number[]>> = { PUT: { meridian: [], baseline: [] }, GET: { meridian: [], baseline: [] } };
        for (let i = 0; i < s.largeIterations; i++) for (const t of order(i)) rates.PUT[t].push(await timed(t, putReq(`${prefix}-${i}`)));
        for (let i = 0; i < s.largeIterations; i++) for (const t of order(i)) rates.GET[t].push(await timed(t, getReq(`${prefix}-${i}`)));
        // Untimed: Meridian gives back exactly the bytes it was given.
        await verifyContent(clients.meridian, getReq(`${prefix}-0`), expectedSha);
        for (const verb of ['PUT', 'GET'] as const) {
          const mv = median(rates[verb].meridian);
          const bv = median(rates[verb].baseline);
          log(`  ${largeLabel} ${verb} ${sse[enc].label}: Meridian ${mv.toFixed(0)} MB/s, baseline ${bv.toFixed(0)} MB/s`);
          rows.push({
            id: `${verb.toLowerCase()}-${largeSize}-${enc}`,
            workload: `${largeLabel} ${verb} ${sse[enc].label}, 1 stream`,
            unit: 'MB/s',
            meridian: mv,
            baseline: bv,
            ratio: mv / bv,
            detail: {
              iterations: s.largeIterations,
              meridianRuns: rates[verb].meridian.map((x) => Math.round(x)).join(' '),
              baselineRuns: rates[verb].baseline.map((x) => Math.round(x)).join(' '),
              meridianServerCores: serverCpu[verb].meridian.cpu / serverCpu[verb].meridian.wall,
              baselineServerCores: serverCpu[verb].baseline.cpu / serverCpu[verb].baseline.wall,
              clientCoresAgainstMeridian: serverCpu[verb].meridian.client / serverCpu[verb].meridian.wall,
              clientCoresAgainstBaseline: serverCpu[verb].baseline.client / serverCpu[verb].baseline.wall,
            },
          });
        }
      }
      const largePeaks = largePeak.stop();
      rows.push({
        id: 'peak-rss-large',
        workload: `peak RSS during the ${largeLabel} workloads`,
        unit: 'MiB',
        meridian: mib(largePeaks.get(pids.meridian)!),
        baseline: mib(largePeaks.get(pids.baseline)!),
        ratio: largePeaks.get(pids.meridian)! / largePeaks.get(pids.baseline)!,
        baselineNote: baselineBufferNote,
        detail: { meridianRssBeforeMiB: mib(rssBeforeLarge) },
      });
    }

    // ------------------------------------------------- SSE-KMS against SSE-S3 (bench/sse.ts)
    if (want('sse')) rows.push(...(await sseComparisonRows(clients.meridian, bucket, region, kmsKey.arn, s, log)));

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
        rows.push(...(await replicationLoadRows(clients.meridian, scenario, s, small, rtts, 'one process', log)));
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
    await Promise.all([meridian.stop(), baseline.stop()]);
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
  };
  if (outsideCpuShare !== undefined) machine.outsideCpuShare = outsideCpuShare;
  return {
    settings: s,
    machine,
    startedAt: startedAt.toISOString(),
    durationS: (performance.now() - t0) / 1000,
    rows,
  };
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
