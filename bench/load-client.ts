/**
 * The benchmark's load client, in a process of its own (started by bench/load-driver.ts): the
 * measured requests are sent from here, so the server under test has the machine's cores to itself
 * apart from this process, and the benchmark process's own work (setting up, sampling /proc,
 * bookkeeping) is not on the client's event loop.
 *
 * It takes one job at a time over IPC and answers with its result:
 *   - `loop`: `concurrency` closed loops of one request shape for `durationMs` (ops/s rounds);
 *   - `transfers`: some requests at once, each timed (large objects: 1 stream or 8 at a time);
 *   - `close`: exit.
 * Request shapes name their key by a rule (`{n}` = next sequence number, `{spread}` = a key among the
 * `spread` already written), so the parent describes a workload without sending every request.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { BenchClient, type BenchRequest } from './http-client.js';

export interface Target {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface RequestShape {
  method: string;
  /** Path and query; `{n}` becomes the request's sequence number, `{spread}` (seq × 7919) mod spread. */
  path: string;
  region?: string;
  service?: string;
  headers?: Record<string, string>;
  /** A random body of this many bytes, held in memory and signed (small objects). */
  bodySize?: number;
  /** A streamed body of this many MiB (1 MiB buffer repeated, UNSIGNED-PAYLOAD). */
  streamMiB?: number;
  /** Expected response body size (GET), checked. */
  expectBytes?: number;
  /** Count `<Key>` elements in the response body (listings): reported as `items`. */
  countKeys?: boolean;
  spread?: number;
  /** First sequence number (keys written by earlier rounds stay distinct). */
  start?: number;
}

export type Job =
  | { id: number; kind: 'loop'; target: Target; shape: RequestShape; concurrency: number; durationMs: number }
  | { id: number; kind: 'transfers'; target: Target; shapes: RequestShape[] }
  | { id: number; kind: 'close' };

export interface LoopResult {
  ops: number;
  seconds: number;
  /** Sorted latencies, ms (a sample of at most 20,000). */
  latenciesMs: number[];
  /** Sequence numbers used (the next round's `start`). */
  next: number;
  items: number;
}

export interface TransferResult {
  /** Seconds of each transfer, in the order given, and of all of them together. */
  seconds: number[];
  wallSeconds: number;
  bytes: number[];
}

/**
 * A client with connections of its own for one job, closed when the job ends. Kept across jobs, the
 * keep-alive pool decided which of Meridian's worker processes served a row: a job with fewer
 * requests in flight than the pool has sockets reuses the most recently freed ones (Node's agents,
 * like urllib3's pool, are last in, first out), i.e. the sockets of the previous job's last answers,
 * which tend to sit on the same, busier worker: the 1 MiB rows (4 in flight after rows of 32) ran on
 * one worker, at 1.04–1.06 cores of server CPU, while the other idled. Fresh connections are handed
 * out to the workers in turn, as a client starting a transfer with N connections would find them.
 */
function clientFor(t: Target): BenchClient {
  return new BenchClient(t.endpoint, { accessKeyId: t.accessKeyId, secretAccessKey: t.secretAccessKey }, 256);
}

const bodies = new Map<number, Buffer>();
const MIB_CHUNK = randomBytes(1024 * 1024);
const KEY_TAG = /<Key>/g;

function request(shape: RequestShape, seq: number): BenchRequest {
  const path = shape.path.replace('{n}', String(seq)).replace('{spread}', String((seq * 7919) % Math.max(1, shape.spread ?? 1)));
  const r: BenchRequest = { method: shape.method, path };
  if (shape.region) r.region = shape.region;
  if (shape.service) r.service = shape.service;
  if (shape.headers) r.headers = shape.headers;
  if (shape.bodySize !== undefined) {
    let b = bodies.get(shape.bodySize);
    if (!b) bodies.set(shape.bodySize, (b = randomBytes(shape.bodySize)));
    r.body = b;
  }
  if (shape.streamMiB !== undefined) r.stream = { chunk: MIB_CHUNK, repeat: shape.streamMiB };
  if (shape.countKeys) r.collect = true;
  return r;
}

async function send(client: BenchClient, shape: RequestShape, seq: number): Promise<{ bytes: number; items: number }> {
  const res = await client.ok(request(shape, seq));
  if (shape.expectBytes !== undefined && res.bytes !== shape.expectBytes) throw new Error(`${shape.method} ${shape.path}: ${res.bytes} bytes, expected ${shape.expectBytes}`);
  const items = shape.countKeys ? (res.body!.toString('latin1').match(KEY_TAG)?.length ?? 0) : 0;
  return { bytes: res.bytes, items };
}

async function loop(job: Extract<Job, { kind: 'loop' }>): Promise<LoopResult> {
  const client = clientFor(job.target);
  let seq = job.shape.start ?? 0;
  let items = 0;
  const latencies: number[] = [];
  const start = performance.now();
  const deadline = start + job.durationMs;
  try {
    await Promise.all(
      Array.from({ length: job.concurrency }, async () => {
        while (performance.now() < deadline) {
          const t0 = performance.now();
          items += (await send(client, job.shape, seq++)).items;
          latencies.push(performance.now() - t0);
        }
      }),
    );
  } finally {
    client.close();
  }
  const seconds = (performance.now() - start) / 1000;
  const ops = latencies.length;
  latencies.sort((a, b) => a - b);
  const step = Math.max(1, Math.ceil(latencies.length / 20_000));
  return { ops, seconds, latenciesMs: step === 1 ? latencies : latencies.filter((_, i) => i % step === 0), next: seq, items };
}

async function transfers(job: Extract<Job, { kind: 'transfers' }>): Promise<TransferResult> {
  const client = clientFor(job.target);
  const start = performance.now();
  const out = await Promise.all(
    job.shapes.map(async (shape, i) => {
      const a = performance.now();
      const { bytes } = await send(client, shape, shape.start ?? i);
      return { seconds: (performance.now() - a) / 1000, bytes };
    }),
  ).finally(() => client.close());
  return { seconds: out.map((o) => o.seconds), bytes: out.map((o) => o.bytes), wallSeconds: (performance.now() - start) / 1000 };
}

process.on('message', (job: Job) => {
  if (job.kind === 'close') {
    process.disconnect();
    return;
  }
  const run = job.kind === 'loop' ? loop(job) : transfers(job);
  run.then(
    (result) => process.send!({ id: job.id, result }),
    (e: unknown) => process.send!({ id: job.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
  );
});
process.send!({ ready: true });
