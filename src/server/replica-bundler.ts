/**
 * Split mode, sending side: small object replicas bound for one peer travel in bundles (one request
 * for several replicas, replica-wire.ts) instead of one request each. Under load most of a small
 * replica's cost on both processes was the request around it (HTTP, the role's SigV4, the peer
 * signatures, the answer), not the replica.
 *
 * No timer decides when a bundle leaves: a replica is sent at once (on the next turn of the event
 * loop, with whatever else arrived in the same turn) while fewer than `maxInFlight` bundles are out;
 * otherwise it waits for one to come back and leaves with everything that queued meanwhile. A lone
 * replica is never held back, and bundles grow only as far as the peer is slower than the source.
 */
import type { BundleItem } from '../services/s3/replica-wire.js';

export interface BundleLimits {
  /** Replicas in one bundle at most. */
  maxItems: number;
  /** Data bytes in one bundle at most (a larger replica still goes, alone). */
  maxBytes: number;
  /** Bundles out to the peer at once, per role. */
  maxInFlight: number;
}

export const DEFAULT_BUNDLE_LIMITS: BundleLimits = { maxItems: 64, maxBytes: 1024 * 1024, maxInFlight: 2 };

/** Sends one bundle; resolves with each item's outcome in order (an Error, or undefined when written). */
export type SendBundle<C> = (creds: C, items: BundleItem[]) => Promise<(Error | undefined)[]>;

interface Waiting {
  item: BundleItem;
  resolve(): void;
  reject(e: Error): void;
}

interface Group<C> {
  creds: C;
  queue: Waiting[];
  inFlight: number;
  scheduled: boolean;
}

export class ReplicaBundler<C> {
  private readonly groups = new Map<string, Group<C>>();
  private readonly limits: BundleLimits;
  /** Bundles sent so far and the replicas in them (for tests and the benchmark notes). */
  readonly stats = { bundles: 0, items: 0 };

  constructor(
    private readonly sendBundle: SendBundle<C>,
    limits: Partial<BundleLimits> = {},
  ) {
    this.limits = { ...DEFAULT_BUNDLE_LIMITS, ...limits };
  }

  /**
   * Queue one replica. `key` names the credentials (replicas signed by different role sessions never
   * share a bundle); resolves once the peer wrote it, rejects with its own failure.
   */
  add(key: string, creds: C, item: BundleItem): Promise<void> {
    let g = this.groups.get(key);
    if (!g) {
      g = { creds, queue: [], inFlight: 0, scheduled: false };
      this.groups.set(key, g);
    }
    const group = g;
    return new Promise<void>((resolve, reject) => {
      group.queue.push({ item, resolve, reject });
      this.pump(key, group);
    });
  }

  /** `now`: a bundle just came back, and what queued meanwhile has waited long enough. */
  private pump(key: string, g: Group<C>, now = false): void {
    if (g.queue.length === 0) {
      if (g.inFlight === 0 && this.groups.get(key) === g) this.groups.delete(key);
      return;
    }
    if (g.inFlight >= this.limits.maxInFlight) return;
    if (now) {
      while (g.queue.length > 0 && g.inFlight < this.limits.maxInFlight) this.flush(key, g);
      return;
    }
    if (g.scheduled) return;
    // The next turn: replicas whose sources were read in this one leave together.
    g.scheduled = true;
    setImmediate(() => {
      g.scheduled = false;
      while (g.queue.length > 0 && g.inFlight < this.limits.maxInFlight) this.flush(key, g);
    });
  }

  private flush(key: string, g: Group<C>): void {
    const batch: Waiting[] = [];
    let bytes = 0;
    while (g.queue.length > 0 && batch.length < this.limits.maxItems) {
      const next = g.queue[0]!;
      if (batch.length > 0 && bytes + next.item.data.length > this.limits.maxBytes) break;
      batch.push(g.queue.shift()!);
      bytes += next.item.data.length;
    }
    g.inFlight++;
    this.stats.bundles++;
    this.stats.items += batch.length;
    let sent: Promise<(Error | undefined)[]>;
    try {
      sent = this.sendBundle(g.creds, batch.map((w) => w.item));
    } catch (e) {
      sent = Promise.reject(e);
    }
    sent
      .then((outcomes) => {
        if (outcomes.length !== batch.length) throw new Error(`the peer answered ${outcomes.length} outcomes for a bundle of ${batch.length} replicas`);
        batch.forEach((w, i) => (outcomes[i] ? w.reject(outcomes[i]!) : w.resolve()));
      })
      .catch((e: unknown) => {
        const error = e instanceof Error ? e : new Error(String(e));
        for (const w of batch) w.reject(error);
      })
      .finally(() => {
        g.inFlight--;
        this.pump(key, g, true);
      });
  }
}
