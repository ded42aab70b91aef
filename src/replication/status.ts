/**
 * `meridian replication status`: what is pending (operations, bytes, how far behind), what FAILED
 * and why (AWS's failure reasons), what keeps retrying, and the lag of recent replications.
 */
import type { Fault } from '../faults/spec.js';
import { describeFault } from '../faults/spec.js';
import type { RegionMetadataStore } from '../storage/types.js';
import type { DestinationStatus } from './destinations.js';
import type { LagSummary } from './monitor.js';

export interface ReplicationStatusReport {
  bucket: string;
  region: string;
  pending: {
    operations: number;
    bytes: number;
    oldestAgeSeconds: number;
    byDestination: { destinationBucket: string; ruleId: string; operations: number; bytes: number; oldestAgeSeconds: number }[];
  };
  failed: { total: number; byReason: { destinationBucket: string; ruleId?: string; reason: string; count: number }[] };
  /** Pending operations that already failed transiently at least once (oldest first, at most 20). */
  retrying: { key: string; versionId: string; destinationBucket: string; attempts: number; lastError?: string; nextAttemptAt: string; parked?: boolean }[];
  /** Destinations of this bucket's pending work that do not answer: their tasks are parked and one probe tries them. */
  unreachableDestinations: { destinationBucket: string; region?: string; since: string; failedProbes: number; lastError: string; nextProbeAt?: string }[];
  /** Injected faults in force (only when the server runs with MERIDIAN_FAULTS=on). */
  faults?: { id: string; kind: string; description: string; region?: string; bucket?: string; key?: string; endsAt: string; remainingSeconds: number; injected: number }[];
  lag: LagSummary;
}

export interface StatusExtras {
  unreachable?: DestinationStatus[];
  faults?: Fault[];
}

/**
 * The report for a bucket: what the store holds (backlog, failures, retrying tasks), then what this
 * process recorded in memory (`lag`, `extras`), read only after every write it committed before the
 * store was read has been acknowledged and its outcome recorded: a task the store no longer shows as
 * pending is then counted in the lag (`replication wait` returns with every outcome counted).
 */
export async function replicationStatusReport(store: RegionMetadataStore, bucket: string, lag: () => LagSummary, now: number, extrasOf: () => StatusExtras = () => ({})): Promise<ReplicationStatusReport> {
  const [backlog, failures, tasks] = await Promise.all([
    store.replicationBacklog(bucket),
    store.replicationFailures(bucket),
    // Only the (at most 20) retrying ones: a backlog of thousands of due tasks is not read to find them.
    store.listOutboxTasks({ bucket, retrying: true, limit: 20 }),
  ]);
  await store.settled();
  // The callers' continuations (which record outcomes) run in microtasks: let them all run first.
  await new Promise((resolve) => setImmediate(resolve));
  const extras = extrasOf();
  const age = (t: number) => Math.max(0, Math.round((now - t) / 100) / 10);
  const report: ReplicationStatusReport = {
    bucket,
    region: store.region,
    pending: {
      operations: backlog.reduce((n, b) => n + b.operations, 0),
      bytes: backlog.reduce((n, b) => n + b.bytes, 0),
      oldestAgeSeconds: backlog.length ? age(Math.min(...backlog.map((b) => b.oldestCreatedAt))) : 0,
      byDestination: backlog.map((b) => ({ destinationBucket: b.destinationBucket, ruleId: b.ruleId, operations: b.operations, bytes: b.bytes, oldestAgeSeconds: age(b.oldestCreatedAt) })),
    },
    failed: {
      total: failures.reduce((n, f) => n + f.count, 0),
      byReason: failures
        .map((f) => {
          const r: ReplicationStatusReport['failed']['byReason'][number] = { destinationBucket: f.destinationBucket, reason: f.reason, count: f.count };
          if (f.ruleId !== undefined) r.ruleId = f.ruleId;
          return r;
        })
        .sort((a, b) => b.count - a.count),
    },
    retrying: tasks.map((t) => {
      const probe = t.parked ? extras.unreachable?.find((d) => d.destinationBucket === t.destinationBucket)?.nextProbeAt : undefined;
      const r: ReplicationStatusReport['retrying'][number] = {
        key: t.key,
        versionId: t.versionId,
        destinationBucket: t.destinationBucket,
        attempts: t.attempts,
        nextAttemptAt: new Date(t.parked ? (probe ?? now) : t.notBefore).toISOString(),
      };
      if (t.lastError !== undefined) r.lastError = t.lastError;
      if (t.parked) r.parked = true;
      return r;
    }),
    unreachableDestinations: (extras.unreachable ?? [])
      .filter((d) => backlog.some((b) => b.destinationBucket === d.destinationBucket))
      .map((d) => {
        const u: ReplicationStatusReport['unreachableDestinations'][number] = { destinationBucket: d.destinationBucket, since: new Date(d.since).toISOString(), failedProbes: d.failedProbes, lastError: d.lastError };
        if (d.region !== undefined) u.region = d.region;
        if (d.nextProbeAt !== undefined) u.nextProbeAt = new Date(d.nextProbeAt).toISOString();
        return u;
      }),
    lag: lag(),
  };
  if (extras.faults) {
    report.faults = extras.faults.map((f) => {
      const r: NonNullable<ReplicationStatusReport['faults']>[number] = {
        id: f.id,
        kind: f.kind,
        description: describeFault(f),
        endsAt: new Date(f.endsAt).toISOString(),
        remainingSeconds: Math.max(0, Math.round((f.endsAt - now) / 1000)),
        injected: f.injected,
      };
      if (f.region !== undefined) r.region = f.region;
      if (f.bucket !== undefined) r.bucket = f.bucket;
      if (f.key !== undefined) r.key = f.key;
      return r;
    });
  }
  return report;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = -1;
  do {
    v /= 1024;
    i++;
  } while (v >= 1024 && i < units.length - 1);
  return `${v.toFixed(1)} ${units[i]}`;
}

function ms(v: number | undefined): string {
  return v === undefined ? '-' : v < 1000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(2)} s`;
}

export function renderStatus(r: ReplicationStatusReport): string {
  const out: string[] = [];
  out.push(`Replication of bucket ${r.bucket} (${r.region})`);
  out.push(`  pending: ${r.pending.operations} operation(s), ${bytes(r.pending.bytes)}${r.pending.operations ? `, oldest ${r.pending.oldestAgeSeconds} s` : ''}`);
  for (const d of r.pending.byDestination) out.push(`    → ${d.destinationBucket} (rule ${d.ruleId}): ${d.operations} operation(s), ${bytes(d.bytes)}, oldest ${d.oldestAgeSeconds} s`);
  out.push(`  failed: ${r.failed.total} version(s)`);
  for (const f of r.failed.byReason) out.push(`    ${f.reason}: ${f.count} → ${f.destinationBucket}${f.ruleId ? ` (rule ${f.ruleId})` : ''}`);
  for (const d of r.unreachableDestinations ?? []) {
    out.push(`  destination ${d.destinationBucket}${d.region ? ` (${d.region})` : ''} unreachable since ${d.since}: ${d.failedProbes} failed probe(s), next probe ${d.nextProbeAt ?? 'now'}: ${d.lastError}`);
  }
  if (r.retrying.length) {
    out.push('  retrying (transient errors):');
    for (const t of r.retrying) out.push(`    ${t.key} ${t.versionId} → ${t.destinationBucket}: ${t.attempts} attempt(s), ${t.parked ? 'parked until its destination answers' : `next ${t.nextAttemptAt}`}${t.lastError ? `: ${t.lastError}` : ''}`);
  }
  if (r.faults) {
    out.push(`  injected faults in force: ${r.faults.length}`);
    for (const f of r.faults) out.push(`    ${f.id} ${f.description}: ends in ${f.remainingSeconds} s, ${f.injected} operation(s) changed`);
  }
  const l = r.lag;
  out.push(`  lag of the last ${l.count} replication(s): p50 ${ms(l.p50Ms)}, p90 ${ms(l.p90Ms)}, p99 ${ms(l.p99Ms)}, max ${ms(l.maxMs)}`);
  return out.join('\n');
}
