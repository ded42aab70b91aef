/**
 * IAM beyond roles and inline policies, through the SDK v3 against a real server (reference §2.4,
 * §3.5): managed policies with versions (the default version is what applies), AWS managed
 * policies, groups (a user's permissions include its groups'), permissions boundaries (they never
 * grant), access key status, user renames, paging, and principals in trust policies that must exist.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  AddUserToGroupCommand,
  AttachGroupPolicyCommand,
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreateGroupCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeleteGroupCommand,
  DeleteGroupPolicyCommand,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  DeleteUserPermissionsBoundaryCommand,
  DetachGroupPolicyCommand,
  DetachUserPolicyCommand,
  GetGroupCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetUserCommand,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
  ListEntitiesForPolicyCommand,
  ListGroupsForUserCommand,
  ListPoliciesCommand,
  ListPolicyVersionsCommand,
  ListUsersCommand,
  PutGroupPolicyCommand,
  PutUserPermissionsBoundaryCommand,
  PutUserPolicyCommand,
  RemoveUserFromGroupCommand,
  SetDefaultPolicyVersionCommand,
  UpdateAccessKeyCommand,
  UpdateAssumeRolePolicyCommand,
  UpdateRoleCommand,
  UpdateUserCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { iamClient, s3Client, type Credentials } from '../support/clients.js';
import { bucketName, rejects } from './helpers.js';

let m: MeridianProcess;
let iam: IAMClient;
let rootS3: S3Client;
const bucket = bucketName('mp');

before(async () => {
  m = await startMeridianProcess();
  iam = iamClient(m);
  rootS3 = s3Client(m);
  await rootS3.send(new CreateBucketCommand({ Bucket: bucket }));
  await rootS3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a.txt', Body: 'a' }));
});
after(async () => {
  await m?.stop();
});

const unique = (p: string) => `${p}-${randomBytes(4).toString('hex')}`;
const doc = (statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const allow = (action: string | string[], resource: string | string[]) => ({ Effect: 'Allow', Action: action, Resource: resource });
const getA = allow('s3:GetObject', `arn:aws:s3:::${bucket}/*`);
const list = allow('s3:ListBucket', `arn:aws:s3:::${bucket}`);

async function newUser(): Promise<{ name: string; arn: string; creds: Credentials; s3: S3Client }> {
  const name = unique('user');
  const user = (await iam.send(new CreateUserCommand({ UserName: name }))).User!;
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
  const creds = { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! };
  return { name, arn: user.Arn!, creds, s3: s3Client(m, 'us-east-1', creds) };
}

async function canGet(s3: S3Client): Promise<boolean> {
  try {
    await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'a.txt' }));
    return true;
  } catch (e) {
    assert.equal((e as Error).name, 'AccessDenied');
    return false;
  }
}

describe('managed policies', () => {
  test('CreatePolicy → v1 default; versions; the default version decides; documents come back URL-encoded', async () => {
    const name = unique('policy');
    const created = (await iam.send(new CreatePolicyCommand({ PolicyName: name, PolicyDocument: doc([list]), Description: 'list only' }))).Policy!;
    assert.equal(created.Arn, `arn:aws:iam::${m.accountId}:policy/${name}`);
    assert.match(created.PolicyId!, /^ANPA[A-Z0-9]{17}$/);
    assert.equal(created.DefaultVersionId, 'v1');
    assert.equal(created.AttachmentCount, 0);
    assert.equal(created.IsAttachable, true);

    const user = await newUser();
    await iam.send(new AttachUserPolicyCommand({ UserName: user.name, PolicyArn: created.Arn }));
    assert.equal(await canGet(user.s3), false, 'v1 allows listing only');
    await user.s3.send(new ListObjectsV2Command({ Bucket: bucket }));

    const v2 = (await iam.send(new CreatePolicyVersionCommand({ PolicyArn: created.Arn, PolicyDocument: doc([list, getA]) }))).PolicyVersion!;
    assert.equal(v2.VersionId, 'v2');
    assert.equal(v2.IsDefaultVersion, false);
    assert.equal(await canGet(user.s3), false, 'a new version applies only once it is the default');
    await iam.send(new SetDefaultPolicyVersionCommand({ PolicyArn: created.Arn, VersionId: 'v2' }));
    assert.equal(await canGet(user.s3), true);

    const got = (await iam.send(new GetPolicyVersionCommand({ PolicyArn: created.Arn, VersionId: 'v2' }))).PolicyVersion!;
    assert.equal(got.Document, encodeURIComponent(doc([list, getA])));
    assert.equal(got.IsDefaultVersion, true);
    const versions = (await iam.send(new ListPolicyVersionsCommand({ PolicyArn: created.Arn }))).Versions!;
    assert.deepEqual(versions.map((v) => [v.VersionId, v.IsDefaultVersion]), [['v2', true], ['v1', false]]);

    const policy = (await iam.send(new GetPolicyCommand({ PolicyArn: created.Arn }))).Policy!;
    assert.equal(policy.AttachmentCount, 1);
    assert.equal(policy.DefaultVersionId, 'v2');
    const entities = await iam.send(new ListEntitiesForPolicyCommand({ PolicyArn: created.Arn }));
    assert.deepEqual(entities.PolicyUsers!.map((u) => u.UserName), [user.name]);

    await rejects(iam.send(new DeletePolicyVersionCommand({ PolicyArn: created.Arn, VersionId: 'v2' })), 'DeleteConflictException', 409);
    await rejects(iam.send(new DeletePolicyCommand({ PolicyArn: created.Arn })), 'DeleteConflictException', 409);
    await iam.send(new DetachUserPolicyCommand({ UserName: user.name, PolicyArn: created.Arn }));
    await rejects(iam.send(new DeletePolicyCommand({ PolicyArn: created.Arn })), 'DeleteConflictException', 409);
    await iam.send(new DeletePolicyVersionCommand({ PolicyArn: created.Arn, VersionId: 'v1' }));
    await iam.send(new DeletePolicyCommand({ PolicyArn: created.Arn }));
    await rejects(iam.send(new GetPolicyCommand({ PolicyArn: created.Arn })), 'NoSuchEntityException', 404);
    assert.equal(await canGet(user.s3), false);
  });

  test('at most 5 versions (409 LimitExceeded); duplicate names (409 EntityAlreadyExists); bad documents (400 MalformedPolicyDocument)', async () => {
    const name = unique('policy');
    const arn = (await iam.send(new CreatePolicyCommand({ PolicyName: name, PolicyDocument: doc([list]) }))).Policy!.Arn!;
    for (let i = 2; i <= 5; i++) await iam.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: doc([list]) }));
    const limit = await rejects(iam.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: doc([list]) })), 'LimitExceededException', 409);
    assert.match(limit.message, /up to 5 versions/);
    const dup = await rejects(iam.send(new CreatePolicyCommand({ PolicyName: name.toUpperCase(), PolicyDocument: doc([list]) })), 'EntityAlreadyExistsException', 409);
    assert.equal(dup.message, `A policy called ${name.toUpperCase()} already exists. Duplicate names are not allowed.`);
    const bad = await rejects(iam.send(new CreatePolicyCommand({ PolicyName: unique('bad'), PolicyDocument: doc([{ Effect: 'Allow', Action: 's3:*' }]) })), 'MalformedPolicyDocumentException', 400);
    assert.equal(bad.message, 'Policy statement must contain resources.');
  });

  test('AWS managed policies can be listed and attached but not changed', async () => {
    const aws = (await iam.send(new ListPoliciesCommand({ Scope: 'AWS' }))).Policies!;
    const readOnly = aws.find((p) => p.PolicyName === 'AmazonS3ReadOnlyAccess')!;
    assert.equal(readOnly.Arn, 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess');
    const user = await newUser();
    assert.equal(await canGet(user.s3), false);
    await iam.send(new AttachUserPolicyCommand({ UserName: user.name, PolicyArn: readOnly.Arn }));
    assert.equal(await canGet(user.s3), true);
    await rejects(user.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'no.txt', Body: 'x' })), 'AccessDenied', 403);
    const attached = (await iam.send(new ListAttachedUserPoliciesCommand({ UserName: user.name }))).AttachedPolicies!;
    assert.deepEqual(attached, [{ PolicyName: 'AmazonS3ReadOnlyAccess', PolicyArn: readOnly.Arn }]);
    await rejects(iam.send(new DeletePolicyCommand({ PolicyArn: readOnly.Arn })), 'UnmodifiableEntityException', 400);
    await rejects(iam.send(new AttachUserPolicyCommand({ UserName: user.name, PolicyArn: 'arn:aws:iam::aws:policy/NoSuchPolicy' })), 'NoSuchEntityException', 404);
    const local = (await iam.send(new ListPoliciesCommand({ Scope: 'Local' }))).Policies!;
    assert.ok(local.every((p) => p.Arn!.startsWith(`arn:aws:iam::${m.accountId}:policy/`)));
  });
});

describe('groups', () => {
  test("a user gets its groups' inline and attached policies; leaving the group takes them away", async () => {
    const group = unique('readers');
    const created = (await iam.send(new CreateGroupCommand({ GroupName: group }))).Group!;
    assert.equal(created.Arn, `arn:aws:iam::${m.accountId}:group/${group}`);
    assert.match(created.GroupId!, /^AGPA/);
    await iam.send(new PutGroupPolicyCommand({ GroupName: group, PolicyName: 'get', PolicyDocument: doc([getA]) }));
    const user = await newUser();
    assert.equal(await canGet(user.s3), false);
    await iam.send(new AddUserToGroupCommand({ GroupName: group, UserName: user.name }));
    assert.equal(await canGet(user.s3), true);
    const got = await iam.send(new GetGroupCommand({ GroupName: group }));
    assert.deepEqual(got.Users!.map((u) => u.UserName), [user.name]);
    assert.deepEqual((await iam.send(new ListGroupsForUserCommand({ UserName: user.name }))).Groups!.map((g) => g.GroupName), [group]);

    await rejects(iam.send(new DeleteGroupCommand({ GroupName: group })), 'DeleteConflictException', 409);
    await iam.send(new RemoveUserFromGroupCommand({ GroupName: group, UserName: user.name }));
    assert.equal(await canGet(user.s3), false);

    await iam.send(new AttachGroupPolicyCommand({ GroupName: group, PolicyArn: 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess' }));
    await iam.send(new AddUserToGroupCommand({ GroupName: group, UserName: user.name }));
    await iam.send(new DeleteGroupPolicyCommand({ GroupName: group, PolicyName: 'get' }));
    assert.equal(await canGet(user.s3), true, 'through the attached managed policy');
    await iam.send(new DetachGroupPolicyCommand({ GroupName: group, PolicyArn: 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess' }));
    assert.equal(await canGet(user.s3), false);
    await iam.send(new RemoveUserFromGroupCommand({ GroupName: group, UserName: user.name }));
    await iam.send(new DeleteGroupCommand({ GroupName: group }));
    await rejects(iam.send(new GetGroupCommand({ GroupName: group })), 'NoSuchEntityException', 404);
  });
});

describe('permissions boundaries', () => {
  test('a boundary limits what identity policies grant and never grants by itself', async () => {
    const boundaryArn = (await iam.send(new CreatePolicyCommand({ PolicyName: unique('boundary'), PolicyDocument: doc([allow('s3:ListBucket', '*')]) }))).Policy!.Arn!;
    const user = await newUser();
    await iam.send(new PutUserPolicyCommand({ UserName: user.name, PolicyName: 'get', PolicyDocument: doc([getA]) }));
    assert.equal(await canGet(user.s3), true);
    await iam.send(new PutUserPermissionsBoundaryCommand({ UserName: user.name, PermissionsBoundary: boundaryArn }));
    const shown = (await iam.send(new GetUserCommand({ UserName: user.name }))).User!;
    assert.deepEqual(shown.PermissionsBoundary, { PermissionsBoundaryType: 'PermissionsBoundaryPolicy', PermissionsBoundaryArn: boundaryArn });
    const denied = await rejects(user.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'a.txt' })), 'AccessDenied', 403);
    assert.match(denied.message, /because no permissions boundary allows the s3:GetObject action/);
    await rejects(user.s3.send(new ListObjectsV2Command({ Bucket: bucket })), 'AccessDenied', 403);
    await iam.send(new DeleteUserPermissionsBoundaryCommand({ UserName: user.name }));
    assert.equal(await canGet(user.s3), true);
    await rejects(
      iam.send(new PutUserPermissionsBoundaryCommand({ UserName: user.name, PermissionsBoundary: `arn:aws:iam::${m.accountId}:policy/none` })),
      'NoSuchEntityException',
      404,
    );
  });

  test('CreateRole with a PermissionsBoundary shows it on GetRole; UpdateRole changes description and duration', async () => {
    const boundaryArn = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
    const name = unique('bounded');
    const trust = doc([{ Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: 'sts:AssumeRole' }]);
    await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trust, PermissionsBoundary: boundaryArn }));
    await iam.send(new UpdateRoleCommand({ RoleName: name, Description: 'now described', MaxSessionDuration: 7200 }));
    const role = (await iam.send(new GetRoleCommand({ RoleName: name }))).Role!;
    assert.equal(role.PermissionsBoundary?.PermissionsBoundaryArn, boundaryArn);
    assert.equal(role.Description, 'now described');
    assert.equal(role.MaxSessionDuration, 7200);
    await rejects(iam.send(new UpdateRoleCommand({ RoleName: name, MaxSessionDuration: 100 })), 'ValidationError', 400);
  });
});

describe('users and access keys', () => {
  test('an Inactive key is refused (403 InvalidAccessKeyId); Active again works; DeleteAccessKey removes it', async () => {
    const user = await newUser();
    await iam.send(new PutUserPolicyCommand({ UserName: user.name, PolicyName: 'get', PolicyDocument: doc([getA]) }));
    assert.equal(await canGet(user.s3), true);
    await iam.send(new UpdateAccessKeyCommand({ UserName: user.name, AccessKeyId: user.creds.accessKeyId, Status: 'Inactive' }));
    const keys = (await iam.send(new ListAccessKeysCommand({ UserName: user.name }))).AccessKeyMetadata!;
    assert.deepEqual(keys.map((k) => [k.AccessKeyId, k.Status]), [[user.creds.accessKeyId, 'Inactive']]);
    await rejects(user.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'a.txt' })), 'InvalidAccessKeyId', 403);
    await rejects(iamClient(m, user.creds).send(new GetUserCommand({})), 'InvalidClientTokenId', 403);
    await iam.send(new UpdateAccessKeyCommand({ UserName: user.name, AccessKeyId: user.creds.accessKeyId, Status: 'Active' }));
    assert.equal(await canGet(user.s3), true);
    await rejects(iam.send(new UpdateAccessKeyCommand({ UserName: user.name, AccessKeyId: 'AKIANOTAKEYOFTHEUSER', Status: 'Active' })), 'NoSuchEntityException', 404);
    await iam.send(new DeleteAccessKeyCommand({ UserName: user.name, AccessKeyId: user.creds.accessKeyId }));
    await rejects(user.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'a.txt' })), 'InvalidAccessKeyId', 403);
  });

  test('GetUser without a name returns the calling user; UpdateUser renames, keeping keys and policies', async () => {
    const user = await newUser();
    await iam.send(new PutUserPolicyCommand({ UserName: user.name, PolicyName: 'get', PolicyDocument: doc([getA]) }));
    const me = (await iamClient(m, user.creds).send(new GetUserCommand({}))).User!;
    assert.equal(me.UserName, user.name);
    assert.equal(me.Arn, user.arn);
    const renamed = unique('renamed');
    await iam.send(new UpdateUserCommand({ UserName: user.name, NewUserName: renamed, NewPath: '/team/' }));
    await rejects(iam.send(new GetUserCommand({ UserName: user.name })), 'NoSuchEntityException', 404);
    const after = (await iam.send(new GetUserCommand({ UserName: renamed }))).User!;
    assert.equal(after.Arn, `arn:aws:iam::${m.accountId}:user/team/${renamed}`);
    assert.equal(await canGet(user.s3), true, 'the same key, now the renamed user, with the same policy');
    const denied = await rejects(user.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'x', Body: 'x' })), 'AccessDenied', 403);
    assert.match(denied.message, new RegExp(`User: arn:aws:iam::${m.accountId}:user/team/${renamed} is not authorized`));
  });

  test('ListUsers pages with MaxItems and Marker', async () => {
    const prefix = `/page-${randomBytes(3).toString('hex')}/`;
    for (let i = 0; i < 3; i++) await iam.send(new CreateUserCommand({ UserName: unique('paged'), Path: prefix }));
    const first = await iam.send(new ListUsersCommand({ PathPrefix: prefix, MaxItems: 2 }));
    assert.equal(first.Users!.length, 2);
    assert.equal(first.IsTruncated, true);
    const second = await iam.send(new ListUsersCommand({ PathPrefix: prefix, MaxItems: 2, Marker: first.Marker! }));
    assert.equal(second.Users!.length, 1);
    assert.equal(second.IsTruncated, false);
    assert.equal(new Set([...first.Users!, ...second.Users!].map((u) => u.UserName)).size, 3);
  });
});

describe('principals in trust policies must exist (400 MalformedPolicyDocument)', () => {
  test('an unknown user, role or account is refused on CreateRole and UpdateAssumeRolePolicy', async () => {
    const trust = (principal: object) => doc([{ Effect: 'Allow', Principal: principal, Action: 'sts:AssumeRole' }]);
    const missingUser = `arn:aws:iam::${m.accountId}:user/nobody-${randomBytes(3).toString('hex')}`;
    const err = await rejects(iam.send(new CreateRoleCommand({ RoleName: unique('r'), AssumeRolePolicyDocument: trust({ AWS: missingUser }) })), 'MalformedPolicyDocumentException', 400);
    assert.equal(err.message, `Invalid principal in policy: "AWS":"${missingUser}"`);
    await rejects(iam.send(new CreateRoleCommand({ RoleName: unique('r'), AssumeRolePolicyDocument: trust({ AWS: '999999999999' }) })), 'MalformedPolicyDocumentException', 400);
    await rejects(iam.send(new CreateRoleCommand({ RoleName: unique('r'), AssumeRolePolicyDocument: trust({ Service: 'not a service' }) })), 'MalformedPolicyDocumentException', 400);
    const user = await newUser();
    const name = unique('r');
    await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trust({ AWS: user.arn }) }));
    await rejects(iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: name, PolicyDocument: trust({ AWS: missingUser }) })), 'MalformedPolicyDocumentException', 400);
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: name, PolicyDocument: trust({ AWS: [m.accountId, user.arn] }) }));
    await iam.send(new AttachRolePolicyCommand({ RoleName: name, PolicyArn: 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess' }));
  });
});
