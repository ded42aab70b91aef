/**
 * A region's replication worker: claims outbox tasks (leased, so a crash frees them), runs each
 * through the replication stages, and records the outcome on the source version — COMPLETED,
 * FAILED with AWS's reason, or still PENDING. A destination that does not answer has its tasks
 * parked and is probed (destinations.ts); other transient trouble retries the task after a
 * backoff. Tasks of one key run in order; different keys run concurrently, as many as the transfer
 * window allows (transfer-window.ts: up to `batchSize` small replicas, fewer large ones).
 */
import type { Clock } from '../common/clock.js';
import { beginReadEpoch } from '../common/read-epoch.js';
import { realTimers, type Timers } from '../common/timers.js';
import type { OutboxTask, RegionMetadataStore } from '../storage/types.js';
import { DestinationBackoff, type DestinationStatus, type ProbeOptions } from './destinations.js';
import { DestinationUnavailableError, ReplicationFailure } from './failure.js';
import type { ReplicationTransport } from './ports.js';
import { replicateTask } from './replicate-task.js';
import { RoleSessionCache } from './role-sessions.js';
import { TransferWindow } from './transfer-window.js';

export interface ReplicationEvent {
  /** parked: the destination is unreachable, so the task waits in the outbox without being tried. */
  kind: 'completed' | 'failed' | 'retry' | 'parked';
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
  /** Tasks in flight at most (claimed and not finished); default 256. */
  batchSize?: number;
  /** Replica bytes sent at once at most (a larger single replica goes alone); default 256 MiB. */
  maxBytesInFlight?: number;
  leaseMs?: number;
  onEvent?: (e: ReplicationEvent) => void;
  /** Tests only: a claimed task waits this long before it runs (crash tests catch work in flight). */
  delayMs?: number;
  /** How an unreachable destination is probed. */
  probe?: ProbeOptions;
  /** While this returns true the worker claims nothing (a "workers paused" fault). */
  paused?: () => boolean;
  /** Where the poll and probe timers run (virtual time in the simulation); real timers by default. */
  timers?: Timers;
}

const MAX_BACKOFF_MS = 5 * 60 * 1000;

export function backoffMs(attempts: number): number {
  return Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(attempts, 20));
}

export class ReplicationWorker {
  private timer: unknown;
  /** A claim is in progress; wake-ups meanwhile set `again`. */
  private claiming = false;
  private again = false;
  /** The last claim filled every free slot: a finishing task claims more at once. */
  private saturated = false;
  private stopped = true;
  private current: Promise<void> | undefined;
  /** Tasks in flight, by key: a key's next task chains after its previous one. */
  private readonly tails = new Map<string, Promise<void>>();
  private inFlight = 0;
  /** Ids of the tasks in flight: a lease that expires under a slow write must not start the same task twice here. */
  private readonly running = new Set<number>();
  readonly sessions: RoleSessionCache;
  readonly window: TransferWindow;
  private readonly destinations: DestinationBackoff;
  private readonly timers: Timers;

  constructor(private readonly opts: ReplicationWorkerOptions) {
    this.timers = opts.timers ?? realTimers;
    this.sessions = new RoleSessionCache(opts.clock);
    this.window = new TransferWindow({ maxTasks: opts.batchSize ?? 256, maxBytes: opts.maxBytesInFlight ?? 256 * 1024 * 1024 });
    this.destinations = new DestinationBackoff((d, afterId) => this.probe(d, afterId), () => opts.clock.now(), { ...opts.probe, timers: this.timers });
  }

  /** Destinations currently unreachable, with their probe schedule. */
  unreachableDestinations(): DestinationStatus[] {
    return this.destinations.list();
  }

  /** Probe timers alive: at most one per unreachable destination, whatever the number of parked tasks. */
  probeTimers(): number {
    return this.destinations.timers();
  }

  /**
   * Start working. `ownsStore`: this process alone works on the store (embedded mode), so claims
   * left by a previous process are released at once instead of waiting out their leases.
   */
  start(opts: { ownsStore?: boolean } = {}): void {
    this.stopped = false;
    const resumed = this.resumeProbes();
    if (opts.ownsStore) {
      this.current = Promise.all([this.opts.store.releaseOutboxClaims(), resumed]).then(
        () => this.wake(),
        () => this.wake(),
      );
      return;
    }
    this.wake();
  }

  /** Tasks parked before a restart: their destinations are probed again (the state in memory died with the process). */
  private async resumeProbes(): Promise<void> {
    try {
      for (const p of await this.opts.store.parkedOutboxDestinations()) this.destinations.unreachable(p.destinationBucket, { message: `${p.tasks} task(s) parked before a restart` });
    } catch {
      // store closing: the next start resumes them
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.destinations.stop();
    await this.current;
    await Promise.all([...this.tails.values()]);
  }

  /** New work was committed (or a slot freed up): claim it now, coalesced with a claim in progress. */
  wake(): void {
    if (this.stopped) return;
    if (this.claiming) {
      this.again = true;
      return;
    }
    if (this.timer) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.claiming = true;
    this.current = this.fill().finally(() => {
      this.claiming = false;
      if (this.stopped) return;
      if (this.again) {
        this.again = false;
        this.wake();
      } else {
        this.timer = this.timers.setTimeout(() => this.wake(), this.opts.pollMs);
      }
    });
  }

  /**
   * Claim what is due, up to the free slots, and start it. There is no batch barrier: a task
   * committed while others are in flight is claimed at once (its commit wakes the worker), so one
   * slow replica does not hold back the ones behind it.
   */
  private async fill(): Promise<void> {
    const lease = this.opts.leaseMs ?? 5 * 60 * 1000;
    for (;;) {
      if (this.stopped) return;
      this.again = false;
      // While replicas queue for bytes there is work enough: claiming more would only start their leases.
      const room = this.window.waiting > 0 ? 0 : this.window.tasks() - this.inFlight;
      this.saturated = room <= 0;
      if (room <= 0) return;
      if (this.opts.paused?.()) return; // the poll timer looks again
      let tasks: OutboxTask[];
      try {
        tasks = await this.opts.store.claimOutboxTasks(this.opts.clock.now(), room, lease);
      } catch {
        return; // store closing or busy: the poll timer tries again
      }
      // Oldest first, so a key's versions chain in the order they were written.
      for (const t of tasks.sort((a, b) => a.id - b.id)) this.run(t);
      if (tasks.length === room) this.saturated = true;
      if (tasks.length < room && !this.again) return;
    }
  }

  /** Claim one parked task of an unreachable destination and try it: its outcome decides for the destination. */
  private async probe(destinationBucket: string, afterId: number): Promise<void> {
    if (this.stopped) return;
    if (this.opts.paused?.()) {
      this.destinations.probeSkipped(destinationBucket);
      return;
    }
    const task = await this.opts.store.claimParkedOutboxTask(destinationBucket, afterId, this.opts.clock.now(), this.opts.leaseMs ?? 5 * 60 * 1000);
    if (!task) {
      // None claimable now. Parked tasks may still wait behind an older task of their key (leased by a
      // crashed process, backing off): keep probing, or they would stay parked for good (found by the
      // simulation, test/simulation). Otherwise they are gone (completed, or the bucket's tasks removed).
      const left = await this.opts.store.parkedOutboxDestinations().catch(() => undefined);
      if (!left || left.some((p) => p.destinationBucket === destinationBucket)) this.destinations.probeSkipped(destinationBucket);
      else this.destinations.nothingParked(destinationBucket);
      return;
    }
    this.run(task);
  }

  /** The destination answered: release its parked tasks at once (the in-flight limit bounds the rate). */
  private async answered(destinationBucket: string): Promise<void> {
    if (!this.destinations.answered(destinationBucket)) return;
    await this.opts.store.releaseParkedOutboxTasks(destinationBucket, this.opts.clock.now()).catch(() => undefined);
    this.wake();
  }

  private run(task: OutboxTask): void {
    if (this.running.has(task.id)) return;
    this.running.add(task.id);
    const key = `${task.bucket}\n${task.key}\n${task.destinationBucket}`;
    this.inFlight++;
    const previous = this.tails.get(key);
    let left = false;
    const done: Promise<void> = (previous ?? Promise.resolve())
      .then(async () => {
        left = await this.process(task);
      })
      .catch(() => undefined) // process() records every outcome itself; a chain never breaks
      .finally(() => {
        this.running.delete(task.id);
        this.inFlight--;
        if (this.tails.get(key) === done) this.tails.delete(key);
        // A task that left the outbox lets the claim take the next task of its key: claim now.
        if (this.saturated || left) this.wake();
      });
    this.tails.set(key, done);
  }

  /** True if the task left the outbox (COMPLETED or FAILED recorded). */
  private async process(task: OutboxTask): Promise<boolean> {
    const { store, clock } = this.opts;
    // What it reads (configurations, policies, keys) is checked against other processes' commits anew.
    beginReadEpoch();
    // A destination known to be down: park without trying (only its probe goes through).
    if (!task.parked && this.destinations.isUnreachable(task.destinationBucket)) {
      const message = `destination unreachable, waiting for it to answer a probe: ${this.destinations.lastError(task.destinationBucket)}`;
      await store.parkOutboxTask(task.id, message).catch(() => undefined);
      this.destinations.unreachable(task.destinationBucket, {});
      this.emit({ kind: 'parked', task, message });
      return false;
    }
    try {
      if (this.opts.delayMs) await new Promise<void>((r) => this.timers.setTimeout(r, this.opts.delayMs!));
      await replicateTask(task, this.opts.transport, this.sessions, {}, this.window);
      await store.completeOutboxTask(task.id, { bucket: task.bucket, key: task.key, versionId: task.versionId, status: 'COMPLETED', destination: task.destinationBucket, ruleId: task.ruleId });
      this.emit({ kind: 'completed', task, latencyMs: clock.now() - task.createdAt });
      await this.answered(task.destinationBucket);
      return true;
    } catch (e) {
      if (e instanceof DestinationUnavailableError) {
        // Parked in the outbox; one timer for the destination probes it.
        const message = e.message;
        await store.parkOutboxTask(task.id, message).catch(() => undefined);
        const info: Parameters<DestinationBackoff['unreachable']>[1] = { region: e.region, message };
        if (task.parked) info.probedId = task.id;
        this.destinations.unreachable(task.destinationBucket, info);
        this.emit({ kind: 'retry', task, message });
        return false;
      }
      if (e instanceof ReplicationFailure) {
        this.sessions.invalidate((await this.opts.transport.replicationConfig(task.bucket).catch(() => undefined))?.role ?? '');
        await store
          .completeOutboxTask(task.id, { bucket: task.bucket, key: task.key, versionId: task.versionId, status: 'FAILED', destination: task.destinationBucket, failureReason: e.reason, ruleId: task.ruleId })
          .catch(() => undefined);
        const ev: ReplicationEvent = { kind: 'failed', task, reason: e.reason, message: e.message, latencyMs: clock.now() - task.createdAt };
        if (e.detail) ev.detail = e.detail;
        this.emit(ev);
        await this.answered(task.destinationBucket);
        return true;
      }
      // Anything else is treated as transient: the version stays PENDING and the task retries.
      const message = e instanceof Error ? e.message : String(e);
      await this.untilRecorded(() => store.retryOutboxTask(task.id, clock.now() + backoffMs(task.attempts), message));
      // A probe that hit trouble before reaching the destination (a rule disabled, …) leaves its task
      // with a per-task backoff; the destination has not answered, so it stays probed.
      if (task.parked) this.destinations.unreachable(task.destinationBucket, { message, probedId: task.id });
      this.emit({ kind: 'retry', task, message });
      return false;
    }
  }

  /**
   * Give a claimed task back, retrying while the store cannot be reached (its database restarting):
   * otherwise the task would wait out its whole lease before anyone tried it again. Gives up at
   * the lease's end, when the task is claimable again anyway, or when the worker stops.
   */
  private async untilRecorded(record: () => Promise<void>): Promise<void> {
    const until = this.opts.clock.now() + (this.opts.leaseMs ?? 5 * 60 * 1000);
    for (;;) {
      try {
        await record();
        return;
      } catch {
        if (this.stopped || this.opts.clock.now() >= until) return;
        await new Promise<void>((r) => this.timers.setTimeout(r, Math.min(1000, this.opts.pollMs)));
      }
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
