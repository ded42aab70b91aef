/**
 * Split mode: while a peer is known to be unreachable (a call to it ended in a
 * DependencyUnavailableError), calls to it fail at once with that error instead of each waiting out
 * a connect or answer timeout: a client gets its 503 in milliseconds, and the process does not pile
 * up connections to a peer that does not answer. Whether it is back is found out by a probe (a
 * cheap read) run in the background — one at a time, at most once a second, started by the calls
 * that fail meanwhile — never by a caller's own request, which would wait the timeout again.
 */
import { DependencyUnavailableError, isDependencyUnavailable } from '../common/errors.js';

export type ReachabilityChange = { reachable: false; error: DependencyUnavailableError } | { reachable: true; downMs: number };

const PROBE_INTERVAL_MS = 1000;

export class PeerReachability {
  /** Set while the peer is unreachable: when that was noticed and the latest error that showed it. */
  private down: { since: number; error: DependencyUnavailableError } | undefined;
  private probing = false;
  /** When the last probe ended. */
  private probedAt = 0;
  private current: Promise<void> | undefined;

  constructor(
    /** A cheap read of the peer, with no effect: answered means reachable. */
    private readonly probe: () => Promise<unknown>,
    /** Told when the peer becomes unreachable (with the error) and when it answers again (with the outage's length), for the log. */
    private readonly onChange?: (change: ReachabilityChange) => void,
    private readonly now: () => number = Date.now,
    private readonly probeIntervalMs = PROBE_INTERVAL_MS,
  ) {}

  async call<T>(fn: () => Promise<T>): Promise<T> {
    const down = this.down;
    if (down) {
      this.startProbe();
      throw new DependencyUnavailableError(down.error.message, down.error.dependency);
    }
    try {
      const value = await fn();
      this.reachable();
      return value;
    } catch (e) {
      if (isDependencyUnavailable(e)) this.unreachable(e);
      else this.reachable(); // it answered, with an error of its own
      throw e;
    }
  }

  /** Settles when the probe in flight (if any) has ended. */
  async settled(): Promise<void> {
    await this.current;
  }

  private startProbe(): void {
    if (this.probing || this.now() - this.probedAt < this.probeIntervalMs) return;
    this.probing = true;
    this.current = this.probe().then(
      () => this.reachable(),
      (e: unknown) => {
        if (isDependencyUnavailable(e)) this.unreachable(e);
        else this.reachable();
      },
    ).finally(() => {
      this.probing = false;
      this.probedAt = this.now();
    });
  }

  private unreachable(e: DependencyUnavailableError): void {
    if (this.down) {
      this.down.error = e;
      return;
    }
    this.down = { since: this.now(), error: e };
    this.onChange?.({ reachable: false, error: e });
  }

  private reachable(): void {
    if (!this.down) return;
    const downMs = this.now() - this.down.since;
    this.down = undefined;
    this.onChange?.({ reachable: true, downMs });
  }
}
