/**
 * Which ACL an S3 authorization consults (policy/acl.ts decides what its grants allow): none when
 * the bucket's Object Ownership is BucketOwnerEnforced (ACLs disabled, as on AWS); the object's ACL
 * — as stored, or the owner-only default — for object reads and object-ACL operations; the bucket's
 * for listing, writing objects and bucket-ACL operations. Block Public Access's IgnorePublicAcls
 * drops the public grants (AllUsers, AuthenticatedUsers) from either; BlockPublicAcls refuses
 * writing them.
 */
import { ServiceError } from '../../common/errors.js';
import { aclSubjectOf, isPublicAcl, isPublicGrant, type AclInput } from '../../policy/acl.js';
import type { Principal } from '../../policy/types.js';
import type { BucketRecord, RegionMetadataStore } from '../../storage/types.js';
import { privateAcl, type StoredAcl } from './acl.js';
import { canonicalUserId } from './handlers/buckets.js';
import { publicAccessBlockOf } from './handlers/bucket-policy.js';

export interface AclTarget {
  action: string;
  bucket: BucketRecord;
  key?: string;
  versionId?: string;
  /**
   * s3:PutObjectAcl asked for by ACL headers on a write (PutObject, CopyObject,
   * CreateMultipartUpload): the writer will own the new object, so the bucket's WRITE decides.
   */
  newObject?: boolean;
}

/** ACLs are in force unless Object Ownership is BucketOwnerEnforced (no ownership controls = ObjectWriter). */
export function aclsEnabled(bucket: BucketRecord): boolean {
  return bucket.objectOwnership !== 'BucketOwnerEnforced';
}

const canonicalIds = new Map<string, string>();
function canonicalOf(accountId: string): string {
  let id = canonicalIds.get(accountId);
  if (!id) {
    id = canonicalUserId(accountId);
    if (canonicalIds.size > 10_000) canonicalIds.clear();
    canonicalIds.set(accountId, id);
  }
  return id;
}

/** Does an ACL take part in this authorization at all? (No read needed to tell.) */
export function aclApplies(t: AclTarget, principal: Principal): boolean {
  if (!aclsEnabled(t.bucket) || principal.type === 'Service') return false;
  if (t.newObject) return true;
  const on = aclSubjectOf(t.action);
  return on === 'bucket' || (on === 'object' && t.key !== undefined);
}

/** The ACL for this authorization, read from the bucket's region store; undefined when none applies. */
export async function applicableAcl(meta: RegionMetadataStore, t: AclTarget, principal: Principal): Promise<AclInput | undefined> {
  if (!aclApplies(t, principal)) return undefined;
  const on = t.newObject ? 'bucket' : aclSubjectOf(t.action)!;
  let name: string;
  let stored: StoredAcl;
  if (on === 'object') {
    const v = await meta.getObjectVersion(t.bucket.name, t.key!, t.versionId);
    if (!v || v.isDeleteMarker) return undefined;
    stored = (await meta.getObjectAcl<StoredAcl>(t.bucket.name, v.key, v.versionId)) ?? privateAcl(v.ownerAccountId);
    name = `object ACL of ${t.bucket.name}/${v.key}${t.versionId !== undefined ? ` (version ${v.versionId})` : ''}`;
  } else {
    stored = (await meta.getBucketConfig<StoredAcl>(t.bucket.name, 'acl')) ?? privateAcl(t.bucket.ownerAccountId);
    name = `bucket ACL of ${t.bucket.name}`;
  }
  let grants = stored.grants;
  if (grants.some(isPublicGrant) && (await publicAccessBlockOf(meta, t.bucket.name))?.IgnorePublicAcls) {
    grants = grants.filter((g) => !isPublicGrant(g));
    name += ' (public grants ignored: IgnorePublicAcls)';
  }
  const acl: AclInput = { name, on, grants };
  if (principal.accountId !== undefined) acl.callerCanonicalId = canonicalOf(principal.accountId);
  if (t.newObject) acl.actingAs = 's3:PutObject';
  return acl;
}

/**
 * BlockPublicAcls: a request that would set a public ACL (PutBucketAcl, PutObjectAcl, or ACL
 * headers on PutObject, CopyObject and CreateMultipartUpload) is refused with 403 AccessDenied, as
 * S3 answers it.
 */
export async function refusePublicAcl(meta: RegionMetadataStore, bucket: BucketRecord, acl: StoredAcl | undefined): Promise<void> {
  if (!acl || !isPublicAcl(acl.grants)) return;
  if ((await publicAccessBlockOf(meta, bucket.name))?.BlockPublicAcls) throw new ServiceError('AccessDenied', 403, 'Access Denied');
}
