/**
 * Cross-account evaluation (reference §3.5 rule 3, §1.8 rule 4): a principal of account B reaching
 * account A's bucket or KMS key needs A's resource policy to allow it (or its account) AND B's own
 * identity policy to allow it. Account B is made with `meridian accounts create`, as a user would.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, PutRolePolicyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { CreateKeyCommand, EncryptCommand, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, PutBucketPolicyCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { createAccount } from '../support/meridian-cli.js';
import { iamClient, kmsClient, s3Client, stsClient, type Credentials } from '../support/clients.js';
import { bucketName, rejects } from './helpers.js';

let m: MeridianProcess;
let b: { accountId: string; accessKeyId: string; secretAccessKey: string };
const bucket = bucketName('xacct');

before(async () => {
  m = await startMeridianProcess();
  b = await createAccount(m.dataDir, 'team-b');
  await s3Client(m).send(new CreateBucketCommand({ Bucket: bucket }));
  await s3Client(m).send(new PutObjectCommand({ Bucket: bucket, Key: 'shared.txt', Body: 'from A' }));
});
after(async () => {
  await m?.stop();
});

const doc = (statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const readObject = { Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` };

/** A user in account B, optionally with an identity policy. */
async function userInB(policy?: object[]): Promise<{ arn: string; creds: Credentials }> {
  const iamB = iamClient(m, b);
  const name = `b-user-${randomBytes(3).toString('hex')}`;
  const arn = (await iamB.send(new CreateUserCommand({ UserName: name }))).User!.Arn!;
  const key = (await iamB.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
  if (policy) await iamB.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'p', PolicyDocument: doc(policy) }));
  return { arn, creds: { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! } };
}

async function bucketPolicyFor(principal: object | string): Promise<void> {
  await s3Client(m).send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: doc([{ Sid: 'CrossAccountRead', Principal: principal, ...readObject }]) }));
}

describe("account B reading account A's bucket", () => {
  test('A grants B\'s account, B grants nothing: 403 "no identity-based policy allows"', async () => {
    await bucketPolicyFor({ AWS: `arn:aws:iam::${b.accountId}:root` });
    const user = await userInB();
    const err = await rejects(s3Client(m, 'us-east-1', user.creds).send(new GetObjectCommand({ Bucket: bucket, Key: 'shared.txt' })), 'AccessDenied', 403);
    assert.equal(err.message, `User: ${user.arn} is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::${bucket}/shared.txt because no identity-based policy allows the s3:GetObject action`);
  });

  test('B grants its user, A grants nothing: 403 "no resource-based policy allows"', async () => {
    await bucketPolicyFor({ AWS: `arn:aws:iam::${m.accountId}:root` });
    const user = await userInB([readObject]);
    const err = await rejects(s3Client(m, 'us-east-1', user.creds).send(new GetObjectCommand({ Bucket: bucket, Key: 'shared.txt' })), 'AccessDenied', 403);
    assert.match(err.message, /because no resource-based policy allows the s3:GetObject action$/);
  });

  test('both sides allow: 200; naming the user itself in A\'s policy works the same', async () => {
    await bucketPolicyFor({ AWS: b.accountId });
    const user = await userInB([readObject]);
    const got = await s3Client(m, 'us-east-1', user.creds).send(new GetObjectCommand({ Bucket: bucket, Key: 'shared.txt' }));
    assert.equal(await got.Body!.transformToString(), 'from A');
    const named = await userInB([readObject]);
    await bucketPolicyFor({ AWS: named.arn });
    await s3Client(m, 'us-east-1', named.creds).send(new GetObjectCommand({ Bucket: bucket, Key: 'shared.txt' }));
    await rejects(s3Client(m, 'us-east-1', user.creds).send(new GetObjectCommand({ Bucket: bucket, Key: 'shared.txt' })), 'AccessDenied', 403);
  });

  test("B's root needs only A's grant (the root is not subject to identity policies)", async () => {
    await bucketPolicyFor({ AWS: b.accountId });
    await s3Client(m, 'us-east-1', b).send(new GetObjectCommand({ Bucket: bucket, Key: 'shared.txt' }));
    await bucketPolicyFor({ AWS: `arn:aws:iam::${m.accountId}:root` });
    await rejects(s3Client(m, 'us-east-1', b).send(new GetObjectCommand({ Bucket: bucket, Key: 'shared.txt' })), 'AccessDenied', 403);
  });

  test('a role session of B: A grants the role, B\'s role policy grants the read', async () => {
    const iamB = iamClient(m, b);
    const user = await userInB();
    const roleName = `b-reader-${randomBytes(3).toString('hex')}`;
    const roleArn = (await iamB.send(new CreateRoleCommand({ RoleName: roleName, AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { AWS: user.arn }, Action: 'sts:AssumeRole' }]) })))
      .Role!.Arn!;
    await iamB.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: 'read', PolicyDocument: doc([readObject]) }));
    await bucketPolicyFor({ AWS: roleArn });
    const c = (await stsClient(m, 'us-east-1', user.creds).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'xacct' }))).Credentials!;
    const session = s3Client(m, 'us-east-1', { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! });
    await session.send(new GetObjectCommand({ Bucket: bucket, Key: 'shared.txt' }));
  });
});

describe("account B using account A's KMS key", () => {
  test('the key policy must allow B and B\'s identity policy must allow kms:Encrypt', async () => {
    const kmsA = kmsClient(m);
    const keyArn = (await kmsA.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    const encrypt = (creds: Credentials) => kmsClient(m, 'us-east-1', creds).send(new EncryptCommand({ KeyId: keyArn, Plaintext: Buffer.from('x') }));
    const user = await userInB([{ Effect: 'Allow', Action: 'kms:Encrypt', Resource: keyArn }]);
    const noKeyPolicy = await rejects(encrypt(user.creds), 'AccessDeniedException', 400);
    assert.match(noKeyPolicy.message, /because no resource-based policy allows the kms:Encrypt action/);

    await kmsA.send(
      new PutKeyPolicyCommand({
        KeyId: keyArn,
        PolicyName: 'default',
        Policy: doc([
          { Sid: 'Owner', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${m.accountId}:root` }, Action: 'kms:*', Resource: '*' },
          { Sid: 'TeamB', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${b.accountId}:root` }, Action: 'kms:Encrypt', Resource: '*' },
        ]),
      }),
    );
    const out = await encrypt(user.creds);
    assert.equal(out.KeyId, keyArn);
    const noIdentity = await userInB();
    const err = await rejects(encrypt(noIdentity.creds), 'AccessDeniedException', 400);
    assert.match(err.message, /because no identity-based policy allows the kms:Encrypt action/);
  });
});
