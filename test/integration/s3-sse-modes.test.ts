/**
 * S3 encryption modes beyond the basics in s3-sse.test.ts (reference s3-replication-sse-versioning.md
 * §5): bucket default encryption with Bucket Keys and BlockedEncryptionTypes (§5.6), SSE-C (§5.7),
 * what S3 answers when the KMS key is disabled, pending deletion, rotated, in another region, or in
 * another account (§5.2–§5.4), and ranged reads across segment and part boundaries.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { CreateKeyCommand, PutKeyPolicyCommand, RotateKeyOnDemandCommand, ScheduleKeyDeletionCommand, type KMSClient } from '@aws-sdk/client-kms';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketEncryptionCommand,
  GetBucketEncryptionCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createAccount } from '../support/accounts.js';
import { iamClient, kmsClient, s3Client, type Credentials } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { bucketName, bytes, rejects } from './helpers.js';

let m: MeridianProcess;
let s3: S3Client;
let kms: KMSClient;
const bucket = bucketName('modes');

before(async () => {
  m = await startMeridianProcess({ tls: false });
  s3 = s3Client(m);
  kms = kmsClient(m);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});
after(async () => {
  await m?.stop();
});

async function newKey(client: KMSClient = kms): Promise<{ id: string; arn: string }> {
  const md = (await client.send(new CreateKeyCommand({}))).KeyMetadata!;
  return { id: md.KeyId!, arn: md.Arn! };
}

describe('bucket default encryption (§5.6)', () => {
  test('a fresh bucket reports SSE-S3; an aws:kms default with Bucket Keys applies to PUTs without SSE headers; headers win; delete restores SSE-S3', async () => {
    const b = bucketName('default');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const fresh = await s3.send(new GetBucketEncryptionCommand({ Bucket: b }));
    assert.deepEqual(fresh.ServerSideEncryptionConfiguration!.Rules, [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false }]);

    const key = await newKey();
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: b,
        ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: key.id }, BucketKeyEnabled: true }] },
      }),
    );
    const got = (await s3.send(new GetBucketEncryptionCommand({ Bucket: b }))).ServerSideEncryptionConfiguration!.Rules![0]!;
    assert.equal(got.ApplyServerSideEncryptionByDefault!.KMSMasterKeyID, key.id, 'echoed as given, not as an ARN');
    assert.equal(got.BucketKeyEnabled, true);

    const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'by-default', Body: 'default' }));
    assert.equal(put.ServerSideEncryption, 'aws:kms');
    assert.equal(put.SSEKMSKeyId, key.arn);
    assert.equal(put.BucketKeyEnabled, true);
    const get = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'by-default' }));
    assert.equal(await get.Body!.transformToString(), 'default');
    assert.equal(get.BucketKeyEnabled, true);

    const explicit = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'explicit', Body: 'x', ServerSideEncryption: 'AES256' }));
    assert.equal(explicit.ServerSideEncryption, 'AES256');
    assert.equal(explicit.SSEKMSKeyId, undefined);
    const mpu = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mpu' }));
    assert.equal(mpu.SSEKMSKeyId, key.arn);

    await s3.send(new DeleteBucketEncryptionCommand({ Bucket: b }));
    await s3.send(new DeleteBucketEncryptionCommand({ Bucket: b }));
    assert.equal((await s3.send(new PutObjectCommand({ Bucket: b, Key: 'after', Body: 'x' }))).ServerSideEncryption, 'AES256');
  });

  test('KMSMasterKeyID with AES256 is InvalidArgument; an unknown default key is accepted but fails the object PUT', async () => {
    await rejects(
      s3.send(new PutBucketEncryptionCommand({ Bucket: bucket, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256', KMSMasterKeyID: 'x' } }] } })),
      'InvalidArgument',
      400,
    );
    const b = bucketName('badkey');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const uuid = '11111111-2222-3333-4444-555555555555';
    await s3.send(new PutBucketEncryptionCommand({ Bucket: b, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: uuid } }] } }));
    await rejects(s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' })), 'KMS.NotFoundException', 400);
  });
});

describe('SSE-C (§5.7)', () => {
  const customerKey = randomBytes(32);
  const sseC = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: customerKey.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(customerKey).digest('base64') };

  test('PUT, GET and HEAD with the key; the key MD5 is echoed and no x-amz-server-side-encryption; the ETag is not the MD5', async () => {
    const body = randomBytes(200_000);
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ssec', Body: body, ...sseC }));
    assert.equal(put.SSECustomerAlgorithm, 'AES256');
    assert.equal(put.SSECustomerKeyMD5, sseC.SSECustomerKeyMD5);
    assert.equal(put.ServerSideEncryption, undefined);
    assert.notEqual(put.ETag, `"${createHash('md5').update(body).digest('hex')}"`);
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ssec', ...sseC }));
    assert.ok((await bytes(get.Body)).equals(body));
    assert.equal(get.SSECustomerKeyMD5, sseC.SSECustomerKeyMD5);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'ssec', ...sseC }));
    assert.equal(head.SSECustomerAlgorithm, 'AES256');
    const range = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ssec', Range: 'bytes=65530-131080', ...sseC }));
    assert.ok((await bytes(range.Body)).equals(body.subarray(65530, 131081)));
  });

  test('without the key: 400 InvalidRequest; a wrong key: 403 AccessDenied; bad headers: InvalidArgument', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ssec-small', Body: 'small', ...sseC }));
    await rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ssec-small' })), 'InvalidRequest', 400);
    const other = randomBytes(32);
    const wrong = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: other.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(other).digest('base64') };
    await rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ssec-small', ...wrong })), 'AccessDenied', 403);
    await rejects(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'x', Body: 'x', ...sseC, ServerSideEncryption: 'AES256' })), 'InvalidArgument', 400);
    await rejects(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'x', Body: 'x', ...sseC, SSECustomerAlgorithm: 'AES128' })), 'InvalidEncryptionAlgorithmError', 400);
    // SSE-C headers on an object that is not SSE-C.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain', Body: 'p' }));
    await rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'plain', ...sseC })), 'InvalidRequest', 400);
  });

  test('multipart: every UploadPart repeats the key', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'ssec-mpu', ...sseC }));
    await rejects(s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'ssec-mpu', UploadId, PartNumber: 1, Body: 'x' })), 'InvalidRequest', 400);
    const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'ssec-mpu', UploadId, PartNumber: 1, Body: 'part one', ...sseC }));
    assert.equal(part.SSECustomerKeyMD5, sseC.SSECustomerKeyMD5);
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'ssec-mpu', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag! }] } }));
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ssec-mpu', ...sseC }))).Body!.transformToString(), 'part one');
  });

  test('CopyObject re-encrypts: SSE-KMS → SSE-C → SSE-KMS under another key; the source encryption is never inherited', async () => {
    const k1 = await newKey();
    const k2 = await newKey();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'copy-src', Body: 'travelling', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: k1.arn }));
    const toC = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy-c', CopySource: `${bucket}/copy-src`, ...sseC }));
    assert.equal(toC.SSECustomerKeyMD5, sseC.SSECustomerKeyMD5);
    assert.equal(toC.ServerSideEncryption, undefined);
    const copySourceKey = { CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: sseC.SSECustomerKey, CopySourceSSECustomerKeyMD5: sseC.SSECustomerKeyMD5 };
    await rejects(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy-k2', CopySource: `${bucket}/copy-c` })), 'InvalidRequest', 400);
    const toK2 = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy-k2', CopySource: `${bucket}/copy-c`, ...copySourceKey, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: k2.id }));
    assert.equal(toK2.SSEKMSKeyId, k2.arn);
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'copy-k2' }))).Body!.transformToString(), 'travelling');
    const plain = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy-plain', CopySource: `${bucket}/copy-k2` }));
    assert.equal(plain.ServerSideEncryption, 'AES256', 'no SSE headers: the bucket default (SSE-S3), not the source key');
    // The copy's ETag follows its own encryption: the MD5 for SSE-S3 only (reference §5.5).
    const md5 = `"${createHash('md5').update('travelling').digest('hex')}"`;
    assert.equal(plain.CopyObjectResult?.ETag, md5);
    for (const copy of [toC, toK2]) {
      assert.match(copy.CopyObjectResult!.ETag!, /^"[0-9a-f]{32}"$/);
      assert.notEqual(copy.CopyObjectResult!.ETag, md5);
    }
  });

  test('a bucket that blocks SSE-C refuses SSE-C writes with 403 AccessDenied and still serves existing SSE-C objects', async () => {
    const b = bucketName('blocked');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'before', Body: 'kept', ...sseC }));
    await s3.send(new PutBucketEncryptionCommand({ Bucket: b, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BlockedEncryptionTypes: { EncryptionType: ['SSE-C'] } }] } }));
    const rules = (await s3.send(new GetBucketEncryptionCommand({ Bucket: b }))).ServerSideEncryptionConfiguration!.Rules!;
    assert.deepEqual(rules[0]!.BlockedEncryptionTypes, { EncryptionType: ['SSE-C'] });
    await rejects(s3.send(new PutObjectCommand({ Bucket: b, Key: 'after', Body: 'x', ...sseC })), 'AccessDenied', 403);
    await rejects(s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'after', ...sseC })), 'AccessDenied', 403);
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: b, Key: 'before', ...sseC }))).Body!.transformToString(), 'kept');
  });
});

describe('KMS state as S3 sees it (§5.4)', () => {
  test('x-amz-server-side-encryption on GET is 400 InvalidArgument', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'get-with-sse', Body: 'x' }));
    // The SDK never sends the header on GET: add it before signing, as a misbehaving client would.
    const client = s3Client(m);
    client.middlewareStack.add(
      (next) => async (args) => {
        (args.request as { headers: Record<string, string> }).headers['x-amz-server-side-encryption'] = 'AES256';
        return next(args);
      },
      { step: 'build' },
    );
    const e = await rejects(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'get-with-sse' })), 'InvalidArgument', 400);
    assert.match(e.message, /not supported for this operation/);
  });

  test('a key pending deletion: GET and PUT fail with 400 KMS.KMSInvalidStateException', async () => {
    const key = await newKey();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'doomed', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.arn }));
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.id, PendingWindowInDays: 7 }));
    const e = await rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'doomed' })), 'KMS.KMSInvalidStateException', 400);
    assert.equal(e.message, `${key.arn} is pending deletion.`);
    await rejects(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'doomed2', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.arn })), 'KMS.KMSInvalidStateException', 400);
  });

  test('rotation keeps old objects readable; new objects use the new material', async () => {
    const key = await newKey();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'rot-old', Body: 'old', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.id }));
    await kms.send(new RotateKeyOnDemandCommand({ KeyId: key.id }));
    await kms.send(new RotateKeyOnDemandCommand({ KeyId: key.id }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'rot-new', Body: 'new', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.id }));
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'rot-old' }))).Body!.transformToString(), 'old');
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'rot-new' }))).Body!.transformToString(), 'new');
  });

  test('a requester without kms:GenerateDataKey / kms:Decrypt gets 403 AccessDenied naming the KMS action', async () => {
    const key = await newKey();
    const iam = iamClient(m);
    await iam.send(new CreateUserCommand({ UserName: 's3-only' }));
    await iam.send(
      new PutUserPolicyCommand({
        UserName: 's3-only',
        PolicyName: 's3',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }),
      }),
    );
    const ak = (await iam.send(new CreateAccessKeyCommand({ UserName: 's3-only' }))).AccessKey!;
    const userS3 = s3Client(m, 'us-east-1', { accessKeyId: ak.AccessKeyId!, secretAccessKey: ak.SecretAccessKey! });
    const put = await rejects(userS3.send(new PutObjectCommand({ Bucket: bucket, Key: 'denied', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.arn })), 'AccessDenied', 403);
    assert.match(put.message, /kms:GenerateDataKey/);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'root-wrote', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.arn }));
    const get = await rejects(userS3.send(new GetObjectCommand({ Bucket: bucket, Key: 'root-wrote' })), 'AccessDenied', 403);
    assert.match(get.message, /kms:Decrypt/);
    // SSE-S3 needs no KMS permission.
    await userS3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sse-s3-ok', Body: 'x' }));
  });

  test('cross-account: a key of another account works by ARN when its key policy allows this account', async () => {
    const other = await createAccount(m, 'key-owner');
    const theirKms = kmsClient(m, 'us-east-1', other as Credentials);
    const key = await newKey(theirKms);
    await rejects(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'xacct', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.arn })), 'AccessDenied', 403);
    await theirKms.send(
      new PutKeyPolicyCommand({
        KeyId: key.id,
        PolicyName: 'default',
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Sid: 'owner', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${other.accountId}:root` }, Action: 'kms:*', Resource: '*' },
            { Sid: 'bucket account', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${m.accountId}:root` }, Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: '*' },
          ],
        }),
      }),
    );
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'xacct', Body: 'shared key', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.arn }));
    assert.equal(put.SSEKMSKeyId, key.arn);
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'xacct' }))).Body!.transformToString(), 'shared key');
    // The bare key id names a key in the requester's own account, where it does not exist.
    await rejects(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'xacct2', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.id })), 'KMS.NotFoundException', 400);
  });

  test('ranges of a multipart SSE-KMS object decrypt across segment and part boundaries', async () => {
    const key = await newKey();
    const part1 = randomBytes(5 * 1024 * 1024 + 123);
    const part2 = randomBytes(300_001);
    const whole = Buffer.concat([part1, part2]);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'big', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.id }));
    const e1 = (await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'big', UploadId, PartNumber: 1, Body: part1 }))).ETag!;
    const e2 = (await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'big', UploadId, PartNumber: 2, Body: part2 }))).ETag!;
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'big', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1 }, { PartNumber: 2, ETag: e2 }] } }));
    const ranges: [number, number][] = [
      [0, 0],
      [65535, 65536],
      [65_000, 3 * 65536 + 7],
      [part1.length - 10, part1.length + 70_000],
      [whole.length - 1, whole.length - 1],
    ];
    for (const [s, e] of ranges) {
      const got = await bytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big', Range: `bytes=${s}-${e}` }))).Body);
      assert.ok(got.equals(whole.subarray(s, e + 1)), `range ${s}-${e}`);
    }
  });
});
