/**
 * Server CPU per request, measured from /proc/<pid>/stat around a fixed number of requests
 * (`node bin/run-ts.mjs scripts/request-cost.ts put,get,head,get1m --n 2000`). Optionally with a CPU
 * profile of the server (`--prof DIR`: node --cpu-prof, written when the server exits) or GC traces
 * (`--trace-gc`); `put+get` runs 4 KiB PUTs with 4 KiB GETs alongside and reports the GETs' latency; `--large-in-flight N` runs N 64 MiB transfers at once (default 1), `--large-in-flight-1m N` N 1 MiB ones (default 4); `--objects N` spreads GETs and HEADs over N objects (default 64). A tool for finding where a request's time goes; `npm run bench` is the benchmark.
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { BenchClient } from '../bench/http-client.js';
import { createBucket, kmsCreateKey } from '../bench/scenario.js';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { workerMallocEnv } from '../src/server/malloc-tuning.js';

// This process is the load client: with glibc's default malloc its large response buffers were
// mapped and zero-filled afresh, and it, not the server, limited the 1 MiB rows (0.9 cores of client
// at ~300 GETs/s). Run again with the malloc settings Meridian's workers get (as `npm run bench` does
// for its client); the server keeps the environment it was given.
const mallocEnv = workerMallocEnv(process.env);
if (mallocEnv.GLIBC_TUNABLES !== undefined) {
  const runTs = new URL('../bin/run-ts.mjs', import.meta.url).pathname;
  const r = spawnSync(process.execPath, [runTs, process.argv[1]!, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, ...mallocEnv, REQUEST_COST_SERVER_GLIBC_TUNABLES: process.env.GLIBC_TUNABLES ?? '' },
  });
  process.exit(r.status ?? 1);
}
const serverEnv: NodeJS.ProcessEnv = { ...process.env };
if (process.env.REQUEST_COST_SERVER_GLIBC_TUNABLES !== undefined) {
  if (process.env.REQUEST_COST_SERVER_GLIBC_TUNABLES === '') delete serverEnv.GLIBC_TUNABLES;
  else serverEnv.GLIBC_TUNABLES = process.env.REQUEST_COST_SERVER_GLIBC_TUNABLES;
  delete serverEnv.REQUEST_COST_SERVER_GLIBC_TUNABLES;
}

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1]! : dflt;
};
const ops = (args[0] ?? 'put,get,head').split(',');
const n = Number(opt('--n', '2000'));
const concurrency = Number(opt('--concurrency', '16'));
const prof = opt('--prof', '');
const kms = args.includes('--kms');
const repeat = Number(opt('--repeat', '1'));
const alloc = opt('--alloc', ''); // file for a sampling heap profile of the measured window
const extraFlags = opt('--node-flags', '').split(' ').filter(Boolean);
const nodeFlags = [...extraFlags, ...(alloc ? ['--import', new URL('./alloc-sampler.mjs', import.meta.url).pathname] : []), ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []), ...(args.includes('--trace-gc') ? ['--trace-gc'] : [])];

const TICK_US = 1e6 / 100; // USER_HZ
/** CPU µs by thread name (main thread, libuv pool, V8 workers...) from /proc/<pid>/task. */
function threadCpuUs(root: number): Map<string, number> {
  const out = new Map<string, number>();
  // Worker processes' threads are summed across workers under a "w:" prefix.
  for (const pid of processTree(root)) addThreadCpuUs(out, pid, pid === root ? '' : 'w:');
  return out;
}
function addThreadCpuUs(out: Map<string, number>, pid: number, prefix: string): void {
  // Node names all its threads "node"; they are told apart by creation order (thread id): the V8
  // platform's workers (GC, compilers) start with the process, libuv's pool on first use.
  const tids = readdirSync(`/proc/${pid}/task`).map(Number).sort((a, b) => a - b);
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = prefix + (tid === pid ? 'main' : `t${tid - pid}`);
      const f = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) * TICK_US);
    } catch {
      // a thread that ended meanwhile
    }
  }
}
/** The server and its worker processes (MERIDIAN_WORKERS > 1), from /proc/<pid>/task/<tid>/children. */
function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    for (const tid of readdirSync(`/proc/${out[i]}/task`)) {
      try {
        for (const child of readFileSync(`/proc/${out[i]}/task/${tid}/children`, 'utf8').trim().split(/\s+/)) if (child) out.push(Number(child));
      } catch {
        // a thread or process that ended meanwhile
      }
    }
  }
  return out;
}

/** CPU µs (user + system) of the server and its worker processes. */
function cpuUs(pid: number): number {
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ');
      total += (Number(f[11]) + Number(f[12])) * TICK_US; // utime, stime
    } catch {
      // ended meanwhile
    }
  }
  return total;
}

// Started by hand rather than with test/support's helper: node's profiling flags are not allowed in NODE_OPTIONS.
const dataDir = mkdtempSync(join(tmpdir(), 'meridian-cost-'));
const server = { accessKeyId: 'AKIA' + randomBytes(8).toString('hex').toUpperCase(), secretAccessKey: randomBytes(30).toString('base64').slice(0, 40), httpEndpoint: '' };
const child = spawn(process.execPath, [...nodeFlags, join(opt('--root', new URL('..', import.meta.url).pathname), 'bin/meridian.mjs'), 'serve'], {
  env: {
    ...serverEnv,
    MERIDIAN_HOST: '127.0.0.1',
    MERIDIAN_PORT: '0',
    MERIDIAN_TLS_PORT: 'off',
    MERIDIAN_DATA_DIR: dataDir,
    MERIDIAN_ROOT_ACCESS_KEY_ID: server.accessKeyId,
    MERIDIAN_ROOT_SECRET_ACCESS_KEY: server.secretAccessKey,
    MERIDIAN_LOG_LEVEL: 'info',
    // One process by default: the cost of a request, and profiles of the process that serves it.
    MERIDIAN_WORKERS: opt('--workers', '1'),
    ALLOC_PROFILE: alloc,
  },
  stdio: ['ignore', 'pipe', 'pipe'],
});
// Stopped early (Ctrl-C, a kill): stop the server and remove its data directory (gigabytes after the large rows).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    child.once('exit', () => {
      rmSync(dataDir, { recursive: true, force: true });
      process.exit(130);
    });
    child.kill('SIGTERM');
  });
}
let stderr = '';
let stdoutLog = ''; // --trace-gc writes to stdout
child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
server.httpEndpoint = await new Promise<string>((resolve, reject) => {
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    stdoutLog += d;
    const m = /listening on (http:\/\/[\d.:]+)/.exec(out);
    if (m) resolve(m[1]!);
  });
  child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${stderr}`)));
});
const pid = child.pid!;
const client = new BenchClient(server.httpEndpoint, { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey }, 64);
const region = 'us-east-1';
const bucket = 'cost';
try {
  await createBucket(client, bucket, region);
  const sse: Record<string, string> = {};
  if (kms) {
    const key = await kmsCreateKey(client, region, 'request-cost');
    sse['x-amz-server-side-encryption'] = 'aws:kms';
    sse['x-amz-server-side-encryption-aws-kms-key-id'] = key.arn;
  }
  const sizes: Record<string, number> = { put: 4096, get: 4096, head: 4096, put1m: 1 << 20, get1m: 1 << 20, put64m: 64 << 20, get64m: 64 << 20 };
  const bodies = new Map<number, Buffer>();
  const body = (size: number) => bodies.get(size) ?? (bodies.set(size, randomBytes(Math.min(size, 1 << 20))), bodies.get(size)!);
  // 1 MiB and larger bodies stream as UNSIGNED-PAYLOAD, as `npm run bench` sends them.
  const put = (key: string, size: number) =>
    size >= 1 << 20
      ? client.ok({ method: 'PUT', path: `/${bucket}/${key}`, region, service: 's3', headers: { ...sse }, stream: { chunk: body(size), repeat: size / (1 << 20) } })
      : client.ok({ method: 'PUT', path: `/${bucket}/${key}`, region, service: 's3', headers: { 'content-type': 'application/octet-stream', ...sse }, body: body(size) });
  async function loop(count: number, inFlight: number, one: (i: number) => Promise<unknown>): Promise<void> {
    let next = 0;
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (next < count) await one(next++);
    }));
  }
  /**
   * `put+get`: 4 KiB PUTs (`--concurrency` in flight) and, at the same time, 4 KiB GETs of existing
   * objects (4 in flight): how long reads wait while the server writes (e.g. a worker waiting for
   * another's write lock).
   */
  async function putsWithGets(): Promise<void> {
    const objects = 64;
    for (let i = 0; i < objects; i++) await put(`mixed-obj-${i}`, 4096);
    for (let rep = 0; rep < repeat; rep++) {
      let writing = true;
      const latencies: number[] = [];
      const t0 = performance.now();
      const c0 = cpuUs(pid);
      const reads = Promise.all(Array.from({ length: 4 }, async (_, r) => {
        for (let i = r; writing; i += 4) {
          const start = performance.now();
          await client.ok({ method: 'GET', path: `/${bucket}/mixed-obj-${i % objects}`, region, service: 's3' });
          latencies.push(performance.now() - start);
        }
      }));
      await loop(n, concurrency, () => put(`mixed-${seq++}`, 4096));
      writing = false;
      const wall = performance.now() - t0;
      await reads;
      const cpu = cpuUs(pid) - c0;
      latencies.sort((a, b) => a - b);
      const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(2);
      process.stdout.write(`put+get: ${n} PUTs at ${concurrency} in flight, ${(n / (wall / 1000)).toFixed(0)} PUT/s; ${latencies.length} GETs at 4 in flight meanwhile, ${(latencies.length / (wall / 1000)).toFixed(0)} GET/s, latency p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${latencies.at(-1)!.toFixed(2)} ms; server ${(cpu / 1000 / wall).toFixed(2)} cores\n`);
    }
  }
  let seq = 0;
  for (const op of ops) {
    if (op === 'put+get') {
      await putsWithGets();
      continue;
    }
    const size = sizes[op]!;
    const large = size >= 1 << 20;
    const count = large ? Math.max(4, Number(opt('--large-in-flight', '1')), Math.floor((n * 4) / (size >> 16))) : n;
    const inFlight = size >= 64 << 20 ? Number(opt('--large-in-flight', '1')) : large ? Number(opt('--large-in-flight-1m', '4')) : concurrency;
    let one: (i: number) => Promise<unknown>;
    if (op.startsWith('put')) {
      one = () => put(`${op}-${seq++}`, size);
    } else {
      // --objects N: GETs and HEADs spread over N objects (default 64: every row cached and warm).
      const objects = Number(opt('--objects', String(Math.min(count, 64))));
      for (let i = 0; i < objects; i++) await put(`${op}-obj-${i}`, size);
      const verb = op === 'head' ? 'HEAD' : 'GET';
      one = async (i) => {
        const r = await client.ok({ method: verb, path: `/${bucket}/${op}-obj-${i % objects}`, region, service: 's3' });
        if (verb === 'GET' && r.bytes !== size) throw new Error(`GET returned ${r.bytes} bytes`);
      };
    }
    await loop(Math.ceil(count / 4), inFlight, one); // warm-up
    const perRequest: number[] = [];
    const mainPerRequest: number[] = [];
    for (let rep = 0; rep < repeat; rep++) {
      const c0 = cpuUs(pid);
      const th0 = threadCpuUs(pid);
      const own0 = process.cpuUsage();
      const t0 = performance.now();
      const m0 = process.hrtime.bigint() / 1000n;
      if (alloc) {
        child.kill('SIGUSR2');
        await new Promise((r) => setTimeout(r, 200));
      }
      await loop(count, inFlight, one);
      if (alloc) {
        child.kill('SIGUSR2');
        await new Promise((r) => setTimeout(r, 1000));
      }
      const wall = performance.now() - t0;
      // The measured window on the monotonic clock (µs), which is also the clock of V8's CPU profiles.
      if (prof) appendFileSync(join(prof, 'windows.txt'), `${op} ${m0} ${process.hrtime.bigint() / 1000n} ${count}\n`);
      const cpu = cpuUs(pid) - c0;
      const own = process.cpuUsage(own0);
      const threads = [...threadCpuUs(pid)].map(([name, us]) => [name, (us - (th0.get(name) ?? 0)) / count] as const).filter(([, us]) => us > 0);
      perRequest.push(cpu / count);
      mainPerRequest.push((threads.find(([name]) => name === 'main')?.[1] ?? 0) + (threads.find(([name]) => name === 'w:main')?.[1] ?? 0));
      process.stdout.write(`${op}: ${count} requests, ${inFlight} in flight: server CPU ${(cpu / count).toFixed(0)} µs/request, ${(count / (wall / 1000)).toFixed(0)} req/s, server ${(cpu / 1000 / wall).toFixed(2)} cores, client ${((own.user + own.system) / 1000 / wall).toFixed(2)} cores (${threads.map(([name, us]) => `${name} ${us.toFixed(0)}`).join(', ')})\n`);
    }
    if (repeat > 1) {
      const sorted = [...perRequest].sort((a, b) => a - b);
      process.stdout.write(`${op}: min ${sorted[0]!.toFixed(0)} µs, median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} µs of server CPU per request over ${repeat} runs (main thread min ${Math.min(...mainPerRequest).toFixed(0)} µs)\n`);
    }
  }
} finally {
  client.close();
  if (args.includes('--trace-gc')) writeFileSync('/tmp/request-cost-gc.log', stdoutLog);
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  if (args.includes('--keep')) process.stdout.write(`data kept in ${dataDir}\n`);
  else rmSync(dataDir, { recursive: true, force: true });
  if (args.includes('--trace-gc')) {
    const gc = stdoutLog.split('\n').filter((l) => /Mark-Compact|Scavenge/.test(l));
    process.stdout.write(`GC events: ${gc.filter((l) => l.includes('Scavenge')).length} scavenges, ${gc.filter((l) => l.includes('Mark-Compact')).length} mark-compacts\n`);
  }
}
