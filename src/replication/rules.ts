/**
 * Which destinations a new object version (or delete marker) replicates to, per the bucket's
 * replication configuration (reference §2.1 and §2.3). Pure: decided at write time, so the
 * outbox task is written in the same transaction as the version.
 */
import { destinationBucketName, isV2, type ReplicationConfiguration, type ReplicationRule } from './config.js';

export interface ReplicationCandidate {
  key: string;
  tags?: Record<string, string>;
  /** The version's server-side encryption, or 'SSE-C'. */
  encryption?: 'AES256' | 'aws:kms' | 'aws:kms:dsse' | 'SSE-C';
  storageClass?: string;
  isDeleteMarker: boolean;
  /** Replicas are never replicated again by live replication. */
  isReplica: boolean;
}

export interface PlannedReplication {
  ruleId: string;
  destinationBucket: string;
}

function filterMatches(rule: ReplicationRule, c: ReplicationCandidate): boolean {
  if (!isV2(rule)) return c.key.startsWith(rule.prefix ?? '');
  const f = rule.filter!;
  if (f.prefix !== undefined && !c.key.startsWith(f.prefix)) return false;
  for (const t of f.tags) {
    // Tag filters never match delete markers (they have no tags).
    if (c.tags?.[t.key] !== t.value) return false;
  }
  return true;
}

/** Whether the rule that applies to this destination replicates this candidate. */
function eligible(rule: ReplicationRule, c: ReplicationCandidate): boolean {
  if (c.isDeleteMarker) {
    if (!isV2(rule)) return true; // V1: user delete markers always replicate
    return rule.deleteMarkerReplication === 'Enabled' && (rule.filter?.tags.length ?? 0) === 0;
  }
  if (c.storageClass === 'GLACIER' || c.storageClass === 'DEEP_ARCHIVE') return false;
  if (c.encryption === 'aws:kms' || c.encryption === 'aws:kms:dsse') return rule.sseKmsEncryptedObjects === 'Enabled';
  return true;
}

export function planReplication(config: ReplicationConfiguration | undefined, c: ReplicationCandidate): PlannedReplication[] {
  if (!config || c.isReplica) return [];
  // Among matching enabled rules for the same destination, the highest Priority wins.
  const byDestination = new Map<string, ReplicationRule>();
  for (const rule of config.rules) {
    if (rule.status !== 'Enabled' || !filterMatches(rule, c)) continue;
    const current = byDestination.get(rule.destination.bucket);
    if (!current || (rule.priority ?? 0) > (current.priority ?? 0)) byDestination.set(rule.destination.bucket, rule);
  }
  const planned: PlannedReplication[] = [];
  for (const [arn, rule] of byDestination) {
    const bucket = destinationBucketName(arn);
    if (bucket && eligible(rule, c)) planned.push({ ruleId: rule.id, destinationBucket: bucket });
  }
  return planned;
}

/** The rule of a configuration by id (the worker re-reads the rule a task was planned with). */
export function findRule(config: ReplicationConfiguration | undefined, ruleId: string): ReplicationRule | undefined {
  return config?.rules.find((r) => r.id === ruleId);
}
