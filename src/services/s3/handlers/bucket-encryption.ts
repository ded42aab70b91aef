/** Put/Get/DeleteBucketEncryption (reference §5.6). */
import { toXml } from '../../protocol/xml.js';
import { bucketEncryption, bucketEncryptionXml, deleteBucketEncryptionConfig, parseBucketEncryptionXml, putBucketEncryptionConfig } from '../bucket-encryption.js';
import { readSmallBody, requireChecksumHeader, S3_XMLNS } from '../request-body.js';
import type { S3Handler } from '../s3-context.js';

export const putBucketEncryption: S3Handler = async (ctx, req, bucket) => {
  requireChecksumHeader(req);
  // S3 does not check KMSMasterKeyID here: a bad key fails the object PUTs that use it.
  const config = parseBucketEncryptionXml(await readSmallBody(req, 64 * 1024));
  await putBucketEncryptionConfig(ctx.meta, bucket!.name, config);
  return { status: 200, headers: {} };
};

/** Every bucket has a default: SSE-S3 when nothing else was put (since January 2023). */
export const getBucketEncryption: S3Handler = async (ctx, _req, bucket) => {
  const config = await bucketEncryption(ctx.meta, bucket!.name);
  return { status: 200, headers: { 'content-type': 'application/xml' }, body: toXml('ServerSideEncryptionConfiguration', bucketEncryptionXml(config), S3_XMLNS) };
};

/** Back to SSE-S3; idempotent. */
export const deleteBucketEncryption: S3Handler = async (ctx, _req, bucket) => {
  await deleteBucketEncryptionConfig(ctx.meta, bucket!.name);
  return { status: 204, headers: {} };
};
