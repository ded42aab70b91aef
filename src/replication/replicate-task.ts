/**
 * One outbox task through the replication stages, in the order AWS's failure reasons imply:
 * configuration → destination bucket → assume the role → read the source as the role →
 * write the replica (delete marker, tag change) as the role.
 */
import { isDependencyUnavailable } from '../common/errors.js';
import type { OutboxTask } from '../storage/types.js';
import { findRule } from './rules.js';
import { DestinationUnavailableError, ReplicationFailure, TransientReplicationError } from './failure.js';
import type { DestinationBucket, ReplicationTransport, RoleCredentials, WriteOptions } from './ports.js';
import type { RoleSessionCache } from './role-sessions.js';
import type { TransferWindow } from './transfer-window.js';

/** `window`: a replica's bytes wait there for room before they are sent (the worker's; none for a dry run). */
export async function replicateTask(task: OutboxTask, transport: ReplicationTransport, sessions: RoleSessionCache, opts: WriteOptions = {}, window?: TransferWindow): Promise<void> {
  const seen: { destination?: DestinationBucket } = {};
  try {
    await stages(task, transport, sessions, opts, seen, window);
  } catch (e) {
    // Something every stage may need (in split mode the home region's process: the destination's
    // name, the role's session, the policies) could not be reached. Not a verdict: the task waits
    // with its destination's, parked and probed, so it runs within seconds of that coming back.
    if (isDependencyUnavailable(e)) throw new DestinationUnavailableError(task.destinationBucket, seen.destination?.region, e.message);
    throw e;
  }
}

async function stages(
  task: OutboxTask,
  transport: ReplicationTransport,
  sessions: RoleSessionCache,
  opts: WriteOptions,
  seen: { destination?: DestinationBucket },
  window: TransferWindow | undefined,
): Promise<void> {
  const config = await transport.replicationConfig(task.bucket);
  const rule = findRule(config, task.ruleId);
  // A rule removed while the task waited: the version is no longer tracked.
  if (!config || !rule) {
    throw new ReplicationFailure('SrcBucketReplicationConfigMissing', `The replication rule ${task.ruleId} of bucket ${task.bucket} no longer exists`);
  }
  // Disabling a rule pauses it (reference §2.3): its pending work waits.
  if (rule.status !== 'Enabled') throw new TransientReplicationError(`Replication rule ${rule.id} is disabled: replication is paused`);
  const owner = await transport.sourceBucketOwner(task.bucket);
  if (!owner) throw new ReplicationFailure('SrcBucketNotFound', `Source bucket ${task.bucket} not found`);
  const destination = await transport.findDestination(task.destinationBucket);
  if (!destination) throw new ReplicationFailure('DstBucketNotFound', `Destination bucket ${task.destinationBucket} not found`);
  seen.destination = destination;

  const creds: RoleCredentials = await sessions.get(config.role, owner, task.bucket, () => transport.assumeRole(config.role, owner, task.bucket));

  switch (task.operation) {
    case 'delete-marker': {
      const marker = await transport.readDeleteMarker(task.bucket, task.key, task.versionId);
      if (!marker) throw new ReplicationFailure('SrcVersionNotFound', `Delete marker ${task.versionId} of ${task.bucket}/${task.key} no longer exists`);
      await atDestination(destination, () => transport.writeDeleteMarker(creds, destination, marker, opts));
      return;
    }
    case 'tags': {
      const tags = await transport.readSourceTags(creds, task.bucket, task.key, task.versionId);
      await atDestination(destination, () => transport.writeReplicaTags(creds, destination, task.key, task.versionId, tags, opts));
      return;
    }
    case 'put': {
      const source = await transport.readSource(creds, task.bucket, task.key, task.versionId);
      const release = await window?.admit(source.version.size);
      try {
        await atDestination(destination, () => transport.writeReplica(creds, destination, rule, source, opts));
      } finally {
        release?.();
      }
      return;
    }
  }
}

/** A write that did not get a verdict from the destination (no failure reason) is the destination's trouble. */
async function atDestination(destination: DestinationBucket, write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (e) {
    if (e instanceof ReplicationFailure || e instanceof DestinationUnavailableError) throw e;
    throw new DestinationUnavailableError(destination.name, destination.region, e instanceof Error ? e.message : String(e));
  }
}
