/**
 * `meridian explain` against the data directory of a running server: the same decision the server
 * makes, with the deciding statement (policy, Sid, index) or "no statement allowed", and every
 * condition that failed with the values it saw. Exit code 0 = allowed, 3 = denied.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, PutRolePolicyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, PutBucketPolicyCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { iamClient, kmsClient, s3Client } from '../support/clients.js';
import { meridianOnDataDir } from '../support/meridian-cli.js';

let m: MeridianProcess;
const bucket = `explain-${Date.now().toString(36)}`;
let userArn: string;
let userKey: string;
let roleArn: string;
let keyArn: string;

const doc = (statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });

before(async () => {
  m = await startMeridianProcess({ tls: false });
  const iam = iamClient(m);
  const s3 = s3Client(m);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'reports/q1.csv', Body: 'x' }));
  userArn = (await iam.send(new CreateUserCommand({ UserName: 'analyst' }))).User!.Arn!;
  userKey = (await iam.send(new CreateAccessKeyCommand({ UserName: 'analyst' }))).AccessKey!.AccessKeyId!;
  await iam.send(
    new PutUserPolicyCommand({
      UserName: 'analyst',
      PolicyName: 'reports',
      PolicyDocument: doc([
        { Sid: 'ReadReports', Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/reports/*` },
        { Sid: 'OnlyFromOffice', Effect: 'Deny', Action: 's3:*', Resource: '*', Condition: { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } },
      ]),
    }),
  );
  await s3.send(
    new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: doc([{ Sid: 'TlsOnly', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: `arn:aws:s3:::${bucket}/*`, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }]),
    }),
  );
  const trust = doc([{ Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': m.accountId } } }]);
  roleArn = (await iam.send(new CreateRoleCommand({ RoleName: 'replication', AssumeRolePolicyDocument: trust }))).Role!.Arn!;
  await iam.send(new PutRolePolicyCommand({ RoleName: 'replication', PolicyName: 'decrypt', PolicyDocument: doc([{ Sid: 'Decrypt', Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*' }]) }));
  keyArn = (await kmsClient(m).send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
});
after(async () => {
  await m?.stop();
});

const explain = (...args: string[]) => meridianOnDataDir(['explain', ...args], m.dataDir);

describe('meridian explain', () => {
  test('ALLOW names the statement that allowed (policy, Sid, index)', async () => {
    const r = await explain('--principal', userArn, '--action', 's3:GetObject', '--resource', `arn:aws:s3:::${bucket}/reports/q1.csv`, '--context', 'aws:SourceIp=10.1.2.3');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ALLOW: User: arn:aws:iam::000000000000:user\/analyst is authorized to perform: s3:GetObject/);
    assert.match(r.stdout, /Allowed by:\n  - Allow statement #0 \(Sid "ReadReports"\) of inline policy reports of user analyst \[identity\]/);
  });

  test('an explicit deny names the denying statement and the conditions that failed, with the values seen', async () => {
    const r = await explain('--principal', userKey, '--action', 's3:GetObject', '--resource', `arn:aws:s3:::${bucket}/reports/q1.csv`, '--context', 'aws:SourceIp=203.0.113.9');
    assert.equal(r.code, 3);
    assert.match(r.stdout, /^DENY \(explicit\): .* with an explicit deny in an identity-based policy/);
    assert.match(r.stdout, /Denied by:\n  - Deny statement #1 \(Sid "OnlyFromOffice"\) of inline policy reports of user analyst \[identity\]/);
    // The bucket policy's TlsOnly deny did not apply: its condition failed, and explain says why.
    assert.match(r.stdout, /Deny statement #0 \(Sid "TlsOnly"\) of bucket policy of .*: Bool aws:SecureTransport expected "false"; request value: "true"/);
  });

  test('--insecure: the bucket policy denies plain HTTP', async () => {
    const r = await explain('--principal', userArn, '--action', 's3:GetObject', '--resource', `arn:aws:s3:::${bucket}/reports/q1.csv`, '--context', 'aws:SourceIp=10.0.0.1', '--insecure');
    assert.equal(r.code, 3);
    assert.match(r.stdout, /with an explicit deny in a resource-based policy/);
    assert.match(r.stdout, /Sid "TlsOnly"/);
  });

  test('implicit deny: "no statement allowed"; a Deny whose condition failed is listed with the value seen', async () => {
    const r = await explain('--principal', userArn, '--action', 's3:PutObject', '--resource', `arn:aws:s3:::${bucket}/reports/q2.csv`, '--context', 'aws:SourceIp=10.0.0.1');
    assert.equal(r.code, 3);
    assert.match(r.stdout, /^DENY \(implicit\)/);
    assert.match(r.stdout, /No statement allowed the request \(no identity-based policy allows the s3:PutObject action\)/);
    assert.match(r.stdout, /Deny statement #1 \(Sid "OnlyFromOffice"\) .*: NotIpAddress aws:SourceIp expected "10.0.0.0\/8"; request value: "10.0.0.1"/);
  });

  test('without aws:SourceIp, NotIpAddress holds (a missing key satisfies negated operators), so the Deny applies', async () => {
    const r = await explain('--principal', userArn, '--action', 's3:GetObject', '--resource', `arn:aws:s3:::${bucket}/reports/q1.csv`);
    assert.equal(r.code, 3);
    assert.match(r.stdout, /Sid "OnlyFromOffice"/);
  });

  test('the replication role: trust policy for s3.amazonaws.com with aws:SourceAccount; key policy delegation', async () => {
    const ok = await explain('--principal', 's3.amazonaws.com', '--action', 'sts:AssumeRole', '--resource', roleArn, '--context', `aws:SourceAccount=${m.accountId}`);
    assert.equal(ok.code, 0, ok.stdout);
    assert.match(ok.stdout, /trust policy of arn:aws:iam::000000000000:role\/replication/);
    const wrong = await explain('--principal', 's3.amazonaws.com', '--action', 'sts:AssumeRole', '--resource', roleArn, '--context', 'aws:SourceAccount=111122223333');
    assert.equal(wrong.code, 3);
    assert.match(wrong.stdout, /StringEquals aws:SourceAccount expected "000000000000"; request value: "111122223333"/);
    const missing = await explain('--principal', 's3.amazonaws.com', '--action', 'sts:AssumeRole', '--resource', roleArn);
    assert.match(missing.stdout, /StringEquals aws:SourceAccount expected "000000000000"; request value: missing/);
    const decrypt = await explain('--principal', roleArn, '--action', 'kms:Decrypt', '--resource', keyArn);
    assert.equal(decrypt.code, 0, decrypt.stdout);
    assert.match(decrypt.stdout, /Allow statement #0 \(Sid "Enable IAM User Permissions"\) of key policy of/);
    assert.match(decrypt.stdout, /Allow statement #0 \(Sid "Decrypt"\) of inline policy decrypt of role replication/);
  });

  test('--json prints the request and decision; unknown principals are an error (exit 1)', async () => {
    const r = await explain('--principal', 'anonymous', '--action', 's3:GetObject', '--resource', `arn:aws:s3:::${bucket}/reports/q1.csv`, '--json');
    assert.equal(r.code, 3);
    const out = JSON.parse(r.stdout);
    assert.equal(out.decision.outcome, 'ImplicitDeny');
    assert.equal(out.request.principal.type, 'Anonymous');
    const bad = await explain('--principal', 'arn:aws:iam::000000000000:user/nobody', '--action', 's3:GetObject', '--resource', `arn:aws:s3:::${bucket}/x`);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /user arn:aws:iam::000000000000:user\/nobody does not exist/);
  });

  test('explain and the server agree', async () => {
    const key = (await iamClient(m).send(new CreateAccessKeyCommand({ UserName: 'analyst' }))).AccessKey!;
    // The server sees this client at 127.0.0.1: outside 10.0.0.0/8, so the user's own Deny applies.
    const served = await s3Client(m, 'us-east-1', { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! })
      .send(new GetObjectCommand({ Bucket: bucket, Key: 'reports/q1.csv' }))
      .then(() => 'allowed', (e: Error) => e.name);
    const r = await explain('--principal', key.AccessKeyId!, '--action', 's3:GetObject', '--resource', `arn:aws:s3:::${bucket}/reports/q1.csv`, '--context', 'aws:SourceIp=127.0.0.1', '--insecure');
    assert.equal(served, 'AccessDenied');
    assert.equal(r.code, 3);
  });
});
