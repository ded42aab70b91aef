/**
 * One outbox task through the replication stages, in the order AWS's failure reasons imply:
 * configuration → destination bucket → assume the role → read the source as the role →
 * write the replica (or delete marker) as the role.
 */
import type { OutboxTask } from '../storage/types.js';
import { findRule } from './rules.js';
import { ReplicationFailure } from './failure.js';
import type { ReplicationTransport, RoleCredentials } from './ports.js';
import type { RoleSessionCache } from './role-sessions.js';

export async function replicateTask(task: OutboxTask, transport: ReplicationTransport, sessions: RoleSessionCache): Promise<void> {
  const config = await transport.replicationConfig(task.bucket);
  const rule = findRule(config, task.ruleId);
  if (!config || !rule) {
    throw new ReplicationFailure('SrcBucketReplicationConfigMissing', `The replication rule ${task.ruleId} of bucket ${task.bucket} no longer exists`);
  }
  const owner = await transport.sourceBucketOwner(task.bucket);
  if (!owner) throw new ReplicationFailure('SrcBucketNotFound', `Source bucket ${task.bucket} not found`);
  const destination = await transport.findDestination(task.destinationBucket);
  if (!destination) throw new ReplicationFailure('DstBucketNotFound', `Destination bucket ${task.destinationBucket} not found`);

  const creds: RoleCredentials = await sessions.get(config.role, owner, task.bucket, () => transport.assumeRole(config.role, owner, task.bucket));

  if (task.operation === 'delete-marker') {
    const marker = await transport.readDeleteMarker(task.bucket, task.key, task.versionId);
    if (!marker) throw new ReplicationFailure('SrcVersionNotFound', `Delete marker ${task.versionId} of ${task.bucket}/${task.key} no longer exists`);
    await transport.writeDeleteMarker(creds, destination, marker);
    return;
  }
  const source = await transport.readSource(creds, task.bucket, task.key, task.versionId);
  await transport.writeReplica(creds, destination, rule, source);
}
