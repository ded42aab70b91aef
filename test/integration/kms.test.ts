/**
 * KMS through the SDK v3 against a real server (reference kms-iam-sts-sigv4.md §1): key ARNs and
 * identifiers (§1.3), regional keys, Encrypt/Decrypt with encryption context (§1.6), data keys,
 * limits (§1.12), key states (§1.4), aliases, and authorization: key policy plus IAM delegation
 * (§1.8, §1.10). Client errors, AccessDeniedException included, are HTTP 400 (§1.2).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetKeyPolicyCommand,
  ListAliasesCommand,
  ListKeysCommand,
  PutKeyPolicyCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { iamClient, kmsClient, type Credentials } from '../support/clients.js';
import { rejects } from './helpers.js';

let m: MeridianProcess;
let kms: KMSClient;
let keyId: string;
let keyArn: string;

before(async () => {
  m = await startMeridianProcess();
  kms = kmsClient(m, 'us-east-1');
  const key = await kms.send(new CreateKeyCommand({ Description: 'integration key' }));
  keyId = key.KeyMetadata!.KeyId!;
  keyArn = key.KeyMetadata!.Arn!;
});
after(async () => {
  await m?.stop();
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const suffix = () => randomBytes(4).toString('hex');

describe('keys', () => {
  test('CreateKey: arn:aws:kms:<region>:<account>:key/<uuid> and the metadata of a plain symmetric key', async () => {
    const out = await kms.send(new CreateKeyCommand({ Description: 'shape' }));
    const md = out.KeyMetadata!;
    assert.match(md.KeyId!, UUID);
    assert.equal(md.Arn, `arn:aws:kms:us-east-1:${m.accountId}:key/${md.KeyId}`);
    assert.equal(md.AWSAccountId, m.accountId);
    assert.equal(md.Description, 'shape');
    assert.equal(md.Enabled, true);
    assert.equal(md.KeyState, 'Enabled');
    assert.equal(md.KeyUsage, 'ENCRYPT_DECRYPT');
    assert.equal(md.KeySpec, 'SYMMETRIC_DEFAULT');
    assert.equal(md.Origin, 'AWS_KMS');
    assert.equal(md.KeyManager, 'CUSTOMER');
    assert.equal(md.MultiRegion, false);
    assert.deepEqual(md.EncryptionAlgorithms, ['SYMMETRIC_DEFAULT']);
    assert.ok(md.CreationDate instanceof Date);
    const policy = JSON.parse((await kms.send(new GetKeyPolicyCommand({ KeyId: md.KeyId! }))).Policy!);
    assert.deepEqual(policy.Statement[0].Principal, { AWS: `arn:aws:iam::${m.accountId}:root` }, 'the default key policy delegates to IAM (§1.10)');
  });

  test('a key in us-east-2 has a us-east-2 ARN', async () => {
    const out = await kmsClient(m, 'us-east-2').send(new CreateKeyCommand({}));
    assert.equal(out.KeyMetadata!.Arn, `arn:aws:kms:us-east-2:${m.accountId}:key/${out.KeyMetadata!.KeyId}`);
  });

  test('DescribeKey by key id, key ARN, alias name and alias ARN finds the same key', async () => {
    const alias = `alias/describe-${suffix()}`;
    await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyId }));
    for (const id of [keyId, keyArn, alias, `arn:aws:kms:us-east-1:${m.accountId}:${alias}`]) {
      const out = await kms.send(new DescribeKeyCommand({ KeyId: id }));
      assert.equal(out.KeyMetadata!.Arn, keyArn, id);
    }
  });

  test('DescribeKey of a missing key or alias: NotFoundException (400)', async () => {
    const uuid = '00000000-1111-2222-3333-444444444444';
    const err = await rejects(kms.send(new DescribeKeyCommand({ KeyId: uuid })), 'NotFoundException', 400);
    assert.equal(err.message, `Key 'arn:aws:kms:us-east-1:${m.accountId}:key/${uuid}' does not exist`);
    await rejects(kms.send(new DescribeKeyCommand({ KeyId: 'alias/does-not-exist' })), 'NotFoundException', 400);
  });

  test('ListKeys is regional: a us-east-1 key is not listed in us-east-2', async () => {
    const east2 = kmsClient(m, 'us-east-2');
    const k2 = await east2.send(new CreateKeyCommand({}));
    const in1 = (await kms.send(new ListKeysCommand({}))).Keys!.map((k) => k.KeyId);
    const in2 = (await east2.send(new ListKeysCommand({}))).Keys!.map((k) => k.KeyId);
    assert.ok(in1.includes(keyId));
    assert.ok(!in2.includes(keyId));
    assert.ok(in2.includes(k2.KeyMetadata!.KeyId));
    assert.ok(!in1.includes(k2.KeyMetadata!.KeyId));
    await rejects(east2.send(new DescribeKeyCommand({ KeyId: keyId })), 'NotFoundException', 400);
  });

  test('ListKeys pages with Limit and Marker', async () => {
    const all = (await kms.send(new ListKeysCommand({}))).Keys!.map((k) => k.KeyId);
    assert.ok(all.length >= 2);
    const first = await kms.send(new ListKeysCommand({ Limit: 1 }));
    assert.equal(first.Truncated, true);
    assert.equal(first.Keys!.length, 1);
    const rest = await kms.send(new ListKeysCommand({ Marker: first.NextMarker! }));
    assert.deepEqual([...first.Keys!, ...rest.Keys!].map((k) => k.KeyId), all);
  });
});

describe('cryptographic operations', () => {
  test('Encrypt/Decrypt round trip with an encryption context; Decrypt needs no KeyId', async () => {
    const plaintext = randomBytes(100);
    const context = { purpose: 'test', 'aws:s3:arn': 'arn:aws:s3:::b/k' };
    const enc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: plaintext, EncryptionContext: context }));
    assert.equal(enc.KeyId, keyArn);
    assert.equal(enc.EncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
    assert.ok(!Buffer.from(enc.CiphertextBlob!).includes(plaintext));
    const dec = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob!, EncryptionContext: { 'aws:s3:arn': 'arn:aws:s3:::b/k', purpose: 'test' } }));
    assert.deepEqual(Buffer.from(dec.Plaintext!), plaintext);
    assert.equal(dec.KeyId, keyArn);
    assert.equal(dec.EncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
  });

  test('an encryption context with an unpaired surrogate (no UTF-8 form) is a ValidationException, not a 500', async () => {
    for (const context of [{ a: '\ud800' }, { '\udc00': 'v' }] as Record<string, string>[]) {
      await rejects(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x'), EncryptionContext: context })), 'ValidationException', 400);
      await rejects(kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_128', EncryptionContext: context })), 'ValidationException', 400);
    }
  });

  test('a different or missing encryption context: InvalidCiphertextException', async () => {
    const enc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('bound'), EncryptionContext: { a: '1' } }));
    for (const ctx of [{ a: '2' }, { A: '1' }, { a: '1', b: '2' }, undefined] as (Record<string, string> | undefined)[]) {
      await rejects(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob!, ...(ctx ? { EncryptionContext: ctx } : {}) })), 'InvalidCiphertextException', 400);
    }
    const tampered = Buffer.from(enc.CiphertextBlob!);
    tampered[tampered.length - 1]! ^= 1;
    await rejects(kms.send(new DecryptCommand({ CiphertextBlob: tampered, EncryptionContext: { a: '1' } })), 'InvalidCiphertextException', 400);
  });

  test('a plaintext opened once (and cached) is not given for another context or for other bytes with the same tag', async () => {
    const enc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('0123456789abcdef0123456789abcdef'), EncryptionContext: { a: '1' } }));
    const blob = Buffer.from(enc.CiphertextBlob!);
    const dec = await kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { a: '1' } }));
    assert.equal(Buffer.from(dec.Plaintext!).toString(), '0123456789abcdef0123456789abcdef');
    for (const ctx of [{ a: '2' }, { a: '1', b: '2' }, undefined] as (Record<string, string> | undefined)[]) {
      await rejects(kms.send(new DecryptCommand({ CiphertextBlob: blob, ...(ctx ? { EncryptionContext: ctx } : {}) })), 'InvalidCiphertextException', 400);
    }
    // The tag (the cache's id) unchanged, a byte of the encrypted body flipped.
    const body = Buffer.from(blob);
    body[body.length - 20]! ^= 1;
    await rejects(kms.send(new DecryptCommand({ CiphertextBlob: body, EncryptionContext: { a: '1' } })), 'InvalidCiphertextException', 400);
    const again = await kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { a: '1' } }));
    assert.equal(Buffer.from(again.Plaintext!).toString(), '0123456789abcdef0123456789abcdef');
  });

  test('Decrypt with the KeyId of another key: IncorrectKeyException', async () => {
    const other = await kms.send(new CreateKeyCommand({}));
    const enc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') }));
    await rejects(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob!, KeyId: other.KeyMetadata!.KeyId! })), 'IncorrectKeyException', 400);
    const ok = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob!, KeyId: keyArn }));
    assert.equal(Buffer.from(ok.Plaintext!).toString(), 'x');
  });

  test('Decrypt in another region: AccessDeniedException (the key does not exist there)', async () => {
    const enc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('regional') }));
    const err = await rejects(kmsClient(m, 'us-west-2').send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob! })), 'AccessDeniedException', 400);
    assert.equal(err.message, 'The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.');
  });

  test('GenerateDataKey: AES_256 is 32 bytes, AES_128 16, NumberOfBytes as asked; the blob decrypts to the plaintext', async () => {
    for (const [input, size] of [[{ KeySpec: 'AES_256' as const }, 32], [{ KeySpec: 'AES_128' as const }, 16], [{ NumberOfBytes: 64 }, 64]] as const) {
      const out = await kms.send(new GenerateDataKeyCommand({ KeyId: keyId, ...input, EncryptionContext: { k: 'v' } }));
      assert.equal(out.Plaintext!.length, size);
      assert.equal(out.KeyId, keyArn);
      const dec = await kms.send(new DecryptCommand({ CiphertextBlob: out.CiphertextBlob!, EncryptionContext: { k: 'v' } }));
      assert.deepEqual(Buffer.from(dec.Plaintext!), Buffer.from(out.Plaintext!));
    }
  });

  test('GenerateDataKey with neither or both of KeySpec and NumberOfBytes: ValidationException', async () => {
    await rejects(kms.send(new GenerateDataKeyCommand({ KeyId: keyId })), 'ValidationException', 400);
    await rejects(kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', NumberOfBytes: 32 })), 'ValidationException', 400);
  });

  test('Encrypt takes at most 4096 bytes of plaintext: 4097 is ValidationException', async () => {
    await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: randomBytes(4096) }));
    const err = await rejects(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: randomBytes(4097) })), 'ValidationException', 400);
    assert.match(err.message, /plaintext/i);
  });

  test('a disabled key: DisabledException on Encrypt and Decrypt; DescribeKey shows it; enabled again it works', async () => {
    const key = await kms.send(new CreateKeyCommand({}));
    const id = key.KeyMetadata!.KeyId!;
    const enc = await kms.send(new EncryptCommand({ KeyId: id, Plaintext: Buffer.from('before') }));
    await kms.send(new DisableKeyCommand({ KeyId: id }));
    const md = (await kms.send(new DescribeKeyCommand({ KeyId: id }))).KeyMetadata!;
    assert.equal(md.KeyState, 'Disabled');
    assert.equal(md.Enabled, false);
    const err = await rejects(kms.send(new EncryptCommand({ KeyId: id, Plaintext: Buffer.from('x') })), 'DisabledException', 400);
    assert.equal(err.message, `${key.KeyMetadata!.Arn} is disabled.`);
    await rejects(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob! })), 'DisabledException', 400);
    await rejects(kms.send(new GenerateDataKeyCommand({ KeyId: id, KeySpec: 'AES_256' })), 'DisabledException', 400);
    await kms.send(new EnableKeyCommand({ KeyId: id }));
    const dec = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob! }));
    assert.equal(Buffer.from(dec.Plaintext!).toString(), 'before');
  });
});

describe('aliases', () => {
  test('CreateAlias, ListAliases (all and by KeyId), DeleteAlias', async () => {
    const name = `alias/lifecycle-${suffix()}`;
    await kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: keyArn }));
    const listed = (await kms.send(new ListAliasesCommand({}))).Aliases!.find((a) => a.AliasName === name);
    assert.ok(listed);
    assert.equal(listed.AliasArn, `arn:aws:kms:us-east-1:${m.accountId}:${name}`);
    assert.equal(listed.TargetKeyId, keyId);
    const forKey = (await kms.send(new ListAliasesCommand({ KeyId: keyId }))).Aliases!.map((a) => a.AliasName);
    assert.ok(forKey.includes(name));
    assert.ok(forKey.every((n) => n !== undefined));

    const enc = await kms.send(new EncryptCommand({ KeyId: name, Plaintext: Buffer.from('via alias') }));
    assert.equal(enc.KeyId, keyArn);

    await rejects(kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: keyId })), 'AlreadyExistsException', 400);
    await kms.send(new DeleteAliasCommand({ AliasName: name }));
    await rejects(kms.send(new DescribeKeyCommand({ KeyId: name })), 'NotFoundException', 400);
    await rejects(kms.send(new DeleteAliasCommand({ AliasName: name })), 'NotFoundException', 400);
    assert.ok(!(await kms.send(new ListAliasesCommand({}))).Aliases!.some((a) => a.AliasName === name));
  });

  test('alias names must start with alias/ and must not use the reserved alias/aws/ prefix', async () => {
    await rejects(kms.send(new CreateAliasCommand({ AliasName: `no-prefix-${suffix()}`, TargetKeyId: keyId })), 'ValidationException', 400);
    await rejects(kms.send(new CreateAliasCommand({ AliasName: 'alias/aws/mine', TargetKeyId: keyId })), 'NotAuthorizedException', 400);
  });

  test('aliases are regional: the same name can point at different keys in two regions', async () => {
    const name = `alias/regional-${suffix()}`;
    const east2 = kmsClient(m, 'us-east-2');
    const k2 = await east2.send(new CreateKeyCommand({}));
    await kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: keyId }));
    await east2.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: k2.KeyMetadata!.KeyId! }));
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: name }))).KeyMetadata!.Arn, keyArn);
    assert.equal((await east2.send(new DescribeKeyCommand({ KeyId: name }))).KeyMetadata!.Arn, k2.KeyMetadata!.Arn);
  });
});

describe('authorization (§1.8)', () => {
  let userName: string;
  let userKms: KMSClient;

  before(async () => {
    const iam = iamClient(m);
    userName = `kms-user-${suffix()}`;
    await iam.send(new CreateUserCommand({ UserName: userName }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: userName }))).AccessKey!;
    const creds: Credentials = { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! };
    userKms = kmsClient(m, 'us-east-1', creds);
  });

  test('a user without KMS permissions: AccessDeniedException (HTTP 400) naming the user, action and key', async () => {
    const err = await rejects(userKms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') })), 'AccessDeniedException', 400);
    assert.match(err.message, new RegExp(`User: arn:aws:iam::${m.accountId}:user/${userName} is not authorized to perform: kms:Encrypt on resource: ${keyArn}`));
    await rejects(userKms.send(new CreateKeyCommand({})), 'AccessDeniedException', 400);
    await rejects(userKms.send(new ListKeysCommand({})), 'AccessDeniedException', 400);
  });

  test('an identity policy allowing kms:Encrypt on the key is enough under the default key policy (delegation to IAM)', async () => {
    await iamClient(m).send(
      new PutUserPolicyCommand({
        UserName: userName,
        PolicyName: 'encrypt-only',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:Encrypt', Resource: keyArn }] }),
      }),
    );
    const enc = await userKms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('allowed') }));
    assert.equal(enc.KeyId, keyArn);
    // Only Encrypt was granted.
    await rejects(userKms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob! })), 'AccessDeniedException', 400);
    await rejects(userKms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' })), 'AccessDeniedException', 400);
  });

  test('a key policy that does not delegate to IAM: the identity policy alone does not help', async () => {
    const key = await kms.send(new CreateKeyCommand({}));
    const arn = key.KeyMetadata!.Arn!;
    await iamClient(m).send(
      new PutUserPolicyCommand({
        UserName: userName,
        PolicyName: 'all-kms',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] }),
      }),
    );
    const userArn = `arn:aws:iam::${m.accountId}:user/${userName}`;
    const rootArn = `arn:aws:iam::${m.accountId}:root`;
    await kms.send(
      new PutKeyPolicyCommand({
        KeyId: arn,
        PolicyName: 'default',
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Sid: 'Root administers only', Effect: 'Allow', Principal: { AWS: rootArn }, Action: ['kms:PutKeyPolicy', 'kms:GetKeyPolicy', 'kms:DescribeKey'], Resource: '*' },
            { Sid: 'User may decrypt', Effect: 'Allow', Principal: { AWS: userArn }, Action: 'kms:Decrypt', Resource: '*' },
          ],
        }),
      }),
    );
    await rejects(userKms.send(new EncryptCommand({ KeyId: arn, Plaintext: Buffer.from('x') })), 'AccessDeniedException', 400);
    // The root's own Encrypt is not allowed by this key policy either; Decrypt is allowed for the user directly.
    await rejects(kms.send(new EncryptCommand({ KeyId: arn, Plaintext: Buffer.from('x') })), 'AccessDeniedException', 400);
  });
});
