/** Bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation, versioning. */
import { createHash } from 'node:crypto';
import { ServiceError } from '../../../common/errors.js';
import { isKnownRegion, regionOfLocationConstraint } from '../../../regions/known-regions.js';
import type { BucketRecord } from '../../../storage/types.js';
import type { ServiceResponse } from '../../protocol/response.js';
import { child, children, escapeXml, malformedXml, parseXml, token, toXml, xmlDate } from '../../protocol/xml.js';
import { aclFromHeaders, isOwnerOnly, OWNERSHIP_VALUES, type StoredAcl } from '../acl.js';
import { validateBucketName } from '../bucket-naming.js';
import { isPublicAcl } from '../../../policy/acl.js';
import type { PublicAccessBlock } from './bucket-policy.js';
import { readSmallBody, requireChecksumHeader, S3_XMLNS } from '../request-body.js';
import { invalidArgument } from '../s3-errors.js';
import type { S3Handler } from '../s3-context.js';

/** The canonical user id S3 shows as Owner/ID: stable per account. */
export function canonicalUserId(accountId: string): string {
  return createHash('sha256').update(`meridian-canonical-user:${accountId}`).digest('hex');
}

function xmlResponse(root: string, body: Parameters<typeof toXml>[1]) {
  return { status: 200, headers: { 'content-type': 'application/xml' }, body: toXml(root, body, S3_XMLNS) };
}

const MAX_BUCKETS_PAGE = 10000;

const NEW_BUCKET_PUBLIC_ACCESS_BLOCK: PublicAccessBlock = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };

function maxBuckets(req: Parameters<S3Handler>[1]): number {
  const v = req.query.get('max-buckets');
  if (v === null) return MAX_BUCKETS_PAGE;
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > MAX_BUCKETS_PAGE) {
    throw invalidArgument(`Argument max-buckets must be an integer between 1 and ${MAX_BUCKETS_PAGE}`, 'max-buckets', v);
  }
  return Number(v);
}

/** Continuation tokens are opaque to clients: base64url of the last bucket name returned. */
function afterToken(req: Parameters<S3Handler>[1]): string | undefined {
  const token = req.query.get('continuation-token');
  if (token === null) return undefined;
  const name = Buffer.from(token, 'base64url').toString('utf8');
  if (token === '' || Buffer.from(name).toString('base64url') !== token) {
    throw invalidArgument('The continuation token provided is incorrect', 'continuation-token', token);
  }
  return name;
}

/** ListBuckets, by name, with prefix and bucket-region filters and max-buckets/continuation-token pages. */
export const listBuckets: S3Handler = async (ctx, req) => {
  const account = req.caller.principal.accountId;
  if (!account) throw new ServiceError('AccessDenied', 403, 'Access Denied');
  const limit = maxBuckets(req);
  const after = afterToken(req);
  const prefix = req.query.get('prefix') ?? '';
  const regionFilter = req.query.get('bucket-region');
  const entries = (await ctx.directory.listByOwner(account))
    .filter((e) => e.name.startsWith(prefix) && (!regionFilter || e.region === regionFilter) && (after === undefined || e.name > after))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  const page = entries.slice(0, limit);
  // The creation date is in the bucket's record, kept by its region: here, or (split mode) by the
  // process serving that region, asked a few buckets at a time.
  const created = new Array<number | undefined>(page.length);
  let next = 0;
  const lookUp = async () => {
    for (let i = next++; i < page.length; i = next++) {
      const e = page[i]!;
      const store = await ctx.peers.regionStore(e.region);
      created[i] = (store ? await store.getBucket(e.name) : await ctx.peers.bucket?.(e.region, e.name))?.createdAt;
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, page.length) }, lookUp));
  const buckets = page.map((e, i) => ({ Name: e.name, CreationDate: xmlDate(created[i] ?? 0), BucketRegion: e.region, BucketArn: `arn:aws:s3:::${e.name}` }));
  const truncated = entries.length > page.length;
  return xmlResponse('ListAllMyBucketsResult', {
    Buckets: { Bucket: buckets },
    Owner: { ID: canonicalUserId(account) },
    ContinuationToken: truncated ? Buffer.from(page[page.length - 1]!.name).toString('base64url') : undefined,
    Prefix: req.query.get('prefix') ?? undefined,
  });
};

/** The region a CreateBucket lands in, per the signing region and LocationConstraint (reference §7.1). */
function targetRegion(signedRegion: string, constraint: string | undefined): string {
  if (signedRegion === 'us-east-1') {
    if (constraint === undefined || constraint === '') return 'us-east-1';
    if (constraint === 'us-east-1' || (constraint !== 'EU' && !isKnownRegion(constraint))) {
      throw new ServiceError('InvalidLocationConstraint', 400, 'The specified location-constraint is not valid', { LocationConstraint: constraint });
    }
    // The legacy global endpoint creates buckets in any region.
    return regionOfLocationConstraint(constraint);
  }
  if (constraint === undefined || constraint === '') {
    throw new ServiceError(
      'IllegalLocationConstraintException',
      400,
      'The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.',
    );
  }
  if (regionOfLocationConstraint(constraint) !== signedRegion || (constraint === 'EU' && signedRegion !== 'eu-west-1')) {
    throw new ServiceError(
      'IllegalLocationConstraintException',
      400,
      `The ${constraint} location constraint is incompatible for the region specific endpoint this request was sent to.`,
    );
  }
  return signedRegion;
}

export const createBucket: S3Handler = async (ctx, req): Promise<ServiceResponse> => {
  const name = req.bucket!;
  validateBucketName(name);
  const account = req.caller.principal.accountId;
  if (!account) throw new ServiceError('AccessDenied', 403, 'Access Denied');
  const body = await readSmallBody(req, 64 * 1024);
  let constraint: string | undefined;
  let hasTags = false;
  if (body.trim() !== '') {
    const { root, value } = parseXml(body);
    if (root !== 'CreateBucketConfiguration') throw malformedXml();
    constraint = token(value, 'LocationConstraint');
    const tags = value.Tags !== undefined ? child(value, 'Tags') : undefined;
    hasTags = tags !== undefined && children(tags, 'Tag').length > 0;
  }
  const region = targetRegion(req.region, constraint);

  // Taken already: answered as AWS does, also when another gateway's CreateBucket of the name won the claim below.
  const taken = (existing: NonNullable<Awaited<ReturnType<typeof ctx.directory.lookup>>>) => {
    if (existing.ownerAccountId !== account) {
      throw new ServiceError('BucketAlreadyExists', 409, 'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.', { BucketName: name });
    }
    // Legacy us-east-1 behaviour: re-creating your own us-east-1 bucket there succeeds, unless the
    // request carries tags (an empty tag list still succeeds; reference §7.1).
    if (existing.region === 'us-east-1' && region === 'us-east-1' && !hasTags) {
      return { status: 200, headers: { location: `/${name}` } };
    }
    throw new ServiceError('BucketAlreadyOwnedByYou', 409, 'Your previous request to create the named bucket succeeded and you already own it.', { BucketName: name });
  };
  const existing = await ctx.directory.lookup(name);
  if (existing) return taken(existing);
  if (region !== ctx.region) {
    // The request reached this region's handler (signed for us-east-1) but the bucket belongs elsewhere.
    const target = await ctx.peers.regionStore(region);
    if (!target) throw new ServiceError('InvalidLocationConstraint', 400, `Region ${region} is not served by this Meridian.`, { LocationConstraint: constraint ?? '' });
  }
  if (!(await ctx.directory.claim({ name, region, ownerAccountId: account }))) {
    const winner = await ctx.directory.lookup(name);
    if (winner) return taken(winner);
    throw new ServiceError('OperationAborted', 409, 'A conflicting conditional operation is currently in progress against this resource. Please try again.', { BucketName: name });
  }
  const record: BucketRecord = {
    name,
    region,
    ownerAccountId: account,
    createdAt: ctx.clock.now(),
    versioning: 'Unversioned',
    locationConstraint: constraint ?? '',
  };
  let acl: StoredAcl | undefined;
  try {
    // New buckets are BucketOwnerEnforced (ACLs disabled) unless the request says otherwise, as on AWS since 2023.
    const ownership = req.headers['x-amz-object-ownership'] ?? 'BucketOwnerEnforced';
    if (!OWNERSHIP_VALUES.includes(ownership)) {
      throw new ServiceError('InvalidArgument', 400, 'Invalid x-amz-object-ownership header', { ArgumentName: 'x-amz-object-ownership', ArgumentValue: ownership });
    }
    record.objectOwnership = ownership;
    acl = aclFromHeaders(req.headers, 'bucket', account);
    if (acl && ownership === 'BucketOwnerEnforced' && !isOwnerOnly(acl, account)) {
      throw new ServiceError('InvalidBucketAclWithObjectOwnership', 400, "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting");
    }
    // A new bucket starts with all of Block Public Access on, so a public ACL cannot come with it.
    if (acl && isPublicAcl(acl.grants)) {
      throw new ServiceError('InvalidBucketAclWithBlockPublicAccessError', 400, 'Bucket cannot have public ACLs set with BlockPublicAccess enabled');
    }
  } catch (e) {
    await ctx.directory.release(name);
    throw e;
  }
  try {
    const store = region === ctx.region ? ctx.meta : (await ctx.peers.regionStore(region))!;
    await store.createBucket(record);
    // AWS's defaults since April 2023: every Block Public Access setting on (turned off with
    // PutPublicAccessBlock or DeletePublicAccessBlock), and BucketOwnerEnforced (above).
    await store.putBucketConfig(name, 'publicAccessBlock', NEW_BUCKET_PUBLIC_ACCESS_BLOCK);
    if (acl && record.objectOwnership !== 'BucketOwnerEnforced') await store.putBucketConfig(name, 'acl', acl);
  } catch (e) {
    await ctx.directory.release(name);
    throw e;
  }
  const location = region === 'us-east-1' ? `/${name}` : `http://${name}.s3.amazonaws.com/`;
  return { status: 200, headers: { location, 'x-amz-bucket-arn': `arn:aws:s3:::${name}` } };
};

export const headBucket: S3Handler = async (_ctx, _req, bucket) => {
  return {
    status: 200,
    headers: { 'x-amz-bucket-region': bucket!.region, 'x-amz-access-point-alias': 'false', 'x-amz-bucket-arn': `arn:aws:s3:::${bucket!.name}` },
  };
};

function bucketNotEmpty(name: string): ServiceError {
  return new ServiceError('BucketNotEmpty', 409, 'The bucket you tried to delete is not empty. You must delete all versions in the bucket.', { BucketName: name });
}

/**
 * Object versions and delete markers keep a bucket; multipart uploads in progress do not: AWS
 * deletes the bucket and discards them (their parts' data with them).
 */
export const deleteBucket: S3Handler = async (ctx, _req, bucket) => {
  const name = bucket!.name;
  if ((await ctx.meta.listVersions(name, { limit: 1 })).length > 0) throw bucketNotEmpty(name);
  for (;;) {
    const uploads = await ctx.meta.listUploads(name, { limit: 1000 });
    if (uploads.length === 0) break;
    for (const u of uploads) {
      const parts = await ctx.meta.abortUpload(u.uploadId);
      if (parts) await ctx.blobs.delete(parts.map((p) => p.blob)).catch(() => undefined);
    }
  }
  // A version written meanwhile still keeps the bucket.
  if (await ctx.meta.bucketHasContent(name)) throw bucketNotEmpty(name);
  await ctx.meta.deleteBucket(name);
  await ctx.directory.release(name);
  return { status: 204, headers: {} };
};

export const getBucketLocation: S3Handler = async (_ctx, _req, bucket) => {
  // botocore reads the root element's text; us-east-1 is an empty element.
  const constraint = bucket!.locationConstraint;
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="${S3_XMLNS}">${escapeXml(constraint)}</LocationConstraint>`;
  return { status: 200, headers: { 'content-type': 'application/xml' }, body };
};

export const getBucketVersioning: S3Handler = async (_ctx, _req, bucket) => {
  const body = bucket!.versioning === 'Unversioned' ? {} : { Status: bucket!.versioning };
  return xmlResponse('VersioningConfiguration', body);
};

export const putBucketVersioning: S3Handler = async (ctx, req, bucket) => {
  requireChecksumHeader(req);
  const { root, value } = parseXml(await readSmallBody(req, 64 * 1024));
  if (root !== 'VersioningConfiguration') throw malformedXml();
  const status = token(value, 'Status');
  const mfa = token(value, 'MfaDelete');
  if (mfa !== undefined && mfa !== 'Enabled' && mfa !== 'Disabled') throw malformedXml();
  if (mfa === 'Enabled') {
    // Changing MFA delete needs the x-amz-mfa serial and token, which only the root user can send.
    if (!req.headers['x-amz-mfa']) throw new ServiceError('InvalidRequest', 400, 'The x-amz-mfa header is required to change MFA Delete.');
    throw new ServiceError('NotImplemented', 501, 'Meridian does not implement MFA delete.');
  }
  if (status === undefined) {
    if (mfa !== undefined) return { status: 200, headers: {} };
    throw new ServiceError('IllegalVersioningConfigurationException', 400, 'The Versioning element must be specified');
  }
  if (status !== 'Enabled' && status !== 'Suspended') throw malformedXml();
  if (status === 'Suspended' && (await ctx.meta.getBucketConfig(bucket!.name, 'replication'))) {
    throw new ServiceError(
      'InvalidBucketState',
      409,
      'A replication configuration is present on this bucket, so you cannot change the versioning state. To change the versioning state, first delete the replication configuration.',
    );
  }
  await ctx.meta.updateBucket(bucket!.name, { versioning: status });
  return { status: 200, headers: {} };
};
