/**
 * Split mode: while a peer is known to be unreachable (a call to it ended in a
 * DependencyUnavailableError), calls to it fail at once with that error instead of each waiting out
 * a connect or answer timeout: a client gets its 503 in milliseconds, and the process does not pile
 * up connections to a peer that does not answer. Whether it is back is found out by a probe (a
 * cheap read) run in the background — one at a time, at most once a second, started by the calls
 * that fail meanwhile — never by a caller's own request, which would wait the timeout again.
 *
 * A failure is evidence only about the moment its call was sent: a call that waited out its 5 s
 * answer deadline across a partition ends seconds after the link is back. If a call sent later has
 * been answered meanwhile, that stale failure does not mark the peer away (before, it did, and
 * every request for the next second got a 503 although the peer was answering).
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
  /** Calls (and probes) numbered as they are sent; the highest number that has been answered. */
  private sent = 0;
  private answered = 0;

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
    const n = ++this.sent;
    try {
      const value = await fn();
      this.reachable(n);
      return value;
    } catch (e) {
      if (isDependencyUnavailable(e)) this.unreachable(n, e);
      else this.reachable(n); // it answered, with an error of its own
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
    const n = ++this.sent;
    this.current = this.probe().then(
      () => this.reachable(n),
      (e: unknown) => {
        if (isDependencyUnavailable(e)) this.unreachable(n, e);
        else this.reachable(n);
      },
    ).finally(() => {
      this.probing = false;
      this.probedAt = this.now();
    });
  }

  private unreachable(n: number, e: DependencyUnavailableError): void {
    // Something sent after this call has been answered: the peer is back (or never was away).
    if (n < this.answered) return;
    if (this.down) {
      this.down.error = e;
      return;
    }
    this.down = { since: this.now(), error: e };
    this.onChange?.({ reachable: false, error: e });
  }

  private reachable(n: number): void {
    if (n > this.answered) this.answered = n;
    if (!this.down) return;
    const downMs = this.now() - this.down.since;
    this.down = undefined;
    this.onChange?.({ reachable: true, downMs });
  }
}
