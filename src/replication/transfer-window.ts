/**
 * How much replication is in flight at once. A small replica is bound by latency (it waits for the
 * destination's durable commit, then the source's), so many should run at once: with 64, a source
 * taking 500 small PUTs a second fell behind whenever the round trip passed 128 ms (Little's law).
 * A large replica is bound by bandwidth: hundreds streaming at once would only share it, each
 * holding its lease for longer. So the window is counted in tasks and bounded by bytes:
 *
 * - tasks(): how many tasks the worker may hold, up to `maxTasks`, but only about `maxBytes` worth
 *   judged by the largest of the recent replicas, so a run of big objects is not claimed hundreds at
 *   a time (before any size is known: 64, the fixed window this replaced);
 * - admit(bytes): a replica's bytes enter before it is sent, `maxBytes` at most at once; one larger
 *   than that goes alone. First come, first served, so a large replica is never starved by small ones.
 */
export interface TransferWindowOptions {
  /** Tasks in flight at most. */
  maxTasks: number;
  /** Replica bytes being sent at once at most (a single larger replica is sent alone). */
  maxBytes: number;
}

/** How many recent replica sizes the task window looks at. */
const RECENT = 32;
/** Tasks in flight before any replica's size is known (the fixed window this replaced). */
const UNKNOWN_SIZES_TASKS = 64;

export class TransferWindow {
  private used = 0;
  private readonly queue: { bytes: number; admit: () => void }[] = [];
  private readonly recent: number[] = [];
  private next = 0;

  constructor(readonly opts: TransferWindowOptions) {}

  /** Tasks the worker may hold in flight now. */
  tasks(): number {
    const { maxTasks, maxBytes } = this.opts;
    if (this.recent.length === 0) return Math.max(1, Math.min(maxTasks, UNKNOWN_SIZES_TASKS));
    const largest = Math.max(1, ...this.recent);
    return Math.max(1, Math.min(maxTasks, Math.floor(maxBytes / largest)));
  }

  /** Replicas waiting for bytes to be admitted. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Bytes admitted and not yet released. */
  get inFlight(): number {
    return this.used;
  }

  /** Wait until `bytes` may be sent; call the returned function once they are (or will never be). */
  async admit(bytes: number): Promise<() => void> {
    const n = Math.max(0, bytes);
    this.recent[this.next] = n;
    this.next = (this.next + 1) % RECENT;
    if (this.queue.length === 0 && this.fits(n)) this.used += n;
    else await new Promise<void>((admit) => this.queue.push({ bytes: n, admit }));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= n;
      this.drain();
    };
  }

  private fits(n: number): boolean {
    return this.used === 0 || this.used + n <= this.opts.maxBytes;
  }

  private drain(): void {
    while (this.queue.length > 0 && this.fits(this.queue[0]!.bytes)) {
      const next = this.queue.shift()!;
      this.used += next.bytes;
      next.admit();
    }
  }
}
