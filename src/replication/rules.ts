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

/** A stored version's encryption as rules see it: SSE-C objects are recorded as AES256 with the customer key's MD5. */
export function candidateEncryption(e: { algorithm: 'AES256' | 'aws:kms' | 'aws:kms:dsse'; customerKeyMd5?: string } | undefined): ReplicationCandidate['encryption'] {
  if (!e) return undefined;
  return e.customerKeyMd5 ? 'SSE-C' : e.algorithm;
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

/** Why a rule does or does not select a candidate, in words (for `meridian replication explain`). */
export interface RuleMatch {
  ruleId: string;
  destinationBucket: string;
  priority?: number;
  selected: boolean;
  reason: string;
}

function filterText(rule: ReplicationRule): string {
  if (!isV2(rule)) return `prefix "${rule.prefix ?? ''}"`;
  const f = rule.filter!;
  const parts: string[] = [];
  if (f.prefix !== undefined) parts.push(`prefix "${f.prefix}"`);
  for (const t of f.tags) parts.push(`tag ${t.key}=${t.value}`);
  return parts.length ? parts.join(' and ') : 'the whole bucket';
}

function ineligibility(rule: ReplicationRule, c: ReplicationCandidate): string | undefined {
  if (c.isDeleteMarker) {
    if (!isV2(rule)) return undefined;
    if ((rule.filter?.tags.length ?? 0) > 0) return 'delete markers never replicate under a rule with a tag filter';
    return rule.deleteMarkerReplication === 'Enabled' ? undefined : 'the rule has DeleteMarkerReplication Disabled';
  }
  if (c.storageClass === 'GLACIER' || c.storageClass === 'DEEP_ARCHIVE') return `objects in ${c.storageClass} do not replicate`;
  if ((c.encryption === 'aws:kms' || c.encryption === 'aws:kms:dsse') && rule.sseKmsEncryptedObjects !== 'Enabled') {
    return `the object is ${c.encryption} encrypted and the rule does not enable SourceSelectionCriteria.SseKmsEncryptedObjects`;
  }
  return undefined;
}

/** Each rule's verdict on a candidate, consistent with planReplication. */
export function explainRuleMatching(config: ReplicationConfiguration, c: ReplicationCandidate): RuleMatch[] {
  const planned = new Set(planReplication(config, c).map((p) => p.ruleId));
  const winners = new Map<string, ReplicationRule>();
  for (const rule of config.rules) {
    if (rule.status !== 'Enabled' || !filterMatches(rule, c)) continue;
    const current = winners.get(rule.destination.bucket);
    if (!current || (rule.priority ?? 0) > (current.priority ?? 0)) winners.set(rule.destination.bucket, rule);
  }
  return config.rules.map((rule) => {
    const m: RuleMatch = { ruleId: rule.id, destinationBucket: destinationBucketName(rule.destination.bucket) ?? rule.destination.bucket, selected: planned.has(rule.id), reason: '' };
    if (rule.priority !== undefined) m.priority = rule.priority;
    if (c.isReplica) m.reason = 'the version is a replica, and live replication never replicates replicas';
    else if (rule.status !== 'Enabled') m.reason = 'the rule is Disabled';
    else if (!filterMatches(rule, c)) m.reason = `the key or tags do not match the rule's filter (${filterText(rule)})`;
    else if (winners.get(rule.destination.bucket) !== rule) {
      const w = winners.get(rule.destination.bucket)!;
      m.reason = `rule ${w.id} (priority ${w.priority}) also matches and points at the same destination with a higher priority`;
    } else m.reason = ineligibility(rule, c) ?? `matches (${filterText(rule)})`;
    return m;
  });
}

/** The rule of a configuration by id (the worker re-reads the rule a task was planned with). */
export function findRule(config: ReplicationConfiguration | undefined, ruleId: string): ReplicationRule | undefined {
  return config?.rules.find((r) => r.id === ruleId);
}
