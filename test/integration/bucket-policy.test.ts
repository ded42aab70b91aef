/**
 * Bucket policies and Block Public Access against a real server (SDK v3 for signed calls, plain
 * fetch for anonymous ones): Put/Get/Delete/GetBucketPolicyStatus with S3's validation, anonymous
 * access only by policy, BlockPublicPolicy and RestrictPublicBuckets, the owner's lockout
 * protection, and S3 condition keys (s3:ExistingObjectTag, s3:RequestObjectTag, s3:prefix,
 * s3:x-amz-server-side-encryption, aws:SecureTransport, aws:SourceIp).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
import {
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  DeletePublicAccessBlockCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { meridianOnDataDir } from '../support/meridian-cli.js';
import { iamClient, s3Client, type Credentials } from '../support/clients.js';
import { bucketName, rejects } from './helpers.js';

let m: MeridianProcess;
let iam: IAMClient;
let s3: S3Client;

before(async () => {
  m = await startMeridianProcess();
  iam = iamClient(m);
  s3 = s3Client(m);
});
after(async () => {
  await m?.stop();
});

const policyDoc = (statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const publicRead = (bucket: string) => policyDoc([{ Sid: 'PublicRead', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }]);

async function newBucket(objects: Record<string, string> = { 'a.txt': 'a' }, opts: { publicPolicies?: boolean } = {}): Promise<string> {
  const b = bucketName('bp');
  await s3.send(new CreateBucketCommand({ Bucket: b }));
  // New buckets block public policies (AWS's default since 2023); a user turns that off first.
  if (opts.publicPolicies) await s3.send(new DeletePublicAccessBlockCommand({ Bucket: b }));
  for (const [k, v] of Object.entries(objects)) await s3.send(new PutObjectCommand({ Bucket: b, Key: k, Body: v }));
  return b;
}

async function newUser(policy?: object[]): Promise<{ arn: string; s3: S3Client; creds: Credentials }> {
  const name = `u-${randomBytes(4).toString('hex')}`;
  const arn = (await iam.send(new CreateUserCommand({ UserName: name }))).User!.Arn!;
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
  if (policy) await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'p', PolicyDocument: policyDoc(policy) }));
  const creds = { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! };
  return { arn, creds, s3: s3Client(m, 'us-east-1', creds) };
}

/** An unsigned GET, as a browser or curl would send it. */
async function anonymousGet(bucket: string, key: string): Promise<{ status: number; body: string }> {
  const r = await fetch(`${m.httpEndpoint}/${bucket}/${key}`);
  return { status: r.status, body: await r.text() };
}

describe('Put/Get/DeleteBucketPolicy', () => {
  test('round trip; 404 NoSuchBucketPolicy when there is none; 204 on delete', async () => {
    const b = await newBucket(undefined, { publicPolicies: true });
    await rejects(s3.send(new GetBucketPolicyCommand({ Bucket: b })), 'NoSuchBucketPolicy', 404);
    await rejects(s3.send(new GetBucketPolicyStatusCommand({ Bucket: b })), 'NoSuchBucketPolicy', 404);
    const text = publicRead(b);
    const put = await s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: text }));
    assert.equal(put.$metadata.httpStatusCode, 204);
    assert.equal((await s3.send(new GetBucketPolicyCommand({ Bucket: b }))).Policy, text);
    assert.equal((await s3.send(new GetBucketPolicyStatusCommand({ Bucket: b }))).PolicyStatus?.IsPublic, true);
    const del = await s3.send(new DeleteBucketPolicyCommand({ Bucket: b }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    await rejects(s3.send(new GetBucketPolicyCommand({ Bucket: b })), 'NoSuchBucketPolicy', 404);
  });

  test('400 MalformedPolicy names the problem: JSON, resource outside the bucket, non-S3 action, missing or unknown principal', async () => {
    const b = await newBucket();
    const put = (policy: string) => s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: policy }));
    const cases: [string, string][] = [
      ['not json', "Policies must be valid JSON and the first byte must be '{'"],
      [policyDoc([{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::another-bucket/*' }]), 'Policy has invalid resource'],
      [policyDoc([{ Effect: 'Allow', Principal: '*', Action: 'kms:Decrypt', Resource: `arn:aws:s3:::${b}/*` }]), 'Policy has invalid action'],
      [policyDoc([{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` }]), 'Missing required field Principal'],
      [
        policyDoc([{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${m.accountId}:user/ghost` }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` }]),
        `Invalid principal in policy: "AWS":"arn:aws:iam::${m.accountId}:user/ghost"`,
      ],
    ];
    for (const [policy, message] of cases) {
      const err = await rejects(put(policy), 'MalformedPolicy', 400);
      assert.equal(err.message, message);
    }
  });

  test("the owner's root can always remove a policy that denies everyone; a user cannot", async () => {
    const b = await newBucket();
    const user = await newUser([{ Effect: 'Allow', Action: 's3:*', Resource: '*' }]);
    await s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: policyDoc([{ Sid: 'DenyAll', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [`arn:aws:s3:::${b}`, `arn:aws:s3:::${b}/*`] }]) }));
    const denied = await rejects(user.s3.send(new DeleteBucketPolicyCommand({ Bucket: b })), 'AccessDenied', 403);
    assert.match(denied.message, /with an explicit deny in a resource-based policy/);
    await rejects(s3.send(new GetObjectCommand({ Bucket: b, Key: 'a.txt' })), 'AccessDenied', 403);
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: b }));
    await s3.send(new GetObjectCommand({ Bucket: b, Key: 'a.txt' }));
  });
});

describe('anonymous access only by policy', () => {
  test('403 "Access Denied" without a policy; 200 with a public-read policy, for GetObject only', async () => {
    const b = await newBucket({ 'a.txt': 'hello' }, { publicPolicies: true });
    let r = await anonymousGet(b, 'a.txt');
    assert.equal(r.status, 403);
    assert.match(r.body, /<Code>AccessDenied<\/Code><Message>Access Denied<\/Message>/);
    await s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: publicRead(b) }));
    r = await anonymousGet(b, 'a.txt');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'hello');
    const list = await fetch(`${m.httpEndpoint}/${b}?list-type=2`);
    assert.equal(list.status, 403, 'listing was not granted');
    const put = await fetch(`${m.httpEndpoint}/${b}/new.txt`, { method: 'PUT', body: 'x' });
    assert.equal(put.status, 403);
  });
});

describe('Block Public Access', () => {
  test('a new bucket has all four settings on: a Principal "*" policy is refused until BlockPublicPolicy is off', async () => {
    const b = await newBucket();
    const got = (await s3.send(new GetPublicAccessBlockCommand({ Bucket: b }))).PublicAccessBlockConfiguration;
    assert.deepEqual(got, { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true });
    const e = await rejects(s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: publicRead(b) })), 'AccessDenied', 403);
    assert.equal(e.message, 'Access Denied');
    await rejects(s3.send(new GetBucketPolicyCommand({ Bucket: b })), 'NoSuchBucketPolicy', 404);
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: b, PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: true } }));
    await s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: publicRead(b) }));
    // RestrictPublicBuckets still keeps anonymous callers out until it too is off, and `meridian
    // explain` says so as the server does.
    assert.equal((await anonymousGet(b, 'a.txt')).status, 403);
    const explained = await meridianOnDataDir(['explain', '--principal', 'anonymous', '--action', 's3:GetObject', '--resource', `arn:aws:s3:::${b}/a.txt`], m.dataDir);
    assert.equal(explained.code, 3, explained.stdout);
    assert.match(explained.stdout, /bucket policy of \S+ \(public grants ignored: RestrictPublicBuckets\)/);
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: b, PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: false } }));
    assert.equal((await anonymousGet(b, 'a.txt')).status, 200);
  });

  test('Put/Get/DeletePublicAccessBlock; 404 NoSuchPublicAccessBlockConfiguration once deleted', async () => {
    const b = await newBucket();
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: b }));
    await rejects(s3.send(new GetPublicAccessBlockCommand({ Bucket: b })), 'NoSuchPublicAccessBlockConfiguration', 404);
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: b, PublicAccessBlockConfiguration: { BlockPublicPolicy: true, BlockPublicAcls: true } }));
    const got = (await s3.send(new GetPublicAccessBlockCommand({ Bucket: b }))).PublicAccessBlockConfiguration;
    assert.deepEqual(got, { BlockPublicAcls: true, IgnorePublicAcls: false, BlockPublicPolicy: true, RestrictPublicBuckets: false });
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: b }));
    await rejects(s3.send(new GetPublicAccessBlockCommand({ Bucket: b })), 'NoSuchPublicAccessBlockConfiguration', 404);
  });

  test('BlockPublicPolicy refuses a public policy (403) but accepts one pinned to an account', async () => {
    const b = await newBucket(undefined, { publicPolicies: true });
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: b, PublicAccessBlockConfiguration: { BlockPublicPolicy: true } }));
    await rejects(s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: publicRead(b) })), 'AccessDenied', 403);
    const pinned = policyDoc([{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*`, Condition: { StringEquals: { 'aws:PrincipalAccount': m.accountId } } }]);
    await s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: pinned }));
    assert.equal((await s3.send(new GetBucketPolicyStatusCommand({ Bucket: b }))).PolicyStatus?.IsPublic, false);
  });

  test('RestrictPublicBuckets: an existing public policy no longer lets anonymous callers in', async () => {
    const b = await newBucket({ 'a.txt': 'hello' }, { publicPolicies: true });
    await s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: publicRead(b) }));
    assert.equal((await anonymousGet(b, 'a.txt')).status, 200);
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: b, PublicAccessBlockConfiguration: { RestrictPublicBuckets: true } }));
    assert.equal((await anonymousGet(b, 'a.txt')).status, 403);
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: b }));
    assert.equal((await anonymousGet(b, 'a.txt')).status, 200);
  });
});

describe('S3 condition keys', () => {
  test('s3:ExistingObjectTag: a user may read only objects tagged classification=public', async () => {
    const b = await newBucket({});
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'open.txt', Body: 'open', Tagging: 'classification=public' }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'secret.txt', Body: 'secret', Tagging: 'classification=secret' }));
    const user = await newUser([
      { Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*`, Condition: { StringEquals: { 's3:ExistingObjectTag/classification': 'public' } } },
    ]);
    await user.s3.send(new GetObjectCommand({ Bucket: b, Key: 'open.txt' }));
    const denied = await rejects(user.s3.send(new GetObjectCommand({ Bucket: b, Key: 'secret.txt' })), 'AccessDenied', 403);
    assert.match(denied.message, /no identity-based policy allows the s3:GetObject action/);
  });

  test('s3:RequestObjectTag and s3:PutObjectTagging: uploads must carry team=blue', async () => {
    const b = await newBucket({});
    const user = await newUser([
      { Effect: 'Allow', Action: ['s3:PutObject', 's3:PutObjectTagging'], Resource: `arn:aws:s3:::${b}/*`, Condition: { StringEquals: { 's3:RequestObjectTag/team': 'blue' } } },
    ]);
    await user.s3.send(new PutObjectCommand({ Bucket: b, Key: 'ok.txt', Body: 'x', Tagging: 'team=blue' }));
    await rejects(user.s3.send(new PutObjectCommand({ Bucket: b, Key: 'red.txt', Body: 'x', Tagging: 'team=red' })), 'AccessDenied', 403);
    await rejects(user.s3.send(new PutObjectCommand({ Bucket: b, Key: 'none.txt', Body: 'x' })), 'AccessDenied', 403);
  });

  test('s3:prefix limits listing to a home folder', async () => {
    const b = await newBucket({ 'home/alice/a': 'a', 'home/bob/b': 'b' });
    const user = await newUser([{ Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${b}`, Condition: { StringLike: { 's3:prefix': 'home/alice/*' } } }]);
    const own = await user.s3.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'home/alice/' }));
    assert.deepEqual(own.Contents?.map((c) => c.Key), ['home/alice/a']);
    await rejects(user.s3.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'home/bob/' })), 'AccessDenied', 403);
    await rejects(user.s3.send(new ListObjectsV2Command({ Bucket: b })), 'AccessDenied', 403);
  });

  test('a bucket policy requiring SSE-KMS (s3:x-amz-server-side-encryption) and TLS (aws:SecureTransport)', async () => {
    const b = await newBucket({});
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: b,
        Policy: policyDoc([
          { Sid: 'RequireKms', Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: `arn:aws:s3:::${b}/*`, Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' } } },
        ]),
      }),
    );
    const err = await rejects(s3.send(new PutObjectCommand({ Bucket: b, Key: 'plain.txt', Body: 'x' })), 'AccessDenied', 403);
    assert.match(err.message, /with an explicit deny in a resource-based policy/);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'kms.txt', Body: 'x', ServerSideEncryption: 'aws:kms' }));

    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: b,
        Policy: policyDoc([{ Sid: 'TlsOnly', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: `arn:aws:s3:::${b}/*`, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }]),
      }),
    );
    // This client talks plain HTTP.
    await rejects(s3.send(new GetObjectCommand({ Bucket: b, Key: 'kms.txt' })), 'AccessDenied', 403);
  });

  test('aws:SourceIp: a grant to 127.0.0.0/8 lets a loopback client in, one to 203.0.113.0/24 does not', async () => {
    const b = await newBucket({ 'a.txt': 'a' });
    const grant = (cidr: string) =>
      policyDoc([{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*`, Condition: { IpAddress: { 'aws:SourceIp': cidr } } }]);
    await s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: grant('203.0.113.0/24') }));
    assert.equal((await anonymousGet(b, 'a.txt')).status, 403);
    await s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: grant('127.0.0.0/8') }));
    assert.equal((await anonymousGet(b, 'a.txt')).status, 200);
  });
});
