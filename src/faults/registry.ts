/**
 * The faults in force in this process (MERIDIAN_FAULTS=on only; without it no registry exists and
 * every hook is an absent optional). Faults are timed on the business clock, so a test clock
 * advance ends them; each one ends by itself and says so to whoever listens (log, events, metrics).
 */
import type { Clock } from '../common/clock.js';
import type { FaultSchedule, ScheduledFault } from './schedule.js';
import { DESTINATION_KINDS, type Fault, type FaultSpec } from './spec.js';
import { seededRandom } from './seeded-random.js';

export interface FaultChange {
  type: 'started' | 'ended';
  fault: Fault;
  /** ended: by itself (expired) or cleared by an operator. */
  reason?: 'expired' | 'cleared';
  at: number;
}

export class FaultRegistry {
  private readonly active = new Map<string, Fault>();
  private readonly listeners = new Set<(c: FaultChange) => void>();
  private nextId = 1;
  private random: () => number;
  private timer: NodeJS.Timeout | undefined;
  /** Scheduled faults not yet started, by absolute start time (business clock), in order. */
  private pending: { at: number; spec: FaultSpec }[] = [];
  seed: number;

  constructor(
    private readonly clock: Clock,
    seed = Date.now() % 2 ** 31,
  ) {
    this.seed = seed;
    this.random = seededRandom(seed);
  }

  /** Restart the random sequence (a schedule's seed): the same seed makes the same flaky decisions. */
  reseed(seed: number): void {
    this.seed = seed;
    this.random = seededRandom(seed);
  }

  onChange(fn: (c: FaultChange) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Watch for faults that end by themselves (the fabric also calls tick() after a clock advance). */
  start(intervalMs = 250): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  add(spec: FaultSpec): Fault {
    this.tick();
    const now = this.clock.now();
    const fault: Fault = { ...spec, id: `f-${this.nextId++}`, startedAt: now, endsAt: now + spec.durationMs, injected: 0 };
    this.active.set(fault.id, fault);
    this.emit({ type: 'started', fault, at: now });
    return fault;
  }

  /** Faults in force, oldest first. */
  list(): Fault[] {
    this.tick();
    return [...this.active.values()];
  }

  /** End one fault (by id) or all, and with no id drop what a schedule has not started yet; returns those ended. */
  clear(id?: string): Fault[] {
    if (id === undefined) this.pending = [];
    const ended = [...this.active.values()].filter((f) => id === undefined || f.id === id);
    const now = this.clock.now();
    for (const f of ended) {
      this.active.delete(f.id);
      this.emit({ type: 'ended', fault: f, reason: 'cleared', at: now });
    }
    return ended;
  }

  /** Replay a schedule from now: reseeds, and starts each fault at its offset, in order. Returns the start times. */
  runSchedule(schedule: FaultSchedule): { at: number; fault: ScheduledFault }[] {
    this.reseed(schedule.seed);
    const start = this.clock.now();
    const timeline = schedule.faults.map((f) => ({ at: start + f.afterMs, fault: f }));
    this.pending.push(...timeline.map((t) => ({ at: t.at, spec: t.fault.spec })));
    this.pending.sort((a, b) => a.at - b.at);
    this.tick();
    return timeline;
  }

  /** Scheduled faults still to start. */
  scheduled(): { at: number; spec: FaultSpec }[] {
    return [...this.pending];
  }

  /** Start the scheduled faults that are due, end the faults whose time is up. */
  tick(): void {
    const now = this.clock.now();
    while (this.pending.length > 0 && this.pending[0]!.at <= now) {
      const next = this.pending.shift()!;
      // Started at its scheduled time, so a clock advance past several faults replays them in order.
      const fault: Fault = { ...next.spec, id: `f-${this.nextId++}`, startedAt: next.at, endsAt: next.at + next.spec.durationMs, injected: 0 };
      this.active.set(fault.id, fault);
      this.emit({ type: 'started', fault, at: next.at });
    }
    for (const f of [...this.active.values()]) {
      if (f.endsAt > now) continue;
      this.active.delete(f.id);
      this.emit({ type: 'ended', fault: f, reason: 'expired', at: now });
    }
  }

  // ------------------------------------------------------------------ hooks (hot paths: no allocation when idle)

  private inForce(f: Fault): boolean {
    return f.endsAt > this.clock.now();
  }

  /** Destination faults on a replica write to `bucket` in `region`. */
  destination(region: string, bucket: string): Fault[] {
    if (this.active.size === 0) return [];
    return [...this.active.values()].filter(
      (f) => DESTINATION_KINDS.includes(f.kind) && this.inForce(f) && (f.region === undefined || f.region === region) && (f.bucket === undefined || f.bucket === bucket),
    );
  }

  /** A kms-disabled fault on this key (matched by ARN, or by key id). */
  kmsKeyDisabled(keyArn: string): Fault | undefined {
    if (this.active.size === 0) return undefined;
    for (const f of this.active.values()) {
      if (f.kind !== 'kms-disabled' || !this.inForce(f) || !f.key) continue;
      if (f.key === keyArn || keyArn.endsWith(`:key/${f.key}`)) return f;
    }
    return undefined;
  }

  enospc(region: string): Fault | undefined {
    return this.regional('enospc', region);
  }

  workersPaused(region: string): Fault | undefined {
    return this.regional('pause-workers', region);
  }

  private regional(kind: Fault['kind'], region: string): Fault | undefined {
    if (this.active.size === 0) return undefined;
    for (const f of this.active.values()) if (f.kind === kind && this.inForce(f) && (f.region === undefined || f.region === region)) return f;
    return undefined;
  }

  /** The next seeded random number in [0, 1) (flaky and throttle decisions). */
  chance(): number {
    return this.random();
  }

  /** A fault changed an operation (counted for list and metrics). */
  injected(f: Fault): void {
    f.injected++;
    for (const l of this.injectionListeners) safely(() => l(f));
  }

  private readonly injectionListeners = new Set<(f: Fault) => void>();

  onInjection(fn: (f: Fault) => void): void {
    this.injectionListeners.add(fn);
  }

  private emit(c: FaultChange): void {
    for (const l of this.listeners) safely(() => l(c));
  }
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // a listener never breaks fault handling
  }
}
