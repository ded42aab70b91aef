/**
 * The ratio workloads, driven from the load client process (bench/load-client.ts) against Meridian
 * and the baseline alternately: small objects (PUT, GET, HEAD), 1 MiB objects, large objects (one
 * stream and 8 at once), listings (ListObjectsV2, ListObjectVersions), and the server's RSS while 16
 * clients stream large objects in and out. Every row records the server's CPU (whole process tree:
 * the primary and its workers) per request.
 */
import type { BenchSettings, Row } from './benchmark.js';
import type { LoadClient, RequestShape, Target } from './load-driver.js';
import { CpuMeter, PeakRss } from './processes.js';

export type Side = 'meridian' | 'baseline';

export interface Ctx {
  s: BenchSettings;
  load: LoadClient;
  targets: Record<Side, Target>;
  pids: Record<Side, number>;
  bucket: string;
  region: string;
  /** SSE modes: request headers and the label. */
  sse: Record<'sse-s3' | 'sse-kms', { label: string; headers: Record<string, string> }>;
  log: (l: string) => void;
}

const MIB = 1024 * 1024;
const order = (round: number): Side[] => (round % 2 === 0 ? ['meridian', 'baseline'] : ['baseline', 'meridian']);

export function sizeLabel(bytes: number): string {
  return bytes >= 1024 * MIB ? `${bytes / 1024 / MIB} GiB` : bytes >= MIB ? `${bytes / MIB} MiB` : `${bytes / 1024} KiB`;
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * Closed-loop rounds alternating between the two servers; the figure is the median round's rate
 * (requests/s, or `perRequest` units/s: keys for listings, MB for 1 MiB objects).
 */
async function rounds(
  c: Ctx,
  opts: {
    id: string;
    workload: string;
    unit: Row['unit'];
    concurrency: number;
    shape: (side: Side) => RequestShape;
    /** Units per request (MB per object, or null: keys counted from the responses). */
    perRequest: number | 'items';
  },
): Promise<{ row: Row; next: Record<Side, number> }> {
  const { s, load, targets, pids } = c;
  const next: Record<Side, number> = { meridian: 0, baseline: 0 };
  const rates: Record<Side, number[]> = { meridian: [], baseline: [] };
  const lat: Record<Side, number[]> = { meridian: [], baseline: [] };
  const cpu: Record<Side, { server: number[]; client: number[]; usPerReq: number[] }> = {
    meridian: { server: [], client: [], usPerReq: [] },
    baseline: { server: [], client: [], usPerReq: [] },
  };
  const one = async (side: Side, ms: number) => {
    const shape = { ...opts.shape(side), start: next[side] };
    const meter = new CpuMeter([pids[side], load.pid]);
    const r = await load.loop({ target: targets[side], shape, concurrency: opts.concurrency, durationMs: ms });
    const [server, client] = meter.stop();
    next[side] = r.next;
    return { r, server: server!, client: client! };
  };
  for (const side of order(0)) if (s.smallWarmupMs > 0) await one(side, s.smallWarmupMs);
  for (let round = 0; round < s.smallRounds; round++) {
    for (const side of order(round)) {
      const { r, server, client } = await one(side, s.smallRoundMs);
      const units = opts.perRequest === 'items' ? r.items : r.ops * opts.perRequest;
      rates[side].push(units / r.seconds);
      lat[side].push(...r.latenciesMs);
      cpu[side].server.push(server);
      cpu[side].client.push(client);
      cpu[side].usPerReq.push((server * r.seconds * 1e6) / Math.max(1, r.ops));
    }
  }
  const mv = median(rates.meridian);
  const bv = median(rates.baseline);
  c.log(`  ${opts.workload}: Meridian ${mv.toFixed(0)} ${opts.unit}, baseline ${bv.toFixed(0)} ${opts.unit}, Meridian server CPU ${median(cpu.meridian.usPerReq).toFixed(0)} µs/request`);
  const lm = lat.meridian.sort((a, b) => a - b);
  const lb = lat.baseline.sort((a, b) => a - b);
  const row: Row = {
    id: opts.id,
    workload: opts.workload,
    unit: opts.unit,
    meridian: mv,
    baseline: bv,
    ratio: mv / bv,
    detail: {
      rounds: s.smallRounds,
      roundSeconds: s.smallRoundMs / 1000,
      meridianRounds: rates.meridian.map((x) => Math.round(x)).join(' '),
      baselineRounds: rates.baseline.map((x) => Math.round(x)).join(' '),
      meridianP50Ms: pct(lm, 50),
      meridianP99Ms: pct(lm, 99),
      baselineP50Ms: pct(lb, 50),
      baselineP99Ms: pct(lb, 99),
      meridianServerCores: median(cpu.meridian.server),
      baselineServerCores: median(cpu.baseline.server),
      clientCoresAgainstMeridian: median(cpu.meridian.client),
      clientCoresAgainstBaseline: median(cpu.baseline.client),
      meridianServerUsPerRequest: median(cpu.meridian.usPerReq),
      baselineServerUsPerRequest: median(cpu.baseline.usPerReq),
    },
  };
  return { row, next };
}

/** One warm-up shape's rates, round by round, per server (requests/s). */
export interface WarmupCurve {
  shape: string;
  meridian: number[];
  baseline: number[];
}

/** A warm-up stops for a server once a round's rate is within this share of the round before. */
export const WARMUP_STEADY_WITHIN = 0.1;

/** Whether a warm-up curve has levelled off: the last round within WARMUP_STEADY_WITHIN of the one before. */
export function warmedUp(rates: readonly number[]): boolean {
  if (rates.length < 2) return false;
  const last = rates[rates.length - 1]!;
  const before = rates[rates.length - 2]!;
  return before > 0 && Math.abs(last - before) / before <= WARMUP_STEADY_WITHIN;
}

/**
 * Before the first measured row, each server runs the small-object requests (PUT, GET, HEAD, with
 * either encryption) in closed-loop rounds until its rate levels off (warmedUp) or
 * `warmupMaxRounds` have run. A freshly started Meridian answered its first seconds of 4 KiB PUTs at
 * a third to a half of its later rate (V8 tiering the request path up in each worker, SQLite's
 * caches filling): with only the rows' own half-second warm-up, the first row's median round was
 * still on that ramp (rounds of 575, 1,332, 1,982, 2,198 and 2,224 PUT/s in one run). Both servers
 * get the same treatment, and the curves are kept in the result (`warmup`).
 *
 * With `medium`, the 1 MiB PUT and GET (mediumConcurrency in flight) are warmed up the same way
 * afterwards: 4 KiB objects are stored inline, so none of the small requests runs the file-backed
 * paths (blob files, segment by segment encryption, streamed responses), and the 1 MiB GET row's
 * rounds were still climbing (207, 367, 382, 655, 698 MB/s in one run).
 */
export async function warmUp(c: Ctx, opts: { medium?: boolean } = {}): Promise<WarmupCurve[]> {
  const { s, bucket, region } = c;
  const curves: WarmupCurve[] = [];
  if (s.warmupRoundMs <= 0 || s.warmupMaxRounds <= 0) return curves;
  /** Rounds of one request shape on both servers (alternating who goes first) until both level off. */
  const untilSteady = async (label: string, concurrency: number, shapeFor: (side: Side) => RequestShape, scale: number, after?: (side: Side, next: number) => void): Promise<void> => {
    const curve: WarmupCurve = { shape: label, meridian: [], baseline: [] };
    for (let round = 0; round < s.warmupMaxRounds; round++) {
      const sides = order(round).filter((side) => !warmedUp(curve[side]));
      if (sides.length === 0) break;
      for (const side of sides) {
        const r = await c.load.loop({ target: c.targets[side], shape: shapeFor(side), concurrency, durationMs: s.warmupRoundMs });
        after?.(side, r.next);
        curve[side].push(Math.round((r.ops * scale) / r.seconds));
      }
    }
    c.log(`  warm-up, ${curve.shape}: Meridian ${curve.meridian.join(' ')}, baseline ${curve.baseline.join(' ')} ${scale === 1 ? 'ops/s' : 'MB/s'}`);
    curves.push(curve);
  };
  for (const enc of ['sse-s3', 'sse-kms'] as const) {
    const prefix = `warmup-${enc}`;
    const written: Record<Side, number> = { meridian: 0, baseline: 0 };
    for (const verb of ['PUT', 'GET', 'HEAD'] as const) {
      const next: Record<Side, number> = { meridian: written.meridian, baseline: written.baseline };
      await untilSteady(
        `${sizeLabel(s.smallSize)} ${verb} ${c.sse[enc].label}`,
        s.concurrency,
        (side) =>
          verb === 'PUT'
            ? { method: 'PUT', path: `/${bucket}/${prefix}-{n}`, region, service: 's3', headers: { 'content-type': 'application/octet-stream', ...c.sse[enc].headers }, bodySize: s.smallSize, start: next[side] }
            : { method: verb, path: `/${bucket}/${prefix}-{spread}`, region, service: 's3', spread: written[side], ...(verb === 'GET' ? { expectBytes: s.smallSize } : {}) },
        1,
        (side, n) => {
          if (verb === 'PUT') next[side] = n;
        },
      );
      if (verb === 'PUT') Object.assign(written, next);
    }
  }
  if (!opts.medium) return curves;
  const size = s.mediumMiB * MIB;
  for (const enc of ['sse-s3', 'sse-kms'] as const) {
    const prefix = `warmup-medium-${enc}`;
    // Few objects, overwritten round after round: the warm-up must not fill the disk.
    const spread = Math.max(4, s.mediumConcurrency * 4);
    // Every key the GETs ask for exists, however few PUTs the rounds got through.
    for (const side of ['meridian', 'baseline'] as const) {
      await c.load.transfers(
        c.targets[side],
        Array.from({ length: spread }, (_, i) => ({ method: 'PUT', path: `/${bucket}/${prefix}-${i}`, region, service: 's3', headers: c.sse[enc].headers, streamMiB: s.mediumMiB, start: i })),
      );
    }
    for (const verb of ['PUT', 'GET'] as const) {
      await untilSteady(
        `${sizeLabel(size)} ${verb} ${c.sse[enc].label}`,
        s.mediumConcurrency,
        () =>
          verb === 'PUT'
            ? { method: 'PUT', path: `/${bucket}/${prefix}-{spread}`, region, service: 's3', headers: c.sse[enc].headers, streamMiB: s.mediumMiB, spread }
            : { method: 'GET', path: `/${bucket}/${prefix}-{spread}`, region, service: 's3', spread, expectBytes: size },
        size / 1e6,
      );
    }
  }
  return curves;
}

/** Small objects (s.smallSize): PUT (every PUT a new key), GET and HEAD of the keys the PUTs wrote. */
export async function smallRows(c: Ctx): Promise<Row[]> {
  const { s, bucket, region } = c;
  const label = sizeLabel(s.smallSize);
  const rows: Row[] = [];
  for (const enc of ['sse-s3', 'sse-kms'] as const) {
    const prefix = `small-${enc}`;
    const written: Record<Side, number> = { meridian: 0, baseline: 0 };
    for (const verb of ['PUT', 'GET', 'HEAD'] as const) {
      const row = await rounds(c, {
        id: `${verb.toLowerCase()}-${s.smallSize}-${enc}`,
        workload: `${label} ${verb} ${c.sse[enc].label}, ${s.concurrency} in flight`,
        unit: 'ops/s',
        concurrency: s.concurrency,
        perRequest: 1,
        shape: (side) =>
          verb === 'PUT'
            ? { method: 'PUT', path: `/${bucket}/${prefix}-{n}`, region, service: 's3', headers: { 'content-type': 'application/octet-stream', ...c.sse[enc].headers }, bodySize: s.smallSize }
            : { method: verb, path: `/${bucket}/${prefix}-{spread}`, region, service: 's3', spread: written[side], ...(verb === 'GET' ? { expectBytes: s.smallSize } : {}) },
      });
      // Every PUT round finished its requests: keys 0 .. next-1 exist on each server.
      if (verb === 'PUT') Object.assign(written, row.next);
      rows.push(row.row);
    }
  }
  return rows;
}

/** 1 MiB objects, `mediumConcurrency` in flight: MB/s. */
export async function mediumRows(c: Ctx): Promise<Row[]> {
  const { s, bucket, region } = c;
  const size = s.mediumMiB * MIB;
  const label = sizeLabel(size);
  const rows: Row[] = [];
  for (const enc of ['sse-s3', 'sse-kms'] as const) {
    const prefix = `medium-${enc}`;
    // Objects read by the GET rounds: written once, untimed.
    const spread = Math.max(4, s.mediumConcurrency * 4);
    for (const side of ['meridian', 'baseline'] as const) {
      await c.load.transfers(
        c.targets[side],
        Array.from({ length: spread }, (_, i) => ({ method: 'PUT', path: `/${bucket}/${prefix}-r{n}`, region, service: 's3', headers: c.sse[enc].headers, streamMiB: s.mediumMiB, start: i })),
      );
    }
    for (const verb of ['PUT', 'GET'] as const) {
      rows.push(
        (await rounds(c, {
          id: `${verb.toLowerCase()}-${size}-${enc}`,
          workload: `${label} ${verb} ${c.sse[enc].label}, ${s.mediumConcurrency} in flight`,
          unit: 'MB/s',
          concurrency: s.mediumConcurrency,
          perRequest: size / 1e6,
          shape: () =>
            verb === 'PUT'
              ? { method: 'PUT', path: `/${bucket}/${prefix}-{n}`, region, service: 's3', headers: c.sse[enc].headers, streamMiB: s.mediumMiB }
              : { method: 'GET', path: `/${bucket}/${prefix}-r{spread}`, region, service: 's3', spread, expectBytes: size },
        })).row,
      );
    }
  }
  return rows;
}

/**
 * Large objects: one stream at a time, then `streams` at once (aggregate MB/s; the target
 * is at least 1.6× the single stream: both cores in use). Iterations alternate between the servers.
 */
export async function largeRows(c: Ctx): Promise<Row[]> {
  const { s, bucket, region } = c;
  const miB = Math.ceil(s.largeSize / MIB);
  const size = miB * MIB;
  const label = sizeLabel(size);
  const rows: Row[] = [];
  for (const enc of ['sse-s3', 'sse-kms'] as const) {
    for (const streams of [1, s.largeStreams]) {
      if (streams === 1 && enc === 'sse-kms' && s.largeStreams === 1) continue;
      const prefix = `large-${enc}-x${streams}`;
      const put = (i: number): RequestShape[] =>
        Array.from({ length: streams }, (_, j) => ({ method: 'PUT', path: `/${bucket}/${prefix}-{n}`, region, service: 's3', headers: { 'content-type': 'application/octet-stream', ...c.sse[enc].headers }, streamMiB: miB, start: i * streams + j }));
      const get = (i: number): RequestShape[] =>
        Array.from({ length: streams }, (_, j) => ({ method: 'GET', path: `/${bucket}/${prefix}-{n}`, region, service: 's3', expectBytes: size, start: i * streams + j }));
      // Warm-up with the single stream only (the servers are warm by the time several streams run):
      // PUTs, then GETs of what they stored. Without the GETs the first measured GET ran at a fraction
      // of the rest for both servers alike (the load client's first large receives on a fresh VM).
      if (streams === 1) {
        for (const side of order(0)) {
          for (let i = 0; i < s.largeWarmup; i++) await c.load.transfers(c.targets[side], put(1000 + i));
          for (let i = 0; i < s.largeWarmup; i++) await c.load.transfers(c.targets[side], get(1000 + i));
        }
      }
      for (const [verb, make] of [['PUT', put], ['GET', get]] as const) {
        const rates: Record<Side, number[]> = { meridian: [], baseline: [] };
        const acc: Record<Side, { cpu: number; client: number; wall: number; requests: number }> = { meridian: { cpu: 0, client: 0, wall: 0, requests: 0 }, baseline: { cpu: 0, client: 0, wall: 0, requests: 0 } };
        // Several streams at once move `streams` objects per iteration: fewer iterations keep the run short.
        const iterations = streams === 1 ? s.largeIterations : Math.min(s.largeIterations, 3);
        for (let i = 0; i < iterations; i++) {
          for (const side of order(i)) {
            const meter = new CpuMeter([c.pids[side], c.load.pid]);
            const r = await c.load.transfers(c.targets[side], make(i));
            const [server, client] = meter.stop();
            rates[side].push((size * streams) / 1e6 / r.wallSeconds);
            acc[side].cpu += server! * r.wallSeconds;
            acc[side].client += client! * r.wallSeconds;
            acc[side].wall += r.wallSeconds;
            acc[side].requests += streams;
          }
        }
        const mv = median(rates.meridian);
        const bv = median(rates.baseline);
        const what = streams === 1 ? '1 stream' : `${streams} streams at once, aggregate`;
        c.log(`  ${label} ${verb} ${c.sse[enc].label}, ${what}: Meridian ${mv.toFixed(0)} MB/s, baseline ${bv.toFixed(0)} MB/s`);
        const row: Row = {
          id: streams === 1 ? `${verb.toLowerCase()}-${size}-${enc}` : `${verb.toLowerCase()}-${size}-${enc}-x${streams}`,
          workload: `${label} ${verb} ${c.sse[enc].label}, ${what}`,
          unit: 'MB/s',
          meridian: mv,
          baseline: bv,
          ratio: mv / bv,
          detail: {
            iterations,
            streams,
            meridianRuns: rates.meridian.map((x) => Math.round(x)).join(' '),
            baselineRuns: rates.baseline.map((x) => Math.round(x)).join(' '),
            meridianServerCores: acc.meridian.cpu / acc.meridian.wall,
            baselineServerCores: acc.baseline.cpu / acc.baseline.wall,
            clientCoresAgainstMeridian: acc.meridian.client / acc.meridian.wall,
            clientCoresAgainstBaseline: acc.baseline.client / acc.baseline.wall,
            meridianServerUsPerRequest: (acc.meridian.cpu * 1e6) / acc.meridian.requests,
            baselineServerUsPerRequest: (acc.baseline.cpu * 1e6) / acc.baseline.requests,
          },
        };
        if (streams > 1) {
          const single = rows.find((r) => r.id === `${verb.toLowerCase()}-${size}-${enc}`);
          if (single) row.detail!.meridianTimesSingleStream = mv / single.meridian;
        }
        rows.push(row);
      }
    }
  }
  return rows;
}

/**
 * ListObjectsV2 and ListObjectVersions, 1000-key pages of a bucket of `listKeys` keys, keys/s.
 * The baseline answers a GET with as many bytes as a Meridian page holds (the floor of serving it).
 */
export async function listRows(c: Ctx, pageBytes: Record<'v2' | 'versions', number>, bucket: string): Promise<Row[]> {
  const { s, region } = c;
  const rows: Row[] = [];
  for (const [kind, query, name] of [['v2', 'list-type=2&max-keys=1000', 'ListObjectsV2'], ['versions', 'versions&max-keys=1000', 'ListObjectVersions']] as const) {
    // The baseline's page: a PUT of the same size to the path the GET asks for.
    await c.load.transfers(c.targets.baseline, [{ method: 'PUT', path: `/${bucket}-${kind}`, bodySize: pageBytes[kind] }]);
    const { row } = await rounds(c, {
      id: `list-${kind}`,
      workload: `${name}, 1000-key pages, ${s.listConcurrency} in flight`,
      unit: 'keys/s',
      concurrency: s.listConcurrency,
      perRequest: 1000,
      shape: (side) =>
        side === 'meridian'
          ? { method: 'GET', path: `/${bucket}?${query}`, region, service: 's3', countKeys: true }
          : { method: 'GET', path: `/${bucket}-${kind}`, expectBytes: pageBytes[kind] },
    });
    row.baselineNote = `a GET of a ${Math.round(pageBytes.v2 / 1000)} kB body (a page's size) from the baseline`;
    rows.push(row);
  }
  return rows;
}

/**
 * Peak RSS of the server (whole process tree) while `clients` streams run at once, half PUTting new
 * objects and half GETting one object written just before, for each size in `rssSizesMiB` (flat in
 * object size is the target: the server streams, it does not buffer objects).
 */
export async function rssRows(c: Ctx): Promise<Row[]> {
  const { s, bucket, region } = c;
  const rows: Row[] = [];
  const half = Math.max(1, Math.floor(s.rssClients / 2));
  for (const miB of s.rssSizesMiB) {
    const size = miB * MIB;
    const prefix = `rss-${miB}`;
    const peaks: Record<Side, number> = { meridian: 0, baseline: 0 };
    const pss: Record<Side, number> = { meridian: 0, baseline: 0 };
    let seconds = 0;
    for (const side of ['meridian', 'baseline'] as const) {
      // The object the GETs read, written first (untimed, not part of the peak). The GETs all read
      // it: each is its own stream through the server all the same, and the run writes 1 object
      // instead of `half` before the phase.
      await c.load.transfers(c.targets[side], [{ method: 'PUT', path: `/${bucket}/${prefix}-src`, region, service: 's3', streamMiB: miB }]);
      const peak = new PeakRss([c.pids[side]], { pss: true });
      const r = await c.load.transfers(c.targets[side], [
        ...Array.from({ length: half }, (_, i) => ({ method: 'PUT', path: `/${bucket}/${prefix}-in-{n}`, region, service: 's3', streamMiB: miB, start: i })),
        ...Array.from({ length: half }, () => ({ method: 'GET', path: `/${bucket}/${prefix}-src`, region, service: 's3', expectBytes: size })),
      ]);
      peaks[side] = peak.stop().get(c.pids[side])!;
      pss[side] = peak.peakPss(c.pids[side]);
      if (side === 'meridian') seconds = r.wallSeconds;
      // Give the disk back: these objects are large.
      await c.load.transfers(c.targets[side], [
        { method: 'DELETE', path: `/${bucket}/${prefix}-src`, region, service: 's3' },
        ...Array.from({ length: half }, (_, i) => ({ method: 'DELETE', path: `/${bucket}/${prefix}-in-{n}`, region, service: 's3', start: i })),
      ]);
    }
    c.log(`  peak RSS, ${half * 2} streams of ${sizeLabel(size)} (${half} in, ${half} out): Meridian ${(peaks.meridian / MIB).toFixed(0)} MiB (PSS ${(pss.meridian / MIB).toFixed(0)} MiB), baseline ${(peaks.baseline / MIB).toFixed(0)} MiB (${seconds.toFixed(0)} s)`);
    rows.push({
      id: `peak-rss-streams-${miB}`,
      workload: `peak RSS, ${half * 2} clients streaming ${sizeLabel(size)} objects (${half} PUT, ${half} GET)`,
      unit: 'MiB',
      meridian: peaks.meridian / MIB,
      baseline: peaks.baseline / MIB,
      ratio: peaks.meridian / peaks.baseline,
      baselineNote: 'the baseline holds a preallocated 64 MiB GET buffer',
      // Several processes: summed RSS counts their shared pages once per process; PSS shares them out.
      detail: { meridianSeconds: seconds, bytesEachWay: size * half, meridianPeakPssMiB: pss.meridian / MIB, baselinePeakPssMiB: pss.baseline / MIB },
    });
  }
  return rows;
}
