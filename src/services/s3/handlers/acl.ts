/** Bucket and object ACLs (Get/PutBucketAcl, Get/PutObjectAcl) and Object Ownership controls. */
import { ServiceError } from '../../../common/errors.js';
import type { BucketRecord } from '../../../storage/types.js';
import { child, malformedXml, parseXml, token, toXml } from '../../protocol/xml.js';
import { refusePublicAcl } from '../acl-access.js';
import { aclFromHeaders, aclsNotSupported, aclXml, isBucketOwnerFullControl, isOwnerOnly, OWNERSHIP_VALUES, parseAclXml, privateAcl, type StoredAcl } from '../acl.js';
import { readSmallBody, requireChecksumHeader, S3_XMLNS } from '../request-body.js';
import type { S3Context, S3Handler } from '../s3-context.js';
import type { S3Request } from '../s3-request.js';
import { checkVersionId, readableVersion } from '../versions.js';

const enforced = (bucket: BucketRecord) => bucket.objectOwnership === 'BucketOwnerEnforced';

/**
 * The ACL a write (PutObject, CopyObject, CreateMultipartUpload) asks for, to store with the new
 * object. With BucketOwnerEnforced, the bucket owner owns every object and only owner-only ACLs
 * (private, bucket-owner-full-control) are accepted; nothing is stored.
 */
export function objectAclForWrite(bucket: BucketRecord, req: S3Request): StoredAcl | undefined {
  if (enforced(bucket)) {
    const writer = req.caller.principal.accountId ?? bucket.ownerAccountId;
    const asked = aclFromHeaders(req.headers, 'object', writer, bucket.ownerAccountId);
    if (asked && !isBucketOwnerFullControl(asked, bucket.ownerAccountId, writer)) throw aclsNotSupported();
    return undefined;
  }
  return aclFromHeaders(req.headers, 'object', objectOwnerFor(bucket, req), bucket.ownerAccountId);
}

/**
 * The account that owns objects written by this request: the bucket owner when ownership is
 * enforced, or under BucketOwnerPreferred when the writer gives it bucket-owner-full-control;
 * otherwise the writer (ObjectWriter).
 */
export function objectOwnerFor(bucket: BucketRecord, req: S3Request): string {
  const preferred = bucket.objectOwnership === 'BucketOwnerPreferred' && req.headers['x-amz-acl'] === 'bucket-owner-full-control';
  return enforced(bucket) || preferred ? bucket.ownerAccountId : (req.caller.principal.accountId ?? bucket.ownerAccountId);
}

async function aclFromRequest(req: S3Request, kind: 'bucket' | 'object', ownerAccountId: string, bucketOwnerAccountId: string): Promise<StoredAcl> {
  const fromHeaders = aclFromHeaders(req.headers, kind, ownerAccountId, bucketOwnerAccountId);
  const body = await readSmallBody(req, 64 * 1024);
  if (fromHeaders) {
    if (body.trim() !== '') throw new ServiceError('UnexpectedContent', 400, 'This request does not support content');
    return fromHeaders;
  }
  if (body.trim() === '') throw new ServiceError('MissingSecurityHeader', 400, 'Your request was missing a required header', { MissingHeaderName: 'x-amz-acl' });
  return parseAclXml(body, ownerAccountId);
}

function aclResponse(acl: StoredAcl, headers: Record<string, string> = {}) {
  return { status: 200, headers: { 'content-type': 'application/xml', ...headers }, body: aclXml(acl) };
}

async function bucketAcl(ctx: S3Context, bucket: BucketRecord): Promise<StoredAcl> {
  if (enforced(bucket)) return privateAcl(bucket.ownerAccountId);
  return (await ctx.meta.getBucketConfig<StoredAcl>(bucket.name, 'acl')) ?? privateAcl(bucket.ownerAccountId);
}

export const getBucketAcl: S3Handler = async (ctx, _req, bucket) => aclResponse(await bucketAcl(ctx, bucket!));

export const putBucketAcl: S3Handler = async (ctx, req, bucket) => {
  const acl = await aclFromRequest(req, 'bucket', bucket!.ownerAccountId, bucket!.ownerAccountId);
  if (enforced(bucket!)) {
    if (!isOwnerOnly(acl, bucket!.ownerAccountId)) throw aclsNotSupported();
    return { status: 200, headers: {} };
  }
  await refusePublicAcl(ctx.meta, bucket!, acl);
  await ctx.meta.putBucketConfig(bucket!.name, 'acl', acl);
  return { status: 200, headers: {} };
};

function versionHeader(bucket: BucketRecord, versionId: string): Record<string, string> {
  return bucket.versioning !== 'Unversioned' || versionId !== 'null' ? { 'x-amz-version-id': versionId } : {};
}

export const getObjectAcl: S3Handler = async (ctx, req, bucket) => {
  const v = await readableVersion(ctx, bucket!, req.key!, checkVersionId(bucket!, req.query.get('versionId')), req.method);
  const acl = enforced(bucket!) ? privateAcl(bucket!.ownerAccountId) : ((await ctx.meta.getObjectAcl<StoredAcl>(bucket!.name, v.key, v.versionId)) ?? privateAcl(v.ownerAccountId));
  return aclResponse(acl, versionHeader(bucket!, v.versionId));
};

export const putObjectAcl: S3Handler = async (ctx, req, bucket) => {
  const v = await readableVersion(ctx, bucket!, req.key!, checkVersionId(bucket!, req.query.get('versionId')), req.method);
  const acl = await aclFromRequest(req, 'object', v.ownerAccountId, bucket!.ownerAccountId);
  if (enforced(bucket!)) {
    if (!isOwnerOnly(acl, bucket!.ownerAccountId)) throw aclsNotSupported();
  } else {
    await refusePublicAcl(ctx.meta, bucket!, acl);
    await ctx.meta.putObjectAcl(bucket!.name, v.key, v.versionId, acl);
  }
  return { status: 200, headers: versionHeader(bucket!, v.versionId) };
};

// ------------------------------------------------------------------------- ownership controls

export const getBucketOwnershipControls: S3Handler = async (_ctx, _req, bucket) => {
  if (!bucket!.objectOwnership) {
    throw new ServiceError('OwnershipControlsNotFoundError', 404, 'The bucket ownership controls were not found', { BucketName: bucket!.name });
  }
  const body = toXml('OwnershipControls', { Rule: { ObjectOwnership: bucket!.objectOwnership } }, S3_XMLNS);
  return { status: 200, headers: { 'content-type': 'application/xml' }, body };
};

export const putBucketOwnershipControls: S3Handler = async (ctx, req, bucket) => {
  requireChecksumHeader(req);
  const { root, value } = parseXml(await readSmallBody(req, 64 * 1024));
  if (root !== 'OwnershipControls') throw malformedXml();
  const rule = child(value, 'Rule');
  const ownership = rule ? token(rule, 'ObjectOwnership') : undefined;
  if (!ownership || !OWNERSHIP_VALUES.includes(ownership)) throw malformedXml();
  if (ownership === 'BucketOwnerEnforced') {
    const current = await ctx.meta.getBucketConfig<StoredAcl>(bucket!.name, 'acl');
    if (current && !isOwnerOnly(current, bucket!.ownerAccountId)) {
      throw new ServiceError('InvalidBucketAclWithObjectOwnership', 400, "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting");
    }
  }
  await ctx.meta.updateBucket(bucket!.name, { objectOwnership: ownership });
  return { status: 200, headers: {} };
};

export const deleteBucketOwnershipControls: S3Handler = async (ctx, _req, bucket) => {
  await ctx.meta.updateBucket(bucket!.name, { objectOwnership: undefined });
  return { status: 204, headers: {} };
};
