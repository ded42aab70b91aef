/**
 * `npm run soak [-- --minutes N] [--writers N] [--hostile N]`: the reliability soak. One Meridian
 * process takes mixed valid traffic (PUT/GET/HEAD/LIST/DELETE and multipart uploads, SSE-KMS, into a
 * bucket replicated to us-east-2 with the seed walkthrough's configuration) while a stream of hostile
 * requests (the live fuzz driver's generator) hits it at the same time. Samples the server's RSS and
 * open descriptors, and reports: 5xx answers to valid requests (must be zero), RSS and descriptor
 * slopes over the run after warm-up (must be flat), findings of the hostile stream, and replication
 * left PENDING once traffic stops (must be none). Exits 1 when any of these fails.
 */
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { S3Client, PutObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, DeleteObjectCommand, CreateMultipartUploadCommand, UploadPartCommand, CompleteMultipartUploadCommand } from '@aws-sdk/client-s3';
import { startMeridianProcess } from '../test/support/meridian-process.js';
import { setUpReplication } from '../test/support/replication-setup.js';
import { signedFetch } from '../test/integration/signed-fetch.js';
import { prepareFuzzTarget } from '../test/fuzz/fuzz-target.js';
import { openDescriptors, runFuzz, type FuzzReport } from '../test/fuzz/live-fuzz.js';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' }, writers: { type: 'string', default: '6' }, hostile: { type: 'string', default: '2' }, seed: { type: 'string', default: '7' } } });
const minutes = Number(values.minutes);
const writers = Number(values.writers);
const hostile = Number(values.hostile);
const seed = Number(values.seed);

const m = await startMeridianProcess({ tls: false });
const pid = m.child.pid!;
const rssKiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);

/** One attempt per request: a retried 5xx must still count. */
function client(region: string): S3Client {
  return new S3Client({ region, endpoint: m.httpEndpoint, forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey } });
}

const s = await setUpReplication(m);
const fuzz = await prepareFuzzTarget(m);
const east1 = client('us-east-1');
const sse = { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: s.srcKeyArn };
const ops: Record<string, number> = {};
const serverErrors: string[] = [];
const clientErrors: Record<string, number> = {};
const keys = Array.from({ length: 400 }, (_, i) => `soak/${i % 20}/${i}`);
const deadline = Date.now() + minutes * 60_000;

async function one(kind: string, f: () => Promise<unknown>): Promise<void> {
  try {
    await f();
    ops[kind] = (ops[kind] ?? 0) + 1;
  } catch (e) {
    const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
    const name = (e as Error).name;
    if (status >= 500 || status === 0) serverErrors.push(`${kind}: ${status} ${name} ${(e as Error).message}`);
    else clientErrors[`${kind} ${status} ${name}`] = (clientErrors[`${kind} ${status} ${name}`] ?? 0) + 1;
  }
}

async function validTraffic(w: number): Promise<void> {
  let i = 0;
  while (Date.now() < deadline) {
    const key = keys[(w * 7919 + i++ * 31) % keys.length]!;
    const roll = Math.random();
    if (roll < 0.35) await one('PUT', () => east1.send(new PutObjectCommand({ Bucket: s.src, Key: key, Body: randomBytes(1024 + Math.floor(Math.random() * 63 * 1024)), ...sse })));
    else if (roll < 0.6) await one('GET', async () => {
      try {
        const r = await east1.send(new GetObjectCommand({ Bucket: s.src, Key: key }));
        await r.Body!.transformToByteArray();
      } catch (e) {
        if ((e as Error).name !== 'NoSuchKey') throw e;
      }
    });
    else if (roll < 0.75) await one('HEAD', async () => {
      try {
        await east1.send(new HeadObjectCommand({ Bucket: s.src, Key: key }));
      } catch (e) {
        if ((e as Error).name !== 'NotFound') throw e;
      }
    });
    else if (roll < 0.85) await one('LIST', () => east1.send(new ListObjectsV2Command({ Bucket: s.src, Prefix: `soak/${i % 20}/`, MaxKeys: 100 })));
    else if (roll < 0.97) await one('DELETE', () => east1.send(new DeleteObjectCommand({ Bucket: s.src, Key: key })));
    else await one('MULTIPART', async () => {
      const up = await east1.send(new CreateMultipartUploadCommand({ Bucket: s.src, Key: `${key}-mpu`, ...sse }));
      const p1 = await east1.send(new UploadPartCommand({ Bucket: s.src, Key: `${key}-mpu`, UploadId: up.UploadId, PartNumber: 1, Body: randomBytes(5 * 1024 * 1024) }));
      const p2 = await east1.send(new UploadPartCommand({ Bucket: s.src, Key: `${key}-mpu`, UploadId: up.UploadId, PartNumber: 2, Body: randomBytes(4096) }));
      await east1.send(new CompleteMultipartUploadCommand({ Bucket: s.src, Key: `${key}-mpu`, UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] } }));
    });
  }
}

const samples: { t: number; rss: number; fds: number }[] = [];
const started = Date.now();
const sampler = setInterval(() => samples.push({ t: (Date.now() - started) / 60_000, rss: rssKiB(), fds: openDescriptors(pid) }), 5000);
console.error(`soak: ${minutes} min, ${writers} valid writers, ${hostile} hostile connections, seed ${seed}`);
const [hostileReport] = await Promise.all([
  hostile > 0 ? runFuzz({ host: fuzz.host, port: fuzz.port, pid, seconds: minutes * 60, seed, concurrency: hostile, target: fuzz.target }) : Promise.resolve(undefined as FuzzReport | undefined),
  ...Array.from({ length: writers }, (_, w) => validTraffic(w)),
]);
clearInterval(sampler);

/** Least-squares slope of y over t (minutes), over the samples after the first minute of warm-up. */
function slope(points: { t: number; y: number }[]): number {
  const xs = points.filter((p) => p.t >= 1);
  const n = xs.length;
  if (n < 2) return 0;
  const mt = xs.reduce((a, p) => a + p.t, 0) / n;
  const my = xs.reduce((a, p) => a + p.y, 0) / n;
  const num = xs.reduce((a, p) => a + (p.t - mt) * (p.y - my), 0);
  const den = xs.reduce((a, p) => a + (p.t - mt) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

// Replication must drain once traffic stops.
let pending = -1;
const drainDeadline = Date.now() + 180_000;
while (Date.now() < drainDeadline) {
  const status = await signedFetch(m, 'GET', '/_meridian/replication/status', { query: `bucket=${s.src}` });
  const body = JSON.parse(status.text) as { pending: { operations: number }; failed?: { operations?: number } };
  pending = body.pending.operations;
  if (pending === 0) break;
  await new Promise((r) => setTimeout(r, 1000));
}
const alive = hostileReport?.alive ?? true;
const rssSlope = slope(samples.map((p) => ({ t: p.t, y: p.rss / 1024 })));
const fdSlope = slope(samples.map((p) => ({ t: p.t, y: p.fds })));
const first = samples.find((p) => p.t >= 1) ?? samples[0];
const last = samples[samples.length - 1];
await m.stop();

const totalOps = Object.values(ops).reduce((a, b) => a + b, 0);
console.log(`## Soak: ${minutes} min, ${writers} writers + ${hostile} hostile connections (seed ${seed})`);
console.log(`valid requests: ${totalOps} (${JSON.stringify(ops)}); 5xx or no answer: ${serverErrors.length}`);
console.log(`expected 4xx (races between writers: NoSuchUpload etc.): ${JSON.stringify(clientErrors)}`);
console.log(`hostile requests: ${hostileReport?.requests ?? 0}, statuses ${JSON.stringify(hostileReport?.statuses ?? {})}, findings ${hostileReport?.findings.length ?? 0}`);
console.log(`RSS: ${((first?.rss ?? 0) / 1024).toFixed(0)} MiB after warm-up → ${((last?.rss ?? 0) / 1024).toFixed(0)} MiB at the end; slope ${rssSlope.toFixed(2)} MiB/min`);
console.log(`descriptors: ${first?.fds} after warm-up → ${last?.fds} at the end; slope ${fdSlope.toFixed(2)} per min`);
console.log(`replication left PENDING after traffic stopped: ${pending}`);
const perMinute = Array.from({ length: Math.floor(minutes) + 1 }, (_, i) => samples.find((p) => p.t >= i)).filter((p): p is (typeof samples)[number] => p !== undefined);
console.log(`per minute (RSS MiB / descriptors): ${perMinute.map((p) => `${(p.rss / 1024).toFixed(0)}/${p.fds}`).join(' ')}`);
for (const e of serverErrors.slice(0, 10)) console.log(`  5xx: ${e}`);
for (const f of hostileReport?.findings.slice(0, 5) ?? []) console.log(`  hostile finding #${f.index} [${f.label}] ${f.problem}\n${f.request.slice(0, 600)}`);
const ok = alive && serverErrors.length === 0 && (hostileReport?.findings.length ?? 0) === 0 && pending === 0;
console.log(ok ? 'soak: PASS' : 'soak: FAIL');
process.exit(ok ? 0 : 1);
