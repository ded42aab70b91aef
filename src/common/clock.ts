/**
 * Time. Two clocks, on purpose:
 * - the business clock (`Clock`): object timestamps, session expiry, KMS key deletion and rotation,
 *   lifecycle, aws:CurrentTime. Tests can advance it (see `OffsetClock` and docs/decisions.md).
 * - the wall clock (`Date.now()`): only for checking request signatures against the client's clock,
 *   so a test that moves Meridian 30 days ahead can still talk to it with unmodified clients.
 */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * A clock offset from real time by an amount that only grows, for tests that advance time (a server
 * started with MERIDIAN_TEST_CLOCK=on uses one; `POST /_meridian/clock` advances it). Listeners run
 * after each advance, so time-driven work (key deletion, lifecycle) happens at once instead of at the
 * next periodic sweep.
 */
export class OffsetClock implements Clock {
  #offsetMs = 0;
  readonly #listeners: (() => Promise<void> | void)[] = [];

  get offsetMs(): number {
    return this.#offsetMs;
  }

  now(): number {
    return Date.now() + this.#offsetMs;
  }

  /** Move time forward by `ms` (never backward: stored timestamps and deadlines stay ordered). */
  async advance(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`a clock only advances: got ${ms} ms`);
    this.#offsetMs += ms;
    for (const l of this.#listeners) await l();
  }

  onAdvance(listener: () => Promise<void> | void): void {
    this.#listeners.push(listener);
  }
}
