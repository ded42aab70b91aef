/**
 * What a server process needs to know of the other processes serving the same data directory
 * (MERIDIAN_WORKERS > 1, node:cluster): whether it is the one that runs the background work, and a
 * way to hand work and replication outcomes to the others. A lone process is its own group.
 *
 * Caches never go through here: they follow the stores' change tokens (ChangeFeed in
 * storage/types.ts), which a commit moves before any client hears of it, so no broadcast can lag.
 */
import type { ReplicationEvent } from '../replication/worker.js';

export interface WorkerGroup {
  /**
   * Whether this process runs the background work now: the replication workers, the time-driven
   * tasks (KMS key deletion and rotation, lifecycle, pruning) and the orphan sweeps. Exactly one
   * process of a group does; when it dies another takes over (onBackground fires).
   */
  readonly background: boolean;
  onBackground(fn: () => void): void;
  /** A region has (new) work: the background process opens it and looks at its outbox now. */
  regionWork(region: string): void;
  onRegionWork(fn: (region: string) => void): void;
  /** A replication outcome, shared so every process's event streams, lag and metrics see it. */
  replicationEvent(region: string, e: ReplicationEvent): void;
  onReplicationEvent(fn: (region: string, e: ReplicationEvent) => void): void;
}

/** One process alone (MERIDIAN_WORKERS=1, split mode, tests): it does everything itself. */
export const singleProcess: WorkerGroup = {
  background: true,
  onBackground: () => undefined,
  regionWork: () => undefined,
  onRegionWork: () => undefined,
  replicationEvent: () => undefined,
  onReplicationEvent: () => undefined,
};
