/**
 * Virtual time for the replication simulation: one clock (the business clock the worker and the
 * store read) and a timer queue that only moves when the simulation loop fires the next timer.
 * Timers belong to a "process": a simulated crash drops every timer of the process that died,
 * as a real crash drops its in-memory timers. Ties fire in the order they were set.
 */
import type { Clock } from '../../src/common/clock.js';
import type { Timers } from '../../src/common/timers.js';

interface Timer {
  at: number;
  order: number;
  fn: () => void;
  /** The simulated process that set it (0: the world outside any process: the network, the clients). */
  pid: number;
  cancelled: boolean;
}

export class VirtualTime implements Clock {
  #now: number;
  #order = 0;
  #queue: Timer[] = [];

  constructor(start: number) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** Schedule `fn` at `now + ms` on behalf of process `pid`. */
  at(ms: number, fn: () => void, pid = 0): Timer {
    const t: Timer = { at: this.#now + Math.max(0, ms), order: this.#order++, fn, pid, cancelled: false };
    // Sorted insert (timers are few: a probe per destination, a poll, the network's messages).
    let i = this.#queue.length;
    while (i > 0 && (this.#queue[i - 1]!.at > t.at || (this.#queue[i - 1]!.at === t.at && this.#queue[i - 1]!.order > t.order))) i--;
    this.#queue.splice(i, 0, t);
    return t;
  }

  /** The Timers seam handed to the worker of process `pid`. */
  timersFor(pid: number): Timers {
    return {
      setTimeout: (fn, ms) => this.at(ms, fn, pid),
      clearTimeout: (h) => {
        if (h) (h as Timer).cancelled = true;
      },
    };
  }

  /** A crash: the process's timers die with it. */
  kill(pid: number): void {
    for (const t of this.#queue) if (t.pid === pid) t.cancelled = true;
  }

  /** Time of the next live timer, if any. */
  peek(): number | undefined {
    while (this.#queue.length && this.#queue[0]!.cancelled) this.#queue.shift();
    return this.#queue[0]?.at;
  }

  /** Move time to the next live timer and run it. False if none is left. */
  fireNext(): boolean {
    if (this.peek() === undefined) return false;
    const t = this.#queue.shift()!;
    this.#now = t.at;
    t.fn();
    return true;
  }

  /** Move time forward without firing anything (nothing may be due before `to`). */
  advanceTo(to: number): void {
    if (to > this.#now) this.#now = to;
  }

  pending(): number {
    return this.#queue.filter((t) => !t.cancelled).length;
  }
}
