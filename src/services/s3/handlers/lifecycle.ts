/** Put/Get/DeleteBucketLifecycle(Configuration): the document is validated and stored; lifecycle.ts applies it. */
import { ServiceError } from '../../../common/errors.js';
import { lifecycleXml, parseLifecycleXml, type LifecycleRule } from '../lifecycle-config.js';
import { readSmallBody, requireChecksumHeader } from '../request-body.js';
import type { S3Handler } from '../s3-context.js';

// Objects smaller than 128 KiB are not transitioned (AWS's default since 2024, announced on every answer).
const MIN_SIZE_HEADER = { 'x-amz-transition-default-minimum-object-size': 'all_storage_classes_128K' };

export const putBucketLifecycleConfiguration: S3Handler = async (ctx, req, bucket) => {
  requireChecksumHeader(req);
  const rules = parseLifecycleXml(await readSmallBody(req, 2 * 1024 * 1024));
  await ctx.meta.putBucketConfig(bucket!.name, 'lifecycle', rules);
  return { status: 200, headers: { ...MIN_SIZE_HEADER } };
};

export const getBucketLifecycleConfiguration: S3Handler = async (ctx, _req, bucket) => {
  const rules = await ctx.meta.getBucketConfig<LifecycleRule[]>(bucket!.name, 'lifecycle');
  if (!rules) throw new ServiceError('NoSuchLifecycleConfiguration', 404, 'The lifecycle configuration does not exist', { BucketName: bucket!.name });
  return { status: 200, headers: { 'content-type': 'application/xml', ...MIN_SIZE_HEADER }, body: lifecycleXml(rules) };
};

export const deleteBucketLifecycle: S3Handler = async (ctx, _req, bucket) => {
  await ctx.meta.deleteBucketConfig(bucket!.name, 'lifecycle');
  return { status: 204, headers: {} };
};
