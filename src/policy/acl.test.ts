import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ACL_GROUPS, aclPermissionFor, type AclGrant, type AclInput } from './acl.js';
import { decisionSummary, explainDecision } from './explain.js';
import { ACCOUNT, ANONYMOUS, OTHER, allowPolicy, decide, named, request, rootOf, serviceOf, userOf } from './testkit.js';
import type { Principal } from './types.js';

const OBJ = 'arn:aws:s3:::b/k';
const BUCKET = 'arn:aws:s3:::b';
const OWNER_ID = 'owner-canonical';
const OTHER_ID = 'other-canonical';
const owner: AclGrant = { grantee: { type: 'CanonicalUser', id: OWNER_ID }, permission: 'FULL_CONTROL' };
const group = (uri: string, permission: AclGrant['permission'] = 'READ'): AclGrant => ({ grantee: { type: 'Group', uri }, permission });
const toOther = (permission: AclGrant['permission']): AclGrant => ({ grantee: { type: 'CanonicalUser', id: OTHER_ID }, permission });

function objectAcl(grants: AclGrant[], principal: Principal): AclInput {
  const acl: AclInput = { name: 'object ACL of b/k', on: 'object', grants: [owner, ...grants] };
  if (principal.accountId === OTHER) acl.callerCanonicalId = OTHER_ID;
  else if (principal.accountId === ACCOUNT) acl.callerCanonicalId = OWNER_ID;
  return acl;
}

function get(principal: Principal, grants: AclGrant[], extra: { identity?: boolean; deny?: boolean; action?: string } = {}) {
  const action = extra.action ?? 's3:GetObject';
  const input = {
    request: request(principal, action, OBJ, {}, ACCOUNT),
    acl: objectAcl(grants, principal),
    identityPolicies: extra.identity ? [allowPolicy('id-allow', action, 'arn:aws:s3:::b/*')] : [],
  };
  if (extra.deny) {
    return decide({
      ...input,
      resourcePolicy: named('bucket policy of b', 'resource', { Version: '2012-10-17', Statement: { Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::b/*' } }),
    });
  }
  return decide(input);
}

describe('ACL permission → action mapping (S3 User Guide, ACL overview)', () => {
  it('maps READ/WRITE/READ_ACP/WRITE_ACP per bucket and object', () => {
    assert.equal(aclPermissionFor('bucket', 's3:ListBucket'), 'READ');
    assert.equal(aclPermissionFor('bucket', 's3:ListBucketVersions'), 'READ');
    assert.equal(aclPermissionFor('bucket', 's3:ListBucketMultipartUploads'), 'READ');
    assert.equal(aclPermissionFor('bucket', 's3:PutObject'), 'WRITE');
    assert.equal(aclPermissionFor('bucket', 's3:GetBucketAcl'), 'READ_ACP');
    assert.equal(aclPermissionFor('bucket', 's3:PutBucketAcl'), 'WRITE_ACP');
    assert.equal(aclPermissionFor('object', 's3:GetObjectVersion'), 'READ');
    assert.equal(aclPermissionFor('object', 's3:GetObjectAcl'), 'READ_ACP');
    assert.equal(aclPermissionFor('object', 's3:PutObjectVersionAcl'), 'WRITE_ACP');
    assert.equal(aclPermissionFor('object', 's3:PutObject'), undefined);
    assert.equal(aclPermissionFor('object', 's3:DeleteObject'), undefined);
    assert.equal(aclPermissionFor('bucket', 's3:PutBucketPolicy'), undefined);
  });
});

describe('ACL grants as a source of allows', () => {
  it('AllUsers READ lets anonymous callers read; nothing else', () => {
    assert.equal(get(ANONYMOUS, [group(ACL_GROUPS.AllUsers)]).outcome, 'Allow');
    assert.equal(get(ANONYMOUS, []).outcome, 'ImplicitDeny');
    assert.equal(get(ANONYMOUS, [group(ACL_GROUPS.AllUsers)], { action: 's3:GetObjectAcl' }).outcome, 'ImplicitDeny');
    assert.equal(get(ANONYMOUS, [group(ACL_GROUPS.AllUsers, 'FULL_CONTROL')], { action: 's3:GetObjectAcl' }).outcome, 'Allow');
  });

  it('AuthenticatedUsers: any signed caller, never anonymous', () => {
    const grants = [group(ACL_GROUPS.AuthenticatedUsers)];
    assert.equal(get(ANONYMOUS, grants).outcome, 'ImplicitDeny');
    assert.equal(get(rootOf(OTHER), grants).outcome, 'Allow');
    assert.equal(get(userOf('x', OTHER), grants).outcome, 'ImplicitDeny', 'cross-account: the caller’s own account must allow too');
    assert.equal(get(userOf('x', OTHER), grants, { identity: true }).outcome, 'Allow');
  });

  it("a grant to another account: its root reads; its users need their own identity policy", () => {
    assert.equal(get(rootOf(OTHER), [toOther('READ')]).outcome, 'Allow');
    const d = get(userOf('bob', OTHER), [toOther('READ')]);
    assert.equal(d.outcome, 'ImplicitDeny');
    assert.equal(d.reason, 'no identity-based policy allows the s3:GetObject action');
    assert.equal(get(userOf('bob', OTHER), [toOther('READ')], { identity: true }).outcome, 'Allow');
    assert.equal(get(userOf('bob', OTHER), [], { identity: true }).outcome, 'ImplicitDeny');
    assert.equal(get(rootOf(OTHER), [toOther('READ_ACP')]).outcome, 'ImplicitDeny');
  });

  it('explicit denies still win over a grant', () => {
    const d = get(ANONYMOUS, [group(ACL_GROUPS.AllUsers)], { deny: true });
    assert.equal(d.outcome, 'ExplicitDeny');
  });

  it('services are not ACL grantees', () => {
    assert.equal(get(serviceOf('s3.amazonaws.com'), [group(ACL_GROUPS.AllUsers)]).outcome, 'ImplicitDeny');
  });

  it('bucket WRITE grants s3:PutObject on the bucket ACL', () => {
    const acl: AclInput = { name: 'bucket ACL of b', on: 'bucket', grants: [owner, toOther('WRITE')], callerCanonicalId: OTHER_ID };
    assert.equal(decide({ request: request(rootOf(OTHER), 's3:PutObject', OBJ, {}, ACCOUNT), acl }).outcome, 'Allow');
    assert.equal(decide({ request: request(rootOf(OTHER), 's3:ListBucket', BUCKET, {}, ACCOUNT), acl }).outcome, 'ImplicitDeny');
  });

  it('the deciding grant is named in explanations and decision summaries', () => {
    const d = get(ANONYMOUS, [group(ACL_GROUPS.AllUsers)]);
    assert.deepEqual(d.statements.map((s) => [s.source, s.index, s.grant]), [['acl', 1, 'READ to AllUsers']]);
    const input = { request: request(ANONYMOUS, 's3:GetObject', OBJ, {}, ACCOUNT), identityPolicies: [], acl: objectAcl([group(ACL_GROUPS.AllUsers)], ANONYMOUS) };
    const text = explainDecision(input, d);
    assert.match(text, /access control list: object ACL of b\/k \(2 grants\)/);
    assert.match(text, /Allow grant #1 \(READ to AllUsers\) of object ACL of b\/k/);
    assert.deepEqual(decisionSummary(input, d).decidedBy, ['Allow grant #1 (READ to AllUsers) of object ACL of b/k']);
  });
});
