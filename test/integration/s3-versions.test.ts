/**
 * Object versions through the SDK v3 against a real server (reference s3-replication-sse-versioning.md
 * §6.2 version ids and the null version, §6.3 delete markers).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { s3Client } from '../support/clients.js';
import { bucketName, rejects } from './helpers.js';

let m: MeridianProcess;
let s3: S3Client;

before(async () => {
  m = await startMeridianProcess();
  s3 = s3Client(m);
});
after(async () => {
  await m?.stop();
});

const VERSION_ID = /^[A-Za-z0-9._]{32}$/;

async function newBucket(status?: 'Enabled' | 'Suspended'): Promise<string> {
  const name = bucketName('versions');
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  if (status) await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: status } }));
  return name;
}

async function text(bucket: string, key: string, versionId?: string): Promise<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }));
  return out.Body!.transformToString();
}

describe('versioning enabled', () => {
  test('each PUT gets a fresh 32-character version id; every version stays readable by id', async () => {
    const b = await newBucket('Enabled');
    const v1 = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'one' }));
    const v2 = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'two' }));
    assert.match(v1.VersionId!, VERSION_ID);
    assert.match(v2.VersionId!, VERSION_ID);
    assert.notEqual(v1.VersionId, v2.VersionId);
    assert.equal(await text(b, 'k'), 'two');
    assert.equal(await text(b, 'k', v1.VersionId), 'one');
    const latest = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' }));
    assert.equal(latest.VersionId, v2.VersionId);
  });

  test('DELETE without a version id adds a delete marker: GET 404 NoSuchKey with x-amz-delete-marker, by id 405', async () => {
    const b = await newBucket('Enabled');
    const v1 = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'doc', Body: 'content' }));
    const del = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'doc' }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    assert.equal(del.DeleteMarker, true);
    assert.match(del.VersionId!, VERSION_ID);

    const err = await rejects(s3.send(new GetObjectCommand({ Bucket: b, Key: 'doc' })), 'NoSuchKey', 404);
    assert.equal(err.$response?.headers['x-amz-delete-marker'], 'true');
    assert.equal(err.$response?.headers['x-amz-version-id'], del.VersionId);
    const head = await rejects(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'doc' })), 'NotFound', 404);
    assert.equal(head.$response?.headers['x-amz-delete-marker'], 'true');

    const byId = await rejects(s3.send(new GetObjectCommand({ Bucket: b, Key: 'doc', VersionId: del.VersionId! })), 'MethodNotAllowed', 405);
    assert.equal(byId.message, 'The specified method is not allowed against this resource.');
    assert.equal(byId.Method, 'GET');
    assert.equal(byId.ResourceType, 'DeleteMarker');
    assert.equal(byId.$response?.headers['allow'], 'DELETE');
    assert.equal(byId.$response?.headers['x-amz-delete-marker'], 'true');
    // HEAD errors are bodiless: SDK v3 sees only the 405.
    const headById = await rejects(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'doc', VersionId: del.VersionId! })), 'Unknown', 405);
    assert.equal(headById.$response?.headers['x-amz-delete-marker'], 'true');

    // The data version is still there.
    assert.equal(await text(b, 'doc', v1.VersionId), 'content');
  });

  test('deleting the delete marker by id restores the previous version; deleting a version by id is permanent', async () => {
    const b = await newBucket('Enabled');
    const v1 = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'first' }));
    const v2 = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'second' }));
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
    const unmark = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: marker.VersionId! }));
    assert.equal(unmark.DeleteMarker, true);
    assert.equal(unmark.VersionId, marker.VersionId);
    assert.equal(await text(b, 'k'), 'second');

    const gone = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: v2.VersionId! }));
    assert.equal(gone.VersionId, v2.VersionId);
    assert.equal(gone.DeleteMarker, undefined, 'x-amz-delete-marker is never sent as false');
    assert.equal(await text(b, 'k'), 'first');
    const err = await rejects(s3.send(new GetObjectCommand({ Bucket: b, Key: 'k', VersionId: v2.VersionId! })), 'NoSuchVersion', 404);
    assert.equal(err.message, 'The specified version does not exist.');
    assert.equal(err.Key, 'k');
    assert.equal(err.VersionId, v2.VersionId);
    assert.equal(await text(b, 'k', v1.VersionId), 'first');
  });

  test('a DELETE of a key that never existed still creates a delete marker; a second DELETE adds another', async () => {
    const b = await newBucket('Enabled');
    const d1 = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'ghost' }));
    const d2 = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'ghost' }));
    assert.equal(d1.DeleteMarker, true);
    assert.equal(d2.DeleteMarker, true);
    assert.notEqual(d1.VersionId, d2.VersionId);
    const list = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    assert.deepEqual(list.DeleteMarkers?.map((d) => [d.VersionId, d.IsLatest]), [
      [d2.VersionId, true],
      [d1.VersionId, false],
    ]);
    assert.equal(list.Versions, undefined);
  });

  test('a malformed version id: 400 InvalidArgument (GET and DELETE)', async () => {
    const b = await newBucket('Enabled');
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' }));
    for (const call of [
      () => s3.send(new GetObjectCommand({ Bucket: b, Key: 'k', VersionId: 'not-a-version' })),
      () => s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: 'not-a-version' })),
    ]) {
      const err = await rejects(call(), 'InvalidArgument', 400);
      assert.equal(err.message, 'Invalid version id specified');
      assert.equal(err.ArgumentName, 'versionId');
    }
  });

  test('an object written before versioning was enabled keeps version id "null"', async () => {
    const b = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'old', Body: 'before' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'old' }));
    assert.equal(head.VersionId, 'null');
    const v = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'old', Body: 'after' }));
    assert.match(v.VersionId!, VERSION_ID);
    assert.equal(await text(b, 'old', 'null'), 'before');
    assert.equal(await text(b, 'old'), 'after');
  });
});

describe('versioning suspended', () => {
  test('PUTs write the null version (replacing it), keep real versions, and return no x-amz-version-id', async () => {
    const b = await newBucket('Enabled');
    const kept = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'versioned' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } }));
    const p1 = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'null one' }));
    assert.equal(p1.VersionId, undefined);
    const p2 = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'null two' }));
    assert.equal(p2.VersionId, undefined);

    const get = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }));
    assert.equal(get.VersionId, 'null');
    assert.equal(await get.Body!.transformToString(), 'null two');
    assert.equal(await text(b, 'k', kept.VersionId), 'versioned');

    const list = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    assert.deepEqual(list.Versions?.map((v) => [v.VersionId, v.IsLatest]), [
      ['null', true],
      [kept.VersionId, false],
    ]);
  });

  test('DELETE replaces the null version with a null delete marker; the real versions stay', async () => {
    const b = await newBucket('Enabled');
    const kept = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'versioned' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'null data' }));
    const del = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
    assert.equal(del.DeleteMarker, true);
    assert.equal(del.VersionId, 'null');
    await rejects(s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' })), 'NoSuchKey', 404);
    const list = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    assert.deepEqual(list.DeleteMarkers?.map((d) => [d.VersionId, d.IsLatest]), [['null', true]]);
    assert.deepEqual(list.Versions?.map((v) => v.VersionId), [kept.VersionId]);
  });
});
