/**
 * The replication configuration model and the validation PutBucketReplication performs that
 * needs nothing but the document itself (reference §1.4). Checks that need other buckets
 * (destination exists, is versioned) are made by the S3 handler.
 */
import { randomUUID } from 'node:crypto';
import { ServiceError } from '../common/errors.js';

export type RuleStatus = 'Enabled' | 'Disabled';

export interface ReplicationDestination {
  /** Bucket ARN: arn:aws:s3:::name */
  bucket: string;
  account?: string;
  storageClass?: string;
  accessControlTranslation?: { owner: 'Destination' };
  replicaKmsKeyId?: string;
  replicationTime?: { status: RuleStatus; minutes?: number };
  metrics?: { status: RuleStatus; eventThresholdMinutes?: number };
}

export interface ReplicationFilter {
  prefix?: string;
  tags: { key: string; value: string }[];
  /** Which element the client used, so GET echoes the same shape: Prefix, Tag, And, or empty. */
  form: 'Prefix' | 'Tag' | 'And' | 'Empty';
}

export interface ReplicationRule {
  id: string;
  priority?: number;
  /** V1 rules: the rule-level Prefix. */
  prefix?: string;
  /** V2 rules. */
  filter?: ReplicationFilter;
  status: RuleStatus;
  sseKmsEncryptedObjects?: RuleStatus;
  replicaModifications?: RuleStatus;
  existingObjectReplication?: RuleStatus;
  destination: ReplicationDestination;
  deleteMarkerReplication?: RuleStatus;
}

export interface ReplicationConfiguration {
  role: string;
  rules: ReplicationRule[];
}

export function isV2(rule: ReplicationRule): boolean {
  return rule.filter !== undefined;
}

export function destinationBucketName(arn: string): string | undefined {
  const m = /^arn:aws:s3:::([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])$/.exec(arn);
  return m?.[1];
}

function invalidRequest(message: string): ServiceError {
  return new ServiceError('InvalidRequest', 400, message);
}

function invalidArgument(message: string): ServiceError {
  return new ServiceError('InvalidArgument', 400, message);
}

const SCHEMA_HINT = 'Please refer to S3 Developer Guide for more information.';

/**
 * Validate a parsed configuration; fills in generated rule IDs. The order of checks follows the
 * reference's catalogue (the source-versioning check runs before this, in the handler).
 */
export function validateReplicationConfiguration(config: ReplicationConfiguration, sourceBucket: string): void {
  if (config.rules.length === 0) {
    throw new ServiceError('MalformedXML', 400, 'The XML you provided was not well-formed or did not validate against our published schema');
  }
  if (config.rules.length > 1000) throw invalidRequest('Number of defined replication rules cannot exceed 1000');
  if (!/^arn:aws:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(config.role)) throw invalidArgument(`Invalid Role ARN: ${config.role}`);

  const v2 = config.rules.some(isV2);
  const v1 = config.rules.some((r) => !isV2(r));
  // Mixing is described nowhere; the reference recommends rejecting it.
  if (v1 && v2) throw invalidRequest('A replication configuration cannot mix rules that use Prefix with rules that use Filter.');

  const ids = new Set<string>();
  for (const rule of config.rules) {
    if (!rule.id) rule.id = Buffer.from(randomUUID()).toString('base64').replace(/=+$/, '');
    if (rule.id.length > 255) throw invalidArgument('The ID of a rule must not be longer than 255 characters.');
    if (/[^\x00-\x7F]/.test(rule.id)) throw invalidArgument('Rule ID must not contain non-ASCII characters.');
    if (ids.has(rule.id)) throw invalidArgument('Rule Id must be unique.');
    ids.add(rule.id);

    if (!destinationBucketName(rule.destination.bucket)) {
      throw invalidArgument(`Invalid bucket ARN: ${rule.destination.bucket}`);
    }
    if (destinationBucketName(rule.destination.bucket) === sourceBucket) {
      throw invalidRequest('Destination bucket cannot be the same as the source bucket.');
    }

    if (!isV2(rule)) {
      if (rule.prefix === undefined) {
        throw new ServiceError('MalformedXML', 400, 'The XML you provided was not well-formed or did not validate against our published schema');
      }
      if (rule.prefix.length > 1024) throw invalidArgument('Prefix cannot be longer than 1024 characters.');
      if (rule.deleteMarkerReplication !== undefined) {
        throw invalidRequest(`DeleteMarkerReplication cannot be used for this version of Cross Region Replication configuration schema. ${SCHEMA_HINT}`);
      }
      if (rule.priority !== undefined) {
        throw invalidRequest(`Priority cannot be used for this version of Cross Region Replication configuration schema. ${SCHEMA_HINT}`);
      }
      if (rule.replicaModifications !== undefined) {
        throw invalidRequest(`ReplicaModifications cannot be used for this version of Cross Region Replication configuration schema. ${SCHEMA_HINT}`);
      }
    } else {
      if (rule.deleteMarkerReplication === undefined) {
        throw invalidRequest(`DeleteMarkerReplication must be specified for this version of Cross Region Replication configuration schema. ${SCHEMA_HINT}`);
      }
      if (rule.priority === undefined) {
        throw invalidRequest(`Priority must be specified for this version of Cross Region Replication configuration schema. ${SCHEMA_HINT}`);
      }
      if (rule.deleteMarkerReplication === 'Enabled' && rule.filter && rule.filter.tags.length > 0) {
        throw invalidRequest(`Delete marker replication is not supported if any Tag filter is specified. ${SCHEMA_HINT}`);
      }
    }

    if (rule.sseKmsEncryptedObjects === 'Enabled' && !rule.destination.replicaKmsKeyId) {
      throw invalidRequest('ReplicaKmsKeyID must be specified if SseKmsEncryptedObjects tag is present.');
    }
    if (rule.destination.accessControlTranslation && !rule.destination.account) {
      throw invalidRequest('Destination Account must be specified if AccessControlTranslation is present.');
    }
    if (rule.destination.account !== undefined && !/^\d{12}$/.test(rule.destination.account)) {
      throw invalidArgument('Destination Account must be a valid 12-digit AWS account id.');
    }
    const rt = rule.destination.replicationTime;
    const metrics = rule.destination.metrics;
    if (rt) {
      if (!metrics) throw invalidRequest('Replication destination must contain both ReplicationTime and Metrics or neither.');
      if (rt.status !== metrics.status) throw invalidRequest('Replication Time Control and Metrics must have the same status.');
      if (rt.status === 'Enabled' && rt.minutes !== 15) throw invalidArgument('ReplicationTime Time Minutes must be 15.');
    }
    if (metrics?.eventThresholdMinutes !== undefined && metrics.eventThresholdMinutes !== 15) {
      throw invalidArgument('Metrics EventThreshold Minutes must be 15.');
    }
  }

  if (v1) {
    const destinations = new Set(config.rules.map((r) => r.destination.bucket));
    if (destinations.size > 1) throw invalidRequest('Number of distinct destination bucket ARNs cannot exceed 1');
    const prefixes = config.rules.map((r) => r.prefix ?? '');
    for (let i = 0; i < prefixes.length; i++) {
      for (let j = 0; j < prefixes.length; j++) {
        if (i !== j && prefixes[j]!.startsWith(prefixes[i]!)) {
          throw invalidRequest(`Found overlapping prefixes '${prefixes[i]}' and '${prefixes[j]}'`);
        }
      }
    }
  } else {
    const seen = new Map<string, Set<number>>();
    for (const rule of config.rules) {
      if (rule.status !== 'Enabled') continue;
      const set = seen.get(rule.destination.bucket) ?? new Set<number>();
      if (set.has(rule.priority!)) throw invalidRequest('Found duplicate priority ' + rule.priority + ' for rules with the same destination bucket.');
      set.add(rule.priority!);
      seen.set(rule.destination.bucket, set);
    }
  }
}
