/**
 * MERIDIAN_SSE_KMS_OVER_HTTP=never: AWS's behaviour (reference §5.4). SSE-KMS requests, GETs of
 * KMS-encrypted objects and SSE-C requests over plain HTTP are 400; over HTTPS they work; SSE-S3 works
 * over both.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { s3Client } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { bucketName, rejects } from './helpers.js';

let m: MeridianProcess;
let http: S3Client;
let https: S3Client;
const bucket = bucketName('transport');

before(async () => {
  m = await startMeridianProcess({ env: { MERIDIAN_SSE_KMS_OVER_HTTP: 'never' } });
  http = s3Client(m);
  https = new S3Client({
    endpoint: m.httpsEndpoint!,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey },
    maxAttempts: 1,
    requestHandler: { httpsAgent: new Agent({ ca: readFileSync(m.certFile!) }) },
  });
  await http.send(new CreateBucketCommand({ Bucket: bucket }));
});
after(async () => {
  await m?.stop();
});

test('SSE-KMS needs HTTPS, for writes and for reads', async () => {
  const e = await rejects(http.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms' })), 'InvalidArgument', 400);
  assert.match(e.message, /must be made over a secure connection/);
  await https.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'over tls', ServerSideEncryption: 'aws:kms' }));
  await rejects(http.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })), 'InvalidArgument', 400);
  assert.equal(await (await https.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }))).Body!.transformToString(), 'over tls');
});

test('SSE-C needs HTTPS; SSE-S3 works over both', async () => {
  const key = randomBytes(32);
  const sseC = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(key).digest('base64') };
  await rejects(http.send(new PutObjectCommand({ Bucket: bucket, Key: 'c', Body: 'x', ...sseC })), 'InvalidRequest', 400);
  await https.send(new PutObjectCommand({ Bucket: bucket, Key: 'c', Body: 'customer', ...sseC }));
  assert.equal(await (await https.send(new GetObjectCommand({ Bucket: bucket, Key: 'c', ...sseC }))).Body!.transformToString(), 'customer');
  await http.send(new PutObjectCommand({ Bucket: bucket, Key: 's3', Body: 'plain http' }));
  assert.equal(await (await http.send(new GetObjectCommand({ Bucket: bucket, Key: 's3' }))).Body!.transformToString(), 'plain http');
});
