/**
 * Batch Replication, Meridian's equivalent of the S3 Batch Operations "replicate" job
 * (reference §3.1): replicate existing versions — never replicated, FAILED, or even COMPLETED and
 * replicas — under the bucket's current configuration, and report per version and destination
 * what happened, with AWS's failure reasons. Pure: selection and reporting; the S3 service scans
 * and queues.
 */
import type { ObjectVersion, StoredObjectVersion } from '../storage/types.js';
import type { ReplicationConfiguration } from './config.js';
import { candidateEncryption, planReplication, type PlannedReplication, type ReplicationCandidate } from './rules.js';

/** Which versions a job takes, by their current replication state towards a destination. */
export type BatchSelector = 'NONE' | 'FAILED' | 'COMPLETED' | 'REPLICA';
export const BATCH_SELECTORS: readonly BatchSelector[] = ['NONE', 'FAILED', 'COMPLETED', 'REPLICA'];

export interface BatchFilter {
  statuses: BatchSelector[];
  prefix?: string;
  /** Only these rules (existing-object replication of the rules that enable it). */
  ruleIds?: string[];
}

export interface BatchEntry {
  key: string;
  versionId: string;
  destinations: string[];
}

export interface BatchJob {
  jobId: string;
  bucket: string;
  createdAt: number;
  filter: BatchFilter;
  entries: BatchEntry[];
}

export interface BatchReportRow {
  key: string;
  versionId: string;
  destinationBucket: string;
  /** AWS's task statuses: succeeded, failed; Meridian adds pending while the job runs. */
  status: 'succeeded' | 'failed' | 'pending';
  failureReason?: string;
}

export interface BatchReport {
  jobId: string;
  bucket: string;
  createdAt: string;
  status: 'Active' | 'Complete';
  total: number;
  succeeded: number;
  failed: number;
  pending: number;
  rows: BatchReportRow[];
}

/** The destinations a job replicates this version to (empty: not selected). */
export function selectForBatch(config: ReplicationConfiguration, v: ObjectVersion, filter: BatchFilter): PlannedReplication[] {
  if (filter.prefix !== undefined && !v.key.startsWith(filter.prefix)) return [];
  const isReplica = v.replicationStatus === 'REPLICA';
  if (isReplica && !filter.statuses.includes('REPLICA')) return [];
  const scoped: ReplicationConfiguration = filter.ruleIds ? { ...config, rules: config.rules.filter((r) => filter.ruleIds!.includes(r.id)) } : config;
  const candidate: ReplicationCandidate = { key: v.key, isDeleteMarker: v.isDeleteMarker, isReplica: false, storageClass: v.storageClass };
  if (v.tags) candidate.tags = v.tags;
  if (v.encryption) candidate.encryption = candidateEncryption(v.encryption);
  return planReplication(scoped, candidate).filter((p) => {
    if (isReplica) return true;
    const state = v.replicationDetail?.[p.destinationBucket]?.status;
    if (state === 'PENDING') return false; // live replication already has it in hand
    return filter.statuses.includes(state === undefined ? 'NONE' : (state as BatchSelector));
  });
}

/** The completion report, from the versions' current replication state. */
export function batchReport(job: BatchJob, current: (key: string, versionId: string) => StoredObjectVersion | undefined): BatchReport {
  const rows: BatchReportRow[] = [];
  for (const e of job.entries) {
    const v = current(e.key, e.versionId);
    for (const d of e.destinations) {
      const state = v?.replicationDetail?.[d];
      const row: BatchReportRow = { key: e.key, versionId: e.versionId, destinationBucket: d, status: 'pending' };
      if (!v) {
        row.status = 'failed';
        row.failureReason = 'SrcVersionNotFound';
      } else if (v.replicationStatus === 'REPLICA' && !state) {
        row.status = 'pending';
      } else if (state?.status === 'COMPLETED') {
        row.status = 'succeeded';
      } else if (state?.status === 'FAILED') {
        row.status = 'failed';
        row.failureReason = state.failureReason ?? 'Unknown';
      }
      rows.push(row);
    }
  }
  const count = (s: BatchReportRow['status']) => rows.filter((r) => r.status === s).length;
  const pending = count('pending');
  return {
    jobId: job.jobId,
    bucket: job.bucket,
    createdAt: new Date(job.createdAt).toISOString(),
    status: pending === 0 ? 'Complete' : 'Active',
    total: rows.length,
    succeeded: count('succeeded'),
    failed: count('failed'),
    pending,
    rows,
  };
}

/** The report as AWS's completion report CSV: Bucket,Key,VersionId,TaskStatus,ErrorCode,HTTPStatusCode,ResultMessage. */
export function batchReportCsv(r: BatchReport): string {
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return r.rows
    .map((row) => [r.bucket, encodeURIComponent(row.key), row.versionId, row.status, row.failureReason ?? '', row.status === 'failed' ? '400' : row.status === 'succeeded' ? '200' : '', row.status === 'succeeded' ? `Successful to ${row.destinationBucket}` : row.status === 'failed' ? `${row.failureReason} to ${row.destinationBucket}` : `Pending to ${row.destinationBucket}`].map(q).join(','))
    .join('\n') + (r.rows.length ? '\n' : '');
}
