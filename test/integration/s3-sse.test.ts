/**
 * Server-side encryption through the SDK v3 against a real server (reference
 * s3-replication-sse-versioning.md §5): SSE-S3 by default, SSE-KMS with a key created through the
 * KMS API (the key ARN is reported even when the request named the bare key id, §5.2), the AWS
 * managed aws/s3 key, ETags (§5.5) and the KMS errors S3 surfaces (§5.4).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, DisableKeyCommand, EnableKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { kmsClient, s3Client } from '../support/clients.js';
import { bucketName, bytes, rejects } from './helpers.js';

let m: MeridianProcess;
let s3: S3Client;
let kms: KMSClient;
const bucket = bucketName('sse');
let keyId: string;
let keyArn: string;

before(async () => {
  m = await startMeridianProcess();
  s3 = s3Client(m);
  kms = kmsClient(m);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const key = await kms.send(new CreateKeyCommand({ Description: 'sse test key' }));
  keyId = key.KeyMetadata!.KeyId!;
  keyArn = key.KeyMetadata!.Arn!;
});
after(async () => {
  await m?.stop();
});

const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');

describe('SSE-S3', () => {
  test('objects without SSE headers are SSE-S3 (AES256), their ETag the MD5; AES256 on request is the same', async () => {
    const body = Buffer.from('encrypted at rest by default');
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'default', Body: body }));
    assert.equal(put.ServerSideEncryption, 'AES256');
    assert.equal(put.SSEKMSKeyId, undefined);
    assert.equal(put.ETag, `"${md5(body)}"`);
    const explicit = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'explicit', Body: body, ServerSideEncryption: 'AES256' }));
    assert.equal(explicit.ServerSideEncryption, 'AES256');
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'explicit' }));
    assert.equal(head.ServerSideEncryption, 'AES256');
    assert.equal(head.BucketKeyEnabled, undefined, 'the bucket-key header is present only when true');
  });
});

describe('SSE-KMS', () => {
  test('a PUT naming the bare key id reports aws:kms and the key ARN on PUT, GET and HEAD; the ETag is not the MD5', async () => {
    const body = randomBytes(150_000);
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kms/by-id', Body: body, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyId }));
    assert.equal(put.ServerSideEncryption, 'aws:kms');
    assert.equal(put.SSEKMSKeyId, keyArn);
    assert.match(put.ETag!, /^"[0-9a-f]{32}"$/);
    assert.notEqual(put.ETag, `"${md5(body)}"`);

    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'kms/by-id' }));
    assert.equal(get.ServerSideEncryption, 'aws:kms');
    assert.equal(get.SSEKMSKeyId, keyArn);
    assert.equal(get.ETag, put.ETag);
    assert.ok((await bytes(get.Body)).equals(body));

    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'kms/by-id' }));
    assert.equal(head.SSEKMSKeyId, keyArn);

    const range = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'kms/by-id', Range: 'bytes=65000-70000' }));
    assert.ok((await bytes(range.Body)).equals(body.subarray(65000, 70001)));
  });

  test('a large SSE-KMS PUT is stored intact without its MD5: a new ETag with every write; a wrong Content-MD5 is still BadDigest', async () => {
    const body = randomBytes(3 * 1024 * 1024 + 11); // past the size hashed on the helper thread
    const put = (extra: { ContentMD5?: string } = {}) =>
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kms/large', Body: body, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyId, ...extra }));
    const first = await put();
    const second = await put({ ContentMD5: createHash('md5').update(body).digest('base64') });
    for (const p of [first, second]) {
      assert.match(p.ETag!, /^"[0-9a-f]{32}"$/);
      assert.notEqual(p.ETag, `"${md5(body)}"`);
    }
    assert.notEqual(first.ETag, second.ETag, 'each write of an SSE-KMS object gets its own ETag');
    await rejects(put({ ContentMD5: createHash('md5').update('something else').digest('base64') }), 'BadDigest', 400);
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'kms/large' }));
    assert.equal(get.ETag, second.ETag, 'the rejected PUT stored nothing');
    assert.ok((await bytes(get.Body)).equals(body));
  });

  test('the key ARN, an alias name and an alias ARN all resolve to the key ARN; a stream body works too', async () => {
    const alias = `alias/sse-${randomBytes(4).toString('hex')}`;
    await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyId }));
    const aliasArn = keyArn.replace(/key\/.*$/, alias);
    for (const [i, id] of [keyArn, alias, aliasArn].entries()) {
      const body = Buffer.from(`named as ${id}`);
      const put = await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: `kms/form-${i}`, Body: Readable.from([body]), ContentLength: body.length, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: id }),
      );
      assert.equal(put.SSEKMSKeyId, keyArn, id);
      const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `kms/form-${i}` }));
      assert.deepEqual(await bytes(get.Body), body);
    }
  });

  test('aws:kms without a key id uses the AWS managed key alias/aws/s3, created on first use', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kms/managed', Body: 'managed', ServerSideEncryption: 'aws:kms' }));
    assert.equal(put.ServerSideEncryption, 'aws:kms');
    const managed = await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/s3' }));
    assert.equal(put.SSEKMSKeyId, managed.KeyMetadata!.Arn);
    assert.equal(managed.KeyMetadata!.KeyManager, 'AWS');
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'kms/managed' }));
    assert.equal(await get.Body!.transformToString(), 'managed');
  });

  test('a key id without x-amz-server-side-encryption: aws:kms is 400 InvalidArgument', async () => {
    const err = await rejects(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kms/bad', Body: 'x', SSEKMSKeyId: keyId })), 'InvalidArgument', 400);
    assert.equal(err.message, 'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms');
  });

  test('unknown, malformed and other-region keys: 400 KMS.NotFoundException with AWS messages', async () => {
    const uuid = '11111111-2222-3333-4444-555555555555';
    const missing = await rejects(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kms/x', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: uuid })),
      'KMS.NotFoundException',
      400,
    );
    assert.equal(missing.message, `Key 'arn:aws:kms:us-east-1:${m.accountId}:key/${uuid}' does not exist`);
    const malformed = await rejects(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kms/x', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'not a key' })),
      'KMS.NotFoundException',
      400,
    );
    assert.equal(malformed.message, "Invalid keyId 'not a key'");
    const west = await kmsClient(m, 'us-west-2').send(new CreateKeyCommand({}));
    const elsewhere = await rejects(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kms/x', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: west.KeyMetadata!.Arn! })),
      'KMS.NotFoundException',
      400,
    );
    assert.equal(elsewhere.message, 'Invalid arn us-west-2');
  });

  test('a disabled key: 400 KMS.DisabledException on PUT and on GET; enabled again, both work', async () => {
    const key = await kms.send(new CreateKeyCommand({}));
    const arn = key.KeyMetadata!.Arn!;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kms/toggle', Body: 'secret', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: arn }));
    await kms.send(new DisableKeyCommand({ KeyId: arn }));
    const onGet = await rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'kms/toggle' })), 'KMS.DisabledException', 400);
    assert.equal(onGet.message, `${arn} is disabled.`);
    await rejects(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kms/toggle2', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: arn })),
      'KMS.DisabledException',
      400,
    );
    // HEAD needs no KMS call for plain metadata.
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'kms/toggle' }));
    assert.equal(head.SSEKMSKeyId, arn);
    await kms.send(new EnableKeyCommand({ KeyId: arn }));
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'kms/toggle' }));
    assert.equal(await get.Body!.transformToString(), 'secret');
  });

  test('S3 Bucket Keys: BucketKeyEnabled is echoed on PUT, GET and HEAD', async () => {
    const put = await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'kms/bucket-key', Body: 'bk', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyId, BucketKeyEnabled: true }),
    );
    assert.equal(put.BucketKeyEnabled, true);
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'kms/bucket-key' }));
    assert.equal(get.BucketKeyEnabled, true);
    assert.equal(await get.Body!.transformToString(), 'bk');
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'kms/bucket-key' }))).BucketKeyEnabled, true);
  });

  test('an encryption context header whose JSON escapes an unpaired surrogate is refused as InvalidArgument, not a 500', async () => {
    for (const pairs of [{ a: '\ud800' }, { '\udc00': 'v' }] as Record<string, string>[]) {
      // JSON.stringify writes the lone surrogate as the escape "\ud800": valid JSON, not valid UTF-8 text.
      const header = Buffer.from(JSON.stringify(pairs)).toString('base64');
      await assert.rejects(
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kms/bad-ctx', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyId, SSEKMSEncryptionContext: header })),
        (e: { name: string; $metadata: { httpStatusCode?: number } }) => e.name === 'InvalidArgument' && e.$metadata.httpStatusCode === 400,
      );
    }
  });

  test('an encryption context header is merged with aws:s3:arn and echoed on PUT', async () => {
    const extra = Buffer.from(JSON.stringify({ project: 'meridian' })).toString('base64');
    const put = await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'kms/ctx', Body: 'ctx', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyId, SSEKMSEncryptionContext: extra }),
    );
    const echoed = JSON.parse(Buffer.from(put.SSEKMSEncryptionContext!, 'base64').toString('utf8')) as Record<string, string>;
    assert.deepEqual(echoed, { project: 'meridian', 'aws:s3:arn': `arn:aws:s3:::${bucket}/kms/ctx` });
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'kms/ctx' }));
    assert.equal(await get.Body!.transformToString(), 'ctx');
    assert.equal(get.$metadata.httpStatusCode, 200);
  });
});
