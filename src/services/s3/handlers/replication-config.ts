/** Put/Get/DeleteBucketReplication (reference §1). */
import { ServiceError } from '../../../common/errors.js';
import { destinationBucketName, validateReplicationConfiguration, type ReplicationConfiguration } from '../../../replication/config.js';
import { toXml } from '../../protocol/xml.js';
import { parseReplicationXml, replicationXmlBody } from '../replication-xml.js';
import { readSmallBody, requireChecksumHeader, S3_XMLNS } from '../request-body.js';
import { invalidRequest } from '../s3-errors.js';
import { startBatchReplication } from '../replication-batch.js';
import type { S3Handler } from '../s3-context.js';

export const putBucketReplication: S3Handler = async (ctx, req, bucket) => {
  requireChecksumHeader(req);
  const body = await readSmallBody(req);
  // The source-versioning check comes first (reference §1.4, recorded order).
  if (bucket!.versioning !== 'Enabled') {
    throw new ServiceError('InvalidRequest', 400, "Versioning must be 'Enabled' on the bucket to apply a replication configuration", { BucketName: bucket!.name });
  }
  const config = parseReplicationXml(body);
  validateReplicationConfiguration(config, bucket!.name);
  for (const rule of config.rules) {
    const name = destinationBucketName(rule.destination.bucket)!;
    const entry = await ctx.directory.lookup(name);
    if (!entry) throw invalidRequest('Destination bucket must exist.');
    const destination = ctx.peers.bucket ? await ctx.peers.bucket(entry.region, name) : await (await ctx.peers.regionStore(entry.region))?.getBucket(name);
    if (!destination || destination.versioning !== 'Enabled') throw invalidRequest('Destination bucket must have versioning enabled.');
    if (rule.destination.account !== undefined && rule.destination.account !== entry.ownerAccountId) {
      throw new ServiceError('InvalidArgument', 400, 'Destination Account must match the destination bucket owner.');
    }
  }
  // The caller must be allowed to pass the role to S3.
  await ctx.authorizer.require(req.caller, { action: 'iam:PassRole', resource: config.role, resourceAccount: req.caller.principal.accountId });
  await ctx.meta.putBucketConfig(bucket!.name, 'replication', config);
  // Rules with ExistingObjectReplication replicate what the bucket already holds (never-replicated versions).
  const existing = config.rules.filter((r) => r.status === 'Enabled' && r.existingObjectReplication === 'Enabled').map((r) => r.id);
  if (existing.length > 0) await startBatchReplication(ctx, bucket!.name, { statuses: ['NONE'], ruleIds: existing });
  return { status: 200, headers: {} };
};

export const getBucketReplication: S3Handler = async (ctx, _req, bucket) => {
  const config = await ctx.meta.getBucketConfig<ReplicationConfiguration>(bucket!.name, 'replication');
  if (!config) {
    throw new ServiceError('ReplicationConfigurationNotFoundError', 404, 'The replication configuration was not found', { BucketName: bucket!.name });
  }
  return { status: 200, headers: { 'content-type': 'application/xml' }, body: toXml('ReplicationConfiguration', replicationXmlBody(config), S3_XMLNS) };
};

export const deleteBucketReplication: S3Handler = async (ctx, _req, bucket) => {
  await ctx.meta.deleteBucketConfig(bucket!.name, 'replication');
  return { status: 204, headers: {} };
};
