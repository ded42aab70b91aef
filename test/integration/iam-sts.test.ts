/**
 * IAM and STS through the SDK v3 against a real server (reference kms-iam-sts-sigv4.md §2 IAM, §4
 * STS): roles and inline policies (documents come back URL-encoded, §2.2), the modelled error codes,
 * users with access keys whose requests are authorized by their identity policies, and AssumeRole
 * with trust policies and session policies. SDK v3 names modelled IAM errors after their shapes
 * (NoSuchEntityException) and keeps the wire code in `Code` (NoSuchEntity).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DeleteUserCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { CreateBucketCommand, GetObjectCommand, ListBucketsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { iamClient, s3Client, stsClient, type Credentials } from '../support/clients.js';
import { bucketName, rejects } from './helpers.js';

let m: MeridianProcess;
let iam: IAMClient;
let rootS3: S3Client;
const bucket = bucketName('iam');

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
const trustFor = (principal: object) => doc([{ Effect: 'Allow', Principal: principal, Action: 'sts:AssumeRole' }]);

async function newUser(policy?: string): Promise<{ name: string; arn: string; creds: Credentials }> {
  const name = unique('user');
  const user = (await iam.send(new CreateUserCommand({ UserName: name }))).User!;
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
  if (policy) await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'p', PolicyDocument: policy }));
  return { name, arn: user.Arn!, creds: { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! } };
}

describe('roles and inline policies', () => {
  test('CreateRole/GetRole: ARN, AROA id, and the trust policy URL-encoded in the response', async () => {
    const name = unique('role');
    const trust = trustFor({ Service: 's3.amazonaws.com' });
    const created = (await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trust, Description: 'a test role' }))).Role!;
    assert.equal(created.Arn, `arn:aws:iam::${m.accountId}:role/${name}`);
    assert.match(created.RoleId!, /^AROA[A-Z0-9]{17}$/);
    assert.equal(created.Path, '/');
    assert.equal(created.MaxSessionDuration, 3600);
    assert.ok(created.CreateDate instanceof Date);
    assert.equal(created.AssumeRolePolicyDocument, encodeURIComponent(trust));

    const got = (await iam.send(new GetRoleCommand({ RoleName: name }))).Role!;
    assert.equal(got.RoleId, created.RoleId);
    assert.equal(got.Description, 'a test role');
    assert.deepEqual(JSON.parse(decodeURIComponent(got.AssumeRolePolicyDocument!)), JSON.parse(trust));

    const withPath = (await iam.send(new CreateRoleCommand({ RoleName: unique('pathed'), Path: '/service/', AssumeRolePolicyDocument: trust }))).Role!;
    assert.match(withPath.Arn!, new RegExp(`^arn:aws:iam::${m.accountId}:role/service/pathed-`));
  });

  test('PutRolePolicy/GetRolePolicy/ListRolePolicies; DeleteRole is 409 DeleteConflict while a policy remains', async () => {
    const name = unique('role');
    await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trustFor({ Service: 's3.amazonaws.com' }) }));
    const policy = doc([{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::b/*' }]);
    await iam.send(new PutRolePolicyCommand({ RoleName: name, PolicyName: 'read', PolicyDocument: policy }));
    const got = await iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: 'read' }));
    assert.equal(got.RoleName, name);
    assert.equal(got.PolicyName, 'read');
    assert.deepEqual(JSON.parse(decodeURIComponent(got.PolicyDocument!)), JSON.parse(policy));
    assert.deepEqual((await iam.send(new ListRolePoliciesCommand({ RoleName: name }))).PolicyNames, ['read']);

    const conflict = await rejects(iam.send(new DeleteRoleCommand({ RoleName: name })), 'DeleteConflictException', 409);
    assert.equal(conflict.Code, 'DeleteConflict');
    await iam.send(new DeleteRolePolicyCommand({ RoleName: name, PolicyName: 'read' }));
    await iam.send(new DeleteRoleCommand({ RoleName: name }));
    await rejects(iam.send(new GetRoleCommand({ RoleName: name })), 'NoSuchEntityException', 404);
  });

  test('EntityAlreadyExists (409), NoSuchEntity (404) with AWS messages', async () => {
    const name = unique('role');
    const trust = trustFor({ Service: 's3.amazonaws.com' });
    await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trust }));
    const dup = await rejects(iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trust })), 'EntityAlreadyExistsException', 409);
    assert.equal(dup.Code, 'EntityAlreadyExists');
    assert.equal(dup.message, `Role with name ${name} already exists.`);
    const missing = await rejects(iam.send(new GetRoleCommand({ RoleName: 'no-such-role' })), 'NoSuchEntityException', 404);
    assert.equal(missing.message, 'The role with name no-such-role cannot be found.');
    const noPolicy = await rejects(iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: 'nope' })), 'NoSuchEntityException', 404);
    assert.equal(noPolicy.message, 'The role policy with name nope cannot be found.');
  });

  test('MalformedPolicyDocument (400): invalid JSON, a trust policy with Resource, an identity policy with Principal', async () => {
    const name = unique('role');
    await rejects(iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: '{not json' })), 'MalformedPolicyDocumentException', 400);
    await rejects(
      iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: 'sts:AssumeRole', Resource: '*' }]) })),
      'MalformedPolicyDocumentException',
      400,
    );
    await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trustFor({ Service: 's3.amazonaws.com' }) }));
    await rejects(
      iam.send(new PutRolePolicyCommand({ RoleName: name, PolicyName: 'bad', PolicyDocument: doc([{ Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: '*' }]) })),
      'MalformedPolicyDocumentException',
      400,
    );
    await rejects(
      iam.send(new PutRolePolicyCommand({ RoleName: name, PolicyName: 'bad', PolicyDocument: doc([{ Effect: 'Allow', Action: 's3:*' }]) })),
      'MalformedPolicyDocumentException',
      400,
    );
  });
});

describe('users and their credentials', () => {
  test('GetCallerIdentity: the root shows the account root; a user shows its ARN and AIDA id', async () => {
    const root = await stsClient(m).send(new GetCallerIdentityCommand({}));
    assert.equal(root.Arn, `arn:aws:iam::${m.accountId}:root`);
    assert.equal(root.Account, m.accountId);
    assert.equal(root.UserId, m.accountId);

    const user = await newUser();
    assert.match(user.creds.accessKeyId, /^AKIA[A-Z0-9]{16}$/);
    assert.equal(user.creds.secretAccessKey.length, 40);
    const me = await stsClient(m, 'us-west-2', user.creds).send(new GetCallerIdentityCommand({}));
    assert.equal(me.Arn, `arn:aws:iam::${m.accountId}:user/${user.name}`);
    assert.equal(me.Arn, user.arn);
    assert.match(me.UserId!, /^AIDA[A-Z0-9]{17}$/);
    assert.equal(me.Account, m.accountId);
  });

  test('a user without policies: S3 ListBuckets 403 AccessDenied; with an identity policy allowing it, 200', async () => {
    const user = await newUser();
    const userS3 = s3Client(m, 'us-east-1', user.creds);
    const err = await rejects(userS3.send(new ListBucketsCommand({})), 'AccessDenied', 403);
    assert.match(err.message, new RegExp(`User: ${user.arn} is not authorized to perform: s3:ListAllMyBuckets`));
    await iam.send(new PutUserPolicyCommand({ UserName: user.name, PolicyName: 'list', PolicyDocument: doc([{ Effect: 'Allow', Action: 's3:ListAllMyBuckets', Resource: '*' }]) }));
    const out = await userS3.send(new ListBucketsCommand({}));
    assert.ok(out.Buckets!.some((b) => b.Name === bucket), 'the account\'s buckets are listed');
    // Only listing was granted.
    await rejects(userS3.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' })), 'AccessDenied', 403);
  });

  test('a user cannot administer IAM without permission: 403 AccessDenied', async () => {
    const user = await newUser();
    const err = await rejects(
      iamClient(m, user.creds).send(new CreateRoleCommand({ RoleName: unique('nope'), AssumeRolePolicyDocument: trustFor({ Service: 's3.amazonaws.com' }) })),
      'AccessDenied',
      403,
    );
    assert.match(err.message, /is not authorized to perform: iam:CreateRole/);
  });

  test('DeleteUser is 409 DeleteConflict while the user has access keys', async () => {
    const user = await newUser();
    await rejects(iam.send(new DeleteUserCommand({ UserName: user.name })), 'DeleteConflictException', 409);
  });
});

describe('AssumeRole', () => {
  const readPolicy = doc([
    { Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` },
    { Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${bucket}` },
  ]);

  async function roleTrusting(principalArn: string): Promise<string> {
    const name = unique('reader');
    const role = (await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trustFor({ AWS: principalArn }) }))).Role!;
    await iam.send(new PutRolePolicyCommand({ RoleName: name, PolicyName: 'read', PolicyDocument: readPolicy }));
    return role.Arn!;
  }

  test('a user named in the trust policy gets ASIA credentials that act within the role\'s permissions', async () => {
    const user = await newUser();
    const roleArn = await roleTrusting(user.arn);
    const roleName = roleArn.slice(roleArn.lastIndexOf('/') + 1);
    const asked = Date.now();
    const out = await stsClient(m, 'us-east-1', user.creds).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'reading-session' }));
    const answered = Date.now();
    const c = out.Credentials!;
    assert.match(c.AccessKeyId!, /^ASIA[A-Z0-9]{16}$/);
    assert.equal(c.SecretAccessKey!.length, 40);
    assert.ok(c.SessionToken);
    // The default duration is one hour from issue (Expiration has whole seconds).
    const expires = c.Expiration!.getTime();
    assert.ok(expires >= asked + 3600_000 - 1000 && expires <= answered + 3600_000, `Expiration ${c.Expiration!.toISOString()}`);
    assert.equal(out.AssumedRoleUser!.Arn, `arn:aws:sts::${m.accountId}:assumed-role/${roleName}/reading-session`);
    assert.match(out.AssumedRoleUser!.AssumedRoleId!, /^AROA[A-Z0-9]{17}:reading-session$/);

    const session: Credentials = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
    const who = await stsClient(m, 'us-east-1', session).send(new GetCallerIdentityCommand({}));
    assert.equal(who.Arn, `arn:aws:sts::${m.accountId}:assumed-role/${roleName}/reading-session`);
    assert.equal(who.UserId, out.AssumedRoleUser!.AssumedRoleId);

    const sessionS3 = s3Client(m, 'us-east-1', session);
    const got = await sessionS3.send(new GetObjectCommand({ Bucket: bucket, Key: 'private/b.txt' }));
    assert.equal(await got.Body!.transformToString(), 'private/b.txt');
    const denied = await rejects(sessionS3.send(new PutObjectCommand({ Bucket: bucket, Key: 'new.txt', Body: 'x' })), 'AccessDenied', 403);
    assert.match(denied.message, new RegExp(`assumed-role/${roleName}/reading-session is not authorized to perform: s3:PutObject`));
    await rejects(sessionS3.send(new ListBucketsCommand({})), 'AccessDenied', 403);
  });

  test('a session policy narrows the role: only what both allow is allowed', async () => {
    const user = await newUser();
    const roleArn = await roleTrusting(user.arn);
    const sessionPolicy = doc([{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/public/*` }]);
    const out = await stsClient(m, 'us-east-1', user.creds).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'narrow', Policy: sessionPolicy }));
    assert.ok(out.PackedPolicySize !== undefined);
    const c = out.Credentials!;
    const sessionS3 = s3Client(m, 'us-east-1', { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! });
    const ok = await sessionS3.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' }));
    assert.equal(await ok.Body!.transformToString(), 'public/a.txt');
    await rejects(sessionS3.send(new GetObjectCommand({ Bucket: bucket, Key: 'private/b.txt' })), 'AccessDenied', 403);
  });

  test('a trust policy naming another principal, or a missing role: 403 AccessDenied', async () => {
    const user = await newUser();
    const other = await newUser();
    const roleArn = await roleTrusting(other.arn);
    const sts = stsClient(m, 'us-east-1', user.creds);
    const err = await rejects(sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 's1' })), 'AccessDenied', 403);
    assert.equal(err.message, `User: ${user.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`);
    const missing = `arn:aws:iam::${m.accountId}:role/does-not-exist`;
    const err2 = await rejects(sts.send(new AssumeRoleCommand({ RoleArn: missing, RoleSessionName: 's1' })), 'AccessDenied', 403);
    assert.equal(err2.message, `User: ${user.arn} is not authorized to perform: sts:AssumeRole on resource: ${missing}`);
  });

  test('a trust policy naming the account delegates to IAM: the user also needs sts:AssumeRole in its own policy', async () => {
    const name = unique('delegated');
    const roleArn = (await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trustFor({ AWS: `arn:aws:iam::${m.accountId}:root` }) }))).Role!.Arn!;
    const user = await newUser();
    const sts = stsClient(m, 'us-east-1', user.creds);
    await rejects(sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'try' })), 'AccessDenied', 403);
    await iam.send(new PutUserPolicyCommand({ UserName: user.name, PolicyName: 'assume', PolicyDocument: doc([{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: roleArn }]) }));
    const out = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'try' }));
    assert.match(out.Credentials!.AccessKeyId!, /^ASIA/);
  });

  test('the account root may not assume roles, whatever the trust policy says: 403 AccessDenied', async () => {
    const roleArn = (await iam.send(new CreateRoleCommand({ RoleName: unique('root-trust'), AssumeRolePolicyDocument: trustFor({ AWS: `arn:aws:iam::${m.accountId}:root` }) }))).Role!.Arn!;
    const err = await rejects(stsClient(m).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'as-root' })), 'AccessDenied', 403);
    assert.equal(err.message, 'Roles may not be assumed by root accounts.');
  });

  test('role chaining: a role session may assume a role trusting its role, for at most one hour', async () => {
    const user = await newUser();
    const firstArn = await roleTrusting(user.arn);
    const secondName = unique('second');
    const secondArn = (await iam.send(new CreateRoleCommand({ RoleName: secondName, AssumeRolePolicyDocument: trustFor({ AWS: firstArn }), MaxSessionDuration: 7200 }))).Role!.Arn!;
    const c = (await stsClient(m, 'us-east-1', user.creds).send(new AssumeRoleCommand({ RoleArn: firstArn, RoleSessionName: 'first' }))).Credentials!;
    const sts = stsClient(m, 'us-east-1', { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! });
    const err = await rejects(sts.send(new AssumeRoleCommand({ RoleArn: secondArn, RoleSessionName: 'second', DurationSeconds: 7200 })), 'ValidationError', 400);
    assert.equal(err.message, 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
    const chained = await sts.send(new AssumeRoleCommand({ RoleArn: secondArn, RoleSessionName: 'second', DurationSeconds: 3600 }));
    assert.equal(chained.AssumedRoleUser!.Arn, `arn:aws:sts::${m.accountId}:assumed-role/${secondName}/second`);
  });

  test('invalid session names and durations beyond MaxSessionDuration: 400 ValidationError', async () => {
    const user = await newUser();
    const roleArn = await roleTrusting(user.arn);
    const sts = stsClient(m, 'us-east-1', user.creds);
    await rejects(sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'has space' })), 'ValidationError', 400);
    const err = await rejects(sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'long', DurationSeconds: 7200 })), 'ValidationError', 400);
    assert.equal(err.message, 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
  });

  test('session credentials with a wrong session token are refused by S3 (400 InvalidToken)', async () => {
    const user = await newUser();
    const roleArn = await roleTrusting(user.arn);
    const c = (await stsClient(m, 'us-east-1', user.creds).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'forged' }))).Credentials!;
    const forged = s3Client(m, 'us-east-1', { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: 'A' + c.SessionToken!.slice(1) + 'x' });
    await rejects(forged.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' })), 'InvalidToken', 400);
  });
});
