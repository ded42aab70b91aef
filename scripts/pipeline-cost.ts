/**
 * CPU per request of the request pipeline alone (SigV4, caller, S3 service, policy, SSE, storage,
 * group commit), in process, without HTTP parsing and sockets: signed requests are handed to
 * RequestPipeline.handle() as the HTTP adapter would and the response bodies consumed. Stable enough
 * to compare one change (min of several runs, process.cpuUsage).
 *   node bin/run-ts.mjs scripts/pipeline-cost.ts [put,get,head,get1m] [--n 3000] [--runs 5] [--objects 64] [--prof [--prof-dir DIR]]
 * `--objects N` spreads GETs and HEADs over N objects (default 64: every cache warm; the benchmark's
 * 4 KiB GETs spread over the ~15,000 objects its PUT rounds wrote, so most of its reads miss).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { loadConfig } from '../src/server/config.js';
import { startMeridian } from '../src/server/server.js';
import { RequestPipeline, type IncomingRequest } from '../src/server/request-pipeline.js';
import { signRequest } from '../src/server/auth/index.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1]! : dflt;
};
const ops = (args[0] && !args[0].startsWith('--') ? args[0] : 'put,get,head').split(',');
const n = Number(opt('--n', '3000'));
const runs = Number(opt('--runs', '5'));
const session = args.includes('--prof') ? new Session() : undefined;
session?.connect();
const post = (method: string, params: object = {}): Promise<unknown> =>
  new Promise((resolve, reject) => session!.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));

const dataDir = mkdtempSync(join(tmpdir(), 'meridian-pipeline-'));
const creds = { accessKeyId: 'AKIA' + randomBytes(8).toString('hex').toUpperCase(), secretAccessKey: randomBytes(30).toString('base64').slice(0, 40) };
const config = loadConfig({
  ...process.env,
  MERIDIAN_HOST: '127.0.0.1',
  MERIDIAN_PORT: '0',
  MERIDIAN_TLS_PORT: 'off',
  MERIDIAN_DATA_DIR: dataDir,
  MERIDIAN_ROOT_ACCESS_KEY_ID: creds.accessKeyId,
  MERIDIAN_ROOT_SECRET_ACCESS_KEY: creds.secretAccessKey,
  MERIDIAN_LOG_LEVEL: 'warn',
});
const running = await startMeridian(config);
const pipeline = new RequestPipeline(running.fabric);
const endpoint = `http://127.0.0.1:${running.httpPort}`;
let seq = 0;

/** A signed request, ready to hand to the pipeline. */
function signed(method: string, path: string, body?: Buffer, headers: Record<string, string> = {}): IncomingRequest {
  const h: Record<string, string> = { ...headers };
  if (body !== undefined) h['content-length'] = String(body.length);
  const signable: Parameters<typeof signRequest>[0] = { method, url: new URL(endpoint + path), headers: h };
  if (body !== undefined) signable.body = body;
  const signed = signRequest(signable, creds, 'us-east-1', 's3');
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed)) lower[k.toLowerCase()] = v;
  const q = path.indexOf('?');
  const req: IncomingRequest = {
    method,
    rawPath: q < 0 ? path : path.slice(0, q),
    rawQuery: q < 0 ? '' : path.slice(q + 1),
    headers: lower,
    body: Readable.from(body && body.length > 0 ? [body] : []),
    secure: false,
    remoteAddress: '127.0.0.1',
    requestId: String(++seq),
    hostId: 'h',
  };
  return req;
}

async function handle(req: IncomingRequest): Promise<{ status: number; bytes: number }> {
  const { method, rawPath: path } = req;
  const res = await pipeline.handle(req);
  let bytes = 0;
  const b = res.body;
  if (typeof b === 'string' || Buffer.isBuffer(b)) bytes = b.length;
  else if (b) for await (const c of b) bytes += (c as Buffer).length;
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${typeof b === 'string' ? b : ''}`);
  return { status: res.status, bytes };
}

// Signing happens in the measured loop too: sign everything first so only the server side is timed.
type Prepared = () => Promise<unknown>;
async function measure(label: string, count: number, make: (i: number) => Prepared, inFlight: number): Promise<void> {
  const results: number[] = [];
  for (let r = 0; r < runs; r++) {
    const work = Array.from({ length: count }, (_, i) => make(i));
    let next = 0;
    // The last run is profiled (--prof): only the requests, not the signing or the setup.
    const profiled = session !== undefined && r === runs - 1;
    if (profiled) await post('Profiler.start');
    const c0 = process.cpuUsage();
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (next < count) await work[next++]!();
    }));
    const c = process.cpuUsage(c0);
    if (profiled) {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      const file = join(opt('--prof-dir', tmpdir()), `pipeline-${label.replace(/\W+/g, '-').toLowerCase()}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      process.stdout.write(`profile of the last run (${count} requests): ${file}\n`);
    }
    results.push((c.user + c.system) / count);
  }
  results.sort((a, b) => a - b);
  process.stdout.write(`${label}: min ${results[0]!.toFixed(1)} µs, median ${results[Math.floor(runs / 2)]!.toFixed(1)} µs CPU per request (${runs} runs of ${count})\n`);
}

// Requests are signed outside the measurement: a Prepared closure holds a ready request.
function prepared(method: string, path: string, body?: Buffer): Prepared {
  const req = signed(method, path, body);
  return () => handle(req);
}

const send = (method: string, path: string, body?: Buffer) => handle(signed(method, path, body));

await send('PUT', '/cost');
const small = randomBytes(4096);
const big = randomBytes(1 << 20);
if (session) {
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 100 });
}
for (const op of ops) {
  if (op === 'put') await measure('PUT 4 KiB', n, () => prepared('PUT', `/cost/put-${seq++}`, small), 16);
  if (op === 'get' || op === 'head') {
    const objects = Number(opt('--objects', '64'));
    await Promise.all(Array.from({ length: 16 }, async (_, w) => {
      for (let i = w; i < objects; i += 16) await send('PUT', `/cost/small-${i}`, small);
    }));
    await measure(`${op.toUpperCase()} 4 KiB`, n, (i) => prepared(op.toUpperCase(), `/cost/small-${i % objects}`), 16);
  }
  if (op === 'get1m') {
    for (let i = 0; i < 8; i++) await send('PUT', `/cost/big-${i}`, big);
    await measure('GET 1 MiB', Math.max(20, n / 50), (i) => prepared('GET', `/cost/big-${i % 8}`), 4);
  }
  if (op === 'put1m') await measure('PUT 1 MiB', Math.max(20, n / 50), () => prepared('PUT', `/cost/big-${seq++}`, big), 4);
}
await running.close();
rmSync(dataDir, { recursive: true, force: true });
