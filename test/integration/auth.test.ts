/**
 * Authentication failures as each protocol reports them (reference kms-iam-sts-sigv4.md §5.13):
 * S3 answers in XML with its own codes, IAM/STS with Query codes (403), KMS with JSON codes (400).
 * Plus the presigned-URL rules of §5.8 and the KMS permissions an S3 caller needs for SSE-KMS
 * (s3-replication-sse-versioning.md §5.3).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateKeyCommand, KMSClient, ListKeysCommand } from '@aws-sdk/client-kms';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, ListRolesCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { iamClient, kmsClient, s3Client, stsClient, type Credentials } from '../support/clients.js';
import { bucketName, presignedUrl, rejects } from './helpers.js';

let m: MeridianProcess;
let s3: S3Client;
const bucket = bucketName('auth');

before(async () => {
  m = await startMeridianProcess();
  s3 = s3Client(m);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'hello.txt', Body: 'hello' }));
});
after(async () => {
  await m?.stop();
});

const unknownKey: Credentials = { accessKeyId: 'AKIAUNKNOWNUNKNOWN00', secretAccessKey: 'x'.repeat(40) };
const wrongSecret = (): Credentials => ({ accessKeyId: m.accessKeyId, secretAccessKey: 'y'.repeat(40) });
/** A client whose clock is 20 minutes slow (SDK v3 signs with its own clock plus this offset). */
const slow = { maxAttempts: 1, systemClockOffset: -20 * 60 * 1000 };

describe('authentication errors by protocol (§5.13)', () => {
  test('unknown access key: S3 403 InvalidAccessKeyId, IAM/STS 403 InvalidClientTokenId, KMS 400 UnrecognizedClientException', async () => {
    const s3err = await rejects(s3Client(m, 'us-east-1', unknownKey).send(new ListBucketsCommand({})), 'InvalidAccessKeyId', 403);
    assert.equal(s3err.message, 'The AWS Access Key Id you provided does not exist in our records.');
    await rejects(iamClient(m, unknownKey).send(new ListRolesCommand({})), 'InvalidClientTokenId', 403);
    await rejects(stsClient(m, 'us-east-1', unknownKey).send(new GetCallerIdentityCommand({})), 'InvalidClientTokenId', 403);
    const kmsErr = await rejects(kmsClient(m, 'us-east-1', unknownKey).send(new ListKeysCommand({})), 'UnrecognizedClientException', 400);
    assert.equal(kmsErr.message, 'The security token included in the request is invalid.');
  });

  test('wrong secret: S3 and IAM 403 SignatureDoesNotMatch, KMS 400 InvalidSignatureException', async () => {
    await rejects(s3Client(m, 'us-east-1', wrongSecret()).send(new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' })), 'SignatureDoesNotMatch', 403);
    await rejects(iamClient(m, wrongSecret()).send(new ListRolesCommand({})), 'SignatureDoesNotMatch', 403);
    await rejects(kmsClient(m, 'us-east-1', wrongSecret()).send(new ListKeysCommand({})), 'InvalidSignatureException', 400);
  });

  test('a clock 20 minutes off: S3 403 RequestTimeTooSkewed, IAM 403 SignatureDoesNotMatch, KMS 400 InvalidSignatureException', async () => {
    const creds = { accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey };
    const s3slow = new S3Client({ endpoint: m.httpEndpoint, region: 'us-east-1', forcePathStyle: true, credentials: creds, ...slow });
    await rejects(s3slow.send(new ListBucketsCommand({})), 'RequestTimeTooSkewed', 403);
    const iamErr = await rejects(new IAMClient({ endpoint: m.httpEndpoint, region: 'us-east-1', credentials: creds, ...slow }).send(new ListRolesCommand({})), 'SignatureDoesNotMatch', 403);
    assert.match(iamErr.message, /^Signature expired/);
    const kmsErr = await rejects(new KMSClient({ endpoint: m.httpEndpoint, region: 'us-east-1', credentials: creds, ...slow }).send(new ListKeysCommand({})), 'InvalidSignatureException', 400);
    assert.match(kmsErr.message, /^Signature expired/);
  });

  test('HeadBucket by a caller without permission: bare 403, still with x-amz-bucket-region (s3 reference §7.2)', async () => {
    const iam = iamClient(m);
    await iam.send(new CreateUserCommand({ UserName: 'no-rights' }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'no-rights' }))).AccessKey!;
    const nobody = s3Client(m, 'us-east-1', { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! });
    const err = await rejects(nobody.send(new HeadBucketCommand({ Bucket: bucket })), 'Unknown', 403);
    assert.equal(err.$response?.headers['x-amz-bucket-region'], 'us-east-1');
  });

  test('no credentials at all: S3 evaluates the anonymous request and answers 403 AccessDenied "Access Denied"', async () => {
    const res = await fetch(`${m.httpEndpoint}/${bucket}/hello.txt`);
    assert.equal(res.status, 403);
    const body = await res.text();
    assert.match(body, /<Code>AccessDenied<\/Code><Message>Access Denied<\/Message>/);
    assert.match(res.headers.get('x-amz-request-id') ?? '', /^[0-9A-F]{16}$/);
  });
});

describe('presigned URLs (§5.8)', () => {
  test('an expired URL: 403 AccessDenied "Request has expired" with X-Amz-Expires, Expires and ServerTime', async () => {
    const url = await presignedUrl(m, 'GET', bucket, 'hello.txt', { expiresIn: 60, signingDate: new Date(Date.now() - 3600_000) });
    const res = await fetch(url);
    assert.equal(res.status, 403);
    const body = await res.text();
    assert.match(body, /<Code>AccessDenied<\/Code><Message>Request has expired<\/Message>/);
    assert.match(body, /<X-Amz-Expires>60<\/X-Amz-Expires><Expires>[^<]+<\/Expires><ServerTime>[^<]+<\/ServerTime>/);
  });

  test('X-Amz-Expires above a week: 400 AuthorizationQueryParametersError', async () => {
    const url = (await presignedUrl(m, 'GET', bucket, 'hello.txt', { expiresIn: 60 })).replace('X-Amz-Expires=60', 'X-Amz-Expires=604801');
    const res = await fetch(url);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /<Code>AuthorizationQueryParametersError<\/Code>/);
  });

  test('an x-amz-* header the URL did not sign: 403 AccessDenied naming it in HeadersNotSigned', async () => {
    const url = await presignedUrl(m, 'GET', bucket, 'hello.txt');
    const res = await fetch(url, { headers: { 'x-amz-meta-extra': 'unsigned' } });
    assert.equal(res.status, 403);
    assert.match(await res.text(), /There were headers present in the request which were not signed<\/Message><HeadersNotSigned>x-amz-meta-extra<\/HeadersNotSigned>/);
  });

  test('a presigned PUT as SDK v3 makes it (checksum of an empty body in the query) uploads real data', async () => {
    const url = await presignedUrl(m, 'PUT', bucket, 'presigned-put.txt', { query: { 'x-amz-checksum-crc32': 'AAAAAA==', 'x-amz-sdk-checksum-algorithm': 'CRC32', 'x-id': 'PutObject' } });
    const res = await fetch(url, { method: 'PUT', body: 'not empty at all' });
    assert.equal(res.status, 200);
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'presigned-put.txt' }));
    assert.equal(await get.Body!.transformToString(), 'not empty at all');
  });
});

describe('SSE-KMS needs KMS permissions of the S3 caller (§5.3)', () => {
  let user: S3Client;
  let keyArn: string;

  before(async () => {
    const iam = iamClient(m);
    await iam.send(new CreateUserCommand({ UserName: 'sse-user' }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'sse-user' }))).AccessKey!;
    await iam.send(
      new PutUserPolicyCommand({
        UserName: 'sse-user',
        PolicyName: 's3-only',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }),
      }),
    );
    user = s3Client(m, 'us-east-1', { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! });
    keyArn = (await kmsClient(m).send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  });

  test('PUT under a customer key without kms:GenerateDataKey: 403 AccessDenied carrying the KMS denial', async () => {
    const err = await rejects(
      user.send(new PutObjectCommand({ Bucket: bucket, Key: 'user-kms', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn })),
      'AccessDenied',
      403,
    );
    assert.match(err.message, new RegExp(`user/sse-user is not authorized to perform: kms:GenerateDataKey on resource: ${keyArn}`));
  });

  test('GET of an object under that key without kms:Decrypt: 403 AccessDenied; HEAD needs no KMS call', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'root-kms', Body: 'secret', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn }));
    const err = await rejects(user.send(new GetObjectCommand({ Bucket: bucket, Key: 'root-kms' })), 'AccessDenied', 403);
    assert.match(err.message, /kms:Decrypt/);
    const head = await user.send(new HeadObjectCommand({ Bucket: bucket, Key: 'root-kms' }));
    assert.equal(head.SSEKMSKeyId, keyArn);
  });

  test('multipart: CreateMultipartUpload needs kms:GenerateDataKey; with only that, UploadPart still needs kms:Decrypt', async () => {
    await rejects(
      user.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mpu', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn })),
      'AccessDenied',
      403,
    );
    await iamClient(m).send(
      new PutUserPolicyCommand({
        UserName: 'sse-user',
        PolicyName: 'generate-only',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:GenerateDataKey', Resource: keyArn }] }),
      }),
    );
    const created = await user.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mpu', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn }));
    const err = await rejects(user.send(new UploadPartCommand({ Bucket: bucket, Key: 'mpu', UploadId: created.UploadId!, PartNumber: 1, Body: 'part' })), 'AccessDenied', 403);
    assert.match(err.message, /kms:Decrypt/);
    // A single-request PUT only needs GenerateDataKey.
    const put = await user.send(new PutObjectCommand({ Bucket: bucket, Key: 'user-kms', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn }));
    assert.equal(put.SSEKMSKeyId, keyArn);
  });

  test('the AWS managed key aws/s3 serves any principal the account lets use S3', async () => {
    await user.send(new PutObjectCommand({ Bucket: bucket, Key: 'managed', Body: 'via aws/s3', ServerSideEncryption: 'aws:kms' }));
    const get = await user.send(new GetObjectCommand({ Bucket: bucket, Key: 'managed' }));
    assert.equal(await get.Body!.transformToString(), 'via aws/s3');
  });
});
