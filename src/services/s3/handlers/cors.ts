/** Put/Get/DeleteBucketCors. Preflight and response headers live in ../cors.ts and S3Service. */
import { ServiceError } from '../../../common/errors.js';
import { corsXml, parseCorsXml, type CorsRule } from '../cors.js';
import { readSmallBody, requireChecksumHeader } from '../request-body.js';
import type { S3Handler } from '../s3-context.js';

export const putBucketCors: S3Handler = async (ctx, req, bucket) => {
  requireChecksumHeader(req);
  const rules = parseCorsXml(await readSmallBody(req, 64 * 1024));
  await ctx.meta.putBucketConfig(bucket!.name, 'cors', rules);
  return { status: 200, headers: {} };
};

export const getBucketCors: S3Handler = async (ctx, _req, bucket) => {
  const rules = await ctx.meta.getBucketConfig<CorsRule[]>(bucket!.name, 'cors');
  if (!rules) throw new ServiceError('NoSuchCORSConfiguration', 404, 'The CORS configuration does not exist', { BucketName: bucket!.name });
  return { status: 200, headers: { 'content-type': 'application/xml' }, body: corsXml(rules) };
};

export const deleteBucketCors: S3Handler = async (ctx, _req, bucket) => {
  await ctx.meta.deleteBucketConfig(bucket!.name, 'cors');
  return { status: 204, headers: {} };
};
