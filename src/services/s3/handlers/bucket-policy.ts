/**
 * Bucket policies and Block Public Access: Put/Get/DeleteBucketPolicy, GetBucketPolicyStatus,
 * Put/Get/DeletePublicAccessBlock. Policies are checked on write as S3 checks them (MalformedPolicy
 * naming the problem; principals must exist); a public policy is refused while BlockPublicPolicy is on.
 */
import { ServiceError } from '../../../common/errors.js';
import { isPublicPolicy, parsePolicy, PolicyValidationError } from '../../../policy/index.js';
import type { ParsedPolicy } from '../../../policy/types.js';
import type { RegionMetadataStore } from '../../../storage/types.js';
import { malformedXml, parseXml, token, toXml } from '../../protocol/xml.js';
import { readSmallBody, requireChecksumHeader, S3_XMLNS } from '../request-body.js';
import type { S3Handler } from '../s3-context.js';

const MAX_POLICY_BYTES = 20 * 1024;

export interface PublicAccessBlock {
  BlockPublicAcls: boolean;
  IgnorePublicAcls: boolean;
  BlockPublicPolicy: boolean;
  RestrictPublicBuckets: boolean;
}

const PAB_FIELDS = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'] as const;

/** A bucket's Block Public Access settings (all false when none are set). Issue 3's ACL handlers use BlockPublicAcls/IgnorePublicAcls. */
export async function publicAccessBlockOf(meta: RegionMetadataStore, bucket: string): Promise<PublicAccessBlock | undefined> {
  return meta.getBucketConfig<PublicAccessBlock>(bucket, 'publicAccessBlock');
}

function malformedPolicy(message: string): ServiceError {
  return new ServiceError('MalformedPolicy', 400, message);
}

/** Can a Resource pattern cover this bucket or its objects? Its literal prefix must lead there. */
function resourceInBucket(pattern: string, bucket: string): boolean {
  const literal = pattern.split(/[*?]/)[0]!;
  const bucketArn = `arn:aws:s3:::${bucket}`;
  return bucketArn.startsWith(literal) || literal.startsWith(`${bucketArn}/`);
}

function validateBucketPolicy(text: string, bucket: string): ParsedPolicy {
  if (Buffer.byteLength(text) > MAX_POLICY_BYTES) throw malformedPolicy('Policies must be less than 20 KB');
  if (!text.trimStart().startsWith('{')) throw malformedPolicy("Policies must be valid JSON and the first byte must be '{'");
  let policy: ParsedPolicy;
  try {
    policy = parsePolicy(text, 'resource');
  } catch (e) {
    if (e instanceof PolicyValidationError) {
      throw malformedPolicy(e.message === 'This policy contains invalid Json' ? "Policies must be valid JSON and the first byte must be '{'" : e.message);
    }
    throw e;
  }
  for (const s of policy.statements) {
    for (const a of s.action ?? s.notAction ?? []) {
      if (a !== '*' && !/^s3:/i.test(a)) throw malformedPolicy('Policy has invalid action');
    }
    for (const r of s.resource ?? s.notResource ?? []) {
      if (!resourceInBucket(r, bucket)) throw malformedPolicy('Policy has invalid resource');
    }
  }
  return policy;
}

export const putBucketPolicy: S3Handler = async (ctx, req, bucket) => {
  requireChecksumHeader(req);
  const body = await readSmallBody(req, MAX_POLICY_BYTES + 1024);
  const policy = validateBucketPolicy(body, bucket!.name);
  const bad = await ctx.authorizer.invalidPrincipal(policy);
  if (bad) throw malformedPolicy(bad);
  const pab = await publicAccessBlockOf(ctx.meta, bucket!.name);
  if (pab?.BlockPublicPolicy && isPublicPolicy(policy)) throw new ServiceError('AccessDenied', 403, 'Access Denied');
  await ctx.meta.putBucketConfig(bucket!.name, 'policy', body);
  return { status: 204, headers: {} };
};

function noSuchBucketPolicy(bucket: string): ServiceError {
  return new ServiceError('NoSuchBucketPolicy', 404, 'The bucket policy does not exist', { BucketName: bucket });
}

export const getBucketPolicy: S3Handler = async (ctx, _req, bucket) => {
  const policy = await ctx.meta.getBucketConfig<string>(bucket!.name, 'policy');
  if (policy === undefined) throw noSuchBucketPolicy(bucket!.name);
  // The document as it was put (botocore hands it to users as a string).
  return { status: 200, headers: { 'content-type': 'application/json' }, body: policy };
};

export const deleteBucketPolicy: S3Handler = async (ctx, _req, bucket) => {
  await ctx.meta.deleteBucketConfig(bucket!.name, 'policy');
  return { status: 204, headers: {} };
};

export const getBucketPolicyStatus: S3Handler = async (ctx, _req, bucket) => {
  const text = await ctx.meta.getBucketConfig<string>(bucket!.name, 'policy');
  if (text === undefined) throw noSuchBucketPolicy(bucket!.name);
  const isPublic = isPublicPolicy(ctx.authorizer.parse(text, 'resource'));
  return { status: 200, headers: { 'content-type': 'application/xml' }, body: toXml('PolicyStatus', { IsPublic: isPublic }, S3_XMLNS) };
};

export const putPublicAccessBlock: S3Handler = async (ctx, req, bucket) => {
  requireChecksumHeader(req);
  const { root, value } = parseXml(await readSmallBody(req, 64 * 1024));
  if (root !== 'PublicAccessBlockConfiguration') throw malformedXml();
  const config = {} as PublicAccessBlock;
  for (const f of PAB_FIELDS) {
    const v = token(value, f);
    if (v !== undefined && v !== 'true' && v !== 'false') throw malformedXml();
    config[f] = v === 'true';
  }
  await ctx.meta.putBucketConfig(bucket!.name, 'publicAccessBlock', config);
  return { status: 200, headers: {} };
};

export const getPublicAccessBlock: S3Handler = async (ctx, _req, bucket) => {
  const config = await publicAccessBlockOf(ctx.meta, bucket!.name);
  if (!config) {
    throw new ServiceError('NoSuchPublicAccessBlockConfiguration', 404, 'The public access block configuration was not found', { BucketName: bucket!.name });
  }
  const body = Object.fromEntries(PAB_FIELDS.map((f) => [f, config[f]]));
  return { status: 200, headers: { 'content-type': 'application/xml' }, body: toXml('PublicAccessBlockConfiguration', body, S3_XMLNS) };
};

export const deletePublicAccessBlock: S3Handler = async (ctx, _req, bucket) => {
  await ctx.meta.deleteBucketConfig(bucket!.name, 'publicAccessBlock');
  return { status: 204, headers: {} };
};
