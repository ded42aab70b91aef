/**
 * Addressing and bucket listing through the SDK v3: virtual-hosted style (`bucket.localhost:port`
 * and `bucket.s3.localhost:port`, resolved to loopback by an agent lookup, not /etc/hosts) next to
 * path style, and ListBuckets pages (max-buckets, continuation-token, prefix, bucket-region).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import type { LookupFunction } from 'node:net';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { s3Client } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { bucketName, bytes, rejects } from './helpers.js';

let m: MeridianProcess;
let s3: S3Client;

/** Any *.localhost name resolves to 127.0.0.1 (what a wildcard DNS entry would do). */
const loopbackLookup: LookupFunction = (hostname, options, callback) => {
  if (hostname !== 'localhost' && !hostname.endsWith('.localhost')) throw new Error(`unexpected host ${hostname}`);
  if (typeof options === 'object' && options.all) (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
};

function virtualHostClient(host: 'localhost' | 's3.localhost', region = 'us-east-1'): S3Client {
  const port = new URL(m.httpEndpoint).port;
  return new S3Client({
    endpoint: `http://${host}:${port}`,
    region,
    forcePathStyle: false,
    credentials: { accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey },
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ lookup: loopbackLookup }) }),
  });
}

before(async () => {
  m = await startMeridianProcess();
  s3 = s3Client(m);
});
after(async () => {
  await m?.stop();
});

describe('virtual-hosted style', () => {
  for (const host of ['localhost', 's3.localhost'] as const) {
    test(`bucket.${host}: create, put, get, list, copy, multi-delete and head, as path style sees them`, async () => {
      const vh = virtualHostClient(host);
      const seen: string[] = [];
      vh.middlewareStack.add((next) => async (args) => {
        seen.push((args.request as { hostname: string }).hostname);
        return next(args);
      }, { step: 'finalizeRequest', name: 'recordHost' });
      const b = bucketName('vhost');
      await vh.send(new CreateBucketCommand({ Bucket: b }));
      await vh.send(new PutObjectCommand({ Bucket: b, Key: 'dir/a file+plus.txt', Body: 'virtually hosted' }));
      const got = await vh.send(new GetObjectCommand({ Bucket: b, Key: 'dir/a file+plus.txt' }));
      assert.equal((await bytes(got.Body)).toString(), 'virtually hosted');
      await vh.send(new CopyObjectCommand({ Bucket: b, Key: 'copy.txt', CopySource: `${b}/${encodeURIComponent('dir/a file+plus.txt')}` }));
      const listed = await vh.send(new ListObjectsV2Command({ Bucket: b }));
      assert.deepEqual(listed.Contents?.map((c) => c.Key), ['copy.txt', 'dir/a file+plus.txt']);
      const head = await vh.send(new HeadBucketCommand({ Bucket: b }));
      assert.equal(head.BucketRegion, 'us-east-1');
      assert.ok(seen.every((h) => h === `${b}.${host}`), `every request went to ${b}.${host}: ${[...new Set(seen)].join(', ')}`);
      // The same bucket seen path-style.
      const pathListed = await s3.send(new ListObjectsV2Command({ Bucket: b }));
      assert.deepEqual(pathListed.Contents?.map((c) => c.Key), ['copy.txt', 'dir/a file+plus.txt']);
      const del = await vh.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'copy.txt' }, { Key: 'dir/a file+plus.txt' }] } }));
      assert.equal(del.Deleted?.length, 2);
      await rejects(vh.send(new GetObjectCommand({ Bucket: b, Key: 'copy.txt' })), 'NoSuchKey', 404);
    });
  }

  test('the endpoint host itself is path style: ListBuckets to s3.localhost lists buckets, not objects of a bucket "s3"', async () => {
    const port = new URL(m.httpEndpoint).port;
    const pathToDomain = new S3Client({
      endpoint: `http://s3.localhost:${port}`,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey },
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ lookup: loopbackLookup }) }),
    });
    const b = bucketName('pathdomain');
    await pathToDomain.send(new CreateBucketCommand({ Bucket: b }));
    const out = await pathToDomain.send(new ListBucketsCommand({}));
    assert.ok(out.Buckets?.some((x) => x.Name === b));
  });

  test('a bucket in another region through its virtual host, signed for that region', async () => {
    const b = bucketName('vhost-east2');
    await s3Client(m, 'us-east-2').send(new CreateBucketCommand({ Bucket: b, CreateBucketConfiguration: { LocationConstraint: 'us-east-2' } }));
    const vh = virtualHostClient('localhost', 'us-east-2');
    await vh.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'east' }));
    assert.equal((await bytes((await vh.send(new GetObjectCommand({ Bucket: b, Key: 'k' }))).Body)).toString(), 'east');
  });
});

describe('ListBuckets pages', () => {
  test('max-buckets and continuation-token walk the buckets by name; prefix and bucket-region filter', async () => {
    const prefix = `${bucketName('page')}-`;
    const names = ['a', 'b', 'c', 'd', 'e'].map((x) => `${prefix}${x}`);
    for (const n of names.slice(0, 3)) await s3.send(new CreateBucketCommand({ Bucket: n }));
    const east2 = s3Client(m, 'us-east-2');
    for (const n of names.slice(3)) await east2.send(new CreateBucketCommand({ Bucket: n, CreateBucketConfiguration: { LocationConstraint: 'us-east-2' } }));

    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const out = await s3.send(new ListBucketsCommand({ Prefix: prefix, MaxBuckets: 2, ...(token ? { ContinuationToken: token } : {}) }));
      assert.equal(out.Prefix, prefix);
      assert.ok(out.Owner?.ID);
      pages.push(out.Buckets!.map((x) => x.Name!));
      token = out.ContinuationToken;
    } while (token);
    assert.deepEqual(pages, [names.slice(0, 2), names.slice(2, 4), names.slice(4)]);

    const inEast2 = await s3.send(new ListBucketsCommand({ Prefix: prefix, BucketRegion: 'us-east-2' }));
    assert.deepEqual(inEast2.Buckets?.map((x) => [x.Name, x.BucketRegion]), [[names[3], 'us-east-2'], [names[4], 'us-east-2']]);
    assert.equal(inEast2.ContinuationToken, undefined);

    await rejects(s3.send(new ListBucketsCommand({ MaxBuckets: 0 })), 'InvalidArgument', 400);
    await rejects(s3.send(new ListBucketsCommand({ MaxBuckets: 10001 })), 'InvalidArgument', 400);
    await rejects(s3.send(new ListBucketsCommand({ ContinuationToken: '!!not a token' })), 'InvalidArgument', 400);
  });
});
