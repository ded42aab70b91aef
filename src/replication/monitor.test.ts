/**
 * The replication monitor and metrics against a real SQLite region store: lag percentiles, AWS-shaped
 * events for failures, missing rules and the Replication Time Control threshold, and the Prometheus
 * exposition under AWS's metric names.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OffsetClock } from '../common/clock.js';
import { openRegionMetadataStore } from '../storage/index.js';
import type { OutboxTask, RegionMetadataStore } from '../storage/types.js';
import type { ReplicationConfiguration } from './config.js';
import { createReplicationMetrics } from './metrics.js';
import type { S3EventRecord } from './events.js';
import { percentile, ReplicationMonitor, type ReplicationNotification } from './monitor.js';

function config(rtc: boolean): ReplicationConfiguration {
  const destination: ReplicationConfiguration['rules'][number]['destination'] = { bucket: 'arn:aws:s3:::dst' };
  if (rtc) {
    destination.replicationTime = { status: 'Enabled', minutes: 15 };
    destination.metrics = { status: 'Enabled', eventThresholdMinutes: 15 };
  }
  return { role: 'arn:aws:iam::000000000000:role/r', rules: [{ id: 'rule-1', priority: 1, filter: { tags: [], form: 'Empty' }, deleteMarkerReplication: 'Disabled', status: 'Enabled', destination }] };
}

describe('replication monitor', () => {
  let dir: string;
  let store: RegionMetadataStore;
  let clock: OffsetClock;
  let cfg: ReplicationConfiguration | undefined;
  let monitor: ReplicationMonitor;
  let seen: ReplicationNotification[];

  async function pending(key: string, size = 10): Promise<OutboxTask> {
    await store.putObjectVersion(
      { bucket: 'src', key, versionId: 'v1', isDeleteMarker: false, lastModified: clock.now(), size, etag: 'abc', ownerAccountId: '000000000000', storageClass: 'STANDARD', systemMetadata: {}, userMetadata: {}, parts: [] },
      [{ bucket: 'src', key, versionId: 'v1', operation: 'put', destinationBucket: 'dst', ruleId: 'rule-1' }],
    );
    return (await store.listOutboxTasks({ bucket: 'src', limit: 100 })).find((t) => t.key === key)!;
  }

  async function settle(): Promise<void> {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'meridian-monitor-'));
    clock = new OffsetClock();
    store = openRegionMetadataStore(join(dir, 'meta.db'), 'us-east-1', { clock });
    await store.createBucket({ name: 'src', region: 'us-east-1', ownerAccountId: '000000000000', createdAt: 0, versioning: 'Enabled', locationConstraint: '' });
    cfg = config(true);
    monitor = new ReplicationMonitor({ clock, regions: () => [{ region: 'us-east-1', store, config: async () => cfg }], thresholdMs: 1000 });
    seen = [];
    monitor.subscribe((n) => seen.push(n));
  });

  afterEach(async () => {
    monitor.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('nearest-rank percentiles', () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(v, 50), 50);
    assert.equal(percentile(v, 99), 99);
    assert.equal(percentile([7], 99), 7);
    assert.equal(percentile([], 50), undefined);
  });

  it('keeps lag percentiles of completions per source bucket', async () => {
    const task = await pending('a');
    for (let i = 1; i <= 100; i++) monitor.observe('us-east-1', { kind: 'completed', task, latencyMs: i });
    const lag = monitor.lagOf('src');
    assert.deepEqual([lag.count, lag.p50Ms, lag.p99Ms, lag.maxMs], [100, 50, 99, 100]);
    assert.deepEqual(monitor.lagOf('other'), { count: 0 });
    // A 10 s run at 500 PUT/s is reported whole (the benchmark's replication-under-load rows).
    for (let i = 0; i < 5000; i++) monitor.observe('us-east-1', { kind: 'completed', task, latencyMs: 1 });
    assert.equal(monitor.lagOf('src').count, 5100);
  });

  it('a permanent failure is an OperationFailedReplication event in AWS shape, with the object and the reason', async () => {
    const task = await pending('dir/a b.txt', 42);
    monitor.observe('us-east-1', { kind: 'failed', task, reason: 'DstPutObjectNotPermitted', message: 'denied', detail: 'no identity-based policy allows the kms:Encrypt action' });
    await settle();
    assert.equal(seen.length, 1);
    const r = seen[0]!.record;
    assert.equal(r.eventVersion, '2.2');
    assert.equal(r.eventName, 'Replication:OperationFailedReplication');
    assert.equal(r.userIdentity.principalId, 's3.amazonaws.com');
    assert.equal(r.requestParameters.sourceIPAddress, 's3.amazonaws.com');
    assert.deepEqual(r.s3.bucket, { name: 'src', ownerIdentity: { principalId: '000000000000' }, arn: 'arn:aws:s3:::src' });
    assert.equal(r.s3.object.key, 'dir%2Fa+b.txt');
    assert.equal(r.s3.object.size, 42);
    assert.equal(r.s3.object.versionId, 'v1');
    assert.deepEqual(
      { ...r.replicationEventData, requestTime: undefined },
      { replicationRuleId: 'rule-1', destinationBucket: 'arn:aws:s3:::dst', s3Operation: 'OBJECT_PUT', requestTime: undefined, failureReason: 'DstPutObjectNotPermitted' },
    );
    assert.equal(r.meridian?.detail, 'no identity-based policy allows the kms:Encrypt action');
  });

  it('a version whose rule disappeared is also OperationNotTracked', async () => {
    const task = await pending('a');
    monitor.observe('us-east-1', { kind: 'failed', task, reason: 'SrcBucketReplicationConfigMissing' });
    await settle();
    assert.deepEqual(seen.map((n) => n.name), ['OperationFailedReplication', 'OperationNotTracked']);
  });

  it('an RTC operation pending past the threshold is reported once; completing late is OperationReplicatedAfterThreshold', async () => {
    const task = await pending('a');
    await monitor.checkThresholds();
    assert.equal(seen.length, 0, 'not yet past the threshold');
    clock.advance(1500);
    await monitor.checkThresholds();
    await monitor.checkThresholds();
    assert.deepEqual(seen.map((n) => n.name), ['OperationMissedThreshold']);
    assert.equal((seen[0]!.record as S3EventRecord).replicationEventData.threshold, '15');
    monitor.observe('us-east-1', { kind: 'completed', task, latencyMs: 1500 });
    await settle();
    assert.deepEqual(seen.map((n) => n.name), ['OperationMissedThreshold', 'OperationReplicatedAfterThreshold']);
  });

  it('rules without RTC have no threshold events', async () => {
    cfg = config(false);
    const task = await pending('a');
    clock.advance(5000);
    await monitor.checkThresholds();
    monitor.observe('us-east-1', { kind: 'completed', task, latencyMs: 5000 });
    await settle();
    assert.deepEqual(seen, []);
  });

  it('Prometheus exposition uses AWS metric names and dimensions, read from the outbox at scrape time', async () => {
    const registry = createReplicationMetrics({ clock, monitor, backlog: () => store.replicationBacklog() });
    const task = await pending('a', 100);
    await pending('b', 50);
    clock.advance(3000);
    monitor.observe('us-east-1', { kind: 'failed', task, reason: 'DstBucketNotFound' });
    monitor.observe('us-east-1', { kind: 'completed', task, latencyMs: 40 });
    const text = await registry.metrics();
    const labels = 'SourceBucket="src",DestinationBucket="dst",RuleId="rule-1"';
    assert.match(text, new RegExp(`^OperationsPendingReplication\\{${labels}\\} 2$`, 'm'));
    assert.match(text, new RegExp(`^BytesPendingReplication\\{${labels}\\} 150$`, 'm'));
    assert.match(text, new RegExp(`^ReplicationLatency\\{${labels}\\} 3(\\.\\d+)?$`, 'm'));
    assert.match(text, new RegExp(`^OperationsFailedReplication\\{${labels}\\} 1$`, 'm'));
    assert.match(text, new RegExp(`^meridian_replication_latency_seconds_count\\{${labels}\\} 1$`, 'm'));
  });
});
