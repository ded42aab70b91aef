/**
 * Replication under load, for one process and for two (split mode): lag at a steady rate of 4 KiB
 * SSE-KMS PUTs (open loop: PUTs go out on schedule whatever replication does), and replication
 * throughput of large SSE-KMS objects compared with the source's own PUT throughput for the same
 * objects. Throughput is measured apart from the PUTs: the objects are written while the rule is
 * disabled, then one Batch Replication job (`POST /_meridian/replication/batch`) replicates them all,
 * timed from its start to its completion report.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { BenchClient } from './http-client.js';
import type { ReplicationScenario } from './scenario.js';

const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** A client, or several gateways' clients taking turns (bench/gateways.ts): only `ok` is used. */
export type Requester = Pick<BenchClient, 'ok'>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function percentileOf(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Re-put the scenario's rule with the given status (Disabled pauses live replication). */
export async function setRuleStatus(client: Requester, scenario: ReplicationScenario, status: 'Enabled' | 'Disabled'): Promise<void> {
  const { source, destination, roleArn } = scenario;
  const config =
    `<ReplicationConfiguration xmlns="${S3_XMLNS}"><Role>${roleArn}</Role>` +
    `<Rule><ID>bench-crr</ID><Prefix></Prefix><Status>${status}</Status>` +
    `<SourceSelectionCriteria><SseKmsEncryptedObjects><Status>Enabled</Status></SseKmsEncryptedObjects></SourceSelectionCriteria>` +
    `<Destination><Bucket>arn:aws:s3:::${destination.bucket}</Bucket><EncryptionConfiguration><ReplicaKmsKeyID>${destination.keyArn}</ReplicaKmsKeyID></EncryptionConfiguration></Destination>` +
    `</Rule></ReplicationConfiguration>`;
  await client.ok(
    { method: 'PUT', path: `/${source.bucket}?replication`, region: source.region, service: 's3', headers: { 'content-md5': createHash('md5').update(config).digest('base64') }, body: config },
    `PutBucketReplication (${status})`,
  );
}

/**
 * The open loop alone: `rate` 4 KiB SSE-KMS PUTs per second for `seconds`, named steady-<i>, sent on
 * schedule whatever replication does. Returns how many, the PUTs' p50 and the rate acknowledged.
 */
export async function steadyPuts(
  client: Requester,
  scenario: ReplicationScenario,
  body: Buffer,
  rate: number,
  seconds: number,
): Promise<{ total: number; putP50Ms: number; achievedRate: number }> {
  const { bucket, region, keyArn } = scenario.source;
  const inFlight: Promise<void>[] = [];
  const putMs: number[] = [];
  const start = performance.now();
  const total = Math.round(rate * seconds);
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    inFlight.push(
      (async () => {
        const sent = performance.now();
        await client.ok({ method: 'PUT', path: `/${bucket}/steady-${i}`, region, service: 's3', headers: { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': keyArn }, body });
        putMs.push(performance.now() - sent);
      })(),
    );
  }
  await Promise.all(inFlight);
  // PUTs acknowledged per second over the whole schedule: below `rate` when Meridian could not keep up
  // (the PUTs queued), so the rate was not sustained.
  const achievedRate = total / ((performance.now() - start) / 1000);
  return { total, putP50Ms: percentileOf(putMs.sort((a, b) => a - b), 50), achievedRate };
}

/**
 * Open loop at `rate` 4 KiB SSE-KMS PUTs per second for `seconds` (PUTs go out on schedule whatever
 * replication does). The lag of each version — from its PUT's commit (the outbox task is written in
 * the same transaction) to COMPLETED — is taken from Meridian's own measurement, the figures
 * `meridian replication status` shows: polling every version from the client would itself be the
 * load (thousands of HEADs per second). Returns the server's p50/p99 and the client's PUT latencies.
 */
export async function steadyLag(
  client: Requester,
  scenario: ReplicationScenario,
  body: Buffer,
  rate: number,
  seconds: number,
): Promise<{ p50Ms: number; p99Ms: number; maxMs: number; count: number; putP50Ms: number; achievedRate: number }> {
  const { bucket, region } = scenario.source;
  const { total, putP50Ms, achievedRate } = await steadyPuts(client, scenario, body, rate, seconds);
  // With several workers the status request may land on one that has not yet heard (from the one
  // running replication, through the cluster primary) of the last outcomes: wait for them a little.
  let drainedAt: number | undefined;
  for (;;) {
    const r = await client.ok({ method: 'GET', path: `/_meridian/replication/status?bucket=${bucket}`, region, service: 's3', collect: true }, 'replication status');
    const status = JSON.parse(r.body!.toString('utf8')) as { pending: { operations: number }; failed: { total: number }; lag: { count: number; p50Ms: number; p99Ms: number; maxMs: number } };
    if (status.failed.total > 0) throw new Error(`${status.failed.total} versions FAILED to replicate`);
    if (status.pending.operations === 0) {
      drainedAt ??= performance.now();
      if (status.lag.count < total && performance.now() - drainedAt < 5000) {
        await sleep(50);
        continue;
      }
      if (status.lag.count !== total) throw new Error(`lag measured for ${status.lag.count} of ${total} versions`);
      return { p50Ms: status.lag.p50Ms, p99Ms: status.lag.p99Ms, maxMs: status.lag.maxMs, count: status.lag.count, putP50Ms, achievedRate };
    }
    await sleep(50);
  }
}

export interface ThroughputResult {
  /** The source's PUT throughput for these objects, MB/s (10^6 bytes/s), one stream. */
  putMBps: number;
  /** Replication throughput of the same objects, MB/s: bytes ÷ (batch job start → complete). */
  replicationMBps: number;
  objects: number;
  bytes: number;
}

export async function replicationThroughput(client: Requester, scenario: ReplicationScenario, size: number, count: number, tag: string): Promise<ThroughputResult> {
  const { bucket, region, keyArn } = scenario.source;
  const chunk = Buffer.alloc(1024 * 1024, 7);
  const repeat = Math.ceil(size / chunk.length);
  const bytes = repeat * chunk.length * count;
  await setRuleStatus(client, scenario, 'Disabled');
  const putStart = performance.now();
  for (let i = 0; i < count; i++) {
    await client.ok({ method: 'PUT', path: `/${bucket}/big-${tag}-${i}`, region, service: 's3', headers: { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': keyArn }, stream: { chunk, repeat } }, 'large SSE-KMS PUT');
  }
  const putSeconds = (performance.now() - putStart) / 1000;
  await setRuleStatus(client, scenario, 'Enabled');
  const jobStart = performance.now();
  const started = await client.ok({ method: 'POST', path: `/_meridian/replication/batch?bucket=${bucket}&status=NONE&prefix=big-${tag}-`, region, service: 's3', collect: true }, 'start batch replication');
  const { jobId, versions } = JSON.parse(started.body!.toString('utf8')) as { jobId: string; versions: number };
  if (versions !== count) throw new Error(`batch job took ${versions} versions, expected ${count}`);
  for (;;) {
    const r = await client.ok({ method: 'GET', path: `/_meridian/replication/batch?bucket=${bucket}&job=${jobId}`, region, service: 's3', collect: true }, 'batch report');
    const report = JSON.parse(r.body!.toString('utf8')) as { status: string; succeeded: number; failed: number };
    if (report.status === 'Complete') {
      if (report.succeeded !== count) throw new Error(`batch replication: ${report.succeeded} of ${count} succeeded, ${report.failed} failed`);
      break;
    }
    if (performance.now() - jobStart > 600_000) throw new Error('batch replication did not complete in 10 minutes');
    await sleep(20);
  }
  const replicationSeconds = (performance.now() - jobStart) / 1000;
  return { putMBps: bytes / 1e6 / putSeconds, replicationMBps: bytes / 1e6 / replicationSeconds, objects: count, bytes };
}
