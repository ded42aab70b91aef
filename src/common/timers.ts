/**
 * Timers as a seam: background loops (the replication worker's poll, the destination probes) take
 * one of these instead of calling setTimeout themselves, so the deterministic simulation
 * (test/simulation) can run them on virtual time. Production uses `realTimers`.
 */
export interface Timers {
  /** Run `fn` once after `ms`; never keeps the process alive on its own. */
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};
