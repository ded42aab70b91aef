/**
 * S3 authorization: one IAM action on one bucket or object, through policy/ with the bucket policy
 * as the resource policy and the bucket or object ACL as one more source of allows (acl-access.ts),
 * Block Public Access's RestrictPublicBuckets and IgnorePublicAcls, the bucket owner's lockout
 * protection for bucket-policy operations, and s3:ExistingObjectTag/ keys read only when a policy
 * asks for them. Handlers that authorize per key (DeleteObjects) call `authorizeS3` themselves.
 */
import { ServiceError } from '../../common/errors.js';
import { denialMessage, withoutPublicGrants, isPublicPolicy } from '../../policy/index.js';
import type { ConditionValue, NamedPolicy, Principal } from '../../policy/types.js';
import type { BucketRecord, RegionMetadataStore } from '../../storage/types.js';
import type { AuthorizationQuery, Authorizer } from '../iam/authorizer.js';
import { aclFromHeaders } from './acl.js';
import { aclApplies, aclsEnabled, applicableAcl, refusePublicAcl, type AclTarget } from './acl-access.js';
import { existingTagKeys } from './condition-keys.js';
import { publicAccessBlockOf } from './handlers/bucket-policy.js';
import { EXISTING_OBJECT_TAG_ACTIONS } from './iam-actions.js';
import type { S3Context } from './s3-context.js';
import type { S3Request } from './s3-request.js';

export interface S3Target {
  action: string;
  /** The bucket the action applies to (undefined for service-level actions such as ListAllMyBuckets). */
  bucket?: BucketRecord;
  /** The object key, for object actions. */
  key?: string;
  /** The version the request names, for s3:ExistingObjectTag/. */
  versionId?: string;
  /** The metadata store holding `bucket` (another region's for cross-region copy sources). */
  meta?: RegionMetadataStore;
}

/** The bucket owner's root may always manage the bucket policy, whatever it says (lockout protection). */
const LOCKOUT_PROTECTED = new Set(['s3:getbucketpolicy', 's3:putbucketpolicy', 's3:deletebucketpolicy']);

function resourceArn(t: S3Target, bucketName: string | undefined): string {
  if (!bucketName) return '*';
  return t.key === undefined ? `arn:aws:s3:::${bucketName}` : `arn:aws:s3:::${bucketName}/${t.key}`;
}

/**
 * The bucket policy as the resource policy, minus public grants when RestrictPublicBuckets applies
 * to this caller (also `meridian explain`'s, so it answers as the server does).
 */
export async function bucketResourcePolicy(authorizer: Pick<Authorizer, 'parse'>, meta: RegionMetadataStore, p: Principal, bucket: BucketRecord): Promise<NamedPolicy | undefined> {
  const text = await meta.getBucketConfig<string>(bucket.name, 'policy');
  if (!text) return undefined;
  const policy = authorizer.parse(text, 'resource');
  const outsider = p.type !== 'Service' && p.accountId !== bucket.ownerAccountId;
  if (outsider && isPublicPolicy(policy) && (await publicAccessBlockOf(meta, bucket.name))?.RestrictPublicBuckets) {
    return { name: `bucket policy of ${bucket.name} (public grants ignored: RestrictPublicBuckets)`, policy: withoutPublicGrants(policy) };
  }
  return { name: `bucket policy of ${bucket.name}`, policy };
}

/** The ACL a write's headers ask for; undefined when they are invalid (the handler answers that). */
function requestedObjectAcl(req: S3Request, bucket: BucketRecord) {
  try {
    return aclFromHeaders(req.headers, 'object', req.caller.principal.accountId ?? bucket.ownerAccountId, bucket.ownerAccountId);
  } catch {
    return undefined;
  }
}

/**
 * Throws 403 AccessDenied unless the caller may perform `target.action`. Anonymous callers get S3's
 * plain "Access Denied"; signed ones the IAM-style message naming the reason.
 */
export async function authorizeS3(
  ctx: S3Context,
  req: S3Request,
  target: S3Target,
  context: Record<string, ConditionValue | undefined>,
): Promise<void> {
  const meta = target.meta ?? ctx.meta;
  const bucket = target.bucket;
  const p = req.caller.principal;
  if (bucket && LOCKOUT_PROTECTED.has(target.action.toLowerCase()) && p.type === 'Account' && p.accountId === bucket.ownerAccountId) return;
  const q: AuthorizationQuery = {
    action: target.action,
    resource: resourceArn(target, bucket?.name ?? req.bucket),
    context,
  };
  const owner = bucket?.ownerAccountId ?? p.accountId;
  if (owner !== undefined) q.resourceAccount = owner;
  if (bucket) {
    const rp = await bucketResourcePolicy(ctx.authorizer, meta, p, bucket);
    if (rp) q.resourcePolicy = rp;
    const aclTarget: AclTarget = { action: target.action, bucket };
    if (target.key !== undefined) aclTarget.key = target.key;
    if (target.versionId !== undefined) aclTarget.versionId = target.versionId;
    // ACL headers on a write (not PUT ?acl) ask for s3:PutObjectAcl on the object being created.
    if (target.action.toLowerCase() === 's3:putobjectacl' && !req.query.has('acl')) {
      aclTarget.newObject = true;
      if (aclsEnabled(bucket)) await refusePublicAcl(meta, bucket, requestedObjectAcl(req, bucket));
    }
    if (aclApplies(aclTarget, p)) q.acl = () => applicableAcl(meta, aclTarget, p);
    if (target.key !== undefined && EXISTING_OBJECT_TAG_ACTIONS.has(target.action.toLowerCase())) {
      const key = target.key;
      q.lazyContext = {
        prefix: 's3:existingobjecttag/',
        load: async () => {
          const v = await meta.getObjectVersion(bucket.name, key, target.versionId);
          return v && !v.isDeleteMarker ? existingTagKeys(v.tags) : {};
        },
      };
    }
  }
  const { input, decision } = await ctx.authorizer.decide(req.caller, q);
  if (decision.outcome === 'Allow') return;
  if (p.type === 'Anonymous') throw new ServiceError('AccessDenied', 403, 'Access Denied');
  throw new ServiceError('AccessDenied', 403, denialMessage(input.request, decision));
}
