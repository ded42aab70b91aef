/**
 * Replication metrics for Prometheus, under AWS's CloudWatch names and dimensions (reference §3.2):
 * OperationsPendingReplication, BytesPendingReplication and ReplicationLatency (the age of the
 * oldest pending operation, "how far the destination is behind") are read from the outbox at each
 * scrape; OperationsFailedReplication counts failures. Meridian adds a latency histogram and an
 * outcome counter. Labels: SourceBucket, DestinationBucket, RuleId.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Clock } from '../common/clock.js';
import type { ReplicationBacklog } from '../storage/types.js';
import type { ReplicationMonitor } from './monitor.js';

const LABELS = ['SourceBucket', 'DestinationBucket', 'RuleId'] as const;
type Labels = Record<(typeof LABELS)[number], string>;

export interface ReplicationMetricsOptions {
  clock: Clock;
  monitor: ReplicationMonitor;
  /** Pending work of every region this process serves. */
  backlog: () => Promise<ReplicationBacklog[]>;
}

function labelsOf(b: { bucket: string; destinationBucket: string; ruleId: string }): Labels {
  return { SourceBucket: b.bucket, DestinationBucket: b.destinationBucket, RuleId: b.ruleId };
}

export function createReplicationMetrics(opts: ReplicationMetricsOptions): Registry {
  const registry = new Registry();
  // One outbox query per scrape serves all three gauges.
  let snapshot: { at: number; rows: Promise<ReplicationBacklog[]> } | undefined;
  const backlog = (): Promise<ReplicationBacklog[]> => {
    const now = opts.clock.now();
    if (!snapshot || now - snapshot.at > 500) snapshot = { at: now, rows: opts.backlog().catch(() => []) };
    return snapshot.rows;
  };
  const gauge = (name: string, help: string, value: (b: ReplicationBacklog, now: number) => number) =>
    new Gauge({
      name,
      help,
      labelNames: LABELS,
      registers: [registry],
      async collect() {
        const rows = await backlog();
        const now = opts.clock.now();
        this.reset();
        for (const b of rows) this.set(labelsOf(b), value(b, now));
      },
    });
  gauge('OperationsPendingReplication', 'Operations (objects, delete markers, tag changes) pending replication', (b) => b.operations);
  gauge('BytesPendingReplication', 'Bytes of object versions pending replication', (b) => b.bytes);
  gauge('ReplicationLatency', 'Seconds the destination is behind the source: age of the oldest pending operation', (b, now) => Math.max(0, (now - b.oldestCreatedAt) / 1000));

  const failed = new Counter({ name: 'OperationsFailedReplication', help: 'Operations that failed to replicate (permanent failures)', labelNames: LABELS, registers: [registry] });
  const outcomes = new Counter({
    name: 'meridian_replication_operations_total',
    help: 'Replication attempts by outcome: completed, failed (permanent), retry (transient)',
    labelNames: [...LABELS, 'outcome'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'meridian_replication_latency_seconds',
    help: 'Time from a version being written to its replica being written',
    labelNames: LABELS,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    registers: [registry],
  });
  opts.monitor.onOutcome((o) => {
    const labels = labelsOf(o.task);
    outcomes.inc({ ...labels, outcome: o.kind });
    if (o.kind === 'failed') failed.inc(labels);
    if (o.kind === 'completed' && o.latencyMs !== undefined) latency.observe(labels, o.latencyMs / 1000);
  });
  return registry;
}
