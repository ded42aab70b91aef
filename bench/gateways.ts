/**
 * `npm run bench:gateways [-- options]`: Meridian's gateways on PostgreSQL against the embedded mode.
 *
 *   --quick          short run: 2 × 1 s rounds per workload, 100,000 listed keys
 *   --smoke          the shortest run that still produces every figure (the smoke test; not a measurement)
 *   --json           print the results as JSON on stdout (progress goes to stderr)
 *   --list-keys N    keys in the listed bucket (default 1,000,000; at most 1000 prefixes of them)
 *   --concurrency N  requests in flight for the 4 KiB workloads, spread over the gateways (default 32)
 *   --gateways A,B   gateway counts to measure (default 1,2,4)
 *   --rate N         4 KiB SSE-KMS PUTs per second for the replication lag figures (default 200)
 *
 * What runs: a throwaway PostgreSQL with fsync, synchronous_commit and full_page_writes ON (the
 * durability a deployment has); for each configuration a fresh database migrated with `meridian
 * migrate` and a fresh data directory; `meridian serve` processes with MERIDIAN_WORKERS=1 each on the
 * same MERIDIAN_METADATA_URL and MERIDIAN_DATA_DIR. The measured 4 KiB requests come from the load
 * client process (bench/load-client.ts), its connections split evenly over the gateways. Server CPU is
 * counted from /proc over the gateways' process trees and, apart, over the PostgreSQL postmaster's.
 */
import { performance } from 'node:perf_hooks';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startMeridianProcess, type MeridianProcess } from '../test/support/meridian-process.js';
import { postgresUnavailable, startThrowawayPostgres, type ThrowawayPostgres } from '../src/storage/testing/throwaway-postgres.js';
import { BenchClient } from './http-client.js';
import { LoadClient, type LoopResult, type RequestShape, type Target } from './load-driver.js';
import { CpuMeter, OutsideLoad } from './processes.js';
import { percentileOf, replicationThroughput, steadyPuts, type Requester } from './replication-load.js';
import { createBucket, setUpReplication, type ReplicationScenario } from './scenario.js';

const ROOT = new URL('..', import.meta.url).pathname;
const KEYS = { accessKeyId: 'AKIABENCHGATEWAYS001', secretAccessKey: 'bench-gateways-secret-key-0123456789abcd' };
const SMALL = 4096;
const REGION = 'us-east-1';

type Mode = 'full' | 'quick' | 'smoke';

export interface GatewaySettings {
  mode: Mode;
  concurrency: number;
  rounds: number;
  roundMs: number;
  gateways: number[];
  listKeys: number;
  listRoundMs: number;
  rate: number;
  rateSeconds: number;
  replicationObjects: number;
  replicationSize: number;
}

const PRESETS: Record<Mode, GatewaySettings> = {
  full: { mode: 'full', concurrency: 32, rounds: 5, roundMs: 3000, gateways: [1, 2, 4], listKeys: 1_000_000, listRoundMs: 5000, rate: 200, rateSeconds: 10, replicationObjects: 8, replicationSize: 8 * 1024 * 1024 },
  quick: { mode: 'quick', concurrency: 32, rounds: 2, roundMs: 1000, gateways: [1, 2, 4], listKeys: 100_000, listRoundMs: 2000, rate: 100, rateSeconds: 3, replicationObjects: 4, replicationSize: 4 * 1024 * 1024 },
  smoke: { mode: 'smoke', concurrency: 8, rounds: 1, roundMs: 300, gateways: [1, 2], listKeys: 3000, listRoundMs: 300, rate: 20, rateSeconds: 1, replicationObjects: 2, replicationSize: 1024 * 1024 },
};

export interface GatewayRow {
  id: string;
  workload: string;
  unit: 'ops/s' | 'keys/s' | 'prefixes/s' | 'ms' | 'MB/s' | 'objects/s';
  value: number;
  detail?: Record<string, number | string>;
}

export interface GatewayResult {
  settings: GatewaySettings;
  startedAt: string;
  durationS: number;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; platform: string; kernel: string; node: string; loadAverageAtStart: number; outsideCpuShare?: number };
  /** How the listed keys were loaded. */
  listLoad: string;
  rows: GatewayRow[];
}

/** The PostgreSQL postmaster's pid (first line of postmaster.pid): its process tree is the server. */
function postmasterPid(p: ThrowawayPostgres): number {
  return Number(readFileSync(join(p.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
}

function migrate(url: string, dataDir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [ROOT + 'bin/meridian.mjs', 'migrate', '--metadata-url', url], { env: { ...process.env, MERIDIAN_DATA_DIR: dataDir }, timeout: 120_000 }, (err, _out, stderr) =>
      err ? reject(new Error(`meridian migrate failed: ${stderr}`)) : resolve(),
    );
  });
}

const SERVER_ENV = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', MERIDIAN_LOG_LEVEL: 'info', MERIDIAN_WORKERS: '1' };

interface Deployment {
  label: string;
  id: string;
  gateways: MeridianProcess[];
  /** The PostgreSQL server's pid, when the metadata is there. */
  postgresPid?: number;
  metadataUrl?: string;
  stop(): Promise<void>;
}

async function embedded(): Promise<Deployment> {
  const m = await startMeridianProcess({ tls: false, env: SERVER_ENV, ...KEYS });
  return { label: 'embedded (1 process)', id: 'embedded', gateways: [m], stop: () => m.stop() };
}

async function onPostgres(p: ThrowawayPostgres, n: number, env: Record<string, string> = {}): Promise<Deployment> {
  const url = await p.createDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'meridian-bench-gws-'));
  await migrate(url, dataDir);
  const gateways: MeridianProcess[] = [];
  const stop = async () => {
    for (const g of gateways) await g.stop({ keepData: true }).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    // One by one: the first seeds the root keys, the others find them.
    for (let i = 0; i < n; i++) gateways.push(await startMeridianProcess({ dataDir, tls: false, env: { ...SERVER_ENV, MERIDIAN_METADATA_URL: url, ...env }, ...KEYS }));
  } catch (e) {
    await stop();
    throw e;
  }
  return { label: `${n} gateway${n > 1 ? 's' : ''} on PostgreSQL`, id: `pg-${n}`, gateways, postgresPid: postmasterPid(p), metadataUrl: url, stop };
}

const target = (m: MeridianProcess): Target => ({ endpoint: m.httpEndpoint, ...KEYS });

/**
 * Timed rounds of one request shape, the client's connections split over the gateways (one loop job
 * per gateway, all at once, in the load client process). `shapeFor(i)` is gateway i's shape.
 */
async function rounds(
  load: LoadClient,
  d: Deployment,
  s: GatewaySettings,
  shapeFor: (i: number, start: number) => RequestShape,
  concurrency = s.concurrency,
  roundMs = s.roundMs,
  count = s.rounds,
): Promise<{ opsPerS: number[]; gatewayUs: number; postgresUs: number; clientCores: number; ops: number; items: number; next: number[] }> {
  const n = d.gateways.length;
  const per = Math.max(1, Math.round(concurrency / n));
  const next = d.gateways.map(() => 0);
  const opsPerS: number[] = [];
  let gatewayCpuS = 0;
  let postgresCpuS = 0;
  let clientCpuS = 0;
  let wall = 0;
  let ops = 0;
  let items = 0;
  for (let r = 0; r < count; r++) {
    const gwPids = d.gateways.map((g) => g.child.pid!);
    const meter = new CpuMeter([...gwPids, ...(d.postgresPid ? [d.postgresPid] : []), load.pid]);
    const results: LoopResult[] = await Promise.all(d.gateways.map((g, i) => load.loop({ target: target(g), shape: shapeFor(i, next[i]!), concurrency: per, durationMs: roundMs })));
    const cores = meter.stop();
    const seconds = Math.max(...results.map((x) => x.seconds));
    const roundOps = results.reduce((a, x) => a + x.ops, 0);
    results.forEach((x, i) => (next[i] = x.next));
    opsPerS.push(roundOps / seconds);
    ops += roundOps;
    items += results.reduce((a, x) => a + x.items, 0);
    wall += seconds;
    gatewayCpuS += cores.slice(0, n).reduce((a, c) => a + c, 0) * seconds;
    if (d.postgresPid) postgresCpuS += cores[n]! * seconds;
    clientCpuS += cores[cores.length - 1]! * seconds;
  }
  return { opsPerS, gatewayUs: (gatewayCpuS / ops) * 1e6, postgresUs: d.postgresPid ? (postgresCpuS / ops) * 1e6 : 0, clientCores: clientCpuS / wall, ops, items, next };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function smallRows(load: LoadClient, d: Deployment, s: GatewaySettings, log: (l: string) => void): Promise<GatewayRow[]> {
  const client = new BenchClient(d.gateways[0]!.httpEndpoint, KEYS);
  const bucket = `bench-${d.id}`;
  try {
    await createBucket(client, bucket, REGION);
  } finally {
    client.close();
  }
  const rows: GatewayRow[] = [];
  const put = await rounds(load, d, s, (i, start) => ({ method: 'PUT', path: `/${bucket}/g${i}-{n}`, region: REGION, service: 's3', bodySize: SMALL, start }));
  // GETs read keys every gateway's PUT loop wrote (each wrote g<i>-0 … g<i>-<next-1>), from any gateway.
  const spread = Math.max(1, Math.min(...put.next));
  const get = await rounds(load, d, s, (i) => ({ method: 'GET', path: `/${bucket}/g${(i + 1) % d.gateways.length}-{spread}`, region: REGION, service: 's3', expectBytes: SMALL, spread }));
  for (const [op, r] of [['put', put], ['get', get]] as const) {
    const value = median(r.opsPerS);
    log(`  4 KiB ${op.toUpperCase()} (${d.label}): ${value.toFixed(0)} ops/s, gateways ${r.gatewayUs.toFixed(0)} µs/request` + (d.postgresPid ? `, PostgreSQL ${r.postgresUs.toFixed(0)} µs/request` : ''));
    const detail: Record<string, number | string> = { gateways: d.gateways.length, gatewayCpuUsPerRequest: r.gatewayUs, clientCores: r.clientCores, requests: r.ops, rounds: r.opsPerS.length, concurrency: s.concurrency };
    if (d.postgresPid) detail.postgresCpuUsPerRequest = r.postgresUs;
    detail.serverCpuUsPerRequest = r.gatewayUs + r.postgresUs;
    rows.push({ id: `${op}-4096-${d.id}`, workload: `4 KiB ${op.toUpperCase()}, ${d.label}`, unit: 'ops/s', value, detail });
  }
  return rows;
}

/**
 * Lag of the steady PUTs over every gateway. Each gateway measures the lag of the versions its own
 * workers replicate (commit → COMPLETED, what \`meridian replication status\` shows), and its status
 * endpoint summarises only those: so the replication deployment logs at debug, where each gateway
 * writes a 'replicated' line with that latency, and the percentiles are taken over all gateways' lines.
 */
async function gatewaysLag(d: Deployment, client: Requester, scenario: ReplicationScenario, body: Buffer, rate: number, seconds: number) {
  const { total, putP50Ms, achievedRate } = await steadyPuts(client, scenario, body, rate, seconds);
  const { bucket, region } = scenario.source;
  const lags = (): number[] =>
    d.gateways.flatMap((g) =>
      g
        .logs()
        .split('\n')
        .filter((l) => l.includes('"replicated"') && l.includes(`"bucket":"${bucket}"`) && l.includes('"key":"steady-'))
        .map((l) => Number((JSON.parse(l) as { latencyMs: number }).latencyMs)),
    );
  const deadline = performance.now() + 120_000;
  for (;;) {
    const r = await client.ok({ method: 'GET', path: `/_meridian/replication/status?bucket=${bucket}`, region, service: 's3', collect: true }, 'replication status');
    const status = JSON.parse(r.body!.toString('utf8')) as { failed: { total: number } };
    if (status.failed.total > 0) throw new Error(`${status.failed.total} versions FAILED to replicate`);
    const got = lags();
    if (got.length >= total) {
      if (got.length !== total) throw new Error(`${got.length} replications logged for ${total} PUTs`);
      got.sort((a, b) => a - b);
      return { p50Ms: percentileOf(got, 50), p99Ms: percentileOf(got, 99), maxMs: got[got.length - 1]!, count: total, putP50Ms, achievedRate, perGateway: d.gateways.map((g) => g.logs().split('\n').filter((l) => l.includes('"key":"steady-') && l.includes('"replicated"')).length) };
    }
    if (performance.now() > deadline) throw new Error(`only ${got.length} of ${total} versions replicated after 2 minutes`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** Replication with two gateways serving both regions: lag at a fixed rate (PUTs alternate between them), then throughput. */
async function replicationRows(d: Deployment, s: GatewaySettings, log: (l: string) => void): Promise<GatewayRow[]> {
  const clients = d.gateways.map((g) => new BenchClient(g.httpEndpoint, KEYS, 256));
  let turn = 0;
  // Requests alternate over the gateways; each gateway's replication workers take tasks from the shared outbox.
  const spread = { ok: (r: Parameters<BenchClient['ok']>[0], what?: string) => clients[turn++ % clients.length]!.ok(r, what) };
  try {
    const scenario = await setUpReplication(clients[0]!, 'bench-gw-src', 'bench-gw-dest');
    const body = Buffer.alloc(SMALL, 3);
    const lag = await gatewaysLag(d, spread, scenario, body, s.rate, s.rateSeconds);
    log(`  replication at ${s.rate} PUT/s (${d.label}, ${lag.achievedRate.toFixed(0)} PUT/s acknowledged): lag p50 ${lag.p50Ms.toFixed(1)} ms, p99 ${lag.p99Ms.toFixed(1)} ms`);
    const t = await replicationThroughput(spread, scenario, s.replicationSize, s.replicationObjects, 'gw');
    log(`  replication throughput (${d.label}), ${s.replicationSize / 1024 / 1024} MiB SSE-KMS: ${t.replicationMBps.toFixed(0)} MB/s (PUT ${t.putMBps.toFixed(0)} MB/s)`);
    const detail = { gateways: d.gateways.length, replicatedByGateway: lag.perGateway.join('+'), rate: s.rate, achievedRate: lag.achievedRate, objects: lag.count, maxMs: lag.maxMs, putP50Ms: lag.putP50Ms };
    return [
      { id: `replication-lag-p50-${d.id}`, workload: `replication lag p50 at ${s.rate} PUT/s, 4 KiB SSE-KMS, ${d.label}`, unit: 'ms', value: lag.p50Ms, detail },
      { id: `replication-lag-p99-${d.id}`, workload: `replication lag p99 at ${s.rate} PUT/s, 4 KiB SSE-KMS, ${d.label}`, unit: 'ms', value: lag.p99Ms, detail },
      { id: `replication-steady-rate-${d.id}`, workload: `4 KiB SSE-KMS PUTs acknowledged per second (asked ${s.rate}), ${d.label}`, unit: 'ops/s', value: lag.achievedRate, detail },
      {
        id: `replication-throughput-${d.id}`,
        workload: `replication throughput, ${s.replicationSize / 1024 / 1024} MiB SSE-KMS (Batch Replication), ${d.label}`,
        unit: 'MB/s',
        value: t.replicationMBps,
        detail: { gateways: d.gateways.length, objects: t.objects, bytes: t.bytes, putMBps: t.putMBps },
      },
    ];
  } finally {
    for (const c of clients) c.close();
  }
}

/** Listed keys: `d<i mod P>/k<i>`, P = min(1000, keys / 2) prefixes. */
function prefixCount(keys: number): number {
  return Math.max(1, Math.min(1000, Math.floor(keys / 2)));
}

/**
 * Loads the listed bucket straight into the PostgreSQL schema: one real PUT of an empty object through
 * the gateway, then INSERT … SELECT copies of its row under `keys` new names, in batches (each a copy of
 * the seed row but its seq and key). Far faster than a million PUTs, and the rows are what a PUT writes.
 */
async function bulkLoad(url: string, bucket: string, keys: number, log: (l: string) => void): Promise<void> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const cols = (
      await db.query<{ column_name: string }>(`SELECT column_name FROM information_schema.columns WHERE table_name = 'object_versions' ORDER BY ordinal_position`)
    ).rows.map((r) => r.column_name);
    const select = cols.map((c) => (c === 'seq' ? `nextval('object_versions_seq')` : c === 'key' ? `'d' || (g % $4) || '/k' || g` : c)).join(', ');
    const P = prefixCount(keys);
    const batch = 100_000;
    for (let from = 0; from < keys; from += batch) {
      const to = Math.min(keys, from + batch) - 1;
      await db.query(
        `INSERT INTO object_versions (${cols.join(', ')}) SELECT ${select} FROM object_versions, generate_series($1::bigint, $2::bigint) AS g WHERE region = $5 AND bucket = $3 AND key = 'seed' AND is_latest`,
        [from, to, bucket, P, REGION],
      );
      if (keys > batch) log(`  loaded ${to + 1} keys`);
    }
    await db.query(`DELETE FROM object_versions WHERE region = $1 AND bucket = $2 AND key = 'seed'`, [REGION, bucket]);
    await db.query('ANALYZE object_versions');
  } finally {
    await db.end();
  }
}

async function listRows(load: LoadClient, d: Deployment, s: GatewaySettings, log: (l: string) => void): Promise<GatewayRow[]> {
  const bucket = 'bench-list';
  const client = new BenchClient(d.gateways[0]!.httpEndpoint, KEYS);
  const P = prefixCount(s.listKeys);
  try {
    await createBucket(client, bucket, REGION);
    await client.ok({ method: 'PUT', path: `/${bucket}/seed`, region: REGION, service: 's3', body: '' });
    const t0 = performance.now();
    await bulkLoad(d.metadataUrl!, bucket, s.listKeys, log);
    log(`  ${s.listKeys} keys loaded by SQL in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    // The delimiter listing must answer with every prefix: check once, outside the timing.
    const res = await client.ok({ method: 'GET', path: `/${bucket}?list-type=2&delimiter=%2F&max-keys=1000`, region: REGION, service: 's3', collect: true });
    const prefixes = res.body!.toString('utf8').match(/<CommonPrefixes>/g)?.length ?? 0;
    if (prefixes !== P) throw new Error(`delimiter listing answered ${prefixes} common prefixes, expected ${P}`);
  } finally {
    client.close();
  }
  const rows: GatewayRow[] = [];
  // Without delimiter: 1000-key pages from a position spread over the whole key space (StartAfter), one lister.
  const plain = await rounds(load, d, s, () => ({ method: 'GET', path: `/${bucket}?list-type=2&max-keys=1000&start-after=d{spread}%2F`, region: REGION, service: 's3', countKeys: true, spread: P }), 1, s.listRoundMs, 1);
  const keysPerS = plain.items / (plain.ops / plain.opsPerS[0]!);
  log(`  ListObjectsV2, ${s.listKeys} keys, no delimiter: ${keysPerS.toFixed(0)} keys/s (${plain.opsPerS[0]!.toFixed(1)} pages/s)`);
  rows.push({ id: 'list-v2-keys', workload: `ListObjectsV2 on ${s.listKeys} keys, 1000-key pages, no delimiter, ${d.label}`, unit: 'keys/s', value: keysPerS, detail: { pagesPerS: plain.opsPerS[0]!, gatewayCpuUsPerPage: plain.gatewayUs, postgresCpuUsPerPage: plain.postgresUs } });
  // With delimiter '/': one page holds all P common prefixes, rolled up from every key.
  const delim = await rounds(load, d, s, () => ({ method: 'GET', path: `/${bucket}?list-type=2&delimiter=%2F&max-keys=1000`, region: REGION, service: 's3' }), 1, s.listRoundMs, 1);
  const listings = delim.opsPerS[0]!;
  log(`  ListObjectsV2, ${s.listKeys} keys, delimiter '/' (${P} prefixes): ${(listings * P).toFixed(0)} prefixes/s (${listings.toFixed(2)} listings/s)`);
  rows.push({
    id: 'list-v2-delimiter',
    workload: `ListObjectsV2 on ${s.listKeys} keys, delimiter '/' giving ${P} common prefixes, ${d.label}`,
    unit: 'prefixes/s',
    value: listings * P,
    detail: { listingsPerS: listings, msPerListing: 1000 / listings, keysSpannedPerS: listings * s.listKeys, gatewayCpuUsPerListing: delim.gatewayUs, postgresCpuUsPerListing: delim.postgresUs },
  });
  return rows;
}

export async function runGatewayBenchmark(s: GatewaySettings, log: (l: string) => void): Promise<GatewayResult> {
  const unavailable = postgresUnavailable();
  if (unavailable) throw new Error(unavailable);
  const startedAt = new Date();
  const loadAverageAtStart = loadavg()[0]!;
  const rows: GatewayRow[] = [];
  // fsync on: the figures are for a database that keeps what it acknowledged.
  const postgres = await startThrowawayPostgres({ durable: true });
  const load = await LoadClient.start();
  const outside = new OutsideLoad(['self', load.pid, postgresPid(postgres)]);
  try {
    log('embedded mode');
    let d = await embedded();
    try {
      rows.push(...(await smallRows(load, d, s, log)));
    } finally {
      await d.stop();
    }
    for (const n of s.gateways) {
      log(`${n} gateway(s) on PostgreSQL`);
      d = await onPostgres(postgres, n);
        try {
        rows.push(...(await smallRows(load, d, s, log)));
      } finally {
        await d.stop();
      }
    }
    log('replication, two gateways serving both regions');
    // Debug logs: each gateway's 'replicated' lines carry the lag its workers measured (see gatewaysLag).
    d = await onPostgres(postgres, 2, { MERIDIAN_LOG_LEVEL: 'debug' });
    try {
      rows.push(...(await replicationRows(d, s, log)));
    } finally {
      await d.stop();
    }
    log(`listing, ${s.listKeys} keys`);
    d = await onPostgres(postgres, 1);
    try {
      rows.push(...(await listRows(load, d, s, log)));
    } finally {
      await d.stop();
    }
  } finally {
    await load.close();
    await postgres.destroy();
  }
  const c = cpus();
  const machine: GatewayResult['machine'] = {
    cpus: c.length,
    cpuModel: c[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    platform: platform(),
    kernel: release(),
    node: process.version,
    loadAverageAtStart,
  };
  // Gateways come and go, so their CPU is not subtracted here: a noise hint (busy share of the machine
  // outside the client and PostgreSQL), not a measurement.
  const share = outside.fraction();
  if (share !== undefined) machine.outsideCpuShare = share;
  return {
    settings: s,
    startedAt: startedAt.toISOString(),
    durationS: (Date.now() - startedAt.getTime()) / 1000,
    machine,
    listLoad: 'direct SQL: one real PUT of an empty object, then INSERT … SELECT copies of its object_versions row under new keys (100,000 per statement)',
    rows,
  };
}

function postgresPid(p: ThrowawayPostgres): number {
  return postmasterPid(p);
}

function parseArgs(argv: string[]): { settings: GatewaySettings; json: boolean } {
  let mode: Mode = 'full';
  let json = false;
  const o: Partial<GatewaySettings> = {};
  const num = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n <= 0) throw new Error(`${flag} needs a positive number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') mode = 'quick';
    else if (a === '--smoke') mode = 'smoke';
    else if (a === '--full') mode = 'full';
    else if (a === '--json') json = true;
    else if (a === '--list-keys') o.listKeys = Math.max(2, Math.round(num(a, argv[++i])));
    else if (a === '--concurrency') o.concurrency = Math.round(num(a, argv[++i]));
    else if (a === '--rate') o.rate = num(a, argv[++i]);
    else if (a === '--gateways') o.gateways = (argv[++i] ?? '').split(',').map((g) => Math.round(num(a, g)));
    else if (a === '-h' || a === '--help') {
      process.stdout.write('usage: npm run bench:gateways -- [--quick | --smoke] [--json] [--list-keys N] [--concurrency N] [--gateways 1,2,4] [--rate N]\n');
      process.exit(0);
    } else throw new Error(`unknown option ${a} (try --help)`);
  }
  return { settings: { ...PRESETS[mode], ...o }, json };
}

function render(r: GatewayResult): string {
  const fmt = (v: number | string | undefined) => (typeof v === 'number' ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) : '');
  const lines = r.rows.map((row) => {
    const d = row.detail ?? {};
    const gw = d.gatewayCpuUsPerRequest ?? d.gatewayCpuUsPerPage ?? d.gatewayCpuUsPerListing;
    const pgUs = d.postgresCpuUsPerRequest ?? d.postgresCpuUsPerPage ?? d.postgresCpuUsPerListing;
    return `| ${row.workload} | ${row.unit} | ${fmt(row.value)} | ${fmt(gw)} | ${fmt(pgUs)} |`;
  });
  const m = r.machine;
  return [
    `Meridian gateways on PostgreSQL (${r.settings.mode} run, ${r.startedAt}, ${r.durationS.toFixed(0)} s)`,
    `machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.platform}, kernel ${m.kernel}, node ${m.node}; load average ${m.loadAverageAtStart.toFixed(2)} at start` +
      (m.outsideCpuShare !== undefined ? `; about ${(m.outsideCpuShare * 100).toFixed(0)}% of all CPU time went to processes other than the client, PostgreSQL and this one (gateways included)` : ''),
    `PostgreSQL: fsync, synchronous_commit, full_page_writes on; every gateway MERIDIAN_WORKERS=1; ${r.settings.concurrency} requests in flight split over the gateways`,
    `listed keys loaded by ${r.listLoad}`,
    '',
    '| workload | unit | value | gateway CPU µs/op | PostgreSQL CPU µs/op |',
    '|---|---|--:|--:|--:|',
    ...lines,
  ].join('\n');
}

async function main(): Promise<void> {
  const { settings, json } = parseArgs(process.argv.slice(2));
  const result = await runGatewayBenchmark(settings, (l) => process.stderr.write(l + '\n'));
  process.stdout.write((json ? JSON.stringify(result, null, 2) : render(result)) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`benchmark failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
