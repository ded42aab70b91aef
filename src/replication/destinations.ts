/**
 * Backoff per destination, not per task. When a destination does not answer, its tasks are parked
 * in the outbox (not in memory) and one timer per destination probes it at jittered, growing
 * intervals capped low (2 s by default), whatever the outage's length: a destination back after
 * 30 s or after 24 h is noticed within seconds, and its parked tasks are released at once — the
 * worker's in-flight limit bounds the rate at which they then run. Memory and timers grow with
 * the number of unreachable destinations, never with the number of parked tasks.
 */
import { realTimers, type Timers } from '../common/timers.js';

export interface ProbeOptions {
  /** First probe interval (before jitter). */
  minMs?: number;
  /** Longest probe interval (before jitter): the worst-case delay in noticing a recovery. */
  maxMs?: number;
  /** Random source in [0, 1) for the jitter (a seeded one in simulations). */
  random?: () => number;
  /** Where the probe timers run (virtual time in the simulation); real timers by default. */
  timers?: Timers;
}

/** An unreachable destination, as `meridian replication status` shows it. */
export interface DestinationStatus {
  destinationBucket: string;
  region?: string;
  /** Epoch ms (business clock) when it stopped answering. */
  since: number;
  /** Probes that failed since. */
  failedProbes: number;
  lastError: string;
  /** Epoch ms (wall clock) of the next probe. */
  nextProbeAt?: number;
}

interface State extends DestinationStatus {
  timer: unknown;
  probing: boolean;
  /** The id of the last task probed: the next probe takes the one after it (no task can block a destination). */
  cursor: number;
}

const DEFAULT_MIN_MS = 500;
const DEFAULT_MAX_MS = 2000;

export class DestinationBackoff {
  private readonly states = new Map<string, State>();
  private readonly minMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;
  private readonly timerApi: Timers;
  private stopped = false;

  constructor(
    /** Probe the destination (claim and run one of its parked tasks); the outcome comes back through unreachable()/answered(). */
    private readonly probe: (destinationBucket: string, afterId: number) => Promise<void>,
    private readonly now: () => number,
    opts: ProbeOptions = {},
  ) {
    this.minMs = opts.minMs ?? DEFAULT_MIN_MS;
    this.maxMs = Math.max(this.minMs, opts.maxMs ?? DEFAULT_MAX_MS);
    this.random = opts.random ?? Math.random;
    this.timerApi = opts.timers ?? realTimers;
  }

  isUnreachable(destinationBucket: string): boolean {
    return this.states.has(destinationBucket);
  }

  lastError(destinationBucket: string): string {
    return this.states.get(destinationBucket)?.lastError ?? 'unreachable';
  }

  /** A task for the destination failed without a verdict (or was parked): make sure a probe is scheduled. */
  unreachable(destinationBucket: string, info: { region?: string; message?: string; probedId?: number }): void {
    let s = this.states.get(destinationBucket);
    if (!s) {
      s = { destinationBucket, since: this.now(), failedProbes: 0, lastError: info.message ?? 'unreachable', timer: undefined, probing: false, cursor: 0 };
      this.states.set(destinationBucket, s);
    }
    if (info.region !== undefined) s.region = info.region;
    if (info.message !== undefined) s.lastError = info.message;
    if (info.probedId !== undefined) {
      s.probing = false;
      s.failedProbes++;
      s.cursor = info.probedId;
    }
    this.schedule(s);
  }

  /** The destination gave a verdict. True if it had been unreachable: the caller releases its parked tasks. */
  answered(destinationBucket: string): boolean {
    const s = this.states.get(destinationBucket);
    if (!s) return false;
    if (s.timer) this.timerApi.clearTimeout(s.timer);
    this.states.delete(destinationBucket);
    return true;
  }

  /** A probe found nothing to try: no parked task is left, so there is nothing to wait for. */
  nothingParked(destinationBucket: string): void {
    this.answered(destinationBucket);
  }

  /** The probe could not run (workers paused, store busy): try again later without counting it. */
  probeSkipped(destinationBucket: string): void {
    const s = this.states.get(destinationBucket);
    if (!s) return;
    s.probing = false;
    this.schedule(s);
  }

  list(): DestinationStatus[] {
    return [...this.states.values()].map((s) => {
      const d: DestinationStatus = { destinationBucket: s.destinationBucket, since: s.since, failedProbes: s.failedProbes, lastError: s.lastError };
      if (s.region !== undefined) d.region = s.region;
      if (s.nextProbeAt !== undefined) d.nextProbeAt = s.nextProbeAt;
      return d;
    });
  }

  /** Timers alive (one per unreachable destination at most). */
  timers(): number {
    let n = 0;
    for (const s of this.states.values()) if (s.timer) n++;
    return n;
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.states.values()) if (s.timer) this.timerApi.clearTimeout(s.timer);
    this.states.clear();
  }

  /** Jittered interval: min · 2^failedProbes, capped, times a factor in [0.5, 1). */
  intervalMs(failedProbes: number): number {
    const base = Math.min(this.maxMs, this.minMs * 2 ** Math.min(failedProbes, 30));
    return Math.round(base * (0.5 + this.random() / 2));
  }

  private schedule(s: State): void {
    if (this.stopped || s.timer || s.probing) return;
    const delay = this.intervalMs(s.failedProbes);
    s.nextProbeAt = Date.now() + delay;
    s.timer = this.timerApi.setTimeout(() => {
      s.timer = undefined;
      delete s.nextProbeAt;
      if (this.stopped || this.states.get(s.destinationBucket) !== s) return;
      s.probing = true;
      this.probe(s.destinationBucket, s.cursor).catch(() => this.probeSkipped(s.destinationBucket));
    }, delay);
  }
}
