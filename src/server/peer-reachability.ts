/**
 * Split mode: while a peer is known to be unreachable (its last call ended in a
 * DependencyUnavailableError), calls to it fail at once with that error, except one at a time that
 * goes through as a probe. A client request then gets its 503 in milliseconds instead of each one
 * waiting out a connect or answer timeout, and the process does not pile up connections to a peer
 * that does not answer. The first success (a probe or any call) ends it.
 */
import { DependencyUnavailableError, isDependencyUnavailable } from '../common/errors.js';

export class PeerReachability {
  /** Set while the peer is unreachable: when that was noticed and the error that showed it. */
  private down: { since: number; error: DependencyUnavailableError } | undefined;
  private probing = false;

  constructor(
    /** Told when the peer becomes unreachable (with the error) and when it answers again (with the outage's length), for the log. */
    private readonly onChange?: (change: { reachable: false; error: DependencyUnavailableError } | { reachable: true; downMs: number }) => void,
    private readonly now: () => number = Date.now,
  ) {}

  async call<T>(fn: () => Promise<T>): Promise<T> {
    const down = this.down;
    if (down && this.probing) throw new DependencyUnavailableError(down.error.message, down.error.dependency);
    const probe = down !== undefined;
    if (probe) this.probing = true;
    try {
      const value = await fn();
      this.reachable();
      return value;
    } catch (e) {
      if (!isDependencyUnavailable(e)) this.reachable(); // it answered, with an error of its own
      else if (this.down) this.down.error = e;
      else {
        this.down = { since: this.now(), error: e };
        this.onChange?.({ reachable: false, error: e });
      }
      throw e;
    } finally {
      if (probe) this.probing = false;
    }
  }

  private reachable(): void {
    if (!this.down) return;
    const downMs = this.now() - this.down.since;
    this.down = undefined;
    this.onChange?.({ reachable: true, downMs });
  }
}
