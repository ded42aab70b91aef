/**
 * `npm run bench [-- options]`: Meridian beside a trivial node:http server, same client, same run.
 *
 *   --quick             short run (about 30 s): 2 × 1 s rounds per 4 KiB workload, 3 × 64 MiB, 50 replicated objects
 *   --smoke             the shortest run that still produces every figure (the smoke test; not a measurement)
 *   --json              print the results as JSON on stdout (progress goes to stderr either way;
 *                       use `npm run --silent bench -- --json` so npm's banner stays off stdout)
 *   --save FILE         also write the JSON results to FILE
 *   --concurrency N     requests in flight for the 4 KiB workloads (default 32)
 *   --rounds N          timed rounds per server per 4 KiB and 1 MiB workload (default 5)
 *   --round-seconds S   length of one round (default 1)
 *   --warmup-rounds N   at most N warm-up rounds per small-object request kind and server before the
 *                       first row, fewer once the rate levels off (default 8; 0: no warm-up)
 *   --iterations N      64 MiB PUTs and GETs per server per workload (default 5)
 *   --large-mib N       size of the large objects in MiB (default 64)
 *   --objects N         objects replicated for the lag figures (default 200)
 *   --writers N[,M]     replication writer counts, one lag measurement each; a writer waits for its
 *                       object's replica before its next PUT (default 1,4)
 *   --poll-ms N         pause between replication-status polls (default 2)
 *   --streams N         large objects at once for the aggregate figure (default 8)
 *   --list-keys N       keys in the listed bucket (default 2000; pages are 1000 keys)
 *   --rss-sizes A,B     object sizes in MiB for the RSS-under-streaming rows (default 64,1024)
 *   --rss-clients N     streams at once for those rows, half PUT, half GET (default 16)
 *   --rate N            4 KiB SSE-KMS PUTs per second for the replication-under-load rows (default 500)
 *   --workers N         MERIDIAN_WORKERS for the server (default: the server's own default)
 *   --only LIST         run only some workload groups: small, medium, large, list, rss, sse,
 *                       replication, replication-load, split (comma-separated)
 *
 * Without options: the full run whose figures BENCHMARKS.md records (about 6-7 minutes on a quiet 2-core machine).
 * The measured requests come from a separate load-client process (bench/load-client.ts).
 */
import { writeFileSync } from 'node:fs';
import { PRESETS, WORKLOADS, runBenchmark, type BenchResult, type BenchSettings, type Mode, type Row, type Workload } from './benchmark.js';
import { summarise } from './targets.js';

interface Args {
  settings: BenchSettings;
  json: boolean;
  only?: Workload[];
  save?: string;
}

function parseArgs(argv: string[]): Args {
  let mode: Mode = 'full';
  let json = false;
  let save: string | undefined;
  let only: Workload[] | undefined;
  const overrides: Partial<BenchSettings> = {};
  const num = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n <= 0) throw new Error(`${flag} needs a positive number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    switch (a) {
      case '--quick':
        mode = 'quick';
        break;
      case '--smoke':
        mode = 'smoke';
        break;
      case '--full':
        mode = 'full';
        break;
      case '--json':
        json = true;
        break;
      case '--save':
        save = argv[++i];
        if (!save) throw new Error('--save needs a file name');
        break;
      case '--concurrency':
        overrides.concurrency = Math.round(num(a, argv[++i]));
        break;
      case '--rounds':
        overrides.smallRounds = Math.round(num(a, argv[++i]));
        break;
      case '--round-seconds':
        overrides.smallRoundMs = num(a, argv[++i]) * 1000;
        break;
      case '--warmup-rounds': {
        const v = argv[++i];
        const n = Number(v);
        if (v === undefined || !Number.isInteger(n) || n < 0) throw new Error(`${a} needs a whole number (0: no warm-up)`);
        overrides.warmupMaxRounds = n;
        break;
      }
      case '--iterations':
        overrides.largeIterations = Math.round(num(a, argv[++i]));
        break;
      case '--large-mib':
        overrides.largeSize = Math.round(num(a, argv[++i])) * 1024 * 1024;
        break;
      case '--objects':
        overrides.replicationObjects = Math.round(num(a, argv[++i]));
        break;
      case '--only': {
        only = (argv[++i] ?? '').split(',').filter(Boolean) as Workload[];
        const bad = only.filter((w) => !WORKLOADS.includes(w));
        if (only.length === 0 || bad.length > 0) throw new Error(`--only takes a comma-separated list of ${WORKLOADS.join(', ')}`);
        break;
      }
      case '--streams':
        overrides.largeStreams = Math.round(num(a, argv[++i]));
        break;
      case '--list-keys':
        overrides.listKeys = Math.max(1001, Math.round(num(a, argv[++i])));
        break;
      case '--rss-sizes':
        overrides.rssSizesMiB = (argv[++i] ?? '').split(',').map((w) => Math.round(num(a, w)));
        break;
      case '--rss-clients':
        overrides.rssClients = Math.max(2, Math.round(num(a, argv[++i])));
        break;
      case '--rate':
        overrides.steadyRate = num(a, argv[++i]);
        break;
      case '--workers':
        overrides.workers = Math.round(num(a, argv[++i]));
        break;
      case '--writers':
        overrides.replicationWriters = (argv[++i] ?? '').split(',').map((w) => Math.round(num(a, w)));
        break;
      case '--poll-ms':
        overrides.replicationPollMs = num(a, argv[++i]);
        break;
      case '-h':
      case '--help':
        process.stdout.write('usage: npm run bench -- [--quick | --smoke] [--json] [--save FILE] [--concurrency N] [--rounds N] [--round-seconds S] [--warmup-rounds N] [--iterations N] [--large-mib N] [--objects N] [--writers N,M] [--poll-ms N] [--streams N] [--list-keys N] [--rss-sizes A,B] [--rss-clients N] [--rate N] [--workers N] [--only small,medium,large,list,rss,sse,replication,replication-load,split]\n');
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${a} (try --help)`);
    }
  }
  const out: Args = { settings: { ...PRESETS[mode], ...overrides }, json };
  if (only) out.only = only;
  if (save) out.save = save;
  return out;
}

function fmt(v: number, unit: Row['unit']): string {
  if (!Number.isFinite(v)) return String(v);
  if (unit === 'ms') return v < 10 ? v.toFixed(2) : v.toFixed(1);
  if (unit === 'MiB') return v.toFixed(0);
  return v >= 100 ? v.toFixed(0) : v.toFixed(1);
}

function ratio(r: Row): string {
  // Throughput: the fraction of the floor Meridian reaches. Latency, memory: how many times the floor.
  return r.ratio >= 10 ? `${r.ratio.toFixed(0)}×` : r.ratio >= 1 ? `${r.ratio.toFixed(1)}×` : `${r.ratio.toFixed(2)}×`;
}

function renderTable(result: BenchResult): string {
  const header = ['workload', 'unit', 'Meridian', 'baseline', 'ratio', 'server CPU/request'];
  const us = (r: Row) => {
    const v = r.detail?.meridianServerUsPerRequest;
    return typeof v === 'number' && Number.isFinite(v) ? (v >= 10_000 ? `${(v / 1000).toFixed(1)} ms` : `${v.toFixed(0)} µs`) : '';
  };
  const lines = result.rows.map((r) => [r.workload, r.unit, fmt(r.meridian, r.unit), fmt(r.baseline, r.unit), ratio(r), us(r)]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]) => '| ' + cells.map((c, i) => (i === 0 || i === 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ') + ' |';
  const sep = '|' + widths.map((w, i) => (i === 0 || i === 1 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|';
  const m = result.machine;
  const notes = [...new Set(result.rows.filter((r) => r.baselineNote).map((r) => `- ${r.workload.replace(/ p\d+,.*/, '')}: baseline column = ${r.baselineNote}`))];
  const cpuLines = result.rows
    .filter((r) => typeof r.detail?.meridianServerCores === 'number')
    .map((r) => {
      const d = r.detail!;
      const client = typeof d.clientCoresAgainstMeridian === 'number' ? `; client ${(d.clientCoresAgainstMeridian as number).toFixed(2)} / ${(d.clientCoresAgainstBaseline as number).toFixed(2)}` : '';
      return `- ${r.workload}: server ${(d.meridianServerCores as number).toFixed(2)} / ${(d.baselineServerCores as number).toFixed(2)}${client}`;
    });
  return [
    `Meridian benchmark (${result.settings.mode} run, ${result.startedAt}, ${result.durationS.toFixed(0)} s)`,
    `machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.platform}, kernel ${m.kernel}, node ${m.node}`,
    `Meridian: ${m.meridianProcesses ?? '?'} process(es) (MERIDIAN_WORKERS=${result.settings.workers ?? "unset: the server's default"}); CPU and RSS are the whole process tree's`,
    `outside load: load average ${m.loadAverageAtStart.toFixed(2)} at start` +
      (m.outsideCpuShare !== undefined ? `; ${(m.outsideCpuShare * 100).toFixed(0)}% of all CPU time went to other processes during the run` : '') +
      (m.outsideCpuShare !== undefined && m.outsideCpuShare > 0.1 ? ' (noisy: rerun on a quieter machine)' : ''),
    '',
    row(header),
    sep,
    ...lines.map(row),
    '',
    'ratio = Meridian ÷ baseline: for ops/s and MB/s the share of the floor Meridian reaches (higher is better);',
    'for ms and MiB how many times the floor (lower is better). MB = 10^6 bytes.',
    ...notes,
    ...(cpuLines.length ? ['', 'CPU cores used by the server (whole process tree) and by the load-client process (against Meridian / against the baseline):', ...cpuLines] : []),
    '',
    'Targets (issue 12):',
    ...(result.targets ?? summarise(result)).map((t) => `- ${t.verdict.padEnd(4)} ${t.target}: ${t.measured}`),
  ].join('\n');
}

async function main(): Promise<void> {
  const { settings, json, only, save } = parseArgs(process.argv.slice(2));
  const options: Parameters<typeof runBenchmark>[0] = { settings, log: (l) => process.stderr.write(l + '\n') };
  if (only) options.only = only;
  const result = await runBenchmark(options);
  if (save) writeFileSync(save, JSON.stringify(result, null, 2) + '\n');
  process.stdout.write((json ? JSON.stringify(result, null, 2) : renderTable(result)) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`benchmark failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
