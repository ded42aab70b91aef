/**
 * S3 buckets through the SDK v3 against a real server: CreateBucket and regions (reference
 * s3-replication-sse-versioning.md §7.1), finding a bucket's region (§7.2), requests signed for the
 * wrong region (§7.3), DeleteBucket, and versioning configuration (§6.1).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetBucketLocationCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
  type BucketLocationConstraint,
  type BucketVersioningStatus,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { s3Client } from '../support/clients.js';
import { bucketName, rejects } from './helpers.js';

let m: MeridianProcess;
let east1: S3Client;
let east2: S3Client;

before(async () => {
  m = await startMeridianProcess();
  east1 = s3Client(m, 'us-east-1');
  east2 = s3Client(m, 'us-east-2');
});
after(async () => {
  await m?.stop();
});

/**
 * SDK v3 adds LocationConstraint = the client's region by itself; a client that drops the body
 * before signing sends CreateBucket with no configuration at all, as the CLI's `s3 mb` may.
 */
function withoutBody(client: S3Client): S3Client {
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { body?: unknown; headers: Record<string, string> };
      request.body = '';
      request.headers['content-length'] = '0';
      return next(args);
    },
    { step: 'build', name: 'dropCreateBucketConfiguration' },
  );
  return client;
}

const lc = (v: string) => v as BucketLocationConstraint;

describe('CreateBucket and regions (§7.1)', () => {
  test('us-east-1 without a configuration: bucket in us-east-1, Location /name, empty GetBucketLocation', async () => {
    const name = bucketName();
    const out = await east1.send(new CreateBucketCommand({ Bucket: name }));
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.equal(out.Location, `/${name}`);
    const loc = await east1.send(new GetBucketLocationCommand({ Bucket: name }));
    assert.ok(loc.LocationConstraint === undefined || (loc.LocationConstraint as string) === '', `got ${loc.LocationConstraint}`);
    const head = await east1.send(new HeadBucketCommand({ Bucket: name }));
    assert.equal(head.BucketRegion, 'us-east-1');
  });

  test('a regional client sends LocationConstraint = its region: bucket in us-east-2', async () => {
    const name = bucketName();
    await east2.send(new CreateBucketCommand({ Bucket: name }));
    const loc = await east2.send(new GetBucketLocationCommand({ Bucket: name }));
    assert.equal(loc.LocationConstraint, 'us-east-2');
    const head = await east2.send(new HeadBucketCommand({ Bucket: name }));
    assert.equal(head.BucketRegion, 'us-east-2');
    assert.equal(head.BucketArn, `arn:aws:s3:::${name}`);
  });

  test('the us-east-1 (global) endpoint accepts another region as LocationConstraint', async () => {
    const name = bucketName();
    await east1.send(new CreateBucketCommand({ Bucket: name, CreateBucketConfiguration: { LocationConstraint: 'us-west-1' } }));
    // GetBucketLocation answers in any region (§7.2); HeadBucket must be signed for the bucket's region.
    const loc = await east1.send(new GetBucketLocationCommand({ Bucket: name }));
    assert.equal(loc.LocationConstraint, 'us-west-1');
    const head = await s3Client(m, 'us-west-1').send(new HeadBucketCommand({ Bucket: name }));
    assert.equal(head.BucketRegion, 'us-west-1');
  });

  test('us-east-1 with LocationConstraint us-east-1 or an unknown value: 400 InvalidLocationConstraint', async () => {
    for (const value of ['us-east-1', 'foo']) {
      const err = await rejects(
        east1.send(new CreateBucketCommand({ Bucket: bucketName(), CreateBucketConfiguration: { LocationConstraint: lc(value) } })),
        'InvalidLocationConstraint',
        400,
      );
      assert.equal(err.message, 'The specified location-constraint is not valid');
      assert.equal(err.LocationConstraint, value);
    }
  });

  test('a regional endpoint without a LocationConstraint: 400 IllegalLocationConstraintException (unspecified)', async () => {
    const bare = withoutBody(s3Client(m, 'us-east-2'));
    const err = await rejects(bare.send(new CreateBucketCommand({ Bucket: bucketName() })), 'IllegalLocationConstraintException', 400);
    assert.equal(err.message, 'The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.');
  });

  test('a regional endpoint with another region, us-east-1 or a bad value: 400 IllegalLocationConstraintException naming it', async () => {
    for (const value of ['eu-west-1', 'us-east-1', 'bar', 'EU']) {
      const err = await rejects(
        east2.send(new CreateBucketCommand({ Bucket: bucketName(), CreateBucketConfiguration: { LocationConstraint: lc(value) } })),
        'IllegalLocationConstraintException',
        400,
      );
      assert.equal(err.message, `The ${value} location constraint is incompatible for the region specific endpoint this request was sent to.`);
    }
  });

  test('EU from eu-west-1 creates the bucket there and GetBucketLocation returns EU', async () => {
    const name = bucketName();
    const euWest1 = s3Client(m, 'eu-west-1');
    await euWest1.send(new CreateBucketCommand({ Bucket: name, CreateBucketConfiguration: { LocationConstraint: 'EU' } }));
    const loc = await euWest1.send(new GetBucketLocationCommand({ Bucket: name }));
    assert.equal(loc.LocationConstraint, 'EU');
    assert.equal((await euWest1.send(new HeadBucketCommand({ Bucket: name }))).BucketRegion, 'eu-west-1');
  });

  test('re-creating your own bucket: 200 in us-east-1 (legacy), else 409 BucketAlreadyOwnedByYou with BucketName', async () => {
    const inEast1 = bucketName();
    await east1.send(new CreateBucketCommand({ Bucket: inEast1 }));
    const again = await east1.send(new CreateBucketCommand({ Bucket: inEast1 }));
    assert.equal(again.$metadata.httpStatusCode, 200);
    // Nuance (a): an empty tag list still gets 200; a re-create carrying tags gets 409.
    const emptyTags = await east1.send(new CreateBucketCommand({ Bucket: inEast1, CreateBucketConfiguration: { Tags: [] } }));
    assert.equal(emptyTags.$metadata.httpStatusCode, 200);
    await rejects(
      east1.send(new CreateBucketCommand({ Bucket: inEast1, CreateBucketConfiguration: { Tags: [{ Key: 'team', Value: 'storage' }] } })),
      'BucketAlreadyOwnedByYou',
      409,
    );

    const inEast2 = bucketName();
    await east2.send(new CreateBucketCommand({ Bucket: inEast2 }));
    const err = await rejects(east2.send(new CreateBucketCommand({ Bucket: inEast2 })), 'BucketAlreadyOwnedByYou', 409);
    assert.equal(err.message, 'Your previous request to create the named bucket succeeded and you already own it.');
    assert.equal(err.BucketName, inEast2);

    // From the us-east-1 endpoint, a bucket you own in another region is 409 whatever the constraint.
    const inWest1 = bucketName();
    await east1.send(new CreateBucketCommand({ Bucket: inWest1, CreateBucketConfiguration: { LocationConstraint: 'us-west-1' } }));
    await rejects(east1.send(new CreateBucketCommand({ Bucket: inWest1 })), 'BucketAlreadyOwnedByYou', 409);
    await rejects(
      east1.send(new CreateBucketCommand({ Bucket: inWest1, CreateBucketConfiguration: { LocationConstraint: 'us-west-1' } })),
      'BucketAlreadyOwnedByYou',
      409,
    );
  });

  test('invalid bucket names: 400 InvalidBucketName', async () => {
    for (const name of ['ab', 'Upper-Case', 'under_score', 'double..dot', '192.168.5.4', '-leading', 'trailing-', 'a'.repeat(64), 'xn--prefix', 'name-s3alias']) {
      const err = await rejects(east1.send(new CreateBucketCommand({ Bucket: name })), 'InvalidBucketName', 400);
      assert.equal(err.BucketName, name);
    }
  });
});

describe('finding a bucket (§7.2)', () => {
  test('ListBuckets lists every bucket of the account with its BucketRegion', async () => {
    const a = bucketName('list');
    const b = bucketName('list');
    await east1.send(new CreateBucketCommand({ Bucket: a }));
    await east2.send(new CreateBucketCommand({ Bucket: b }));
    const out = await east1.send(new ListBucketsCommand({}));
    const byName = new Map((out.Buckets ?? []).map((x) => [x.Name, x]));
    assert.equal(byName.get(a)?.BucketRegion, 'us-east-1');
    assert.equal(byName.get(b)?.BucketRegion, 'us-east-2');
    assert.ok(byName.get(a)?.CreationDate instanceof Date);
    assert.ok(out.Owner?.ID);
    const names = (out.Buckets ?? []).map((x) => x.Name!);
    assert.deepEqual(names, [...names].sort(), 'buckets are listed in name order');
  });

  test('HeadBucket of a missing bucket: bare 404 (NotFound)', async () => {
    await rejects(east1.send(new HeadBucketCommand({ Bucket: bucketName('missing') })), 'NotFound', 404);
  });

  test('GetBucketLocation of a missing bucket: 404 NoSuchBucket', async () => {
    await rejects(east1.send(new GetBucketLocationCommand({ Bucket: bucketName('missing') })), 'NoSuchBucket', 404);
  });
});

describe('wrong signing region (§7.3)', () => {
  test('a request signed for another region: 400 AuthorizationHeaderMalformed with <Region> and x-amz-bucket-region', async () => {
    const name = bucketName();
    await east2.send(new CreateBucketCommand({ Bucket: name }));
    const wrong = s3Client(m, 'us-west-2');
    const err = await rejects(wrong.send(new ListObjectsV2Command({ Bucket: name })), 'AuthorizationHeaderMalformed', 400);
    assert.equal(err.message, "The authorization header is malformed; the region 'us-west-2' is wrong; expecting 'us-east-2'");
    assert.equal(err.Region, 'us-east-2');
    assert.equal(err.$response?.headers['x-amz-bucket-region'], 'us-east-2');

    const get = await rejects(east1.send(new GetObjectCommand({ Bucket: name, Key: 'k' })), 'AuthorizationHeaderMalformed', 400);
    assert.equal(get.Region, 'us-east-2');
  });

  test('HeadBucket signed for the wrong region: bare 400 with x-amz-bucket-region; followRegionRedirects then succeeds', async () => {
    const name = bucketName();
    await east2.send(new CreateBucketCommand({ Bucket: name }));
    // HEAD errors have no body: SDK v3 names the error after nothing but the status.
    const err = await rejects(east1.send(new HeadBucketCommand({ Bucket: name })), 'Unknown', 400);
    assert.equal(err.$response?.headers['x-amz-bucket-region'], 'us-east-2');

    const following = s3Client(m, 'us-east-1');
    following.config.followRegionRedirects = true;
    const head = await following.send(new HeadBucketCommand({ Bucket: name }));
    assert.equal(head.BucketRegion, 'us-east-2');
  });
});

describe('DeleteBucket', () => {
  test('a bucket holding only a delete marker is not empty (409 BucketNotEmpty); once emptied it is deleted', async () => {
    const name = bucketName();
    await east1.send(new CreateBucketCommand({ Bucket: name }));
    await east1.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
    const put = await east1.send(new PutObjectCommand({ Bucket: name, Key: 'k', Body: 'v1' }));
    const del = await east1.send(new DeleteObjectCommand({ Bucket: name, Key: 'k' }));
    assert.equal(del.DeleteMarker, true);
    await east1.send(new DeleteObjectCommand({ Bucket: name, Key: 'k', VersionId: put.VersionId! }));

    const err = await rejects(east1.send(new DeleteBucketCommand({ Bucket: name })), 'BucketNotEmpty', 409);
    assert.equal(err.message, 'The bucket you tried to delete is not empty. You must delete all versions in the bucket.');
    assert.equal(err.BucketName, name);

    await east1.send(new DeleteObjectCommand({ Bucket: name, Key: 'k', VersionId: del.VersionId! }));
    const gone = await east1.send(new DeleteBucketCommand({ Bucket: name }));
    assert.equal(gone.$metadata.httpStatusCode, 204);
    await rejects(east1.send(new HeadBucketCommand({ Bucket: name })), 'NotFound', 404);
    // The name is free again.
    await east1.send(new CreateBucketCommand({ Bucket: name }));
  });

  test('a bucket holding only multipart uploads in progress is deleted and the uploads discarded (AWS)', async () => {
    const name = bucketName('mpu');
    await east1.send(new CreateBucketCommand({ Bucket: name }));
    const { UploadId } = await east1.send(new CreateMultipartUploadCommand({ Bucket: name, Key: 'big' }));
    await east1.send(new UploadPartCommand({ Bucket: name, Key: 'big', UploadId, PartNumber: 1, Body: Buffer.alloc(1024 * 1024, 'p') }));
    await east1.send(new CreateMultipartUploadCommand({ Bucket: name, Key: 'other' }));

    const gone = await east1.send(new DeleteBucketCommand({ Bucket: name }));
    assert.equal(gone.$metadata.httpStatusCode, 204);
    await rejects(east1.send(new HeadBucketCommand({ Bucket: name })), 'NotFound', 404);
    // A bucket of the same name starts without them; the old upload is gone for good.
    await east1.send(new CreateBucketCommand({ Bucket: name }));
    const uploads = await east1.send(new ListMultipartUploadsCommand({ Bucket: name }));
    assert.equal(uploads.Uploads, undefined);
    await rejects(east1.send(new UploadPartCommand({ Bucket: name, Key: 'big', UploadId, PartNumber: 2, Body: 'x' })), 'NoSuchUpload', 404);
  });

  test('objects beside uploads keep the bucket (BucketNotEmpty) and the uploads survive', async () => {
    const name = bucketName('mpu');
    await east1.send(new CreateBucketCommand({ Bucket: name }));
    await east1.send(new PutObjectCommand({ Bucket: name, Key: 'k', Body: 'v' }));
    const { UploadId } = await east1.send(new CreateMultipartUploadCommand({ Bucket: name, Key: 'big' }));
    await rejects(east1.send(new DeleteBucketCommand({ Bucket: name })), 'BucketNotEmpty', 409);
    const uploads = await east1.send(new ListMultipartUploadsCommand({ Bucket: name }));
    assert.deepEqual(uploads.Uploads?.map((u) => u.UploadId), [UploadId]);
  });

  test('deleting a missing bucket: 404 NoSuchBucket', async () => {
    const name = bucketName('missing');
    const err = await rejects(east1.send(new DeleteBucketCommand({ Bucket: name })), 'NoSuchBucket', 404);
    assert.equal(err.BucketName, name);
  });
});

describe('versioning configuration (§6.1)', () => {
  test('never versioned: empty configuration; Enabled then Suspended are reported back', async () => {
    const name = bucketName();
    await east1.send(new CreateBucketCommand({ Bucket: name }));
    const fresh = await east1.send(new GetBucketVersioningCommand({ Bucket: name }));
    assert.equal(fresh.Status, undefined);
    await east1.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
    assert.equal((await east1.send(new GetBucketVersioningCommand({ Bucket: name }))).Status, 'Enabled');
    await east1.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Suspended' } }));
    assert.equal((await east1.send(new GetBucketVersioningCommand({ Bucket: name }))).Status, 'Suspended');
  });

  test('Suspended on a never-versioned bucket is accepted', async () => {
    const name = bucketName();
    await east2.send(new CreateBucketCommand({ Bucket: name }));
    await east2.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Suspended' } }));
    assert.equal((await east2.send(new GetBucketVersioningCommand({ Bucket: name }))).Status, 'Suspended');
  });

  test('lowercase "enabled" or "Disabled": 400 MalformedXML; no Status: 400 IllegalVersioningConfigurationException', async () => {
    const name = bucketName();
    await east1.send(new CreateBucketCommand({ Bucket: name }));
    for (const status of ['enabled', 'Disabled']) {
      await rejects(
        east1.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: status as BucketVersioningStatus } })),
        'MalformedXML',
        400,
      );
    }
    const err = await rejects(
      east1.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: {} })),
      'IllegalVersioningConfigurationException',
      400,
    );
    assert.equal(err.message, 'The Versioning element must be specified');
    assert.equal((await east1.send(new GetBucketVersioningCommand({ Bucket: name }))).Status, undefined, 'nothing changed');
  });

  test('versioning of a missing bucket: 404 NoSuchBucket', async () => {
    await rejects(east1.send(new GetBucketVersioningCommand({ Bucket: bucketName('missing') })), 'NoSuchBucket', 404);
    await rejects(
      east1.send(new PutBucketVersioningCommand({ Bucket: bucketName('missing'), VersioningConfiguration: { Status: 'Enabled' } })),
      'NoSuchBucket',
      404,
    );
  });
});
