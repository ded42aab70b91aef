/**
 * STS beyond the basic AssumeRole (reference §4): ExternalId in the trust policy, managed session
 * policies (PolicyArns), GetSessionToken, and expired session credentials answered as each protocol
 * answers them (S3 400 ExpiredToken, STS 403 ExpiredToken, KMS 400 ExpiredTokenException).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { CreateAccessKeyCommand, CreatePolicyCommand, CreateRoleCommand, CreateUserCommand, ListUsersCommand, PutRolePolicyCommand, PutUserPolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, GetSessionTokenCommand } from '@aws-sdk/client-sts';
import { ListKeysCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { openGlobalStores } from '../../src/storage/index.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { iamClient, kmsClient, s3Client, stsClient, type Credentials } from '../support/clients.js';
import { bucketName, rejects } from './helpers.js';

let m: MeridianProcess;
let iam: IAMClient;
let rootS3: S3Client;
const bucket = bucketName('sts');

before(async () => {
  m = await startMeridianProcess();
  iam = iamClient(m);
  rootS3 = s3Client(m);
  await rootS3.send(new CreateBucketCommand({ Bucket: bucket }));
  for (const key of ['public/a.txt', 'private/b.txt']) await rootS3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
});
after(async () => {
  await m?.stop();
});

const unique = (p: string) => `${p}-${randomBytes(4).toString('hex')}`;
const doc = (statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });

async function newUser(policy?: string): Promise<{ name: string; arn: string; creds: Credentials }> {
  const name = unique('user');
  const arn = (await iam.send(new CreateUserCommand({ UserName: name }))).User!.Arn!;
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
  if (policy) await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'p', PolicyDocument: policy }));
  return { name, arn, creds: { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! } };
}

function sessionCreds(c: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string }): Credentials {
  return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
}

async function roleFor(trust: object[], permissions: object[]): Promise<string> {
  const name = unique('role');
  const arn = (await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: doc(trust) }))).Role!.Arn!;
  await iam.send(new PutRolePolicyCommand({ RoleName: name, PolicyName: 'perms', PolicyDocument: doc(permissions) }));
  return arn;
}

const readAll = { Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` };

describe('AssumeRole', () => {
  test('ExternalId: required by the trust policy; a wrong or missing one is 403 AccessDenied; a malformed one 400', async () => {
    const user = await newUser();
    const roleArn = await roleFor(
      [{ Effect: 'Allow', Principal: { AWS: user.arn }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'sts:ExternalId': 'partner-42' } } }],
      [readAll],
    );
    const sts = stsClient(m, 'us-east-1', user.creds);
    await rejects(sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 's' + 'x' })), 'AccessDenied', 403);
    await rejects(sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'sx', ExternalId: 'partner-43' })), 'AccessDenied', 403);
    await rejects(sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'sx', ExternalId: 'bad id!' })), 'ValidationError', 400);
    const ok = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'sx', ExternalId: 'partner-42' }));
    assert.match(ok.Credentials!.AccessKeyId!, /^ASIA/);
  });

  test('managed session policies (PolicyArns) intersect with the role; unknown ones are refused', async () => {
    const user = await newUser();
    const roleArn = await roleFor([{ Effect: 'Allow', Principal: { AWS: user.arn }, Action: 'sts:AssumeRole' }], [readAll]);
    const narrow = (await iam.send(new CreatePolicyCommand({ PolicyName: unique('narrow'), PolicyDocument: doc([{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/public/*` }]) })))
      .Policy!.Arn!;
    const sts = stsClient(m, 'us-east-1', user.creds);
    const out = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'narrowed', PolicyArns: [{ arn: narrow }] }));
    assert.ok(out.PackedPolicySize! > 0);
    const s3 = s3Client(m, 'us-east-1', sessionCreds(out.Credentials!));
    await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' }));
    const denied = await rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'private/b.txt' })), 'AccessDenied', 403);
    assert.match(denied.message, /because no session policy allows the s3:GetObject action/);
    await rejects(
      sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'x1', PolicyArns: [{ arn: `arn:aws:iam::${m.accountId}:policy/missing` }] })),
      'InvalidParameterValue',
      400,
    );
    await rejects(sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'x2', Policy: '{"Statement": 1}' })), 'MalformedPolicyDocumentException', 400);
    await rejects(sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'x' })), 'ValidationError', 400);
  });
});

describe('GetSessionToken', () => {
  test("a user's session credentials act with the user's permissions, cannot call IAM, and cannot get another token", async () => {
    const user = await newUser(doc([readAll, { Effect: 'Allow', Action: 'iam:ListUsers', Resource: '*' }]));
    const out = await stsClient(m, 'us-east-1', user.creds).send(new GetSessionTokenCommand({ DurationSeconds: 900 }));
    const c = out.Credentials!;
    assert.match(c.AccessKeyId!, /^ASIA[A-Z0-9]{16}$/);
    assert.ok(c.SessionToken);
    const expires = c.Expiration!.getTime() - Date.now();
    assert.ok(expires > 880_000 && expires <= 900_000, `expires in ${expires} ms`);
    const session = sessionCreds(c);
    const who = await stsClient(m, 'us-east-1', session).send(new GetCallerIdentityCommand({}));
    assert.equal(who.Arn, user.arn, 'the caller is still the user');
    await s3Client(m, 'us-east-1', session).send(new GetObjectCommand({ Bucket: bucket, Key: 'private/b.txt' }));
    await iamClient(m, user.creds).send(new ListUsersCommand({}));
    await rejects(iamClient(m, session).send(new ListUsersCommand({})), 'AccessDenied', 403);
    await rejects(stsClient(m, 'us-east-1', session).send(new GetSessionTokenCommand({})), 'AccessDenied', 403);
    await rejects(stsClient(m, 'us-east-1', user.creds).send(new GetSessionTokenCommand({ DurationSeconds: 100 })), 'ValidationError', 400);
  });

  test('the root may get a session token of at most one hour', async () => {
    const sts = stsClient(m);
    await rejects(sts.send(new GetSessionTokenCommand({ DurationSeconds: 7200 })), 'ValidationError', 400);
    const out = await sts.send(new GetSessionTokenCommand({}));
    const who = await stsClient(m, 'us-east-1', sessionCreds(out.Credentials!)).send(new GetCallerIdentityCommand({}));
    assert.equal(who.Arn, `arn:aws:iam::${m.accountId}:root`);
  });
});

describe('expired session credentials', () => {
  test('S3 400 ExpiredToken, STS 403 ExpiredToken, KMS 400 ExpiredTokenException', async () => {
    const user = await newUser(doc([readAll]));
    const key = { accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(30).toString('base64').slice(0, 40), sessionToken: randomBytes(48).toString('base64') };
    // Credentials that expired a minute ago, written where STS would have put them.
    const stores = openGlobalStores(join(m.dataDir, 'global', 'global.db'));
    try {
      await stores.iam.putAccessKey({
        ...key,
        owner: { type: 'user', accountId: m.accountId, userName: user.name },
        status: 'Active',
        createdAt: Date.now() - 3_600_000,
        expiresAt: Date.now() - 60_000,
      });
    } finally {
      await stores.close();
    }
    const s3err = await rejects(s3Client(m, 'us-east-1', key).send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' })), 'ExpiredToken', 400);
    assert.equal(s3err.message, 'The provided token has expired.');
    await rejects(stsClient(m, 'us-east-1', key).send(new GetCallerIdentityCommand({})), 'ExpiredToken', 403);
    await rejects(kmsClient(m, 'us-east-1', key).send(new ListKeysCommand({})), 'ExpiredTokenException', 400);
  });
});
