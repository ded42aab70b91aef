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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function percentileOf(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Re-put the scenario's rule with the given status (Disabled pauses live replication). */
export async function setRuleStatus(client: BenchClient, scenario: ReplicationScenario, status: 'Enabled' | 'Disabled'): Promise<void> {
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
 * Open loop at `rate` PUTs per second for `seconds`: each PUT's version is polled until COMPLETED;
 * lag = first COMPLETED answer − PUT acknowledgement. Sorted milliseconds.
 */
export async function steadyLag(client: BenchClient, scenario: ReplicationScenario, body: Buffer, rate: number, seconds: number, pollMs: number, tag: string): Promise<number[]> {
  const { bucket, region, keyArn } = scenario.source;
  const lags: number[] = [];
  const inFlight: Promise<void>[] = [];
  const start = performance.now();
  const total = Math.round(rate * seconds);
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    inFlight.push(
      (async () => {
        const key = `steady-${tag}-${i}`;
        const put = await client.ok({ method: 'PUT', path: `/${bucket}/${key}`, region, service: 's3', headers: { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': keyArn }, body });
        const acked = performance.now();
        const versionId = encodeURIComponent(String(put.headers['x-amz-version-id']));
        for (;;) {
          const head = await client.ok({ method: 'HEAD', path: `/${bucket}/${key}?versionId=${versionId}`, region, service: 's3' });
          const status = head.headers['x-amz-replication-status'];
          if (status === 'COMPLETED') break;
          if (status === 'FAILED') throw new Error(`replication of ${key} FAILED`);
          if (performance.now() - acked > 60_000) throw new Error(`replication of ${key} still ${String(status)} after 60 s`);
          await sleep(pollMs);
        }
        lags.push(performance.now() - acked);
      })(),
    );
  }
  await Promise.all(inFlight);
  return lags.sort((a, b) => a - b);
}

export interface ThroughputResult {
  /** The source's PUT throughput for these objects, MB/s (10^6 bytes/s), one stream. */
  putMBps: number;
  /** Replication throughput of the same objects, MB/s: bytes ÷ (batch job start → complete). */
  replicationMBps: number;
  objects: number;
  bytes: number;
}

export async function replicationThroughput(client: BenchClient, scenario: ReplicationScenario, size: number, count: number, tag: string): Promise<ThroughputResult> {
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
