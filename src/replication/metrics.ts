/**
 * Replication metrics for Prometheus, under AWS's CloudWatch names and dimensions (reference §3.2):
 * OperationsPendingReplication, BytesPendingReplication and ReplicationLatency (the age of the
 * oldest pending operation, "how far the destination is behind") are read from the outbox at each
 * scrape; OperationsFailedReplication counts failures. Meridian adds a latency histogram and an
 * outcome counter. Labels: SourceBucket, DestinationBucket, RuleId.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Clock } from '../common/clock.js';
import type { FaultRegistry } from '../faults/registry.js';
import type { DestinationStatus } from './destinations.js';
import type { ReplicationBacklog } from '../storage/types.js';
import type { ReplicationMonitor } from './monitor.js';

const LABELS = ['SourceBucket', 'DestinationBucket', 'RuleId'] as const;
type Labels = Record<(typeof LABELS)[number], string>;

export interface ReplicationMetricsOptions {
  clock: Clock;
  monitor: ReplicationMonitor;
  /** Pending work of every region this process serves. */
  backlog: () => Promise<ReplicationBacklog[]>;
  /** Destinations the workers are probing (parked work waits for them). */
  unreachable?: () => DestinationStatus[];
  /** Injected faults (MERIDIAN_FAULTS=on only). */
  faults?: FaultRegistry;
  /** Split mode: replicas sent to peer processes in bundles, by destination region. */
  bundles?: () => { region: string; bundles: number; replicas: number }[];
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
  const unreachable = opts.unreachable;
  if (unreachable) {
    new Gauge({
      name: 'meridian_replication_destination_unreachable',
      help: 'Destinations not answering: their tasks are parked and one probe tries them (value: failed probes so far)',
      labelNames: ['DestinationBucket', 'Region'],
      registers: [registry],
      collect() {
        this.reset();
        for (const d of unreachable()) this.set({ DestinationBucket: d.destinationBucket, Region: d.region ?? '' }, d.failedProbes);
      },
    });
  }
  const bundles = opts.bundles;
  if (bundles) {
    const counter = (name: string, help: string, value: (b: { bundles: number; replicas: number }) => number) =>
      new Counter({
        name,
        help,
        labelNames: ['Region'],
        registers: [registry],
        collect() {
          this.reset();
          for (const b of bundles()) this.inc({ Region: b.region }, value(b));
        },
      });
    counter('meridian_replica_bundles_total', 'Split mode: requests that carried small replicas to the process serving a destination region', (b) => b.bundles);
    counter('meridian_replica_bundled_replicas_total', 'Split mode: small replicas sent in those requests (÷ bundles = replicas per request)', (b) => b.replicas);
  }
  const faults = opts.faults;
  if (faults) {
    new Gauge({
      name: 'meridian_faults_active',
      help: 'Injected faults in force (MERIDIAN_FAULTS=on), by id, kind and region',
      labelNames: ['id', 'kind', 'region'],
      registers: [registry],
      collect() {
        this.reset();
        for (const f of faults.list()) this.set({ id: f.id, kind: f.kind, region: f.region ?? '*' }, 1);
      },
    });
    const injections = new Counter({ name: 'meridian_fault_injections_total', help: 'Operations an injected fault changed, by kind', labelNames: ['kind'], registers: [registry] });
    faults.onInjection((f) => injections.inc({ kind: f.kind }));
    const events = new Counter({ name: 'meridian_faults_total', help: 'Injected faults started and ended, by kind', labelNames: ['kind', 'event'], registers: [registry] });
    faults.onChange((c) => events.inc({ kind: c.fault.kind, event: c.type }));
  }
  const replicationEvents = new Counter({
    name: 'meridian_replication_events_total',
    help: 'Replication events by name: OperationFailedReplication, OperationMissedThreshold, OperationReplicatedAfterThreshold, OperationNotTracked',
    labelNames: [...LABELS, 'event'],
    registers: [registry],
  });
  opts.monitor.subscribe((n) => {
    if (n.bucket === undefined) return;
    replicationEvents.inc({ ...labelsOf({ bucket: n.bucket, destinationBucket: n.record.replicationEventData.destinationBucket.replace(/^arn:aws:s3:::/, ''), ruleId: n.record.replicationEventData.replicationRuleId }), event: n.name });
  });
  opts.monitor.onOutcome((o) => {
    const labels = labelsOf(o.task);
    outcomes.inc({ ...labels, outcome: o.kind });
    if (o.kind === 'failed') failed.inc(labels);
    if (o.kind === 'completed' && o.latencyMs !== undefined) latency.observe(labels, o.latencyMs / 1000);
  });
  return registry;
}
