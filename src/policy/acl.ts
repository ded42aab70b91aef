/**
 * S3 access control lists as one more source of allows beside identity and resource policies.
 * An ACL grant never denies; explicit denies in policies still win. A grant is evaluated as if it
 * were a resource-policy Allow naming its grantee: AllUsers is Principal "*", AuthenticatedUsers
 * is "*" for signed callers only, a canonical user (an account) is that account — so an IAM user of
 * a granted account still needs its own identity policy, as with a bucket policy naming the account.
 *
 * Which ACL permission grants which action follows the S3 User Guide, "Access control list (ACL)
 * overview", table "Mapping of ACL permissions and access policy permissions"
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html#acl-access-policy-permission-mapping):
 *
 *   permission    on a bucket                                               on an object
 *   READ          s3:ListBucket, s3:ListBucketVersions,                     s3:GetObject, s3:GetObjectVersion
 *                 s3:ListBucketMultipartUploads
 *   WRITE         s3:PutObject (create, overwrite and delete objects:       not applicable
 *                 s3:DeleteObject too, as the table's note says)
 *   READ_ACP      s3:GetBucketAcl                                           s3:GetObjectAcl, s3:GetObjectVersionAcl
 *   WRITE_ACP     s3:PutBucketAcl                                           s3:PutObjectAcl, s3:PutObjectVersionAcl
 *   FULL_CONTROL  all of the above                                          all of the above
 *
 * Pure code, no I/O: the caller (services/s3) finds the ACL that applies and the caller's canonical id.
 */
import type { PrincipalMatch } from './match.js';
import type { Principal } from './types.js';

export type AclPermission = 'FULL_CONTROL' | 'READ' | 'WRITE' | 'READ_ACP' | 'WRITE_ACP';
export type AclGrantee = { type: 'CanonicalUser'; id: string } | { type: 'Group'; uri: string } | { type: 'AmazonCustomerByEmail'; email: string };
export interface AclGrant {
  grantee: AclGrantee;
  permission: AclPermission;
}

export const ACL_GROUPS = {
  AllUsers: 'http://acs.amazonaws.com/groups/global/AllUsers',
  AuthenticatedUsers: 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers',
  LogDelivery: 'http://acs.amazonaws.com/groups/s3/LogDelivery',
} as const;

/** The ACL one authorization consults. */
export interface AclInput {
  /** For explanations: 'object ACL of b/k', 'bucket ACL of b'. */
  name: string;
  /** Which column of the mapping applies. */
  on: 'bucket' | 'object';
  grants: readonly AclGrant[];
  /** The canonical user id of the caller's account (absent for anonymous callers). */
  callerCanonicalId?: string;
  /**
   * The action the grants are checked for when it is not the request's own: ACL headers on a write
   * ask for s3:PutObjectAcl on an object the writer is creating and will own, so the bucket's WRITE
   * (s3:PutObject) decides.
   */
  actingAs?: string;
}

const BUCKET: Record<string, AclPermission> = {
  's3:listbucket': 'READ',
  's3:listbucketversions': 'READ',
  's3:listbucketmultipartuploads': 'READ',
  's3:putobject': 'WRITE',
  's3:deleteobject': 'WRITE',
  's3:getbucketacl': 'READ_ACP',
  's3:putbucketacl': 'WRITE_ACP',
};
const OBJECT: Record<string, AclPermission> = {
  's3:getobject': 'READ',
  's3:getobjectversion': 'READ',
  's3:getobjectacl': 'READ_ACP',
  's3:getobjectversionacl': 'READ_ACP',
  's3:putobjectacl': 'WRITE_ACP',
  's3:putobjectversionacl': 'WRITE_ACP',
};

/** The ACL permission that grants `action` on a bucket or object ACL, if any does (FULL_CONTROL always does too). */
export function aclPermissionFor(on: 'bucket' | 'object', action: string): AclPermission | undefined {
  return (on === 'bucket' ? BUCKET : OBJECT)[action.toLowerCase()];
}

/** Which ACL an action consults: the bucket's, the object's, or none (ACLs cannot grant it). */
export function aclSubjectOf(action: string): 'bucket' | 'object' | undefined {
  const a = action.toLowerCase();
  return a in OBJECT ? 'object' : a in BUCKET ? 'bucket' : undefined;
}

/** Block Public Access's "public ACL": a grant to AllUsers or AuthenticatedUsers. */
export function isPublicGrant(g: AclGrant): boolean {
  return g.grantee.type === 'Group' && (g.grantee.uri === ACL_GROUPS.AllUsers || g.grantee.uri === ACL_GROUPS.AuthenticatedUsers);
}

export function isPublicAcl(grants: readonly AclGrant[]): boolean {
  return grants.some(isPublicGrant);
}

/** 'READ to AllUsers', 'FULL_CONTROL to canonical user 1a2b…' */
export function describeGrant(g: AclGrant, callerCanonicalId?: string): string {
  const who =
    g.grantee.type === 'Group'
      ? (Object.entries(ACL_GROUPS).find(([, uri]) => uri === (g.grantee as { uri: string }).uri)?.[0] ?? g.grantee.uri)
      : g.grantee.type === 'CanonicalUser'
        ? `canonical user ${g.grantee.id}${g.grantee.id === callerCanonicalId ? " (the caller's account)" : ''}`
        : `email ${g.grantee.email}`;
  return `${g.permission} to ${who}`;
}

/** How a grantee names the caller, in the terms of a resource policy's Principal. */
function granteeMatch(g: AclGrantee, p: Principal, callerCanonicalId: string | undefined): PrincipalMatch | undefined {
  // AWS services act through policies (replication roles, KMS); ACL grants never name them.
  if (p.type === 'Service') return undefined;
  if (g.type === 'Group') {
    if (g.uri === ACL_GROUPS.AllUsers) return 'direct';
    if (g.uri === ACL_GROUPS.AuthenticatedUsers) return p.type === 'Anonymous' ? undefined : 'direct';
    return undefined;
  }
  if (g.type === 'CanonicalUser' && callerCanonicalId !== undefined && g.id === callerCanonicalId) {
    return p.type === 'Account' ? 'direct' : 'account';
  }
  // Grants by email address name no account Meridian can tell (AWS resolves them when written).
  return undefined;
}

const RANK: Record<PrincipalMatch, number> = { direct: 3, role: 2, account: 1 };

/** The grant that allows `action` to `principal` most directly, with its position in the ACL. */
export function matchAclGrant(acl: AclInput, action: string, principal: Principal): { index: number; grant: AclGrant; match: PrincipalMatch } | undefined {
  const needed = aclPermissionFor(acl.on, acl.actingAs ?? action);
  if (!needed) return undefined;
  let best: { index: number; grant: AclGrant; match: PrincipalMatch } | undefined;
  acl.grants.forEach((grant, index) => {
    if (grant.permission !== needed && grant.permission !== 'FULL_CONTROL') return;
    const match = granteeMatch(grant.grantee, principal, acl.callerCanonicalId);
    if (match && (!best || RANK[match] > RANK[best.match])) best = { index, grant, match };
  });
  return best;
}
