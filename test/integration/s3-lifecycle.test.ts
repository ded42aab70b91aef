/**
 * Bucket lifecycle through the SDK v3 on a server whose business clock the test advances
 * (MERIDIAN_TEST_CLOCK=on, POST /_meridian/clock): the configuration round-trips and is validated;
 * expiration of current versions (deleted, or a delete marker when versioned), of noncurrent
 * versions (keeping the newest N), of expired object delete markers, and the abort of incomplete
 * multipart uploads happen once their day comes, and not before; filters select what they name.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketLifecycleCommand,
  GetBucketLifecycleConfigurationCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type LifecycleRule,
  type S3Client,
} from '@aws-sdk/client-s3';
import { s3Client } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { advanceClock, DAY } from '../support/test-clock.js';
import { bucketName, rejects } from './helpers.js';
import { signedFetch } from './signed-fetch.js';

let m: MeridianProcess;
let s3: S3Client;

before(async () => {
  m = await startMeridianProcess({ env: { MERIDIAN_TEST_CLOCK: 'on' } });
  s3 = s3Client(m);
});
after(async () => {
  await m?.stop();
});

async function newBucket(versioned = false): Promise<string> {
  const b = bucketName('lc');
  await s3.send(new CreateBucketCommand({ Bucket: b }));
  if (versioned) await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
  return b;
}

const put = (Bucket: string, Key: string, Body: string | Buffer = 'x', Tagging?: string) => s3.send(new PutObjectCommand({ Bucket, Key, Body, ...(Tagging ? { Tagging } : {}) }));
const setRules = (Bucket: string, Rules: LifecycleRule[]) => s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules } }));
async function keys(Bucket: string): Promise<string[]> {
  return ((await s3.send(new ListObjectsV2Command({ Bucket }))).Contents ?? []).map((c) => c.Key!);
}
/** Every version and marker id ('marker:<id>' for markers), the current one first. */
async function history(Bucket: string): Promise<string[]> {
  const out = await s3.send(new ListObjectVersionsCommand({ Bucket }));
  const all = [
    ...(out.Versions ?? []).map((v) => ({ id: v.VersionId!, latest: v.IsLatest })),
    ...(out.DeleteMarkers ?? []).map((d) => ({ id: `marker:${d.VersionId!}`, latest: d.IsLatest })),
  ];
  return [...all.filter((e) => e.latest), ...all.filter((e) => !e.latest)].map((e) => e.id);
}

describe('configuration', () => {
  test('round-trips every action and filter form; NoSuchLifecycleConfiguration before and after delete', async () => {
    const b = await newBucket(true);
    await rejects(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b })), 'NoSuchLifecycleConfiguration', 404);
    const Rules: LifecycleRule[] = [
      { ID: 'logs', Filter: { Prefix: 'logs/' }, Status: 'Enabled', Expiration: { Days: 30 }, Transitions: [{ Days: 30, StorageClass: 'STANDARD_IA' }] },
      {
        ID: 'tagged-big',
        Filter: { And: { Prefix: 'data/', Tags: [{ Key: 'tier', Value: 'cold' }], ObjectSizeGreaterThan: 1024 } },
        Status: 'Enabled',
        NoncurrentVersionExpiration: { NoncurrentDays: 7, NewerNoncurrentVersions: 3 },
      },
      { ID: 'uploads', Filter: {}, Status: 'Disabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 } },
      { ID: 'markers', Filter: { Prefix: '' }, Status: 'Enabled', Expiration: { ExpiredObjectDeleteMarker: true } },
      { ID: 'dated', Filter: { Tag: { Key: 'project', Value: 'old' } }, Status: 'Enabled', Expiration: { Date: new Date('2031-01-01T00:00:00Z') } },
    ];
    const out = await setRules(b, Rules);
    assert.equal(out.TransitionDefaultMinimumObjectSize, 'all_storage_classes_128K');
    const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b }));
    assert.deepEqual(got.Rules, Rules);
    assert.equal((await s3.send(new DeleteBucketLifecycleCommand({ Bucket: b }))).$metadata.httpStatusCode, 204);
    await rejects(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b })), 'NoSuchLifecycleConfiguration', 404);
  });

  test('validation: actions, positive days, midnight dates, unique ids, tag restrictions, malformed documents', async () => {
    const b = await newBucket();
    const bad = async (rules: LifecycleRule[], code: string, message?: RegExp) => {
      const e = await rejects(setRules(b, rules), code, 400);
      if (message) assert.match(e.message, message);
    };
    await bad([{ ID: 'none', Filter: {}, Status: 'Enabled' }], 'InvalidRequest', /At least one action needs to be specified in a rule/);
    await bad([{ Filter: {}, Status: 'Enabled', Expiration: { Days: 0 } }], 'InvalidArgument', /'Days' for Expiration action must be a positive integer/);
    await bad([{ Filter: {}, Status: 'Enabled', Expiration: { Date: new Date('2031-01-01T12:00:00Z') } }], 'InvalidArgument', /midnight GMT/);
    await bad(
      [
        { ID: 'same', Filter: {}, Status: 'Enabled', Expiration: { Days: 1 } },
        { ID: 'same', Filter: {}, Status: 'Enabled', Expiration: { Days: 2 } },
      ],
      'InvalidArgument',
      /Rule ID must be unique/,
    );
    await bad([{ Filter: { Tag: { Key: 'a', Value: 'b' } }, Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }], 'InvalidRequest');
    await bad([{ Filter: {}, Status: 'Enabled', Transitions: [{ Days: 10, StorageClass: 'STANDARD_IA' }] }], 'InvalidArgument', /greater than or equal to 30/);
    await bad([{ Filter: {}, Status: 'Enabled', Expiration: { Days: 1, Date: new Date('2031-01-01T00:00:00Z') } }], 'MalformedXML');
    const noStatus = await signedFetch(m, 'PUT', `/${b}`, { query: 'lifecycle', body: '<LifecycleConfiguration><Rule><Filter/><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>', contentMd5: true });
    assert.equal(noStatus.status, 400);
    assert.match(noStatus.text, /<Code>MalformedXML<\/Code>/);
    await rejects(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b })), 'NoSuchLifecycleConfiguration', 404);
  });
});

// These tests move one shared clock forward; each bucket's objects are written at the time it is then.
describe('applied by the clock', () => {
  test('unversioned: matching objects are deleted on their day (days after creation, to the next midnight), others stay', async () => {
    const b = await newBucket();
    for (const k of ['logs/1', 'logs/2', 'keep/1']) await put(b, k);
    await setRules(b, [
      { ID: 'logs', Filter: { Prefix: 'logs/' }, Status: 'Enabled', Expiration: { Days: 2 } },
      { ID: 'off', Filter: { Prefix: 'keep/' }, Status: 'Disabled', Expiration: { Days: 1 } },
    ]);
    await advanceClock(m, 1 * DAY);
    assert.deepEqual(await keys(b), ['keep/1', 'logs/1', 'logs/2'], 'not due after one day');
    await advanceClock(m, 2 * DAY);
    assert.deepEqual(await keys(b), ['keep/1']);
  });

  test('filters: prefix, every tag and the size bound must all hold', async () => {
    const b = await newBucket();
    await put(b, 'f/small', 'tiny', 'expire=yes');
    await put(b, 'f/big', 'x'.repeat(50), 'expire=yes');
    await put(b, 'f/big-untagged', 'x'.repeat(50));
    await put(b, 'g/big', 'x'.repeat(50), 'expire=yes');
    await setRules(b, [{ ID: 'and', Filter: { And: { Prefix: 'f/', Tags: [{ Key: 'expire', Value: 'yes' }], ObjectSizeGreaterThan: 10 } }, Status: 'Enabled', Expiration: { Days: 1 } }]);
    await advanceClock(m, 2 * DAY);
    assert.deepEqual(await keys(b), ['f/big-untagged', 'f/small', 'g/big']);
  });

  test('versioned: the current version gets a delete marker, noncurrent versions go after their days, then the lone marker', async () => {
    const b = await newBucket(true);
    const v1 = (await put(b, 'k', '1')).VersionId!;
    const v2 = (await put(b, 'k', '2')).VersionId!;
    const v3 = (await put(b, 'k', '3')).VersionId!;
    await setRules(b, [
      { ID: 'current', Filter: { Prefix: '' }, Status: 'Enabled', Expiration: { Days: 1 }, NoncurrentVersionExpiration: { NoncurrentDays: 2 } },
      { ID: 'markers', Filter: { Prefix: '' }, Status: 'Enabled', Expiration: { ExpiredObjectDeleteMarker: true } },
    ]);
    await advanceClock(m, 2 * DAY);
    assert.deepEqual(await keys(b), [], 'the current version expired');
    const afterExpiry = await history(b);
    assert.ok(afterExpiry[0]!.startsWith('marker:'), 'a delete marker is current');
    assert.ok(afterExpiry.includes(v3), 'the expired version is kept as noncurrent');
    await advanceClock(m, 1 * DAY);
    const later = await history(b);
    assert.ok(!later.includes(v1) && !later.includes(v2), 'noncurrent for two days and more: removed');
    assert.ok(later.includes(v3), 'noncurrent for one day only: kept');
    await advanceClock(m, 2 * DAY);
    assert.deepEqual(await history(b), [], 'the last noncurrent version went, then the expired object delete marker');
  });

  test('NewerNoncurrentVersions keeps the newest noncurrent versions', async () => {
    const b = await newBucket(true);
    const ids: string[] = [];
    for (let i = 1; i <= 5; i++) ids.push((await put(b, 'k', String(i))).VersionId!);
    await setRules(b, [{ ID: 'keep-2', Filter: {}, Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 2 } }]);
    await advanceClock(m, 2 * DAY);
    assert.deepEqual(await history(b), [ids[4], ids[3], ids[2]]);
  });

  test('incomplete multipart uploads are aborted DaysAfterInitiation later, by prefix', async () => {
    const b = await newBucket();
    await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'tmp/a' }));
    await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'keep/b' }));
    await setRules(b, [{ ID: 'abort', Filter: { Prefix: 'tmp/' }, Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }]);
    await advanceClock(m, 2 * DAY);
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: b }));
    assert.deepEqual(uploads.Uploads?.map((u) => u.Key), ['keep/b']);
  });
});
