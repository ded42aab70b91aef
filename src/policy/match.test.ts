import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { matchAction, matchResource, notPrincipalApplies, principalMatchKind, principalMatches } from './match.js';
import { ACCOUNT, ANONYMOUS, OTHER, rootOf, serviceOf, sessionOf, userOf } from './testkit.js';
import type { Principal, PrincipalSpec } from './types.js';

describe('matchAction (case-insensitive glob)', () => {
  const cases: [string, string, boolean][] = [
    ['*', 's3:GetObject', true],
    ['s3:*', 's3:GetObject', true],
    ['s3:*', 'kms:Decrypt', false],
    ['s3:GetObject', 's3:GetObject', true],
    ['s3:GetObject', 'S3:getobject', true],
    ['IAM:listaccesskeys', 'iam:ListAccessKeys', true],
    ['s3:Get*', 's3:GetObjectVersionForReplication', true],
    ['s3:Get*', 's3:PutObject', false],
    ['s3:*Object', 's3:PutObject', true],
    ['s3:*Object', 's3:PutObjectAcl', false],
    ['s3:GetObject?', 's3:GetObjectX', true],
    ['s3:GetObject?', 's3:GetObject', false],
    ['kms:ReEncrypt*', 'kms:ReEncryptFrom', true],
    ['kms:GenerateDataKey*', 'kms:GenerateDataKeyWithoutPlaintext', true],
    ['s3:Get.bject', 's3:GetObject', false],
    ['s3:GetObject', 's3:GetObjectAcl', false],
  ];
  for (const [pattern, action, want] of cases) {
    it(`${pattern} ${want ? 'matches' : 'does not match'} ${action}`, () => assert.equal(matchAction(pattern, action), want));
  }
});

describe('matchResource (case-sensitive, component-wise ARN glob)', () => {
  const cases: [string, string, boolean][] = [
    ['*', 'arn:aws:s3:::b/k', true],
    ['*', '*', true],
    ['arn:aws:s3:::b', 'arn:aws:s3:::b', true],
    ['arn:aws:s3:::b', 'arn:aws:s3:::B', false],
    ['arn:aws:s3:::b/*', 'arn:aws:s3:::b/a/b/c.txt', true],
    ['arn:aws:s3:::b/*', 'arn:aws:s3:::b', false],
    ['arn:aws:s3:::b*', 'arn:aws:s3:::bucket/key', true],
    ['arn:aws:s3:::*', 'arn:aws:s3:::x/y:z', true],
    ['arn:aws:s3:::b/*', 'arn:aws:s3:::b/', true],
    ['arn:aws:s3:::b/a?c', 'arn:aws:s3:::b/abc', true],
    ['arn:aws:s3:::b/a?c', 'arn:aws:s3:::b/a/c', true],
    ['arn:aws:kms:*:000000000000:key/*', 'arn:aws:kms:us-east-1:000000000000:key/abc', true],
    ['arn:aws:kms:*:000000000000:key/*', 'arn:aws:kms:us-east-1:111122223333:key/abc', false],
    ['arn:aws:kms:us-*:*:key/*', 'arn:aws:kms:us-east-2:000000000000:key/k', true],
    // A wildcard in the first five parts never crosses a colon.
    ['arn:aws:kms:*:key/*:abc', 'arn:aws:kms:us-east-1:000000000000:key/abc', false],
    ['arn:aws:kms:*:*:abc', 'arn:aws:kms:us-east-1:000000000000:key/abc', false],
    // Fewer than six parts is not an ARN pattern: it is matched as a plain glob (our choice).
    ['arn:aws:s3:*', 'arn:aws:s3:::b/k', true],
    ['arn:aws:*:us-east-1:000000000000:key/k', 'arn:aws:kms:us-east-1:000000000000:key/k', true],
    ['arn:aws:s3:*::b', 'arn:aws:s3:::b', true],
    ['arn:aws:s3:::b', 'arn:aws:s3:us-east-1::b', false],
    ['arn:aws:iam::*:role/r', 'arn:aws:iam::000000000000:role/r', true],
    ['arn:aws:iam::000000000000:role/*', 'arn:aws:iam::000000000000:role/path/r', true],
    ['arn:aws:s3:::b/*', '*', false],
    ['arn:aws:s3:::b/k.txt', 'arn:aws:s3:::b/kXtxt', false],
    ['arn:aws:s3:::b/(x)+[y]', 'arn:aws:s3:::b/(x)+[y]', true],
  ];
  for (const [pattern, arn, want] of cases) {
    it(`${pattern} ${want ? 'matches' : 'does not match'} ${arn}`, () => assert.equal(matchResource(pattern, arn), want));
  }
});

describe('principal matching', () => {
  const alice = userOf('alice', ACCOUNT, '/division/');
  const s1 = sessionOf('replication-role', 's1', ACCOUNT, '/service/');
  const cases: [string, PrincipalSpec, Principal, ReturnType<typeof principalMatchKind>][] = [
    ['* matches a user', { AWS: ['*'] }, alice, 'direct'],
    ['* matches anonymous', { AWS: ['*'] }, ANONYMOUS, 'direct'],
    ['* matches a service', { AWS: ['*'] }, serviceOf('s3.amazonaws.com'), 'direct'],
    ['account id matches the root directly', { AWS: [ACCOUNT] }, rootOf(ACCOUNT), 'direct'],
    ['root ARN matches the root directly', { AWS: [`arn:aws:iam::${ACCOUNT}:root`] }, rootOf(ACCOUNT), 'direct'],
    ['account id delegates to a user of the account', { AWS: [ACCOUNT] }, alice, 'account'],
    ['root ARN delegates to a session of the account', { AWS: [`arn:aws:iam::${ACCOUNT}:root`] }, s1, 'account'],
    ['account of another account does not match', { AWS: [OTHER] }, alice, undefined],
    ['user ARN with path', { AWS: ['arn:aws:iam::000000000000:user/division/alice'] }, alice, 'direct'],
    ['user ARN without the path does not match', { AWS: ['arn:aws:iam::000000000000:user/alice'] }, alice, undefined],
    ['role ARN matches its sessions', { AWS: ['arn:aws:iam::000000000000:role/service/replication-role'] }, s1, 'role'],
    ['session ARN matches exactly', { AWS: ['arn:aws:sts::000000000000:assumed-role/replication-role/s1'] }, s1, 'direct'],
    ['other session name does not match', { AWS: ['arn:aws:sts::000000000000:assumed-role/replication-role/s2'] }, s1, undefined],
    ['strongest match wins', { AWS: [ACCOUNT, 'arn:aws:iam::000000000000:role/service/replication-role'] }, s1, 'role'],
    ['Service principal', { Service: ['s3.amazonaws.com'] }, serviceOf('s3.amazonaws.com'), 'direct'],
    ['other Service', { Service: ['ec2.amazonaws.com'] }, serviceOf('s3.amazonaws.com'), undefined],
    ['Service spec does not match a user', { Service: ['s3.amazonaws.com'] }, alice, undefined],
    ['AWS account does not match a service', { AWS: [ACCOUNT] }, serviceOf('s3.amazonaws.com'), undefined],
    ['anonymous is only matched by *', { AWS: [ACCOUNT] }, ANONYMOUS, undefined],
    ['Federated', { Federated: ['accounts.google.com'] }, { type: 'Anonymous', federatedProvider: 'accounts.google.com' }, 'direct'],
    ['CanonicalUser never matches', { CanonicalUser: ['79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be'] }, alice, undefined],
  ];
  for (const [name, spec, p, want] of cases) {
    it(name, () => {
      assert.equal(principalMatchKind(spec, p), want);
      assert.equal(principalMatches(spec, p), want !== undefined);
    });
  }
});

describe('NotPrincipal applies unless every identity of the caller is listed', () => {
  const alice = userOf('alice');
  const s1 = sessionOf('r', 's1');
  const cases: [string, PrincipalSpec, Principal, boolean][] = [
    ['user and account listed: excluded', { AWS: [alice.arn!, ACCOUNT] }, alice, false],
    ['only the user listed: still applies (account identity not listed)', { AWS: [alice.arn!] }, alice, true],
    ['session, role and account listed: excluded', { AWS: [s1.arn!, s1.roleArn!, `arn:aws:iam::${ACCOUNT}:root`] }, s1, false],
    ['session and account but no role: applies', { AWS: [s1.arn!, ACCOUNT] }, s1, true],
    ['root listed: root excluded', { AWS: [ACCOUNT] }, rootOf(ACCOUNT), false],
    ['other principal: applies', { AWS: [alice.arn!, ACCOUNT] }, userOf('bob', OTHER), true],
    ['anonymous: applies', { AWS: [ACCOUNT] }, ANONYMOUS, true],
    ['*: excludes everyone', { AWS: ['*'] }, ANONYMOUS, false],
    ['service listed: excluded', { Service: ['s3.amazonaws.com'] }, serviceOf('s3.amazonaws.com'), false],
  ];
  for (const [name, spec, p, want] of cases) it(name, () => assert.equal(notPrincipalApplies(spec, p), want));
});
