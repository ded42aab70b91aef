import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { denialMessage, explainDecision } from './explain.js';
import { evaluate } from './evaluate.js';
import { ACCOUNT, ANONYMOUS, allowPolicy, decide, named, request, rootOf, sessionOf, userOf } from './testkit.js';
import type { EvaluationInput } from './types.js';

const V = '2012-10-17';
const OBJ = 'arn:aws:s3:::b/k';

describe('denialMessage', () => {
  it('implicit deny: "... because no identity-based policy allows ..."', () => {
    const r = request(userOf('bob', '111122223333'), 'iam:CreateRole', 'arn:aws:iam::111122223333:role/x');
    assert.equal(
      denialMessage(r, decide({ request: r })),
      'User: arn:aws:iam::111122223333:user/bob is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::111122223333:role/x because no identity-based policy allows the iam:CreateRole action',
    );
  });
  it('explicit deny: AWS writes "... on resource: R with an explicit deny in ..."', () => {
    const r = request(userOf('alice'), 's3:GetObject', OBJ, {}, ACCOUNT);
    const bucket = named('bucket policy of b', 'resource', { Version: V, Statement: { Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::b/*' } });
    assert.equal(
      denialMessage(r, decide({ request: r, resourcePolicy: bucket })),
      `User: arn:aws:iam::${ACCOUNT}:user/alice is not authorized to perform: s3:GetObject on resource: ${OBJ} with an explicit deny in a resource-based policy`,
    );
  });
  it('names anonymous callers "anonymous", root by its ARN, sessions by the session ARN', () => {
    const d = { outcome: 'ImplicitDeny' as const, statements: [], reason: 'no resource-based policy allows the s3:GetObject action', conditionFailures: [] };
    assert.match(denialMessage(request(ANONYMOUS, 's3:GetObject', OBJ), d), /^User: anonymous is not authorized/);
    assert.match(denialMessage(request(rootOf(ACCOUNT), 's3:GetObject', OBJ), d), /^User: arn:aws:iam::000000000000:root is not/);
    assert.match(denialMessage(request(sessionOf('r', 's'), 's3:GetObject', OBJ), d), /^User: arn:aws:sts::000000000000:assumed-role\/r\/s is not/);
  });
});

describe('explainDecision', () => {
  it('lists the deciding statements, and every failed condition with both values', () => {
    const policy = named('inline policy p of role replication-role', 'identity', {
      Version: V,
      Statement: [
        { Sid: 'Decrypt', Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*', Condition: { StringLike: { 'kms:ViaService': 's3.us-east-1.amazonaws.com', 'kms:EncryptionContext:aws:s3:arn': ['arn:aws:s3:::src-bkt/*'] } } },
      ],
    });
    const key = 'arn:aws:kms:us-east-1:000000000000:key/k';
    const input: EvaluationInput = {
      request: request(sessionOf('replication-role', 's'), 'kms:Decrypt', key, { 'kms:EncryptionContext:aws:s3:arn': 'arn:aws:s3:::other/x' }, ACCOUNT),
      identityPolicies: [policy],
      resourcePolicy: named(`key policy of ${key}`, 'key', { Version: V, Statement: { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' } }),
      resourcePolicyRequired: true,
    };
    const text = explainDecision(input, evaluate(input));
    assert.match(text, /^DENY \(implicit\): User: arn:aws:sts::000000000000:assumed-role\/replication-role\/s is not authorized to perform: kms:Decrypt/);
    assert.match(text, /principal: arn:aws:sts::000000000000:assumed-role\/replication-role\/s \(AssumedRole, account 000000000000, role arn:aws:iam::000000000000:role\/replication-role\)/);
    assert.match(text, /resource-based: key policy of .* \(must allow the caller or its account\)/);
    assert.ok(
      text.includes(
        'Allow statement #0 (Sid "Decrypt") of inline policy p of role replication-role [identity]: StringLike kms:ViaService expected "s3.us-east-1.amazonaws.com"; request value: missing',
      ),
      text,
    );
    assert.ok(
      text.includes('StringLike kms:EncryptionContext:aws:s3:arn expected "arn:aws:s3:::src-bkt/*"; request value: "arn:aws:s3:::other/x"'),
      text,
    );
  });

  it('names the allowing statements of each policy that had to allow', () => {
    const input: EvaluationInput = {
      request: request(userOf('alice'), 's3:GetObject', OBJ, {}, ACCOUNT),
      identityPolicies: [allowPolicy('reader', 's3:GetObject', '*', { Sid: 'Read' })],
      permissionsBoundary: named('boundary', 'boundary', { Version: V, Statement: { Effect: 'Allow', Action: 's3:*', Resource: '*' } }),
    };
    const text = explainDecision(input, evaluate(input));
    assert.match(text, /^ALLOW: User: arn:aws:iam::000000000000:user\/alice is authorized to perform: s3:GetObject/);
    assert.match(text, /Allowed by:\n {2}- Allow statement #0 \(Sid "Read"\) of reader \[identity\]\n {2}- Allow statement #0 of boundary \[boundary\]/);
    assert.match(text, /owner: {5}account 000000000000 \(same account\)/);
  });

  it('explicit denials name the denying statement', () => {
    const input: EvaluationInput = {
      request: request(userOf('alice'), 's3:GetObject', OBJ),
      identityPolicies: [named('guard', 'identity', { Version: V, Statement: [{ Sid: 'NoS3', Effect: 'Deny', Action: 's3:*', Resource: '*' }] })],
    };
    const text = explainDecision(input, evaluate(input));
    assert.match(text, /^DENY \(explicit\)/);
    assert.match(text, /Denied by:\n {2}- Deny statement #0 \(Sid "NoS3"\) of guard \[identity\]/);
  });
});
