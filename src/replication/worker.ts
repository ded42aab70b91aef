/**
 * A region's replication worker: claims outbox tasks (leased, so a crash frees them), runs each
 * through the replication stages, and records the outcome on the source version — COMPLETED,
 * FAILED with AWS's reason, or still PENDING with a retry after backoff. Tasks of one key run in
 * order; different keys run concurrently.
 */
import type { Clock } from '../common/clock.js';
import type { OutboxTask, RegionMetadataStore } from '../storage/types.js';
import { ReplicationFailure } from './failure.js';
import type { ReplicationTransport } from './ports.js';
import { replicateTask } from './replicate-task.js';
import { RoleSessionCache } from './role-sessions.js';

export interface ReplicationEvent {
  kind: 'completed' | 'failed' | 'retry';
  task: OutboxTask;
  reason?: string;
  message?: string;
  detail?: string;
  /** Milliseconds from the source version's creation to the outcome. */
  latencyMs?: number;
}

export interface ReplicationWorkerOptions {
  region: string;
  store: RegionMetadataStore;
  transport: ReplicationTransport;
  clock: Clock;
  /** Idle poll interval; wake() starts work at once. */
  pollMs: number;
  /** Claimed tasks processed at once. */
  batchSize?: number;
  leaseMs?: number;
  onEvent?: (e: ReplicationEvent) => void;
}

const MAX_BACKOFF_MS = 5 * 60 * 1000;

export function backoffMs(attempts: number): number {
  return Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(attempts, 20));
}

export class ReplicationWorker {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private again = false;
  private stopped = true;
  private current: Promise<void> | undefined;
  readonly sessions: RoleSessionCache;

  constructor(private readonly opts: ReplicationWorkerOptions) {
    this.sessions = new RoleSessionCache(opts.clock);
  }

  /**
   * Start working. `ownsStore`: this process alone works on the store (embedded mode), so claims
   * left by a previous process are released at once instead of waiting out their leases.
   */
  start(opts: { ownsStore?: boolean } = {}): void {
    this.stopped = false;
    if (opts.ownsStore) {
      this.current = this.opts.store.releaseOutboxClaims().then(
        () => this.wake(),
        () => this.wake(),
      );
      return;
    }
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.current;
  }

  /** New work was committed: run now (coalesced with a run in progress). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.running = true;
    this.current = this.drain().finally(() => {
      this.running = false;
      if (this.stopped) return;
      if (this.again) {
        this.again = false;
        this.wake();
      } else {
        this.timer = setTimeout(() => this.wake(), this.opts.pollMs);
        this.timer.unref();
      }
    });
  }

  /** Process everything that is due now. */
  private async drain(): Promise<void> {
    const batch = this.opts.batchSize ?? 64;
    const lease = this.opts.leaseMs ?? 5 * 60 * 1000;
    for (;;) {
      if (this.stopped) return;
      let tasks: OutboxTask[];
      try {
        tasks = await this.opts.store.claimOutboxTasks(this.opts.clock.now(), batch, lease);
      } catch {
        return; // store closing or busy: the poll timer tries again
      }
      if (tasks.length === 0) return;
      const byKey = new Map<string, OutboxTask[]>();
      for (const t of tasks) {
        const k = `${t.bucket}\n${t.key}\n${t.destinationBucket}`;
        byKey.set(k, [...(byKey.get(k) ?? []), t]);
      }
      await Promise.all(
        [...byKey.values()].map(async (group) => {
          for (const t of group.sort((a, b) => a.id - b.id)) await this.process(t);
        }),
      );
      if (tasks.length < batch) return;
    }
  }

  private async process(task: OutboxTask): Promise<void> {
    const { store, clock } = this.opts;
    try {
      await replicateTask(task, this.opts.transport, this.sessions);
      await store.completeOutboxTask(task.id, { bucket: task.bucket, key: task.key, versionId: task.versionId, status: 'COMPLETED', destination: task.destinationBucket, ruleId: task.ruleId });
      this.emit({ kind: 'completed', task, latencyMs: clock.now() - task.createdAt });
    } catch (e) {
      if (e instanceof ReplicationFailure) {
        this.sessions.invalidate((await this.opts.transport.replicationConfig(task.bucket).catch(() => undefined))?.role ?? '');
        await store
          .completeOutboxTask(task.id, { bucket: task.bucket, key: task.key, versionId: task.versionId, status: 'FAILED', destination: task.destinationBucket, failureReason: e.reason, ruleId: task.ruleId })
          .catch(() => undefined);
        const ev: ReplicationEvent = { kind: 'failed', task, reason: e.reason, message: e.message, latencyMs: clock.now() - task.createdAt };
        if (e.detail) ev.detail = e.detail;
        this.emit(ev);
        return;
      }
      // Anything else is treated as transient: the version stays PENDING and the task retries.
      const message = e instanceof Error ? e.message : String(e);
      await store.retryOutboxTask(task.id, clock.now() + backoffMs(task.attempts), message).catch(() => undefined);
      this.emit({ kind: 'retry', task, message });
    }
  }

  private emit(e: ReplicationEvent): void {
    try {
      this.opts.onEvent?.(e);
    } catch {
      // observers never break replication
    }
  }
}
