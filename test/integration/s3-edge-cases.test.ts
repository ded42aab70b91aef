/**
 * Bad input and edge answers through the SDK v3 and raw HTTP: the error document's shape on every
 * error, 501 naming unimplemented operations, malformed and oversized XML, invalid part numbers,
 * over-long keys, invalid UTF-8 in keys, `..` in keys (stored literally, never a path), metadata
 * limits in bytes, conditional writes, RestoreObject — and that none of them changes stored data.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
  RestoreObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { s3Client } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { bucketName, bytes, rejects } from './helpers.js';
import { signedFetch } from './signed-fetch.js';

let m: MeridianProcess;
let s3: S3Client;
let bucket: string;

before(async () => {
  m = await startMeridianProcess();
  s3 = s3Client(m);
  bucket = bucketName('edge');
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'existing', Body: 'keep me' }));
});
after(async () => {
  await m?.stop();
});

async function unchanged(): Promise<void> {
  assert.equal((await bytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'existing' }))).Body)).toString(), 'keep me');
}

describe('error documents', () => {
  test('every error carries Code, Message, Resource, RequestId and HostId, matching the response headers; HEAD errors are bodiless', async () => {
    const r = await signedFetch(m, 'GET', `/${bucket}/missing-key`);
    assert.equal(r.status, 404);
    assert.equal(r.headers['content-type'], 'application/xml');
    const field = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(r.text)?.[1];
    assert.equal(field('Code'), 'NoSuchKey');
    assert.equal(field('Message'), 'The specified key does not exist.');
    assert.equal(field('Key'), 'missing-key');
    assert.equal(field('Resource'), `/${bucket}/missing-key`);
    assert.equal(field('RequestId'), r.headers['x-amz-request-id']);
    assert.equal(field('HostId'), r.headers['x-amz-id-2']);
    const head = await signedFetch(m, 'HEAD', `/${bucket}/missing-key`);
    assert.equal(head.status, 404);
    assert.equal(head.body.length, 0);
    assert.ok(head.headers['x-amz-request-id']);
  });

  test('an operation Meridian does not implement is 501 NotImplemented naming it', async () => {
    const r = await signedFetch(m, 'GET', `/${bucket}`, { query: 'website' });
    assert.equal(r.status, 501);
    assert.match(r.text, /<Code>NotImplemented<\/Code><Message>Meridian does not implement GetBucketWebsite yet.<\/Message>/);
    assert.match(r.text, /<RequestId>[^<]+<\/RequestId><HostId>[^<]+<\/HostId>/);
  });
});

describe('bad input never changes stored data', () => {
  test('malformed XML and oversized configuration bodies', async () => {
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Suspended' } }));
    for (const body of ['<VersioningConfiguration><Status>Enabled', 'not xml at all', '<Other><Status>Enabled</Status></Other>']) {
      const r = await signedFetch(m, 'PUT', `/${bucket}`, { query: 'versioning', body, contentMd5: true });
      assert.equal(r.status, 400, body);
      assert.match(r.text, /<Code>MalformedXML<\/Code>/);
    }
    const huge = `<Tagging><TagSet>${'<Tag><Key>k</Key><Value>v</Value></Tag>'.repeat(3000)}</TagSet></Tagging>`;
    const r = await signedFetch(m, 'PUT', `/${bucket}/existing`, { query: 'tagging', body: huge, contentMd5: true });
    assert.equal(r.status, 400);
    assert.match(r.text, /<Code>MaxMessageLengthExceeded<\/Code>/);
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status, 'Suspended');
    await unchanged();
  });

  test('invalid part numbers: 0, 10001 and non-numbers are InvalidArgument', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp' }));
    for (const n of ['0', '10001', 'abc', '-1']) {
      const r = await signedFetch(m, 'PUT', `/${bucket}/mp`, { query: `partNumber=${n}&uploadId=${UploadId}`, body: 'part' });
      assert.equal(r.status, 400, n);
      assert.match(r.text, /<Code>InvalidArgument<\/Code><Message>Part number must be an integer between 1 and 10000, inclusive<\/Message>/);
    }
  });

  test('keys over 1024 bytes are KeyTooLongError on every write path', async () => {
    const long = 'é'.repeat(513); // 1026 bytes
    await rejects(s3.send(new PutObjectCommand({ Bucket: bucket, Key: long, Body: 'x' })), 'KeyTooLongError', 400);
    await rejects(s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: long })), 'KeyTooLongError', 400);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'é'.repeat(512), Body: 'x' }));
  });

  test('invalid UTF-8 in a key is 400 InvalidURI; nothing is stored', async () => {
    const r = await signedFetch(m, 'PUT', `/${bucket}/bad%FFkey`, { body: 'x' });
    assert.equal(r.status, 400);
    assert.match(r.text, /<Code>InvalidURI<\/Code>/);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'bad' }));
    assert.equal(listed.KeyCount, 0);
  });

  test('`..` in keys is an ordinary key: stored and listed literally, never a path on disk', async () => {
    const put = await signedFetch(m, 'PUT', `/${bucket}/../../escape`, { body: 'dots' });
    assert.equal(put.status, 200);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a/../b', Body: 'dots 2' }));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: '..' }));
    assert.deepEqual(listed.Contents?.map((c) => c.Key), ['../../escape']);
    assert.equal((await bytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: '../../escape' }))).Body)).toString(), 'dots');
    assert.equal((await bytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'a/../b' }))).Body)).toString(), 'dots 2');
    assert.ok(!readdirSync(join(m.dataDir, '..')).includes('escape'), 'nothing was written outside the data directory');
    await unchanged();
  });

  test('user metadata is limited to 2 KB (names and values)', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'meta-ok', Body: 'x', Metadata: { m: 'a'.repeat(2000) } }));
    const e = await rejects(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'meta-big', Body: 'x', Metadata: { m: 'a'.repeat(2000), n: 'b'.repeat(100) } })), 'MetadataTooLarge', 400);
    assert.equal(e.message, 'Your metadata headers exceed the maximum allowed metadata size');
    await rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'meta-big' })), 'NoSuchKey', 404);
  });
});

describe('conditional writes and RestoreObject', () => {
  test('If-None-Match: * creates only; If-Match replaces only that ETag, on PutObject and CompleteMultipartUpload', async () => {
    const first = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond', Body: 'v1', IfNoneMatch: '*' }));
    await rejects(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond', Body: 'v2', IfNoneMatch: '*' })), 'PreconditionFailed', 412);
    await rejects(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond', Body: 'v2', IfMatch: '"00000000000000000000000000000000"' })), 'PreconditionFailed', 412);
    await rejects(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'no-such', Body: 'v2', IfMatch: first.ETag })), 'NoSuchKey', 404);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond', Body: 'v2', IfMatch: first.ETag }));

    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'cond' }));
    const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'cond', UploadId, PartNumber: 1, Body: 'v3' }));
    const complete = (extra: { IfMatch?: string; IfNoneMatch?: string }) =>
      s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'cond', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] }, ...extra }));
    await rejects(complete({ IfNoneMatch: '*' }), 'PreconditionFailed', 412);
    await rejects(complete({ IfMatch: first.ETag! }), 'PreconditionFailed', 412);
    assert.equal((await bytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond' }))).Body)).toString(), 'v2');
    const current = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond' }));
    await bytes(current.Body);
    await complete({ IfMatch: current.ETag! });
    assert.equal((await bytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond' }))).Body)).toString(), 'v3');
  });

  test('RestoreObject: 403 InvalidObjectState unless archived; archived objects are online already (200)', async () => {
    const e = await rejects(s3.send(new RestoreObjectCommand({ Bucket: bucket, Key: 'existing', RestoreRequest: { Days: 1 } })), 'InvalidObjectState', 403);
    assert.equal(e.message, "Restore is not allowed for the object's current storage class");
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cold', Body: 'frozen', StorageClass: 'GLACIER' }));
    const ok = await s3.send(new RestoreObjectCommand({ Bucket: bucket, Key: 'cold', RestoreRequest: { Days: 1 } }));
    assert.equal(ok.$metadata.httpStatusCode, 200);
    await rejects(s3.send(new RestoreObjectCommand({ Bucket: bucket, Key: 'missing', RestoreRequest: { Days: 1 } })), 'NoSuchKey', 404);
  });
});
