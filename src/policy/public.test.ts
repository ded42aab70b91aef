/** Which bucket policies Block Public Access calls public (S3 User Guide, "The meaning of public"). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicy } from './parse.js';
import { isPublicPolicy, withoutPublicGrants } from './public.js';

const policy = (statement: object) =>
  parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: [{ Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*', ...statement }] }), 'resource');

const cases: [string, object, boolean][] = [
  ['Principal "*" without condition', { Effect: 'Allow', Principal: '*' }, true],
  ['Principal {"AWS":"*"}', { Effect: 'Allow', Principal: { AWS: '*' } }, true],
  ['a Deny to everyone is not a grant', { Effect: 'Deny', Principal: '*' }, false],
  ['an account principal', { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' } }, false],
  ['a service principal', { Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' } }, false],
  ['NotPrincipal grants to everyone else', { Effect: 'Allow', NotPrincipal: { AWS: 'arn:aws:iam::111122223333:root' } }, true],
  ['"*" pinned to a source account', { Effect: 'Allow', Principal: '*', Condition: { StringEquals: { 'aws:SourceAccount': '111122223333' } } }, false],
  ['"*" pinned to a principal account', { Effect: 'Allow', Principal: '*', Condition: { StringEquals: { 'aws:PrincipalAccount': '111122223333' } } }, false],
  ['"*" with a wildcard account value', { Effect: 'Allow', Principal: '*', Condition: { StringLike: { 'aws:PrincipalAccount': '1111*' } } }, true],
  ['"*" pinned to a /24', { Effect: 'Allow', Principal: '*', Condition: { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } } }, false],
  ['"*" from a /4 is the internet', { Effect: 'Allow', Principal: '*', Condition: { IpAddress: { 'aws:SourceIp': '0.0.0.0/4' } } }, true],
  ['"*" with NotIpAddress', { Effect: 'Allow', Principal: '*', Condition: { NotIpAddress: { 'aws:SourceIp': '203.0.113.0/24' } } }, true],
  ['"*" pinned only by an unrelated key', { Effect: 'Allow', Principal: '*', Condition: { Bool: { 'aws:SecureTransport': 'true' } } }, true],
  ['"*" pinned by IfExists is not pinned', { Effect: 'Allow', Principal: '*', Condition: { StringEqualsIfExists: { 'aws:SourceAccount': '111122223333' } } }, true],
  ['"*" with a policy variable', { Effect: 'Allow', Principal: '*', Condition: { StringEquals: { 'aws:PrincipalArn': '${aws:username}' } } }, true],
];

for (const [name, statement, expected] of cases) {
  test(`${name}: ${expected ? 'public' : 'not public'}`, () => {
    assert.equal(isPublicPolicy(policy(statement)), expected);
  });
}

test('withoutPublicGrants keeps denials and pinned grants, drops public grants', () => {
  const p = parsePolicy(
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'Public', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' },
        { Sid: 'Partner', Effect: 'Allow', Principal: { AWS: '111122223333' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' },
        { Sid: 'NoHttp', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::b/*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
      ],
    }),
    'resource',
  );
  assert.deepEqual(withoutPublicGrants(p).statements.map((s) => s.sid), ['Partner', 'NoHttp']);
  assert.equal(withoutPublicGrants(p), withoutPublicGrants(p), 'cached');
});
