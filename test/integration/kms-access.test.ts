/**
 * Who may use a key (reference kms-iam-sts-sigv4.md §1.3, §1.5, §1.8): grants (honoured by every
 * authorization, with encryption-context constraints, tokens, retire and revoke), key policies with
 * the lockout check, tags, the alias/aws/s3 alias listed before first use, GenerateRandom, and
 * cross-account key use by ARN.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateAccessKeyCommand, CreateUserCommand } from '@aws-sdk/client-iam';
import {
  CreateAliasCommand,
  CreateGrantCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GenerateRandomCommand,
  GetKeyPolicyCommand,
  ListAliasesCommand,
  ListGrantsCommand,
  ListKeyPoliciesCommand,
  ListResourceTagsCommand,
  ListRetirableGrantsCommand,
  PutKeyPolicyCommand,
  ReEncryptCommand,
  RetireGrantCommand,
  RevokeGrantCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateAliasCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { createAccount } from '../support/accounts.js';
import { iamClient, kmsClient, type Credentials } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { rejects } from './helpers.js';

let m: MeridianProcess;
let kms: KMSClient;
let user: { arn: string; kms: KMSClient };

before(async () => {
  m = await startMeridianProcess({ tls: false });
  kms = kmsClient(m);
  const iam = iamClient(m);
  await iam.send(new CreateUserCommand({ UserName: 'grantee' }));
  const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'grantee' }))).AccessKey!;
  const creds: Credentials = { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
  user = { arn: `arn:aws:iam::${m.accountId}:user/grantee`, kms: kmsClient(m, 'us-east-1', creds) };
});
after(async () => {
  await m?.stop();
});

async function newKey(): Promise<{ id: string; arn: string }> {
  const md = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
  return { id: md.KeyId!, arn: md.Arn! };
}

describe('grants', () => {
  test('a grant lets a principal with no policy use the key for exactly its operations and context constraint', async () => {
    const k = await newKey();
    await rejects(user.kms.send(new EncryptCommand({ KeyId: k.arn, Plaintext: Buffer.from('x') })), 'AccessDeniedException', 400);
    const g = await kms.send(
      new CreateGrantCommand({
        KeyId: k.id,
        GranteePrincipal: user.arn,
        Operations: ['Encrypt', 'Decrypt'],
        Constraints: { EncryptionContextSubset: { app: 'billing' } },
        Name: 'billing-app',
      }),
    );
    assert.match(g.GrantId!, /^[0-9a-f]{64}$/);
    assert.ok(g.GrantToken!.length > 32);
    // The token can be passed at once (grants take effect immediately here anyway).
    const blob = (await user.kms.send(new EncryptCommand({ KeyId: k.arn, Plaintext: Buffer.from('ok'), EncryptionContext: { app: 'billing', extra: '1' }, GrantTokens: [g.GrantToken!] }))).CiphertextBlob!;
    const plain = await user.kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { app: 'billing', extra: '1' } }));
    assert.equal(Buffer.from(plain.Plaintext!).toString(), 'ok');
    await rejects(user.kms.send(new EncryptCommand({ KeyId: k.arn, Plaintext: Buffer.from('x'), EncryptionContext: { app: 'payroll' } })), 'AccessDeniedException', 400);
    await rejects(user.kms.send(new EncryptCommand({ KeyId: k.arn, Plaintext: Buffer.from('x') })), 'AccessDeniedException', 400);
    await rejects(user.kms.send(new GenerateDataKeyCommand({ KeyId: k.arn, KeySpec: 'AES_256', EncryptionContext: { app: 'billing' } })), 'AccessDeniedException', 400);
    await rejects(user.kms.send(new EncryptCommand({ KeyId: k.arn, Plaintext: Buffer.from('x'), GrantTokens: ['not-a-token'] })), 'InvalidGrantTokenException', 400);

    // CreateGrant is idempotent by name and parameters.
    const again = await kms.send(new CreateGrantCommand({ KeyId: k.id, GranteePrincipal: user.arn, Operations: ['Decrypt', 'Encrypt'], Constraints: { EncryptionContextSubset: { app: 'billing' } }, Name: 'billing-app' }));
    assert.equal(again.GrantId, g.GrantId);
    const listed = (await kms.send(new ListGrantsCommand({ KeyId: k.arn }))).Grants!;
    assert.equal(listed.length, 1);
    assert.equal(listed[0]!.GranteePrincipal, user.arn);
    assert.equal(listed[0]!.IssuingAccount, `arn:aws:iam::${m.accountId}:root`);
    assert.deepEqual(listed[0]!.Constraints, { EncryptionContextSubset: { app: 'billing' } });

    await kms.send(new RevokeGrantCommand({ KeyId: k.id, GrantId: g.GrantId! }));
    await rejects(user.kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { app: 'billing', extra: '1' } })), 'AccessDeniedException', 400);
    await rejects(kms.send(new RevokeGrantCommand({ KeyId: k.id, GrantId: g.GrantId! })), 'NotFoundException', 400);
  });

  test('retiring: by token, by the retiring principal (ListRetirableGrants), or by the grantee when the grant allows RetireGrant', async () => {
    const k = await newKey();
    const byToken = await kms.send(new CreateGrantCommand({ KeyId: k.id, GranteePrincipal: user.arn, Operations: ['GenerateDataKeyWithoutPlaintext'] }));
    await user.kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: k.arn, KeySpec: 'AES_256' }));
    await kms.send(new RetireGrantCommand({ GrantToken: byToken.GrantToken! }));
    await rejects(user.kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: k.arn, KeySpec: 'AES_256' })), 'AccessDeniedException', 400);

    const retirable = await kms.send(new CreateGrantCommand({ KeyId: k.id, GranteePrincipal: user.arn, RetiringPrincipal: user.arn, Operations: ['Encrypt'] }));
    const mine = (await kms.send(new ListRetirableGrantsCommand({ RetiringPrincipal: user.arn }))).Grants!;
    assert.deepEqual(mine.map((g) => g.GrantId), [retirable.GrantId]);
    assert.equal(mine[0]!.KeyId, k.arn);
    await user.kms.send(new RetireGrantCommand({ KeyId: k.arn, GrantId: retirable.GrantId! }));
    assert.deepEqual((await kms.send(new ListGrantsCommand({ KeyId: k.id }))).Grants, []);

    const plain = await kms.send(new CreateGrantCommand({ KeyId: k.id, GranteePrincipal: user.arn, Operations: ['Encrypt'] }));
    await rejects(user.kms.send(new RetireGrantCommand({ KeyId: k.arn, GrantId: plain.GrantId! })), 'AccessDeniedException', 400);
  });

  test('an explicit Deny in the key policy wins over a grant', async () => {
    const k = await newKey();
    await kms.send(new CreateGrantCommand({ KeyId: k.id, GranteePrincipal: user.arn, Operations: ['Encrypt'] }));
    const root = `arn:aws:iam::${m.accountId}:root`;
    await kms.send(
      new PutKeyPolicyCommand({
        KeyId: k.id,
        PolicyName: 'default',
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Sid: 'admin', Effect: 'Allow', Principal: { AWS: root }, Action: 'kms:*', Resource: '*' },
            { Sid: 'no grantee', Effect: 'Deny', Principal: { AWS: user.arn }, Action: 'kms:Encrypt', Resource: '*' },
          ],
        }),
      }),
    );
    await rejects(user.kms.send(new EncryptCommand({ KeyId: k.arn, Plaintext: Buffer.from('x') })), 'AccessDeniedException', 400);
  });

  test('CreateGrant validates operations and refuses a disabled key', async () => {
    const k = await newKey();
    await rejects(kms.send(new CreateGrantCommand({ KeyId: k.id, GranteePrincipal: user.arn, Operations: ['Sign'] })), 'ValidationException', 400);
    await kms.send(new DisableKeyCommand({ KeyId: k.id }));
    await rejects(kms.send(new CreateGrantCommand({ KeyId: k.id, GranteePrincipal: user.arn, Operations: ['Encrypt'] })), 'DisabledException', 400);
  });
});

describe('key policies', () => {
  test('the default policy; ListKeyPolicies says "default"; a policy that would lock the caller out is refused unless bypassed', async () => {
    const k = await newKey();
    const policy = JSON.parse((await kms.send(new GetKeyPolicyCommand({ KeyId: k.id }))).Policy!);
    assert.equal(policy.Id, 'key-default-1');
    assert.deepEqual((await kms.send(new ListKeyPoliciesCommand({ KeyId: k.id }))).PolicyNames, ['default']);
    const lockout = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: user.arn }, Action: 'kms:*', Resource: '*' }] });
    const e = await rejects(kms.send(new PutKeyPolicyCommand({ KeyId: k.id, PolicyName: 'default', Policy: lockout })), 'MalformedPolicyDocumentException', 400);
    assert.match(e.message, /will not allow you to update the key policy/);
    await rejects(kms.send(new CreateKeyCommand({ Policy: lockout })), 'MalformedPolicyDocumentException', 400);
    await rejects(kms.send(new PutKeyPolicyCommand({ KeyId: k.id, PolicyName: 'default', Policy: '{"Statement": 5}' })), 'MalformedPolicyDocumentException', 400);
    const ghost = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${m.accountId}:root` }, Action: 'kms:*', Resource: '*' }, { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${m.accountId}:user/nobody` }, Action: 'kms:Decrypt', Resource: '*' }] });
    const invalid = await rejects(kms.send(new PutKeyPolicyCommand({ KeyId: k.id, PolicyName: 'default', Policy: ghost })), 'MalformedPolicyDocumentException', 400);
    assert.match(invalid.message, /invalid principals/);
    await kms.send(new PutKeyPolicyCommand({ KeyId: k.id, PolicyName: 'default', Policy: lockout, BypassPolicyLockoutSafetyCheck: true }));
    await rejects(kms.send(new DescribeKeyCommand({ KeyId: k.id })), 'AccessDeniedException', 400);
  });
});

describe('tags, aliases, random', () => {
  test('TagResource merges, UntagResource removes, ListResourceTags lists; aws: keys are reserved', async () => {
    const k = (await kms.send(new CreateKeyCommand({ Tags: [{ TagKey: 'team', TagValue: 'a' }] }))).KeyMetadata!;
    await kms.send(new TagResourceCommand({ KeyId: k.KeyId!, Tags: [{ TagKey: 'team', TagValue: 'b' }, { TagKey: 'env', TagValue: 'prod' }] }));
    assert.deepEqual((await kms.send(new ListResourceTagsCommand({ KeyId: k.Arn! }))).Tags, [{ TagKey: 'team', TagValue: 'b' }, { TagKey: 'env', TagValue: 'prod' }]);
    await kms.send(new UntagResourceCommand({ KeyId: k.KeyId!, TagKeys: ['team'] }));
    assert.deepEqual((await kms.send(new ListResourceTagsCommand({ KeyId: k.KeyId! }))).Tags, [{ TagKey: 'env', TagValue: 'prod' }]);
    await rejects(kms.send(new TagResourceCommand({ KeyId: k.KeyId!, Tags: [{ TagKey: 'aws:x', TagValue: '1' }] })), 'TagException', 400);
  });

  test('alias/aws/s3 is listed without a target before first use; UpdateAlias retargets; reserved names are refused', async () => {
    const fresh = await createAccount(m, 'alias-check');
    const theirKms = kmsClient(m, 'us-east-1', fresh);
    const listed = (await theirKms.send(new ListAliasesCommand({}))).Aliases!;
    const s3Alias = listed.find((a) => a.AliasName === 'alias/aws/s3');
    assert.ok(s3Alias, 'alias/aws/s3 is predefined');
    assert.equal(s3Alias.TargetKeyId, undefined);
    assert.equal(s3Alias.AliasArn, `arn:aws:kms:us-east-1:${fresh.accountId}:alias/aws/s3`);
    // DescribeKey on the predefined alias creates the AWS managed key (reference §1.10).
    const managed = (await theirKms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/s3' }))).KeyMetadata!;
    assert.equal(managed.KeyManager, 'AWS');
    const after = (await theirKms.send(new ListAliasesCommand({}))).Aliases!.find((a) => a.AliasName === 'alias/aws/s3')!;
    assert.equal(after.TargetKeyId, managed.KeyId);

    const a = await newKey();
    const b = await newKey();
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/moving', TargetKeyId: a.id }));
    await kms.send(new UpdateAliasCommand({ AliasName: 'alias/moving', TargetKeyId: b.arn }));
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: 'alias/moving' }))).KeyMetadata!.Arn, b.arn);
    await rejects(kms.send(new UpdateAliasCommand({ AliasName: 'alias/aws/s3', TargetKeyId: a.id })), 'NotAuthorizedException', 400);
    await rejects(kms.send(new CreateAliasCommand({ AliasName: 'alias/to-managed', TargetKeyId: 'alias/aws/s3' })), 'NotFoundException', 400);
    await kms.send(new DeleteAliasCommand({ AliasName: 'alias/moving' }));
    await rejects(kms.send(new UpdateAliasCommand({ AliasName: 'alias/moving', TargetKeyId: a.id })), 'NotFoundException', 400);
  });

  test('GenerateRandom returns NumberOfBytes random bytes (1–1024)', async () => {
    const r = await kms.send(new GenerateRandomCommand({ NumberOfBytes: 64 }));
    assert.equal(r.Plaintext!.length, 64);
    await rejects(kms.send(new GenerateRandomCommand({ NumberOfBytes: 1025 })), 'ValidationException', 400);
  });
});

describe('cross-account use (§1.3, §1.8)', () => {
  test('another account uses a key by ARN only, when the key policy lets it and its own IAM allows; same-account-only operations refuse', async () => {
    const other = await createAccount(m, 'cross');
    const theirs = kmsClient(m, 'us-east-1', other);
    const k = await newKey();
    await rejects(theirs.send(new EncryptCommand({ KeyId: k.arn, Plaintext: Buffer.from('x') })), 'AccessDeniedException', 400);
    await rejects(theirs.send(new EncryptCommand({ KeyId: k.id, Plaintext: Buffer.from('x') })), 'NotFoundException', 400);
    const root = `arn:aws:iam::${m.accountId}:root`;
    await kms.send(
      new PutKeyPolicyCommand({
        KeyId: k.id,
        PolicyName: 'default',
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Sid: 'admin', Effect: 'Allow', Principal: { AWS: root }, Action: 'kms:*', Resource: '*' },
            { Sid: 'partner', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${other.accountId}:root` }, Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:DescribeKey', 'kms:EnableKey'], Resource: '*' },
          ],
        }),
      }),
    );
    const blob = (await theirs.send(new EncryptCommand({ KeyId: k.arn, Plaintext: Buffer.from('shared') }))).CiphertextBlob!;
    assert.equal(Buffer.from((await theirs.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString(), 'shared');
    assert.equal((await theirs.send(new DescribeKeyCommand({ KeyId: k.arn }))).KeyMetadata!.AWSAccountId, m.accountId);
    const re = await theirs.send(new ReEncryptCommand({ CiphertextBlob: blob, DestinationKeyId: k.arn }));
    assert.equal(re.SourceKeyId, k.arn);
    // EnableKey is not a cross-account operation, whatever the key policy says.
    await rejects(theirs.send(new EnableKeyCommand({ KeyId: k.arn })), 'AccessDeniedException', 400);
  });
});
