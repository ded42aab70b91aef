/**
 * DeleteObjects (multi-object delete) through the SDK v3: unversioned, versioned and suspended
 * buckets, quiet mode, per-key errors (a malformed version id, a key the caller may not delete),
 * the required checksum header and malformed bodies.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { iamClient, s3Client } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { bucketName, rejects } from './helpers.js';
import { signedFetch } from './signed-fetch.js';

let m: MeridianProcess;
let s3: S3Client;

before(async () => {
  m = await startMeridianProcess();
  s3 = s3Client(m);
});
after(async () => {
  await m?.stop();
});

async function newBucket(status?: 'Enabled' | 'Suspended', keys: string[] = []): Promise<string> {
  const name = bucketName('mdel');
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  if (status) await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: status } }));
  for (const k of keys) await s3.send(new PutObjectCommand({ Bucket: name, Key: k, Body: k }));
  return name;
}

async function keysOf(bucket: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (out.Contents ?? []).map((c) => c.Key!);
}

describe('DeleteObjects', () => {
  test('unversioned: every key is reported Deleted, present or not, and the objects are gone', async () => {
    const b = await newBucket(undefined, ['a', 'b/c', 'keep']);
    const out = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'a' }, { Key: 'b/c' }, { Key: 'never-existed' }] } }));
    assert.deepEqual(out.Deleted?.map((d) => d.Key).sort(), ['a', 'b/c', 'never-existed']);
    assert.equal(out.Errors, undefined);
    for (const d of out.Deleted!) assert.equal(d.DeleteMarker, undefined, 'no delete markers without versioning');
    assert.deepEqual(await keysOf(b), ['keep']);
  });

  test('quiet mode reports only errors', async () => {
    const b = await newBucket(undefined, ['x', 'y']);
    const out = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Quiet: true, Objects: [{ Key: 'x' }, { Key: 'y' }] } }));
    assert.equal(out.Deleted, undefined);
    assert.equal(out.Errors, undefined);
    assert.deepEqual(await keysOf(b), []);
  });

  test('versioned: no version id adds delete markers; a version id removes that version; removing a marker says so', async () => {
    const b = await newBucket('Enabled');
    const v1 = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'one' }));
    const v2 = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'two' }));
    const marked = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'k' }] } }));
    const [d] = marked.Deleted!;
    assert.equal(d!.DeleteMarker, true);
    assert.match(d!.DeleteMarkerVersionId!, /^[A-Za-z0-9._]{32}$/);
    await rejects(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' })), 'NotFound', 404);

    const removed = await s3.send(
      new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'k', VersionId: d!.DeleteMarkerVersionId! }, { Key: 'k', VersionId: v1.VersionId! }] } }),
    );
    const byVersion = new Map(removed.Deleted!.map((x) => [x.VersionId, x]));
    assert.equal(byVersion.get(d!.DeleteMarkerVersionId)!.DeleteMarker, true, 'removing a marker by id reports DeleteMarker');
    assert.equal(byVersion.get(d!.DeleteMarkerVersionId)!.DeleteMarkerVersionId, d!.DeleteMarkerVersionId);
    assert.equal(byVersion.get(v1.VersionId)!.DeleteMarker, undefined);
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' }));
    assert.equal(head.VersionId, v2.VersionId, 'with the marker gone, v2 is current again');
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    assert.deepEqual(versions.Versions?.map((v) => v.VersionId), [v2.VersionId]);
    assert.equal(versions.DeleteMarkers, undefined);
  });

  test('suspended: the delete marker has version id null and replaces the null version', async () => {
    const b = await newBucket('Suspended', ['s']);
    const out = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 's' }] } }));
    assert.equal(out.Deleted![0]!.DeleteMarker, true);
    assert.equal(out.Deleted![0]!.DeleteMarkerVersionId, 'null');
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    assert.equal(versions.Versions, undefined, 'the null object version was replaced by the marker');
    assert.deepEqual(versions.DeleteMarkers?.map((v) => v.VersionId), ['null']);
  });

  test('a malformed version id is a per-key NoSuchVersion error; the other keys are still deleted', async () => {
    const b = await newBucket('Enabled', ['ok']);
    const out = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'ok' }, { Key: 'bad', VersionId: 'not-a-version' }] } }));
    assert.deepEqual(out.Deleted?.map((d) => d.Key), ['ok']);
    assert.deepEqual(out.Errors, [{ Key: 'bad', VersionId: 'not-a-version', Code: 'NoSuchVersion', Message: 'The specified version does not exist.' }]);
  });

  test('each key is authorized on its own: a key outside the caller’s s3:DeleteObject grant is a per-key AccessDenied', async () => {
    const b = await newBucket(undefined, ['tmp/1', 'tmp/2', 'keep/1']);
    const iam = iamClient(m);
    await iam.send(new CreateUserCommand({ UserName: 'tmp-cleaner' }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'tmp-cleaner' }))).AccessKey!;
    await iam.send(
      new PutUserPolicyCommand({
        UserName: 'tmp-cleaner',
        PolicyName: 'delete-tmp',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:DeleteObject', Resource: `arn:aws:s3:::${b}/tmp/*` }] }),
      }),
    );
    const user = s3Client(m, 'us-east-1', { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! });
    const out = await user.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'tmp/1' }, { Key: 'tmp/2' }, { Key: 'keep/1' }] } }));
    assert.deepEqual(out.Deleted?.map((d) => d.Key).sort(), ['tmp/1', 'tmp/2']);
    assert.deepEqual(out.Errors, [{ Key: 'keep/1', Code: 'AccessDenied', Message: 'Access Denied' }]);
    assert.deepEqual(await keysOf(b), ['keep/1']);
  });

  test('bad requests: no checksum header, malformed XML, no objects, more than 1,000 keys', async () => {
    const b = await newBucket(undefined, ['survivor']);
    const body = '<Delete><Object><Key>survivor</Key></Object></Delete>';
    const noMd5 = await signedFetch(m, 'POST', `/${b}`, { query: 'delete', body });
    assert.equal(noMd5.status, 400);
    assert.match(noMd5.text, /<Code>InvalidRequest<\/Code><Message>Missing required header for this request: Content-MD5 OR x-amz-checksum-\*<\/Message>/);
    for (const bad of ['<Delete><Object><Key>survivor</Key>', '<Delete></Delete>', `<Delete>${'<Object><Key>k</Key></Object>'.repeat(1001)}</Delete>`]) {
      const r = await signedFetch(m, 'POST', `/${b}`, { query: 'delete', body: bad, contentMd5: true });
      assert.equal(r.status, 400, bad.slice(0, 60));
      assert.match(r.text, /<Code>MalformedXML<\/Code>/);
    }
    assert.deepEqual(await keysOf(b), ['survivor'], 'nothing was deleted by a rejected request');
  });
});
