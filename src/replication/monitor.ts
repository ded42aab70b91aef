/**
 * Watches replication outcomes across the regions a process serves: keeps recent lag per source
 * bucket (for `meridian replication status`), turns outcomes into AWS-shaped events for whoever
 * subscribes (log, webhook, streaming endpoint, metrics), and watches the Replication Time Control
 * threshold: a pending operation of an RTC rule older than it is OperationMissedThreshold, and
 * one that completes after it is OperationReplicatedAfterThreshold.
 */
import type { Clock } from '../common/clock.js';
import type { OutboxTask, RegionMetadataStore } from '../storage/types.js';
import type { ReplicationConfiguration, ReplicationRule } from './config.js';
import type { FaultChange } from '../faults/registry.js';
import { faultEventRecord, replicationEventRecord, type FaultEventName, type FaultEventRecord, type ReplicationEventInput, type ReplicationEventName, type S3EventRecord } from './events.js';
import { findRule } from './rules.js';
import type { ReplicationEvent } from './worker.js';

/** What the monitor reads of a region it watches. */
export interface MonitoredRegion {
  region: string;
  store: RegionMetadataStore;
  config(bucket: string): Promise<ReplicationConfiguration | undefined>;
}

export type ReplicationNotification =
  | { region: string; bucket: string; name: ReplicationEventName; record: S3EventRecord }
  /** A fault started or ended (MERIDIAN_FAULTS=on): every event stream gets it. */
  | { region: string; bucket?: undefined; name: FaultEventName; record: FaultEventRecord };

/** An outcome as the metrics see it. */
export interface ReplicationOutcome {
  region: string;
  kind: ReplicationEvent['kind'];
  task: OutboxTask;
  latencyMs?: number;
  reason?: string;
}

export interface LagSummary {
  /** Operations the percentiles cover (the most recent completions, at most RECENT). */
  count: number;
  p50Ms?: number;
  p90Ms?: number;
  p99Ms?: number;
  maxMs?: number;
}

export interface MonitorOptions {
  clock: Clock;
  regions: () => MonitoredRegion[];
  /** The RTC threshold; AWS's is 15 minutes (only shortened for tests). */
  thresholdMs?: number;
  /** How often pending RTC operations are checked against the threshold. */
  watchIntervalMs?: number;
}

/** Completions kept per source bucket for the lag percentiles: 16 s at 500 replications/s. */
const RECENT = 8192;
export const RTC_THRESHOLD_MS = 15 * 60 * 1000;

export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

function hasRtc(rule: ReplicationRule | undefined): boolean {
  return rule?.destination.replicationTime?.status === 'Enabled';
}

export class ReplicationMonitor {
  private readonly subscribers = new Set<(n: ReplicationNotification) => void>();
  private readonly outcomeListeners = new Set<(o: ReplicationOutcome) => void>();
  private readonly lag = new Map<string, { values: number[]; next: number }>();
  /** Outbox task ids already reported as having missed the threshold (in memory: at most one repeat after a restart). */
  private readonly missed = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  readonly thresholdMs: number;

  constructor(private readonly opts: MonitorOptions) {
    this.thresholdMs = opts.thresholdMs ?? RTC_THRESHOLD_MS;
  }

  /** Receive AWS-shaped events; returns the unsubscribe function. */
  subscribe(fn: (n: ReplicationNotification) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  onOutcome(fn: (o: ReplicationOutcome) => void): () => void {
    this.outcomeListeners.add(fn);
    return () => this.outcomeListeners.delete(fn);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.checkThresholds().catch(() => undefined), this.opts.watchIntervalMs ?? 30_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A fault started or ended: an event for every subscriber. */
  notifyFault(c: FaultChange): void {
    const n: ReplicationNotification = { region: c.fault.region ?? '', name: c.type === 'started' ? 'FaultStarted' : 'FaultEnded', record: faultEventRecord(c) };
    for (const s of this.subscribers) safely(() => s(n));
  }

  /** Lag of recent completions from a source bucket. */
  lagOf(bucket: string): LagSummary {
    const entry = this.lag.get(bucket);
    if (!entry || entry.values.length === 0) return { count: 0 };
    const sorted = [...entry.values].sort((a, b) => a - b);
    const s: LagSummary = { count: sorted.length };
    const set = (k: 'p50Ms' | 'p90Ms' | 'p99Ms', p: number) => {
      const v = percentile(sorted, p);
      if (v !== undefined) s[k] = v;
    };
    set('p50Ms', 50);
    set('p90Ms', 90);
    set('p99Ms', 99);
    s.maxMs = sorted[sorted.length - 1]!;
    return s;
  }

  /** A worker outcome (the worker calls this through its onEvent). */
  observe(region: string, e: ReplicationEvent): void {
    const outcome: ReplicationOutcome = { region, kind: e.kind, task: e.task };
    if (e.latencyMs !== undefined) outcome.latencyMs = e.latencyMs;
    if (e.reason !== undefined) outcome.reason = e.reason;
    for (const l of this.outcomeListeners) safely(() => l(outcome));
    if (e.kind === 'completed' && e.latencyMs !== undefined) {
      this.recordLag(e.task.bucket, e.latencyMs);
      if (e.latencyMs > this.thresholdMs) void this.afterThreshold(region, e).catch(() => undefined);
      this.missed.delete(e.task.id);
    } else if (e.kind === 'failed') {
      this.missed.delete(e.task.id);
      void this.failed(region, e).catch(() => undefined);
    }
  }

  private recordLag(bucket: string, ms: number): void {
    let entry = this.lag.get(bucket);
    if (!entry) {
      entry = { values: [], next: 0 };
      this.lag.set(bucket, entry);
    }
    if (entry.values.length < RECENT) entry.values.push(ms);
    else entry.values[entry.next] = ms;
    entry.next = (entry.next + 1) % RECENT;
  }

  private regionOf(name: string): MonitoredRegion | undefined {
    return this.opts.regions().find((r) => r.region === name);
  }

  private async emit(region: string, input: Omit<ReplicationEventInput, 'region' | 'time' | 'sourceOwnerAccountId' | 'object'>): Promise<void> {
    const r = this.regionOf(region);
    const full: ReplicationEventInput = { ...input, region, time: this.opts.clock.now() };
    if (r) {
      const [bucket, version] = await Promise.all([r.store.getBucket(input.task.bucket), r.store.getObjectVersion(input.task.bucket, input.task.key, input.task.versionId)]);
      if (bucket) full.sourceOwnerAccountId = bucket.ownerAccountId;
      if (version && !version.isDeleteMarker) full.object = { size: version.size, etag: version.etag };
    }
    const n: ReplicationNotification = { region, bucket: input.task.bucket, name: input.name, record: replicationEventRecord(full) };
    for (const s of this.subscribers) safely(() => s(n));
  }

  private async failed(region: string, e: ReplicationEvent): Promise<void> {
    const input: Parameters<ReplicationMonitor['emit']>[1] = { name: 'OperationFailedReplication', task: e.task };
    if (e.reason !== undefined) input.failureReason = e.reason;
    if (e.detail !== undefined) input.detail = e.detail;
    else if (e.message !== undefined) input.detail = e.message;
    if (e.latencyMs !== undefined) input.latencyMs = e.latencyMs;
    await this.emit(region, input);
    // The rule that selected the version is gone or disabled: metrics no longer track it.
    if (e.reason === 'SrcBucketReplicationConfigMissing') await this.emit(region, { name: 'OperationNotTracked', task: e.task });
  }

  private async afterThreshold(region: string, e: ReplicationEvent): Promise<void> {
    const rule = findRule(await this.regionOf(region)?.config(e.task.bucket), e.task.ruleId);
    if (!hasRtc(rule)) return;
    const input: Parameters<ReplicationMonitor['emit']>[1] = { name: 'OperationReplicatedAfterThreshold', task: e.task };
    if (e.latencyMs !== undefined) input.latencyMs = e.latencyMs;
    await this.emit(region, input);
  }

  /** Report pending RTC operations older than the threshold, once each. */
  async checkThresholds(): Promise<void> {
    const now = this.opts.clock.now();
    for (const r of this.opts.regions()) {
      const old = await r.store.listOutboxTasks({ createdBefore: now - this.thresholdMs, limit: 1000 });
      const configs = new Map<string, ReplicationConfiguration | undefined>();
      for (const task of old) {
        if (this.missed.has(task.id)) continue;
        if (!configs.has(task.bucket)) configs.set(task.bucket, await r.config(task.bucket));
        if (!hasRtc(findRule(configs.get(task.bucket), task.ruleId))) continue;
        this.missed.add(task.id);
        await this.emit(r.region, { name: 'OperationMissedThreshold', task, latencyMs: now - task.createdAt });
      }
    }
  }
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // a subscriber never breaks replication
  }
}
