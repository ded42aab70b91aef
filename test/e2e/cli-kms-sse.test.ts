/**
 * The real aws CLI v1 against Meridian over HTTPS: `aws kms …` for the key lifecycle, aliases,
 * grants, rotation and the cryptographic operations (blobs passed with fileb://), and
 * `aws s3 cp --sse aws:kms` / `--sse-c` round trips, including a multipart upload.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AwsCli, AwsCliError } from '../support/aws-cli.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';

describe('aws kms and aws s3 cp --sse with the aws CLI', () => {
  let m: MeridianProcess;
  let cli: AwsCli;
  let keyArn: string;
  let keyId: string;
  const bucket = `cli-sse-${randomBytes(4).toString('hex')}`;

  before(async () => {
    m = await startMeridianProcess();
    cli = new AwsCli([{ name: 'p', region: 'us-east-1', endpoint: m.httpsEndpoint!, accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey }], { caBundle: m.certFile! });
  });
  after(async () => {
    cli?.remove();
    await m?.stop();
  });

  const aws = (...args: string[]) => cli.run([...args, '--profile', 'p']);

  it('aws kms create-key, describe-key, create-alias, list-aliases, tag-resource, enable-key-rotation', async () => {
    const created = (await aws('kms', 'create-key', '--description', 'cli key', '--tags', 'TagKey=team,TagValue=storage')).json;
    keyArn = created.KeyMetadata.Arn;
    keyId = created.KeyMetadata.KeyId;
    assert.match(keyArn, /^arn:aws:kms:us-east-1:000000000000:key\//);
    await aws('kms', 'create-alias', '--alias-name', 'alias/cli', '--target-key-id', keyId);
    const described = (await aws('kms', 'describe-key', '--key-id', 'alias/cli')).json;
    assert.equal(described.KeyMetadata.Arn, keyArn);
    const aliases = (await aws('kms', 'list-aliases')).json.Aliases as { AliasName: string; TargetKeyId?: string }[];
    assert.equal(aliases.find((a) => a.AliasName === 'alias/cli')?.TargetKeyId, keyId);
    assert.ok(aliases.some((a) => a.AliasName === 'alias/aws/s3'));
    const tags = (await aws('kms', 'list-resource-tags', '--key-id', keyId)).json.Tags;
    assert.deepEqual(tags, [{ TagKey: 'team', TagValue: 'storage' }]);
    await aws('kms', 'enable-key-rotation', '--key-id', keyId, '--rotation-period-in-days', '180');
    const rotation = (await aws('kms', 'get-key-rotation-status', '--key-id', keyId)).json;
    assert.equal(rotation.KeyRotationEnabled, true);
    assert.equal(rotation.RotationPeriodInDays, 180);
  });

  it('aws kms encrypt / decrypt with fileb:// and an encryption context; generate-data-key; re-encrypt after rotate-key-on-demand', async () => {
    const plain = cli.file('plain.bin', Buffer.from('cli secret\n'));
    const enc = (await aws('kms', 'encrypt', '--key-id', 'alias/cli', '--plaintext', `fileb://${plain}`, '--encryption-context', 'purpose=test')).json;
    assert.equal(enc.KeyId, keyArn);
    const blob = cli.file('blob.bin', Buffer.from(enc.CiphertextBlob, 'base64'));
    const dec = (await aws('kms', 'decrypt', '--ciphertext-blob', `fileb://${blob}`, '--encryption-context', 'purpose=test')).json;
    assert.equal(Buffer.from(dec.Plaintext, 'base64').toString(), 'cli secret\n');
    await assert.rejects(aws('kms', 'decrypt', '--ciphertext-blob', `fileb://${blob}`), (e: AwsCliError) => /InvalidCiphertextException/.test(e.stderr));
    const dk = (await aws('kms', 'generate-data-key', '--key-id', keyId, '--key-spec', 'AES_256')).json;
    assert.equal(Buffer.from(dk.Plaintext, 'base64').length, 32);
    await aws('kms', 'rotate-key-on-demand', '--key-id', keyId);
    const rotations = (await aws('kms', 'list-key-rotations', '--key-id', keyId)).json.Rotations;
    assert.equal(rotations.length, 1);
    const re = (await aws('kms', 're-encrypt', '--ciphertext-blob', `fileb://${blob}`, '--source-encryption-context', 'purpose=test', '--destination-key-id', keyId, '--destination-encryption-context', 'purpose=test')).json;
    assert.notEqual(re.SourceKeyMaterialId, re.DestinationKeyMaterialId);
  });

  it('aws kms create-grant / list-grants / revoke-grant, disable-key, schedule-key-deletion / cancel-key-deletion', async () => {
    const grant = (await aws('kms', 'create-grant', '--key-id', keyId, '--grantee-principal', 'arn:aws:iam::000000000000:role/app', '--operations', 'Decrypt', 'Encrypt')).json;
    const grants = (await aws('kms', 'list-grants', '--key-id', keyId)).json.Grants;
    assert.deepEqual(grants.map((g: { GrantId: string }) => g.GrantId), [grant.GrantId]);
    await aws('kms', 'revoke-grant', '--key-id', keyId, '--grant-id', grant.GrantId);
    const other = (await aws('kms', 'create-key')).json.KeyMetadata.KeyId;
    await aws('kms', 'disable-key', '--key-id', other);
    const scheduled = (await aws('kms', 'schedule-key-deletion', '--key-id', other, '--pending-window-in-days', '7')).json;
    assert.equal(scheduled.KeyState, 'PendingDeletion');
    await aws('kms', 'cancel-key-deletion', '--key-id', other);
    assert.equal((await aws('kms', 'describe-key', '--key-id', other)).json.KeyMetadata.KeyState, 'Disabled');
  });

  it('aws s3 cp --sse aws:kms --sse-kms-key-id up and down, small and multipart; the object reports the key ARN', async () => {
    await aws('s3', 'mb', `s3://${bucket}`);
    const small = randomBytes(10_000);
    const big = randomBytes(12 * 1024 * 1024);
    cli.file('small.bin', small);
    cli.file('big.bin', big);
    await aws('s3', 'cp', join(cli.dir, 'small.bin'), `s3://${bucket}/small.bin`, '--sse', 'aws:kms', '--sse-kms-key-id', keyId);
    await aws('s3', 'cp', join(cli.dir, 'big.bin'), `s3://${bucket}/big.bin`, '--sse', 'aws:kms', '--sse-kms-key-id', 'alias/cli');
    for (const [name, body] of [['small.bin', small], ['big.bin', big]] as const) {
      const head = (await aws('s3api', 'head-object', '--bucket', bucket, '--key', name)).json;
      assert.equal(head.ServerSideEncryption, 'aws:kms');
      assert.equal(head.SSEKMSKeyId, keyArn);
      await aws('s3', 'cp', `s3://${bucket}/${name}`, join(cli.dir, `${name}.back`));
      assert.ok(readFileSync(join(cli.dir, `${name}.back`)).equals(body), name);
    }
    // Without a key id the CLI's --sse aws:kms uses the AWS managed key.
    await aws('s3', 'cp', join(cli.dir, 'small.bin'), `s3://${bucket}/managed.bin`, '--sse', 'aws:kms');
    const managed = (await aws('kms', 'describe-key', '--key-id', 'alias/aws/s3')).json.KeyMetadata.Arn;
    assert.equal((await aws('s3api', 'head-object', '--bucket', bucket, '--key', 'managed.bin')).json.SSEKMSKeyId, managed);
  });

  it('aws s3 cp --sse-c with a key file, and the key is needed to read it back', async () => {
    const key = cli.file('customer.key', randomBytes(32));
    const body = randomBytes(7 * 1024 * 1024);
    cli.file('ssec.bin', body);
    await aws('s3', 'cp', join(cli.dir, 'ssec.bin'), `s3://${bucket}/ssec.bin`, '--sse-c', 'AES256', '--sse-c-key', `fileb://${key}`);
    await assert.rejects(aws('s3', 'cp', `s3://${bucket}/ssec.bin`, join(cli.dir, 'nokey.bin')), AwsCliError);
    await aws('s3', 'cp', `s3://${bucket}/ssec.bin`, join(cli.dir, 'ssec.back'), '--sse-c', 'AES256', '--sse-c-key', `fileb://${key}`);
    assert.ok(readFileSync(join(cli.dir, 'ssec.back')).equals(body));
  });

  it('aws s3api put-bucket-encryption / get-bucket-encryption with a bucket key', async () => {
    const config = JSON.stringify({ Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn }, BucketKeyEnabled: true }] });
    await aws('s3api', 'put-bucket-encryption', '--bucket', bucket, '--server-side-encryption-configuration', config);
    const got = (await aws('s3api', 'get-bucket-encryption', '--bucket', bucket)).json.ServerSideEncryptionConfiguration.Rules[0];
    assert.equal(got.ApplyServerSideEncryptionByDefault.KMSMasterKeyID, keyArn);
    assert.equal(got.BucketKeyEnabled, true);
    await aws('s3', 'cp', join(cli.dir, 'small.bin'), `s3://${bucket}/defaulted.bin`);
    const head = (await aws('s3api', 'head-object', '--bucket', bucket, '--key', 'defaulted.bin')).json;
    assert.equal(head.SSEKMSKeyId, keyArn);
    assert.equal(head.BucketKeyEnabled, true);
  });
});
