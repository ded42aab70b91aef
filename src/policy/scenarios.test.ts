/**
 * End-to-end cases drawn from AWS documentation examples and from Meridian's seed scenario
 * (S3 cross-region replication of SSE-KMS objects).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { denialMessage } from './explain.js';
import { ACCOUNT, OTHER, allowPolicy, decide, named, request, rootOf, serviceOf, sessionOf, userOf } from './testkit.js';
import type { ConditionValue, Decision, NamedPolicy, Principal } from './types.js';

const V = '2012-10-17';
const SRC_KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/src-key-id`;
const DEST_KEY = `arn:aws:kms:us-east-2:${ACCOUNT}:key/dest-key-id`;

const replicationDoc = {
  Version: V,
  Statement: [
    { Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetReplicationConfiguration', 's3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl'], Resource: ['arn:aws:s3:::src-bkt', 'arn:aws:s3:::src-bkt/*'] },
    { Effect: 'Allow', Action: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags', 's3:GetObjectVersionTagging'], Condition: { StringLikeIfExists: { 's3:x-amz-server-side-encryption': ['aws:kms', 'AES256'], 's3:x-amz-server-side-encryption-aws-kms-key-id': ['arn:aws:kms:us-east-2:000000000000:key/dest-key-id'] } }, Resource: 'arn:aws:s3:::dest-bkt/*' },
    { Effect: 'Allow', Action: ['kms:Decrypt'], Condition: { StringLike: { 'kms:ViaService': 's3.us-east-1.amazonaws.com', 'kms:EncryptionContext:aws:s3:arn': ['arn:aws:s3:::src-bkt/*'] } }, Resource: ['arn:aws:kms:us-east-1:000000000000:key/src-key-id'] },
    { Effect: 'Allow', Action: ['kms:Encrypt'], Condition: { StringLike: { 'kms:ViaService': 's3.us-east-2.amazonaws.com', 'kms:EncryptionContext:aws:s3:arn': ['arn:aws:s3:::dest-bkt/*'] } }, Resource: ['arn:aws:kms:us-east-2:000000000000:key/dest-key-id'] },
  ],
};
const POLICY_NAME = 'inline policy s3-crr-with-kms-role-permissions-policy of role replication-role';
const replicationPolicy = named(POLICY_NAME, 'identity', replicationDoc);
const withoutEncrypt = named(POLICY_NAME, 'identity', { ...replicationDoc, Statement: replicationDoc.Statement.slice(0, 3) });

function defaultKeyPolicy(keyArn: string, account = ACCOUNT): NamedPolicy {
  return named(`key policy of ${keyArn}`, 'key', {
    Version: V,
    Id: 'key-default-1',
    Statement: [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' }],
  });
}

const role = sessionOf('replication-role', 's3-replication');

function kms(
  action: string,
  key: string,
  context: Record<string, ConditionValue>,
  opts: { identity?: NamedPolicy[]; keyPolicy?: NamedPolicy; principal?: Principal } = {},
): Decision {
  return decide({
    request: request(opts.principal ?? role, action, key, context, ACCOUNT),
    identityPolicies: opts.identity ?? [replicationPolicy],
    resourcePolicy: opts.keyPolicy ?? defaultKeyPolicy(key),
    resourcePolicyRequired: true,
  });
}

const viaSrc = (arn = 'arn:aws:s3:::src-bkt/photos/1.jpg'): Record<string, ConditionValue> => ({
  'kms:ViaService': 's3.us-east-1.amazonaws.com',
  'kms:EncryptionContext:aws:s3:arn': arn,
  'kms:CallerAccount': ACCOUNT,
});

describe('seed scenario: the S3 replication role', () => {
  const s3 = (action: string, resource: string, context: Record<string, ConditionValue> = {}): Decision =>
    decide({ request: request(role, action, resource, context, ACCOUNT), identityPolicies: [replicationPolicy] });

  it('reads the source: ListBucket, GetReplicationConfiguration, GetObjectVersionForReplication', () => {
    assert.equal(s3('s3:ListBucket', 'arn:aws:s3:::src-bkt').outcome, 'Allow');
    assert.equal(s3('s3:GetReplicationConfiguration', 'arn:aws:s3:::src-bkt').outcome, 'Allow');
    assert.equal(s3('s3:GetObjectVersionForReplication', 'arn:aws:s3:::src-bkt/photos/1.jpg').outcome, 'Allow');
    assert.equal(s3('s3:GetObjectVersionForReplication', 'arn:aws:s3:::other-bkt/photos/1.jpg').outcome, 'ImplicitDeny');
  });

  it('writes replicas with or without SSE headers (StringLikeIfExists)', () => {
    const dest = 'arn:aws:s3:::dest-bkt/photos/1.jpg';
    assert.equal(s3('s3:ReplicateObject', dest).outcome, 'Allow');
    assert.equal(s3('s3:ReplicateObject', dest, { 's3:x-amz-server-side-encryption': 'aws:kms', 's3:x-amz-server-side-encryption-aws-kms-key-id': DEST_KEY }).outcome, 'Allow');
    assert.equal(s3('s3:ReplicateDelete', dest, { 's3:x-amz-server-side-encryption': 'AES256' }).outcome, 'Allow');
    const wrongKey = s3('s3:ReplicateObject', dest, { 's3:x-amz-server-side-encryption': 'aws:kms', 's3:x-amz-server-side-encryption-aws-kms-key-id': SRC_KEY });
    assert.equal(wrongKey.outcome, 'ImplicitDeny');
    assert.deepEqual(
      wrongKey.conditionFailures.map((f) => [f.statement.index, f.operator, f.key, f.actual]),
      [[1, 'StringLikeIfExists', 's3:x-amz-server-side-encryption-aws-kms-key-id', [SRC_KEY]]],
    );
    assert.equal(s3('s3:ReplicateObject', dest, { 's3:x-amz-server-side-encryption': 'aws:kms:dsse' }).outcome, 'ImplicitDeny');
  });

  it('kms:Decrypt on the source key via S3 in us-east-1 is allowed (key policy delegates to IAM)', () => {
    const d = kms('kms:Decrypt', SRC_KEY, viaSrc());
    assert.equal(d.outcome, 'Allow');
    assert.deepEqual(d.statements.map((s) => [s.policyName, s.index, s.source]), [
      [`key policy of ${SRC_KEY}`, 0, 'resource'],
      [POLICY_NAME, 2, 'identity'],
    ]);
  });

  it('kms:Decrypt with the wrong kms:ViaService is denied, and the failure shows both values', () => {
    const d = kms('kms:Decrypt', SRC_KEY, { ...viaSrc(), 'kms:ViaService': 's3.us-east-2.amazonaws.com' });
    assert.equal(d.outcome, 'ImplicitDeny');
    assert.equal(d.reason, 'no identity-based policy allows the kms:Decrypt action');
    assert.deepEqual(d.conditionFailures, [
      {
        statement: { policyName: POLICY_NAME, index: 2, effect: 'Allow', source: 'identity' },
        operator: 'StringLike',
        key: 'kms:ViaService',
        expected: ['s3.us-east-1.amazonaws.com'],
        actual: ['s3.us-east-2.amazonaws.com'],
      },
    ]);
    assert.equal(
      denialMessage(request(role, 'kms:Decrypt', SRC_KEY), d),
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/replication-role/s3-replication is not authorized to perform: kms:Decrypt on resource: ${SRC_KEY} because no identity-based policy allows the kms:Decrypt action`,
    );
  });

  it('kms:Decrypt for an object of another bucket: the encryption-context ARN appears in conditionFailures', () => {
    const d = kms('kms:Decrypt', SRC_KEY, viaSrc('arn:aws:s3:::other/x'));
    assert.equal(d.outcome, 'ImplicitDeny');
    assert.deepEqual(d.conditionFailures.map((f) => ({ key: f.key, expected: f.expected, actual: f.actual })), [
      { key: 'kms:EncryptionContext:aws:s3:arn', expected: ['arn:aws:s3:::src-bkt/*'], actual: ['arn:aws:s3:::other/x'] },
    ]);
  });

  it('a direct kms:Decrypt call (no kms:ViaService) is denied: the key is reported missing', () => {
    const d = kms('kms:Decrypt', SRC_KEY, { 'kms:EncryptionContext:aws:s3:arn': 'arn:aws:s3:::src-bkt/x' });
    assert.equal(d.outcome, 'ImplicitDeny');
    assert.deepEqual(d.conditionFailures.map((f) => [f.key, f.actual]), [['kms:ViaService', undefined]]);
  });

  it('kms:Encrypt on the destination key via S3 in us-east-2 is allowed', () => {
    const ctx = { 'kms:ViaService': 's3.us-east-2.amazonaws.com', 'kms:EncryptionContext:aws:s3:arn': 'arn:aws:s3:::dest-bkt/photos/1.jpg' };
    assert.equal(kms('kms:Encrypt', DEST_KEY, ctx).outcome, 'Allow');
    // Decrypt is only granted on the source key.
    assert.equal(kms('kms:Decrypt', DEST_KEY, ctx).outcome, 'ImplicitDeny');
  });

  it('without the kms:Encrypt statement the role cannot encrypt replicas', () => {
    const ctx = { 'kms:ViaService': 's3.us-east-2.amazonaws.com', 'kms:EncryptionContext:aws:s3:arn': 'arn:aws:s3:::dest-bkt/photos/1.jpg' };
    const d = kms('kms:Encrypt', DEST_KEY, ctx, { identity: [withoutEncrypt] });
    assert.equal(d.outcome, 'ImplicitDeny');
    assert.equal(d.reason, 'no identity-based policy allows the kms:Encrypt action');
    assert.deepEqual(d.conditionFailures, []);
    assert.equal(
      denialMessage(request(role, 'kms:Encrypt', DEST_KEY), d),
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/replication-role/s3-replication is not authorized to perform: kms:Encrypt on resource: ${DEST_KEY} because no identity-based policy allows the kms:Encrypt action`,
    );
  });

  it('a key policy that neither names the role nor delegates to the account denies with the resource-based phrase', () => {
    const keyPolicy = named('key policy', 'key', { Version: V, Statement: { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/admin` }, Action: 'kms:*', Resource: '*' } });
    const d = kms('kms:Decrypt', SRC_KEY, viaSrc(), { keyPolicy });
    assert.equal(d.reason, 'no resource-based policy allows the kms:Decrypt action');
  });

  it('the trust policy lets s3.amazonaws.com assume the role, and nobody else', () => {
    const trust = named('trust policy of role replication-role', 'trust', {
      Version: V,
      Statement: [{ Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
    const assume = (p: Principal): Decision =>
      decide({ request: request(p, 'sts:AssumeRole', `arn:aws:iam::${ACCOUNT}:role/replication-role`, {}, ACCOUNT), resourcePolicy: trust, resourcePolicyRequired: true, identityPolicies: [allowPolicy('all', '*', '*')] });
    assert.equal(assume(serviceOf('s3.amazonaws.com')).outcome, 'Allow');
    assert.equal(assume(serviceOf('ec2.amazonaws.com')).outcome, 'ImplicitDeny');
    const u = assume(userOf('alice'));
    assert.equal(u.outcome, 'ImplicitDeny');
    assert.equal(u.reason, 'no resource-based policy allows the sts:AssumeRole action');
  });
});

describe('KMS key policies (reference §1.8, §1.10)', () => {
  const KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
  const alice = userOf('alice');
  const canDecrypt = allowPolicy('kms-use', ['kms:Decrypt', 'kms:Encrypt'], KEY);

  it('default key policy: delegates to IAM policies of the account', () => {
    assert.equal(kms('kms:Decrypt', KEY, {}, { principal: alice, identity: [canDecrypt] }).outcome, 'Allow');
    assert.equal(kms('kms:Decrypt', KEY, {}, { principal: alice, identity: [] }).reason, 'no identity-based policy allows the kms:Decrypt action');
  });
  it('default key policy: the root user may use the key directly', () => {
    assert.equal(kms('kms:ScheduleKeyDeletion', KEY, {}, { principal: rootOf(ACCOUNT), identity: [] }).outcome, 'Allow');
  });
  it('default key policy: another account cannot use the key even with IAM permission', () => {
    const d = decide({ request: request(userOf('bob', OTHER), 'kms:Decrypt', KEY, {}, ACCOUNT), identityPolicies: [canDecrypt], resourcePolicy: defaultKeyPolicy(KEY), resourcePolicyRequired: true });
    assert.equal(d.reason, 'no resource-based policy allows the kms:Decrypt action');
  });
  it('cross-account: key policy names the other account and its IAM policy allows', () => {
    const keyPolicy = named('key policy', 'key', {
      Version: V,
      Statement: [
        { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
        { Sid: 'Allow use of the key', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OTHER}:root` }, Action: ['kms:Encrypt', 'kms:Decrypt'], Resource: '*' },
      ],
    });
    const bob = userOf('bob', OTHER);
    const at = (identity: NamedPolicy[]): Decision => decide({ request: request(bob, 'kms:Decrypt', KEY, {}, ACCOUNT), identityPolicies: identity, resourcePolicy: keyPolicy, resourcePolicyRequired: true });
    assert.equal(at([canDecrypt]).outcome, 'Allow');
    assert.equal(at([]).reason, 'no identity-based policy allows the kms:Decrypt action');
  });
  it('a key policy naming the user directly needs no IAM policy', () => {
    const keyPolicy = named('key policy', 'key', { Version: V, Statement: { Effect: 'Allow', Principal: { AWS: alice.arn }, Action: 'kms:Decrypt', Resource: '*' } });
    assert.equal(kms('kms:Decrypt', KEY, {}, { principal: alice, identity: [], keyPolicy }).outcome, 'Allow');
  });
  it('AWS managed key for S3: any principal of the account, only through S3', () => {
    const managed = named('key policy of aws/s3', 'key', {
      Version: V,
      Id: 'auto-s3-2',
      Statement: [
        { Sid: 'Allow access through S3 for all principals in the account that are authorized to use S3', Effect: 'Allow', Principal: { AWS: '*' }, Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'], Resource: '*', Condition: { StringEquals: { 'kms:CallerAccount': ACCOUNT, 'kms:ViaService': 's3.us-east-1.amazonaws.com' } } },
        { Sid: 'Allow direct access to key metadata to the account', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: ['kms:Describe*', 'kms:Get*', 'kms:List*'], Resource: '*' },
      ],
    });
    const via = { 'kms:CallerAccount': ACCOUNT, 'kms:ViaService': 's3.us-east-1.amazonaws.com' };
    assert.equal(kms('kms:GenerateDataKey', KEY, via, { principal: alice, identity: [], keyPolicy: managed }).outcome, 'Allow');
    assert.equal(kms('kms:Decrypt', KEY, {}, { principal: alice, identity: [], keyPolicy: managed }).reason, 'no resource-based policy allows the kms:Decrypt action');
    assert.equal(kms('kms:DescribeKey', KEY, {}, { principal: alice, identity: [allowPolicy('d', 'kms:DescribeKey', '*')], keyPolicy: managed }).outcome, 'Allow');
    const bob = userOf('bob', OTHER);
    const cross = decide({ request: request(bob, 'kms:Decrypt', KEY, { ...via, 'kms:CallerAccount': OTHER }, ACCOUNT), identityPolicies: [allowPolicy('all', 'kms:*', '*')], resourcePolicy: managed, resourcePolicyRequired: true });
    assert.equal(cross.outcome, 'ImplicitDeny');
    assert.deepEqual(cross.conditionFailures.map((f) => [f.key, f.actual]), [['kms:CallerAccount', [OTHER]]]);
  });
});

describe('S3 bucket policies (AWS examples)', () => {
  const bucketA = named('bucket policy of DOC-EXAMPLE-BUCKET', 'resource', {
    Version: V,
    Statement: [{ Sid: 'Example permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OTHER}:root` }, Action: ['s3:GetLifecycleConfiguration', 's3:ListBucket'], Resource: ['arn:aws:s3:::DOC-EXAMPLE-BUCKET'] }],
  });
  const bucket = 'arn:aws:s3:::DOC-EXAMPLE-BUCKET';
  const list = (p: Principal, identity: NamedPolicy[] = []): Decision =>
    decide({ request: request(p, 's3:ListBucket', bucket, {}, ACCOUNT), identityPolicies: identity, resourcePolicy: bucketA });

  it('cross-account: account B administrator delegates to its user', () => {
    const userPolicy = allowPolicy('Example', ['s3:ListBucket'], bucket);
    assert.equal(list(userOf('Dave', OTHER), [userPolicy]).outcome, 'Allow');
    assert.equal(list(userOf('Dave', OTHER)).reason, 'no identity-based policy allows the s3:ListBucket action');
    assert.equal(list(rootOf(OTHER)).outcome, 'Allow');
    assert.equal(list(userOf('Eve', '444455556666'), [userPolicy]).reason, 'no resource-based policy allows the s3:ListBucket action');
  });

  const secure = named('bucket policy of b', 'resource', {
    Version: V,
    Statement: [
      { Sid: 'AllowAll', Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 's3:*', Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'] },
      { Sid: 'DenyInsecureTransport', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'], Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
      { Sid: 'DenyUnencryptedUploads', Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: 'arn:aws:s3:::b/*', Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' } } },
      { Sid: 'DenyOutsideOffice', Effect: 'Deny', Principal: '*', Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::b/*', Condition: { NotIpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '2001:DB8::/32'] } } },
    ],
  });
  const at = (p: Principal, action: string, context: Record<string, ConditionValue>): Decision =>
    decide({ request: request(p, action, 'arn:aws:s3:::b/k', { 'aws:SecureTransport': 'true', ...context }, ACCOUNT), identityPolicies: [allowPolicy('all', 's3:*', '*')], resourcePolicy: secure });

  it('explicit deny beats every allow, even for the root user', () => {
    assert.equal(at(userOf('alice'), 's3:GetObject', {}).outcome, 'Allow');
    const insecure = at(userOf('alice'), 's3:GetObject', { 'aws:SecureTransport': 'false' });
    assert.equal(insecure.outcome, 'ExplicitDeny');
    assert.deepEqual(insecure.statements.map((s) => s.sid), ['DenyInsecureTransport']);
    assert.equal(at(rootOf(ACCOUNT), 's3:GetObject', { 'aws:SecureTransport': 'false' }).outcome, 'ExplicitDeny');
  });
  it('StringNotEquals on a missing header denies uploads that rely on default encryption', () => {
    assert.equal(at(userOf('alice'), 's3:PutObject', { 's3:x-amz-server-side-encryption': 'aws:kms' }).outcome, 'Allow');
    assert.equal(at(userOf('alice'), 's3:PutObject', { 's3:x-amz-server-side-encryption': 'AES256' }).outcome, 'ExplicitDeny');
    assert.equal(at(userOf('alice'), 's3:PutObject', {}).outcome, 'ExplicitDeny');
  });
  it('NotIpAddress: inside the ranges allowed, outside (or no IP at all) denied', () => {
    assert.equal(at(userOf('alice'), 's3:DeleteObject', { 'aws:SourceIp': '192.0.2.10' }).outcome, 'Allow');
    assert.equal(at(userOf('alice'), 's3:DeleteObject', { 'aws:SourceIp': '2001:db8::7' }).outcome, 'Allow');
    assert.equal(at(userOf('alice'), 's3:DeleteObject', { 'aws:SourceIp': '198.51.100.1' }).outcome, 'ExplicitDeny');
    assert.equal(at(userOf('alice'), 's3:DeleteObject', {}).outcome, 'ExplicitDeny');
  });
});

describe('IAM policy examples with conditions', () => {
  const alice = userOf('alice');
  const run = (policy: NamedPolicy, action: string, resource: string, context: Record<string, ConditionValue>, p: Principal = alice): Decision['outcome'] =>
    decide({ request: request(p, action, resource, context, ACCOUNT), identityPolicies: [policy] }).outcome;

  it('date range: allow only within a window (aws:CurrentTime)', () => {
    const p = named('window', 'identity', { Version: V, Statement: { Effect: 'Allow', Action: 'ec2:*', Resource: '*', Condition: { DateGreaterThan: { 'aws:CurrentTime': '2020-04-01T00:00:00Z' }, DateLessThan: { 'aws:CurrentTime': '2020-06-30T23:59:59Z' } } } });
    assert.equal(run(p, 'ec2:RunInstances', '*', { 'aws:CurrentTime': '2020-05-15T10:00:00Z' }), 'Allow');
    assert.equal(run(p, 'ec2:RunInstances', '*', { 'aws:CurrentTime': '2020-07-01T00:00:00Z' }), 'ImplicitDeny');
  });
  it('numeric: ListBucket limited to 10 keys per page', () => {
    const p = named('max-keys', 'identity', { Version: V, Statement: { Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::b', Condition: { NumericLessThanEquals: { 's3:max-keys': '10' } } } });
    assert.equal(run(p, 's3:ListBucket', 'arn:aws:s3:::b', { 's3:max-keys': '10' }), 'Allow');
    assert.equal(run(p, 's3:ListBucket', 'arn:aws:s3:::b', { 's3:max-keys': '1000' }), 'ImplicitDeny');
    assert.equal(run(p, 's3:ListBucket', 'arn:aws:s3:::b', {}), 'ImplicitDeny');
  });
  it('Null: deny when not using temporary credentials', () => {
    const p = named('temp-only', 'identity', {
      Version: V,
      Statement: [
        { Effect: 'Allow', Action: 's3:*', Resource: '*' },
        { Effect: 'Deny', Action: 's3:*', Resource: '*', Condition: { Null: { 'aws:TokenIssueTime': 'true' } } },
      ],
    });
    assert.equal(run(p, 's3:GetObject', 'arn:aws:s3:::b/k', {}), 'ExplicitDeny');
    assert.equal(run(p, 's3:GetObject', 'arn:aws:s3:::b/k', { 'aws:TokenIssueTime': '2020-01-01T00:00:00Z' }), 'Allow');
  });
  it('ForAllValues / ForAnyValue on aws:TagKeys', () => {
    const p = named('tags', 'identity', {
      Version: V,
      Statement: [
        { Effect: 'Allow', Action: 'ec2:CreateTags', Resource: '*', Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['environment', 'cost-center'] } } },
        { Effect: 'Deny', Action: 'ec2:CreateTags', Resource: '*', Condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': 'owner' } } },
      ],
    });
    assert.equal(run(p, 'ec2:CreateTags', '*', { 'aws:TagKeys': ['environment'] }), 'Allow');
    assert.equal(run(p, 'ec2:CreateTags', '*', { 'aws:TagKeys': ['environment', 'team'] }), 'ImplicitDeny');
    assert.equal(run(p, 'ec2:CreateTags', '*', { 'aws:TagKeys': ['owner'] }), 'ExplicitDeny');
    assert.equal(run(p, 'ec2:CreateTags', '*', {}), 'Allow'); // ForAllValues on a missing key holds: AWS's documented trap
  });
  it('variables: per-user home folder (aws:username in Resource and s3:prefix)', () => {
    const p = named('home', 'identity', {
      Version: V,
      Statement: [
        { Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::b', Condition: { StringLike: { 's3:prefix': ['', 'home/', 'home/${aws:username}/*'] } } },
        { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: 'arn:aws:s3:::b/home/${aws:username}/*' },
      ],
    });
    assert.equal(run(p, 's3:ListBucket', 'arn:aws:s3:::b', { 's3:prefix': 'home/alice/docs/' }), 'Allow');
    assert.equal(run(p, 's3:ListBucket', 'arn:aws:s3:::b', { 's3:prefix': 'home/bob/' }), 'ImplicitDeny');
    assert.equal(run(p, 's3:ListBucket', 'arn:aws:s3:::b', { 's3:prefix': '' }), 'Allow');
    assert.equal(run(p, 's3:PutObject', 'arn:aws:s3:::b/home/alice/a.txt', {}), 'Allow');
    assert.equal(run(p, 's3:PutObject', 'arn:aws:s3:::b/home/bob/a.txt', {}), 'ImplicitDeny');
  });
});

describe('role trust policies (reference §3.6)', () => {
  const ROLE = `arn:aws:iam::${ACCOUNT}:role/cross-account-role`;
  const assume = (trust: NamedPolicy, p: Principal, context: Record<string, ConditionValue>, identity: NamedPolicy[]): Decision =>
    decide({ request: request(p, 'sts:AssumeRole', ROLE, context, ACCOUNT), identityPolicies: identity, resourcePolicy: trust, resourcePolicyRequired: true });
  const canAssume = allowPolicy('assume', 'sts:AssumeRole', ROLE);

  it('ExternalId from a third-party account', () => {
    const trust = named('trust', 'trust', {
      Version: V,
      Statement: { Effect: 'Allow', Principal: { AWS: OTHER }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'sts:ExternalId': 'Unique ID Assigned by Example Corp' } } },
    });
    const bob = userOf('bob', OTHER);
    assert.equal(assume(trust, bob, { 'sts:ExternalId': 'Unique ID Assigned by Example Corp' }, [canAssume]).outcome, 'Allow');
    const wrong = assume(trust, bob, { 'sts:ExternalId': 'guess' }, [canAssume]);
    assert.equal(wrong.reason, 'no resource-based policy allows the sts:AssumeRole action');
    assert.deepEqual(wrong.conditionFailures.map((f) => [f.key, f.expected, f.actual]), [['sts:ExternalId', ['Unique ID Assigned by Example Corp'], ['guess']]]);
    assert.deepEqual(assume(trust, bob, {}, [canAssume]).conditionFailures.map((f) => f.actual), [undefined]);
    assert.equal(assume(trust, bob, { 'sts:ExternalId': 'Unique ID Assigned by Example Corp' }, []).reason, 'no identity-based policy allows the sts:AssumeRole action');
  });
  it('same account: naming the user needs no identity permission; naming the account does', () => {
    const alice = userOf('alice');
    const direct = named('trust', 'trust', { Version: V, Statement: { Effect: 'Allow', Principal: { AWS: alice.arn }, Action: 'sts:AssumeRole' } });
    const account = named('trust', 'trust', { Version: V, Statement: { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' } });
    assert.equal(assume(direct, alice, {}, []).outcome, 'Allow');
    assert.equal(assume(account, alice, {}, []).reason, 'no identity-based policy allows the sts:AssumeRole action');
    assert.equal(assume(account, alice, {}, [canAssume]).outcome, 'Allow');
  });
  it('service trust with confused-deputy conditions (aws:SourceAccount, aws:SourceArn)', () => {
    const trust = named('trust', 'trust', {
      Version: V,
      Statement: { Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT }, ArnLike: { 'aws:SourceArn': 'arn:aws:s3:::src-*' } } },
    });
    const s3 = serviceOf('s3.amazonaws.com');
    assert.equal(assume(trust, s3, { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': 'arn:aws:s3:::src-bkt' }, []).outcome, 'Allow');
    assert.equal(assume(trust, s3, { 'aws:SourceAccount': OTHER, 'aws:SourceArn': 'arn:aws:s3:::src-bkt' }, []).outcome, 'ImplicitDeny');
  });
  it('explicit deny in a trust policy wins', () => {
    const trust = named('trust', 'trust', {
      Version: V,
      Statement: [
        { Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' },
        { Effect: 'Deny', Principal: { AWS: userOf('mallory').arn }, Action: 'sts:*' },
      ],
    });
    assert.equal(assume(trust, userOf('mallory'), {}, [canAssume]).outcome, 'ExplicitDeny');
    assert.equal(assume(trust, sessionOf('r', 's'), {}, []).outcome, 'Allow');
  });
});
