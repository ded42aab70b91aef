/**
 * Replication events in the shape of Amazon S3 event notifications (reference §3.4): one record
 * per event, `eventVersion` 2.2, `userIdentity` and `sourceIPAddress` s3.amazonaws.com, and a
 * `replicationEventData` object. Pure: the monitor decides when, this file decides what it says.
 */
import type { FaultChange } from '../faults/registry.js';
import type { OutboxTask } from '../storage/types.js';

export type ReplicationEventName =
  | 'OperationFailedReplication'
  | 'OperationMissedThreshold'
  | 'OperationReplicatedAfterThreshold'
  | 'OperationNotTracked';

export const REPLICATION_EVENT_NAMES: readonly ReplicationEventName[] = [
  'OperationFailedReplication',
  'OperationMissedThreshold',
  'OperationReplicatedAfterThreshold',
  'OperationNotTracked',
];

/** AWS documents only OBJECT_PUT; the other two names are Meridian's (docs/decisions.md). */
export function s3OperationOf(operation: OutboxTask['operation']): string {
  switch (operation) {
    case 'put':
      return 'OBJECT_PUT';
    case 'delete-marker':
      return 'DELETE_MARKER_PUT';
    case 'tags':
      return 'PUT_OBJECT_TAGGING';
  }
}

export interface ReplicationEventInput {
  name: ReplicationEventName;
  /** The source region. */
  region: string;
  task: OutboxTask;
  /** When it happened (epoch ms). */
  time: number;
  sourceOwnerAccountId?: string;
  object?: { size: number; etag: string };
  failureReason?: string;
  /** Meridian's explanation of a failure (the policy decision or KMS message), outside AWS's fields. */
  detail?: string;
  latencyMs?: number;
}

export interface S3EventRecord {
  eventVersion: '2.2';
  eventSource: 'aws:s3';
  awsRegion: string;
  eventTime: string;
  eventName: string;
  userIdentity: { principalId: string };
  requestParameters: { sourceIPAddress: string };
  responseElements: Record<string, string>;
  s3: {
    s3SchemaVersion: '1.0';
    configurationId: string;
    bucket: { name: string; ownerIdentity: { principalId: string }; arn: string };
    object: { key: string; size?: number; eTag?: string; versionId: string; sequencer: string };
  };
  replicationEventData: {
    replicationRuleId: string;
    destinationBucket: string;
    s3Operation: string;
    requestTime: string;
    failureReason?: string;
    threshold?: string;
    replicationTime?: string;
  };
  /** Meridian's additions, kept apart from AWS's fields. */
  meridian?: { detail?: string; latencyMs?: number; attempts: number };
}

/** The event as an S3 notification record; wrap records in `{ Records: [...] }` to deliver. */
export function replicationEventRecord(e: ReplicationEventInput): S3EventRecord {
  const t = e.task;
  const object: S3EventRecord['s3']['object'] = {
    // S3 event keys are URL-encoded (spaces as '+').
    key: encodeURIComponent(t.key).replace(/%20/g, '+'),
    versionId: t.versionId,
    sequencer: t.id.toString(16).toUpperCase().padStart(16, '0'),
  };
  if (e.object) {
    object.size = e.object.size;
    object.eTag = e.object.etag;
  }
  const data: S3EventRecord['replicationEventData'] = {
    replicationRuleId: t.ruleId,
    destinationBucket: `arn:aws:s3:::${t.destinationBucket}`,
    s3Operation: s3OperationOf(t.operation),
    requestTime: new Date(t.createdAt).toISOString(),
  };
  if (e.failureReason !== undefined) data.failureReason = e.failureReason;
  if (e.name === 'OperationMissedThreshold' || e.name === 'OperationReplicatedAfterThreshold') data.threshold = '15';
  if (e.name === 'OperationReplicatedAfterThreshold') data.replicationTime = new Date(e.time).toISOString();
  const record: S3EventRecord = {
    eventVersion: '2.2',
    eventSource: 'aws:s3',
    awsRegion: e.region,
    eventTime: new Date(e.time).toISOString(),
    eventName: `Replication:${e.name}`,
    userIdentity: { principalId: 's3.amazonaws.com' },
    requestParameters: { sourceIPAddress: 's3.amazonaws.com' },
    responseElements: { 'x-amz-request-id': `replication-${t.id}`, 'x-amz-id-2': `${e.region}/${t.bucket}` },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'meridian-replication-events',
      bucket: { name: t.bucket, ownerIdentity: { principalId: e.sourceOwnerAccountId ?? '' }, arn: `arn:aws:s3:::${t.bucket}` },
      object,
    },
    replicationEventData: data,
  };
  const meridian: NonNullable<S3EventRecord['meridian']> = { attempts: t.attempts };
  if (e.detail !== undefined) meridian.detail = e.detail;
  if (e.latencyMs !== undefined) meridian.latencyMs = e.latencyMs;
  record.meridian = meridian;
  return record;
}

export type FaultEventName = 'FaultStarted' | 'FaultEnded';

/** A fault starting or ending (MERIDIAN_FAULTS=on), in the same envelope as the replication events. */
export interface FaultEventRecord {
  eventVersion: '2.2';
  eventSource: 'meridian:faults';
  awsRegion: string;
  eventTime: string;
  eventName: `Meridian:${FaultEventName}`;
  fault: {
    id: string;
    kind: string;
    region?: string;
    bucket?: string;
    key?: string;
    startTime: string;
    endTime: string;
    latencyMs?: number;
    errorRate?: number;
    /** Operations the fault changed. */
    injected: number;
    /** FaultEnded: expired (by itself) or cleared. */
    reason?: string;
  };
}

export function faultEventRecord(c: FaultChange): FaultEventRecord {
  const f = c.fault;
  const fault: FaultEventRecord['fault'] = { id: f.id, kind: f.kind, startTime: new Date(f.startedAt).toISOString(), endTime: new Date(f.endsAt).toISOString(), injected: f.injected };
  if (f.region !== undefined) fault.region = f.region;
  if (f.bucket !== undefined) fault.bucket = f.bucket;
  if (f.key !== undefined) fault.key = f.key;
  if (f.latencyMs !== undefined) fault.latencyMs = f.latencyMs;
  if (f.errorRate !== undefined) fault.errorRate = f.errorRate;
  if (c.reason !== undefined) fault.reason = c.reason;
  return {
    eventVersion: '2.2',
    eventSource: 'meridian:faults',
    awsRegion: f.region ?? '',
    eventTime: new Date(c.at).toISOString(),
    eventName: c.type === 'started' ? 'Meridian:FaultStarted' : 'Meridian:FaultEnded',
    fault,
  };
}
