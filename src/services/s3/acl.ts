/**
 * Access control lists as S3 stores and shows them: canned ACLs, x-amz-grant-* headers and the
 * AccessControlPolicy document, and Object Ownership (BucketOwnerEnforced disables ACLs: only
 * ACLs that give the bucket owner full control are accepted; reads still work).
 *
 * Grants take part in access decisions through policy/acl.ts (acl-access.ts finds the ACL that
 * applies); Block Public Access's BlockPublicAcls refuses public ACLs here, on write.
 */
import { ServiceError } from '../../common/errors.js';
import { ACL_GROUPS, type AclGrant, type AclGrantee, type AclPermission } from '../../policy/acl.js';
import { attributes, child, children, escapeXml, malformedXml, parseXml, text, token } from '../protocol/xml.js';
import { canonicalUserId } from './handlers/buckets.js';
import { invalidArgument } from './s3-errors.js';

export type Permission = AclPermission;
export type Grantee = AclGrantee;
export type Grant = AclGrant;
export interface StoredAcl {
  /** Owner's canonical user id. */
  owner: string;
  grants: Grant[];
}

const PERMISSIONS = new Set<string>(['FULL_CONTROL', 'READ', 'WRITE', 'READ_ACP', 'WRITE_ACP']);
const GROUPS = ACL_GROUPS;
const BUCKET_CANNED = ['private', 'public-read', 'public-read-write', 'authenticated-read', 'log-delivery-write'];
const OBJECT_CANNED = ['private', 'public-read', 'public-read-write', 'authenticated-read', 'aws-exec-read', 'bucket-owner-read', 'bucket-owner-full-control'];
export const OWNERSHIP_VALUES = ['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter'];

const user = (id: string, permission: Permission): Grant => ({ grantee: { type: 'CanonicalUser', id }, permission });
const group = (uri: string, permission: Permission): Grant => ({ grantee: { type: 'Group', uri }, permission });

/** The owner-only ACL every bucket and object starts with. */
export function privateAcl(ownerAccountId: string): StoredAcl {
  const owner = canonicalUserId(ownerAccountId);
  return { owner, grants: [user(owner, 'FULL_CONTROL')] };
}

/** A canned ACL as grants. `bucketOwnerAccountId` matters for the bucket-owner-* object ACLs. */
export function cannedAcl(name: string, kind: 'bucket' | 'object', ownerAccountId: string, bucketOwnerAccountId = ownerAccountId): StoredAcl {
  if (!(kind === 'bucket' ? BUCKET_CANNED : OBJECT_CANNED).includes(name)) {
    throw invalidArgument(`The canned ACL ${name} is not valid for a${kind === 'object' ? 'n object' : ' bucket'}.`, 'x-amz-acl', name);
  }
  const acl = privateAcl(ownerAccountId);
  const bucketOwner = canonicalUserId(bucketOwnerAccountId);
  switch (name) {
    case 'public-read':
      acl.grants.push(group(GROUPS.AllUsers, 'READ'));
      break;
    case 'public-read-write':
      acl.grants.push(group(GROUPS.AllUsers, 'READ'), group(GROUPS.AllUsers, 'WRITE'));
      break;
    case 'authenticated-read':
      acl.grants.push(group(GROUPS.AuthenticatedUsers, 'READ'));
      break;
    case 'log-delivery-write':
      acl.grants.push(group(GROUPS.LogDelivery, 'WRITE'), group(GROUPS.LogDelivery, 'READ_ACP'));
      break;
    case 'bucket-owner-read':
      if (bucketOwner !== acl.owner) acl.grants.push(user(bucketOwner, 'READ'));
      break;
    case 'bucket-owner-full-control':
      if (bucketOwner !== acl.owner) acl.grants.push(user(bucketOwner, 'FULL_CONTROL'));
      break;
  }
  return acl;
}

const GRANT_HEADERS: Record<string, Permission> = {
  'x-amz-grant-full-control': 'FULL_CONTROL',
  'x-amz-grant-read': 'READ',
  'x-amz-grant-write': 'WRITE',
  'x-amz-grant-read-acp': 'READ_ACP',
  'x-amz-grant-write-acp': 'WRITE_ACP',
};

/** `id="…", uri="…", emailAddress="…"` lists of the x-amz-grant-* headers. */
function parseGrantHeader(header: string, value: string, permission: Permission): Grant[] {
  const grants: Grant[] = [];
  for (const item of value.split(',')) {
    const m = /^\s*(id|uri|emailAddress)\s*=\s*"?([^"]*)"?\s*$/i.exec(item);
    if (!m) throw invalidArgument('Invalid grant header value.', header, value);
    const kind = m[1]!.toLowerCase();
    const grantee: Grantee = kind === 'id' ? { type: 'CanonicalUser', id: m[2]! } : kind === 'uri' ? { type: 'Group', uri: m[2]! } : { type: 'AmazonCustomerByEmail', email: m[2]! };
    grants.push({ grantee, permission });
  }
  return grants;
}

/**
 * The ACL a write request asks for through x-amz-acl or x-amz-grant-* (undefined: none asked).
 * Both at once is InvalidRequest, as AWS answers.
 */
export function aclFromHeaders(headers: Record<string, string | undefined>, kind: 'bucket' | 'object', ownerAccountId: string, bucketOwnerAccountId?: string): StoredAcl | undefined {
  const canned = headers['x-amz-acl'];
  const grantHeaders = Object.keys(GRANT_HEADERS).filter((h) => headers[h] !== undefined);
  if (canned !== undefined && grantHeaders.length > 0) {
    throw new ServiceError('InvalidRequest', 400, 'Specifying both Canned ACLs and Header Grants is not allowed');
  }
  if (canned !== undefined) return cannedAcl(canned, kind, ownerAccountId, bucketOwnerAccountId);
  if (grantHeaders.length === 0) return undefined;
  const grants = grantHeaders.flatMap((h) => parseGrantHeader(h, headers[h]!, GRANT_HEADERS[h]!));
  return { owner: canonicalUserId(ownerAccountId), grants };
}

/** Parse an AccessControlPolicy body; the grantee type follows from which child it has. */
export function parseAclXml(body: string, ownerAccountId: string): StoredAcl {
  const { root, value } = parseXml(body);
  if (root !== 'AccessControlPolicy') throw malformedXml();
  const owner = child(value, 'Owner');
  const ownerId = owner ? text(owner, 'ID') : undefined;
  const expectedOwner = canonicalUserId(ownerAccountId);
  if (ownerId !== undefined && ownerId !== expectedOwner) {
    throw new ServiceError('AccessDenied', 403, 'Access Denied');
  }
  const list = child(value, 'AccessControlList') ?? {};
  const grants = children(list, 'Grant').map((g): Grant => {
    const grantee = child(g, 'Grantee');
    const permission = token(g, 'Permission');
    if (!grantee || !permission || !PERMISSIONS.has(permission)) throw malformedXml();
    const id = text(grantee, 'ID');
    const uri = text(grantee, 'URI');
    const email = text(grantee, 'EmailAddress');
    // xsi:type names the grantee's kind; when given it must agree with the child that identifies it.
    const declared = attributes(grantee).type;
    const actual = id !== undefined ? 'CanonicalUser' : uri !== undefined ? 'Group' : email !== undefined ? 'AmazonCustomerByEmail' : undefined;
    if (declared !== undefined && declared !== actual) throw malformedAcl();
    if (id !== undefined) return { grantee: { type: 'CanonicalUser', id }, permission: permission as Permission };
    if (uri !== undefined) {
      if (!(Object.values(GROUPS) as string[]).includes(uri)) throw invalidArgument('Invalid group uri', 'uri', uri);
      return { grantee: { type: 'Group', uri }, permission: permission as Permission };
    }
    if (email !== undefined) return { grantee: { type: 'AmazonCustomerByEmail', email }, permission: permission as Permission };
    throw malformedXml();
  });
  return { owner: expectedOwner, grants };
}

function malformedAcl(): ServiceError {
  return new ServiceError('MalformedACLError', 400, 'The XML you provided was not well-formed or did not validate against our published schema');
}

/** True when the ACL gives nobody but the bucket owner anything (what BucketOwnerEnforced accepts). */
export function isOwnerOnly(acl: StoredAcl, bucketOwnerAccountId: string): boolean {
  const owner = canonicalUserId(bucketOwnerAccountId);
  return acl.grants.every((g) => g.grantee.type === 'CanonicalUser' && g.grantee.id === owner);
}

/**
 * What BucketOwnerEnforced accepts on a write: "bucket owner full control ACLs, such as the
 * bucket-owner-full-control canned ACL or an equivalent form" — the bucket owner has FULL_CONTROL
 * and nobody but the writer has anything. (A cross-account writer's `private` fails: it gives the
 * bucket owner nothing.)
 */
export function isBucketOwnerFullControl(acl: StoredAcl, bucketOwnerAccountId: string, writerAccountId: string): boolean {
  const owner = canonicalUserId(bucketOwnerAccountId);
  const writer = canonicalUserId(writerAccountId);
  const onlyUsers = acl.grants.every((g) => g.grantee.type === 'CanonicalUser' && (g.grantee.id === owner || g.grantee.id === writer));
  return onlyUsers && acl.grants.some((g) => g.grantee.type === 'CanonicalUser' && g.grantee.id === owner && g.permission === 'FULL_CONTROL');
}

export function aclsNotSupported(): ServiceError {
  return new ServiceError('AccessControlListNotSupported', 400, 'The bucket does not allow ACLs');
}

/** The AccessControlPolicy document (written by hand: grantees carry an xsi:type attribute). */
export function aclXml(acl: StoredAcl): string {
  const grants = acl.grants
    .map((g) => {
      const inner =
        g.grantee.type === 'CanonicalUser'
          ? `<ID>${escapeXml(g.grantee.id)}</ID>`
          : g.grantee.type === 'Group'
            ? `<URI>${escapeXml(g.grantee.uri)}</URI>`
            : `<EmailAddress>${escapeXml(g.grantee.email)}</EmailAddress>`;
      return `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="${g.grantee.type}">${inner}</Grantee><Permission>${g.permission}</Permission></Grant>`;
    })
    .join('');
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>${escapeXml(acl.owner)}</ID></Owner>` +
    `<AccessControlList>${grants}</AccessControlList></AccessControlPolicy>`
  );
}
