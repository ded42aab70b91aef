/** Object tagging (Put/Get/DeleteObjectTagging, by version) and bucket tagging (Put/Get/DeleteBucketTagging). */
import { ServiceError } from '../../../common/errors.js';
import type { BucketRecord, StoredObjectVersion } from '../../../storage/types.js';
import { toXml } from '../../protocol/xml.js';
import { readSmallBody, requireChecksumHeader, S3_XMLNS } from '../request-body.js';
import type { S3Context, S3Handler } from '../s3-context.js';
import type { S3Request } from '../s3-request.js';
import { BUCKET_TAG_LIMIT, OBJECT_TAG_LIMIT, parseTaggingXml, tagSetXml } from '../tags.js';
import { checkVersionId, planTagReplication, readableVersion } from '../versions.js';

const TAGGING_BODY_LIMIT = 64 * 1024;

async function taggedVersion(ctx: S3Context, req: S3Request, bucket: BucketRecord): Promise<StoredObjectVersion> {
  const versionId = checkVersionId(bucket, req.query.get('versionId'));
  return readableVersion(ctx, bucket, req.key!, versionId, req.method);
}

function versionHeader(bucket: BucketRecord, v: StoredObjectVersion): Record<string, string> {
  return bucket.versioning !== 'Unversioned' || v.versionId !== 'null' ? { 'x-amz-version-id': v.versionId } : {};
}

/** Replace a version's tags and queue the tag change for replication in the same write. */
async function putTagsReplicated(ctx: S3Context, v: StoredObjectVersion, tags: Record<string, string> | undefined): Promise<void> {
  const changed: StoredObjectVersion = { ...v };
  if (tags) changed.tags = tags;
  else delete changed.tags;
  const outbox = await planTagReplication(ctx, changed);
  await ctx.meta.putObjectTags(v.bucket, v.key, v.versionId, tags, outbox);
  if (outbox.length > 0) ctx.replicationQueued();
}

export const putObjectTagging: S3Handler = async (ctx, req, bucket) => {
  requireChecksumHeader(req);
  const tags = parseTaggingXml(await readSmallBody(req, TAGGING_BODY_LIMIT), OBJECT_TAG_LIMIT);
  const v = await taggedVersion(ctx, req, bucket!);
  const newTags = Object.keys(tags).length > 0 ? tags : undefined;
  await putTagsReplicated(ctx, v, newTags);
  return { status: 200, headers: versionHeader(bucket!, v) };
};

export const getObjectTagging: S3Handler = async (ctx, req, bucket) => {
  const v = await taggedVersion(ctx, req, bucket!);
  return { status: 200, headers: { 'content-type': 'application/xml', ...versionHeader(bucket!, v) }, body: toXml('Tagging', tagSetXml(v.tags), S3_XMLNS) };
};

export const deleteObjectTagging: S3Handler = async (ctx, req, bucket) => {
  const v = await taggedVersion(ctx, req, bucket!);
  await putTagsReplicated(ctx, v, undefined);
  return { status: 204, headers: versionHeader(bucket!, v) };
};

export const putBucketTagging: S3Handler = async (ctx, req, bucket) => {
  requireChecksumHeader(req);
  const tags = parseTaggingXml(await readSmallBody(req, TAGGING_BODY_LIMIT), BUCKET_TAG_LIMIT);
  await ctx.meta.putBucketConfig(bucket!.name, 'tagging', tags);
  return { status: 204, headers: {} };
};

export const getBucketTagging: S3Handler = async (ctx, _req, bucket) => {
  const tags = await ctx.meta.getBucketConfig<Record<string, string>>(bucket!.name, 'tagging');
  if (!tags || Object.keys(tags).length === 0) throw new ServiceError('NoSuchTagSet', 404, 'The TagSet does not exist', { BucketName: bucket!.name });
  return { status: 200, headers: { 'content-type': 'application/xml' }, body: toXml('Tagging', tagSetXml(tags), S3_XMLNS) };
};

export const deleteBucketTagging: S3Handler = async (ctx, _req, bucket) => {
  await ctx.meta.deleteBucketConfig(bucket!.name, 'tagging');
  return { status: 204, headers: {} };
};
