import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACCOUNT,
  ANONYMOUS,
  OTHER,
  allowPolicy,
  decide,
  named,
  request,
  rootOf,
  serviceOf,
  sessionOf,
  userOf,
} from './testkit.js';
import type { AuthorizationRequest, Decision, EvaluationInput, NamedPolicy, Principal } from './types.js';

const OBJ = 'arn:aws:s3:::b/k';
const alice = userOf('alice');
const bob = userOf('bob', OTHER);
const s1 = sessionOf('app', 's1');
const V = '2012-10-17';

const idAllow = allowPolicy('id-allow', 's3:GetObject', 'arn:aws:s3:::b/*');
const idDeny = named('id-deny', 'identity', { Version: V, Statement: { Effect: 'Deny', Action: 's3:*', Resource: '*' } });
const bucket = (principal: unknown, effect = 'Allow', action = 's3:GetObject'): NamedPolicy =>
  named('bucket policy of b', 'resource', {
    Version: V,
    Statement: { Effect: effect, Principal: principal, Action: action, Resource: 'arn:aws:s3:::b/*' },
  });
const boundaryAllowing = (action: string): NamedPolicy =>
  named('boundary', 'boundary', { Version: V, Statement: { Effect: 'Allow', Action: action, Resource: '*' } });
const sessionAllowing = (action: string): NamedPolicy =>
  named('session policy', 'session', { Version: V, Statement: { Effect: 'Allow', Action: action, Resource: '*' } });

const NO_ID = 'no identity-based policy allows the s3:GetObject action';
const NO_RP = 'no resource-based policy allows the s3:GetObject action';
const NO_BOUNDARY = 'no permissions boundary allows the s3:GetObject action';
const NO_SESSION = 'no session policy allows the s3:GetObject action';
const DENY_ID = 'with an explicit deny in an identity-based policy';
const DENY_RP = 'with an explicit deny in a resource-based policy';

interface Case {
  name: string;
  principal: Principal;
  input?: Omit<Partial<EvaluationInput>, 'request'>;
  resourceAccount?: string;
  outcome: Decision['outcome'];
  reason?: string;
  /** Policy names of Decision.statements, in order. */
  statements?: string[];
}

function run(c: Case): Decision {
  const req: AuthorizationRequest = request(c.principal, 's3:GetObject', OBJ, {}, c.resourceAccount ?? ACCOUNT);
  return decide({ ...c.input, request: req });
}

function matrix(title: string, cases: Case[]): void {
  describe(title, () => {
    for (const c of cases) {
      it(c.name, () => {
        const d = run(c);
        assert.equal(d.outcome, c.outcome);
        assert.equal(d.reason, c.outcome === 'Allow' ? undefined : c.reason);
        if (c.statements) assert.deepEqual(d.statements.map((s) => s.policyName), c.statements);
      });
    }
  });
}

matrix('same account, IAM user', [
  { name: 'no policy at all', principal: alice, outcome: 'ImplicitDeny', reason: NO_ID },
  { name: 'identity policy allows', principal: alice, input: { identityPolicies: [idAllow] }, outcome: 'Allow', statements: ['id-allow'] },
  { name: 'identity allow + identity deny', principal: alice, input: { identityPolicies: [idAllow, idDeny] }, outcome: 'ExplicitDeny', reason: DENY_ID, statements: ['id-deny'] },
  { name: 'identity allow + bucket policy deny', principal: alice, input: { identityPolicies: [idAllow], resourcePolicy: bucket('*', 'Deny') }, outcome: 'ExplicitDeny', reason: DENY_RP },
  { name: 'bucket policy names the user', principal: alice, input: { resourcePolicy: bucket({ AWS: alice.arn }) }, outcome: 'Allow', statements: ['bucket policy of b'] },
  { name: 'bucket policy names *', principal: alice, input: { resourcePolicy: bucket('*') }, outcome: 'Allow' },
  { name: 'bucket policy names only the account: delegation, identity silent', principal: alice, input: { resourcePolicy: bucket({ AWS: ACCOUNT }) }, outcome: 'ImplicitDeny', reason: NO_ID },
  { name: 'bucket policy names the account, identity allows', principal: alice, input: { resourcePolicy: bucket({ AWS: ACCOUNT }), identityPolicies: [idAllow] }, outcome: 'Allow', statements: ['id-allow'] },
  { name: 'bucket policy names someone else, identity allows', principal: alice, input: { resourcePolicy: bucket({ AWS: userOf('carol').arn }), identityPolicies: [idAllow] }, outcome: 'Allow' },
  { name: 'boundary silent', principal: alice, input: { identityPolicies: [idAllow], permissionsBoundary: boundaryAllowing('s3:PutObject') }, outcome: 'ImplicitDeny', reason: NO_BOUNDARY },
  { name: 'boundary and identity allow', principal: alice, input: { identityPolicies: [idAllow], permissionsBoundary: boundaryAllowing('s3:*') }, outcome: 'Allow', statements: ['id-allow', 'boundary'] },
  { name: 'boundary never grants by itself', principal: alice, input: { permissionsBoundary: boundaryAllowing('s3:*') }, outcome: 'ImplicitDeny', reason: NO_ID },
  { name: 'bucket policy naming the user is not limited by the boundary', principal: alice, input: { resourcePolicy: bucket({ AWS: alice.arn }), permissionsBoundary: boundaryAllowing('s3:PutObject') }, outcome: 'Allow' },
  {
    name: 'boundary deny',
    principal: alice,
    input: { identityPolicies: [idAllow], permissionsBoundary: named('boundary', 'boundary', { Version: V, Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }, { Effect: 'Deny', Action: 's3:GetObject', Resource: '*' }] }) },
    outcome: 'ExplicitDeny',
    reason: 'with an explicit deny in a permissions boundary',
  },
  { name: 'resourceAccount undefined counts as same account', principal: alice, input: { resourcePolicy: bucket({ AWS: alice.arn }) }, resourceAccount: undefined, outcome: 'Allow' },
]);

matrix('same account, role session', [
  { name: 'identity allows, no session policy', principal: s1, input: { identityPolicies: [idAllow] }, outcome: 'Allow' },
  { name: 'identity allows, session policy silent', principal: s1, input: { identityPolicies: [idAllow], sessionPolicies: [sessionAllowing('s3:PutObject')] }, outcome: 'ImplicitDeny', reason: NO_SESSION },
  { name: 'identity and session policy allow', principal: s1, input: { identityPolicies: [idAllow], sessionPolicies: [sessionAllowing('s3:PutObject'), sessionAllowing('s3:Get*')] }, outcome: 'Allow', statements: ['id-allow', 'session policy'] },
  { name: 'session policy alone never grants', principal: s1, input: { sessionPolicies: [sessionAllowing('s3:*')] }, outcome: 'ImplicitDeny', reason: NO_ID },
  { name: 'bucket policy names the role', principal: s1, input: { resourcePolicy: bucket({ AWS: s1.roleArn }) }, outcome: 'Allow', statements: ['bucket policy of b'] },
  { name: 'bucket policy names the role, session policy silent', principal: s1, input: { resourcePolicy: bucket({ AWS: s1.roleArn }), sessionPolicies: [sessionAllowing('s3:PutObject')] }, outcome: 'ImplicitDeny', reason: NO_SESSION },
  { name: 'bucket policy names the role, boundary silent', principal: s1, input: { resourcePolicy: bucket({ AWS: s1.roleArn }), permissionsBoundary: boundaryAllowing('kms:*') }, outcome: 'ImplicitDeny', reason: NO_BOUNDARY },
  { name: 'bucket policy names the role, boundary and session allow', principal: s1, input: { resourcePolicy: bucket({ AWS: s1.roleArn }), permissionsBoundary: boundaryAllowing('s3:*'), sessionPolicies: [sessionAllowing('s3:*')] }, outcome: 'Allow', statements: ['bucket policy of b', 'boundary', 'session policy'] },
  { name: 'bucket policy names the session ARN: session policy does not limit', principal: s1, input: { resourcePolicy: bucket({ AWS: s1.arn }), sessionPolicies: [sessionAllowing('s3:PutObject')] }, outcome: 'Allow' },
  { name: 'explicit deny in a session policy', principal: s1, input: { identityPolicies: [idAllow], sessionPolicies: [named('session policy', 'session', { Version: V, Statement: { Effect: 'Deny', Action: '*', Resource: '*' } })] }, outcome: 'ExplicitDeny', reason: 'with an explicit deny in a session policy' },
]);

matrix('cross-account (caller in 111122223333, bucket in 000000000000)', [
  { name: 'bucket policy names the account, identity allows', principal: bob, input: { resourcePolicy: bucket({ AWS: `arn:aws:iam::${OTHER}:root` }), identityPolicies: [idAllow] }, outcome: 'Allow', statements: ['bucket policy of b', 'id-allow'] },
  { name: 'bucket policy names the account, identity silent', principal: bob, input: { resourcePolicy: bucket({ AWS: OTHER }) }, outcome: 'ImplicitDeny', reason: NO_ID },
  { name: 'identity allows, no bucket policy', principal: bob, input: { identityPolicies: [idAllow] }, outcome: 'ImplicitDeny', reason: NO_RP },
  { name: 'identity allows, bucket policy names someone else', principal: bob, input: { identityPolicies: [idAllow], resourcePolicy: bucket({ AWS: ACCOUNT }) }, outcome: 'ImplicitDeny', reason: NO_RP },
  { name: 'bucket policy names the user: own side must still allow', principal: bob, input: { resourcePolicy: bucket({ AWS: bob.arn }) }, outcome: 'ImplicitDeny', reason: NO_ID },
  { name: 'bucket policy names the user and identity allows', principal: bob, input: { resourcePolicy: bucket({ AWS: bob.arn }), identityPolicies: [idAllow] }, outcome: 'Allow' },
  { name: 'bucket policy *, identity allows', principal: bob, input: { resourcePolicy: bucket('*'), identityPolicies: [idAllow] }, outcome: 'Allow' },
  { name: 'both allow, caller boundary silent', principal: bob, input: { resourcePolicy: bucket('*'), identityPolicies: [idAllow], permissionsBoundary: boundaryAllowing('kms:*') }, outcome: 'ImplicitDeny', reason: NO_BOUNDARY },
  { name: 'role of another account named, its session policy silent', principal: sessionOf('app', 's1', OTHER), input: { resourcePolicy: bucket({ AWS: `arn:aws:iam::${OTHER}:role/app` }), identityPolicies: [idAllow], sessionPolicies: [sessionAllowing('kms:*')] }, outcome: 'ImplicitDeny', reason: NO_SESSION },
]);

matrix('root user', [
  { name: 'own account, no policies', principal: rootOf(ACCOUNT), outcome: 'Allow', statements: [] },
  { name: 'own account, bucket policy denies everyone', principal: rootOf(ACCOUNT), input: { resourcePolicy: bucket('*', 'Deny') }, outcome: 'ExplicitDeny', reason: DENY_RP },
  { name: 'own account, mandatory resource policy names the account', principal: rootOf(ACCOUNT), input: { resourcePolicy: bucket({ AWS: `arn:aws:iam::${ACCOUNT}:root` }), resourcePolicyRequired: true }, outcome: 'Allow' },
  { name: 'own account, mandatory resource policy names only a user', principal: rootOf(ACCOUNT), input: { resourcePolicy: bucket({ AWS: alice.arn }), resourcePolicyRequired: true }, outcome: 'ImplicitDeny', reason: NO_RP },
  { name: 'other account named by id: own side implicit', principal: rootOf(OTHER), input: { resourcePolicy: bucket({ AWS: OTHER }) }, outcome: 'Allow' },
  { name: 'other account not named', principal: rootOf(OTHER), input: { resourcePolicy: bucket({ AWS: alice.arn }) }, outcome: 'ImplicitDeny', reason: NO_RP },
  { name: 'identity policies passed for root are ignored', principal: rootOf(ACCOUNT), input: { identityPolicies: [idDeny] }, outcome: 'Allow' },
  { name: 'other account, no resource policy', principal: rootOf(OTHER), outcome: 'ImplicitDeny', reason: NO_RP },
  { name: 'own account, mandatory resource policy absent', principal: rootOf(ACCOUNT), input: { resourcePolicyRequired: true }, outcome: 'ImplicitDeny', reason: NO_RP },
  { name: 'own account, a resource policy that allows nothing relevant', principal: rootOf(ACCOUNT), input: { resourcePolicy: bucket({ AWS: alice.arn }, 'Allow', 's3:PutObject') }, outcome: 'Allow', statements: [] },
]);

matrix('service principals and anonymous callers', [
  { name: 'service named by the resource policy', principal: serviceOf('s3.amazonaws.com'), input: { resourcePolicy: bucket({ Service: 's3.amazonaws.com' }) }, outcome: 'Allow' },
  { name: 'other service', principal: serviceOf('ec2.amazonaws.com'), input: { resourcePolicy: bucket({ Service: 's3.amazonaws.com' }) }, outcome: 'ImplicitDeny', reason: NO_RP },
  { name: 'service, no resource policy (identity policies do not count)', principal: serviceOf('s3.amazonaws.com'), input: { identityPolicies: [idAllow] }, outcome: 'ImplicitDeny', reason: NO_RP },
  { name: 'anonymous, public-read bucket policy', principal: ANONYMOUS, input: { resourcePolicy: bucket('*') }, outcome: 'Allow' },
  { name: 'anonymous, {"AWS":"*"}', principal: ANONYMOUS, input: { resourcePolicy: bucket({ AWS: '*' }) }, outcome: 'Allow' },
  { name: 'anonymous, bucket policy names the account', principal: ANONYMOUS, input: { resourcePolicy: bucket({ AWS: ACCOUNT }) }, outcome: 'ImplicitDeny', reason: NO_RP },
  { name: 'anonymous, no bucket policy', principal: ANONYMOUS, outcome: 'ImplicitDeny', reason: NO_RP },
]);

describe('NotAction, NotResource, NotPrincipal', () => {
  const notAction = named('power-user', 'identity', { Version: V, Statement: { Effect: 'Allow', NotAction: 'iam:*', Resource: '*' } });
  const denyOutside = named('deny-outside', 'identity', {
    Version: V,
    Statement: [
      { Effect: 'Allow', Action: 's3:*', Resource: '*' },
      { Effect: 'Deny', Action: 's3:*', NotResource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'] },
    ],
  });
  const allowNotResource = named('allow-not-resource', 'identity', { Version: V, Statement: { Effect: 'Allow', Action: 's3:GetObject', NotResource: 'arn:aws:s3:::secret/*' } });
  const at = (p: Principal, action: string, resource: string, policies: NamedPolicy[], resourcePolicy?: NamedPolicy): Decision =>
    decide({ request: request(p, action, resource, {}, ACCOUNT), identityPolicies: policies, ...(resourcePolicy ? { resourcePolicy } : {}) });

  it('Allow + NotAction grants everything else', () => {
    assert.equal(at(alice, 's3:GetObject', OBJ, [notAction]).outcome, 'Allow');
    assert.equal(at(alice, 'iam:CreateUser', '*', [notAction]).outcome, 'ImplicitDeny');
  });
  it('Deny + NotResource denies everywhere else', () => {
    assert.equal(at(alice, 's3:GetObject', 'arn:aws:s3:::b/k', [denyOutside]).outcome, 'Allow');
    assert.equal(at(alice, 's3:GetObject', 'arn:aws:s3:::other/k', [denyOutside]).outcome, 'ExplicitDeny');
  });
  it('Allow + NotResource allows everything else', () => {
    assert.equal(at(alice, 's3:GetObject', 'arn:aws:s3:::public/k', [allowNotResource]).outcome, 'Allow');
    assert.equal(at(alice, 's3:GetObject', 'arn:aws:s3:::secret/k', [allowNotResource]).outcome, 'ImplicitDeny');
  });
  it('Deny + NotPrincipal in a bucket policy spares only the listed identities', () => {
    const policy = named('bucket policy of b', 'resource', {
      Version: V,
      Statement: [
        { Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 's3:*', Resource: 'arn:aws:s3:::b/*' },
        { Effect: 'Deny', NotPrincipal: { AWS: [alice.arn, ACCOUNT] }, Action: 's3:*', Resource: 'arn:aws:s3:::b/*' },
      ],
    });
    const all = allowPolicy('all', 's3:*', '*');
    assert.equal(at(alice, 's3:GetObject', OBJ, [all], policy).outcome, 'Allow');
    assert.equal(at(userOf('carol'), 's3:GetObject', OBJ, [all], policy).outcome, 'ExplicitDeny');
  });
});

describe('Decision details', () => {
  it('an explicit deny lists every denying statement with its source', () => {
    const d = decide({
      request: request(alice, 's3:GetObject', OBJ, {}, ACCOUNT),
      identityPolicies: [idAllow, idDeny],
      resourcePolicy: bucket('*', 'Deny'),
    });
    assert.deepEqual(
      d.statements.map((s) => [s.policyName, s.source, s.effect, s.index]),
      [['id-deny', 'identity', 'Deny', 0], ['bucket policy of b', 'resource', 'Deny', 0]],
    );
    assert.equal(d.reason, DENY_ID);
  });

  it('condition failures name the statement, operator, key, expected and actual values', () => {
    const p = named('ip-only', 'identity', {
      Version: V,
      Statement: [{ Sid: 'FromOffice', Effect: 'Allow', Action: 's3:*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' }, Bool: { 'aws:SecureTransport': 'true' } } }],
    });
    const d = decide({ request: request(alice, 's3:GetObject', OBJ, { 'aws:SourceIp': '198.51.100.7' }), identityPolicies: [p] });
    assert.equal(d.outcome, 'ImplicitDeny');
    assert.deepEqual(d.conditionFailures, [
      { statement: { policyName: 'ip-only', sid: 'FromOffice', index: 0, effect: 'Allow', source: 'identity' }, operator: 'IpAddress', key: 'aws:SourceIp', expected: ['203.0.113.0/24'], actual: ['198.51.100.7'] },
      { statement: { policyName: 'ip-only', sid: 'FromOffice', index: 0, effect: 'Allow', source: 'identity' }, operator: 'Bool', key: 'aws:SecureTransport', expected: ['true'], actual: undefined },
    ]);
  });

  it('statements whose action or resource did not match report no condition failures', () => {
    const p = named('p', 'identity', { Version: V, Statement: { Effect: 'Allow', Action: 's3:PutObject', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'true' } } } });
    assert.deepEqual(decide({ request: request(alice, 's3:GetObject', OBJ), identityPolicies: [p] }).conditionFailures, []);
  });

  it('a key-policy statement without Resource has no effect; in a trust policy it applies', () => {
    const key = named('key policy', 'key', { Version: V, Statement: { Effect: 'Allow', Principal: { AWS: alice.arn }, Action: 'kms:*' } });
    const r = request(alice, 'kms:Decrypt', `arn:aws:kms:us-east-1:${ACCOUNT}:key/k`, {}, ACCOUNT);
    assert.equal(decide({ request: r, resourcePolicy: key, resourcePolicyRequired: true }).outcome, 'ImplicitDeny');
    const trust = named('trust policy', 'trust', { Version: V, Statement: { Effect: 'Allow', Principal: { AWS: alice.arn }, Action: 'sts:AssumeRole' } });
    const t = request(alice, 'sts:AssumeRole', `arn:aws:iam::${ACCOUNT}:role/r`, {}, ACCOUNT);
    assert.equal(decide({ request: t, resourcePolicy: trust, resourcePolicyRequired: true }).outcome, 'Allow');
  });

  it('resource variables: ${aws:username} home folders, unresolvable variable never matches', () => {
    const home = named('home', 'identity', { Version: V, Statement: { Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::b/home/${aws:username}/*' } });
    const at = (p: Principal, key: string): Decision['outcome'] => decide({ request: request(p, 's3:GetObject', `arn:aws:s3:::b/${key}`), identityPolicies: [home] }).outcome;
    assert.equal(at(alice, 'home/alice/x'), 'Allow');
    assert.equal(at(alice, 'home/bob/x'), 'ImplicitDeny');
    assert.equal(at(s1, 'home/s1/x'), 'ImplicitDeny'); // sessions have no aws:username
    const legacy = named('legacy', 'identity', { Statement: { Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::b/home/${aws:username}/*' } });
    assert.equal(decide({ request: request(alice, 's3:GetObject', 'arn:aws:s3:::b/home/alice/x'), identityPolicies: [legacy] }).outcome, 'ImplicitDeny');
    assert.equal(decide({ request: request(alice, 's3:GetObject', 'arn:aws:s3:::b/home/${aws:username}/x'), identityPolicies: [legacy] }).outcome, 'Allow');
    const notRes = named('not-res', 'identity', { Version: V, Statement: { Effect: 'Allow', Action: 's3:*', NotResource: 'arn:aws:s3:::b/${aws:PrincipalTag/none}/*' } });
    assert.equal(decide({ request: request(alice, 's3:GetObject', OBJ), identityPolicies: [notRes] }).outcome, 'ImplicitDeny');
  });

  it('reads the request context only when a statement needs it (a condition or a policy variable)', () => {
    let reads = 0;
    const context: Record<string, string> = {};
    Object.defineProperty(context, 'aws:SourceIp', { enumerable: true, get: () => (reads++, '10.0.0.1') });
    const plain = decide({ request: request(alice, 's3:GetObject', OBJ, context), identityPolicies: [idAllow] });
    assert.equal(plain.outcome, 'Allow');
    assert.equal(reads, 0);
    const conditional = allowPolicy('from-10', 's3:GetObject', '*', { Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } });
    assert.equal(decide({ request: request(alice, 's3:GetObject', OBJ, context), identityPolicies: [conditional] }).outcome, 'Allow');
    assert.equal(reads, 1);
    const elsewhere = allowPolicy('from-192', 's3:GetObject', '*', { Condition: { IpAddress: { 'aws:SourceIp': '192.168.0.0/16' } } });
    assert.equal(decide({ request: request(alice, 's3:GetObject', OBJ, context), identityPolicies: [elsewhere, conditional] }).outcome, 'Allow');
    assert.equal(reads, 2); // built once per evaluation, however many statements look
  });

  it('context keys of any case: a later key wins over an earlier one of the same name, an absent value removes it', () => {
    const conditional = allowPolicy('from-10', 's3:GetObject', '*', { Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } });
    const at = (context: Record<string, string | undefined>): Decision['outcome'] => decide({ request: request(alice, 's3:GetObject', OBJ, context), identityPolicies: [conditional] }).outcome;
    assert.equal(at({ 'aws:sourceip': '192.168.0.1', 'aws:SourceIp': '10.0.0.1' }), 'Allow');
    assert.equal(at({ 'aws:sourceip': '10.0.0.1', 'AWS:SOURCEIP': '192.168.0.1' }), 'ImplicitDeny');
    assert.equal(at({ 'aws:sourceip': '10.0.0.1', 'aws:SourceIp': undefined }), 'ImplicitDeny');
  });

  it('compiles each parsed policy once: evaluating twice gives equal decisions', () => {
    const input: EvaluationInput = { request: request(alice, 's3:GetObject', OBJ), identityPolicies: [idAllow] };
    assert.deepEqual(decide(input), decide(input));
  });
});
