/**
 * Object tagging (current and specific versions) and bucket tagging through the SDK v3, with the
 * limits AWS enforces: 10 tags per object, 50 per bucket, keys ≤128 and values ≤256 characters,
 * unique keys, no aws: prefix; and the malformed or unsigned-checksum bodies AWS refuses.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateBucketCommand,
  DeleteBucketTaggingCommand,
  DeleteObjectCommand,
  DeleteObjectTaggingCommand,
  GetBucketTaggingCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
  type Tag,
} from '@aws-sdk/client-s3';
import { s3Client } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { bucketName, rejects } from './helpers.js';
import { signedFetch } from './signed-fetch.js';

let m: MeridianProcess;
let s3: S3Client;
let bucket: string;

before(async () => {
  m = await startMeridianProcess();
  s3 = s3Client(m);
  bucket = bucketName('tags');
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
});
after(async () => {
  await m?.stop();
});

const tags = (n: number, prefix = 'k'): Tag[] => Array.from({ length: n }, (_, i) => ({ Key: `${prefix}${i}`, Value: `v${i}` }));

describe('object tagging', () => {
  test('put, get and delete the tags of the current version; HeadObject counts them', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'doc', Body: 'd', Tagging: 'from=header' }));
    assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'doc' }))).TagSet, [{ Key: 'from', Value: 'header' }]);
    const out = await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'doc', Tagging: { TagSet: [{ Key: 'project', Value: 'meridian' }, { Key: 'stage', Value: 'test run' }] } }));
    assert.equal(out.VersionId, put.VersionId);
    const got = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'doc' }));
    assert.deepEqual(got.TagSet, [{ Key: 'project', Value: 'meridian' }, { Key: 'stage', Value: 'test run' }]);
    assert.equal(got.VersionId, put.VersionId);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'doc' }))).TagCount, 2);
    const del = await s3.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 'doc' }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'doc' }))).TagSet ?? [], []);
  });

  test('a version id addresses that version’s tags only', async () => {
    const v1 = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ver', Body: '1' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ver', Body: '2', Tagging: 'current=yes' }));
    await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'ver', VersionId: v1.VersionId, Tagging: { TagSet: [{ Key: 'old', Value: 'yes' }] } }));
    assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'ver', VersionId: v1.VersionId }))).TagSet, [{ Key: 'old', Value: 'yes' }]);
    assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'ver' }))).TagSet, [{ Key: 'current', Value: 'yes' }]);
  });

  test('limits: 10 tags, key 128 and value 256 characters, unique keys, no aws: prefix', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'limits', Body: 'l' }));
    const put = (TagSet: Tag[]) => s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'limits', Tagging: { TagSet } }));
    await put(tags(10));
    const tooMany = await rejects(put(tags(11)), 'BadRequest', 400);
    assert.equal(tooMany.message, 'Object tags cannot be greater than 10');
    await put([{ Key: 'k'.repeat(128), Value: 'v'.repeat(256) }]);
    await rejects(put([{ Key: 'k'.repeat(129), Value: 'v' }]), 'InvalidTag', 400);
    await rejects(put([{ Key: 'k', Value: 'v'.repeat(257) }]), 'InvalidTag', 400);
    const dup = await rejects(put([{ Key: 'same', Value: '1' }, { Key: 'same', Value: '2' }]), 'InvalidTag', 400);
    assert.equal(dup.message, 'Cannot provide multiple Tags with the same key');
    await rejects(put([{ Key: 'aws:reserved', Value: 'x' }]), 'InvalidTag', 400);
    await rejects(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'limits2', Body: 'x', Tagging: tags(11).map((t) => `${t.Key}=${t.Value}`).join('&') })), 'BadRequest', 400);
    assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'limits' }))).TagSet, [{ Key: 'k'.repeat(128), Value: 'v'.repeat(256) }], 'rejected requests changed nothing');
  });

  test('missing keys, delete markers and bad bodies', async () => {
    await rejects(s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'missing' })), 'NoSuchKey', 404);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'gone', Body: 'g' }));
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'gone' }));
    await rejects(s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'gone' })), 'NoSuchKey', 404);
    await rejects(s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'gone', VersionId: marker.VersionId })), 'MethodNotAllowed', 405);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'raw', Body: 'r' }));
    const body = '<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>';
    const noMd5 = await signedFetch(m, 'PUT', `/${bucket}/raw`, { query: 'tagging', body });
    assert.equal(noMd5.status, 400);
    assert.match(noMd5.text, /<Code>InvalidRequest<\/Code>/);
    const malformed = await signedFetch(m, 'PUT', `/${bucket}/raw`, { query: 'tagging', body: '<Tagging><TagSet><Tag><Key>a', contentMd5: true });
    assert.equal(malformed.status, 400);
    assert.match(malformed.text, /<Code>MalformedXML<\/Code>/);
  });
});

describe('bucket tagging', () => {
  test('NoSuchTagSet until set; put, get, delete; 50 tags at most', async () => {
    const b = bucketName('btags');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const none = await rejects(s3.send(new GetBucketTaggingCommand({ Bucket: b })), 'NoSuchTagSet', 404);
    assert.equal(none.message, 'The TagSet does not exist');
    const put = await s3.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: [{ Key: 'cost-centre', Value: '42' }] } }));
    assert.equal(put.$metadata.httpStatusCode, 204);
    assert.deepEqual((await s3.send(new GetBucketTaggingCommand({ Bucket: b }))).TagSet, [{ Key: 'cost-centre', Value: '42' }]);
    await s3.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: tags(50) } }));
    assert.equal((await s3.send(new GetBucketTaggingCommand({ Bucket: b }))).TagSet?.length, 50);
    await rejects(s3.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: tags(51) } })), 'InvalidTag', 400);
    await rejects(s3.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: [{ Key: 'a', Value: '1' }, { Key: 'a', Value: '2' }] } })), 'InvalidTag', 400);
    assert.equal((await s3.send(new DeleteBucketTaggingCommand({ Bucket: b }))).$metadata.httpStatusCode, 204);
    await rejects(s3.send(new GetBucketTaggingCommand({ Bucket: b })), 'NoSuchTagSet', 404);
    await rejects(s3.send(new GetBucketTaggingCommand({ Bucket: bucketName('nobucket') })), 'NoSuchBucket', 404);
  });
});
