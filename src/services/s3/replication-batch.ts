/**
 * Batch Replication jobs of a bucket (replication/batch.ts decides what; this file scans, queues
 * and keeps the job). A job is kept with the bucket's configurations, so its completion report
 * survives restarts; the work itself goes through the outbox like live replication.
 */
import { randomBytes } from 'node:crypto';
import { ServiceError } from '../../common/errors.js';
import { batchReport, selectForBatch, type BatchFilter, type BatchJob, type BatchReport } from '../../replication/batch.js';
import type { StoredObjectVersion } from '../../storage/types.js';
import type { S3Context } from './s3-context.js';
import { replicationConfig } from './versions.js';

const JOB_KIND = 'replication-batch/';
const PAGE = 1000;

export async function startBatchReplication(ctx: S3Context, bucket: string, filter: BatchFilter): Promise<BatchJob> {
  const config = await replicationConfig(ctx, bucket);
  if (!config) throw new ServiceError('ReplicationConfigurationNotFoundError', 404, 'The replication configuration was not found', { BucketName: bucket });
  const job: BatchJob = { jobId: randomBytes(8).toString('hex'), bucket, createdAt: ctx.clock.now(), filter, entries: [] };
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const opts: Parameters<S3Context['meta']['listVersions']>[1] = { limit: PAGE };
    if (filter.prefix !== undefined) opts.prefix = filter.prefix;
    if (keyMarker !== undefined) opts.keyMarker = keyMarker;
    if (versionIdMarker !== undefined) opts.versionIdMarker = versionIdMarker;
    const page = await ctx.meta.listVersions(bucket, opts);
    for (const v of page) {
      const planned = selectForBatch(config, v, filter);
      if (planned.length === 0) continue;
      const tasks = planned.map((p) => ({
        bucket,
        key: v.key,
        versionId: v.versionId,
        operation: v.isDeleteMarker ? ('delete-marker' as const) : ('put' as const),
        destinationBucket: p.destinationBucket,
        ruleId: p.ruleId,
      }));
      if (await ctx.meta.queueReplication(bucket, v.key, v.versionId, tasks)) {
        job.entries.push({ key: v.key, versionId: v.versionId, destinations: planned.map((p) => p.destinationBucket) });
      }
    }
    if (page.length < PAGE) break;
    keyMarker = page[page.length - 1]!.key;
    versionIdMarker = page[page.length - 1]!.versionId;
  }
  await ctx.meta.putBucketConfig(bucket, JOB_KIND + job.jobId, job);
  if (job.entries.length > 0) ctx.replicationQueued();
  return job;
}

export async function batchJobReport(ctx: S3Context, bucket: string, jobId: string): Promise<BatchReport> {
  const job = /^[0-9a-f]{16}$/.test(jobId) ? await ctx.meta.getBucketConfig<BatchJob>(bucket, JOB_KIND + jobId) : undefined;
  if (!job) throw new ServiceError('NoSuchJob', 404, `No batch replication job ${jobId} for bucket ${bucket}`);
  const versions = new Map<string, StoredObjectVersion | undefined>();
  for (const e of job.entries) versions.set(`${e.key}\n${e.versionId}`, await ctx.meta.getObjectVersion(bucket, e.key, e.versionId));
  return batchReport(job, (key, versionId) => versions.get(`${key}\n${versionId}`));
}
