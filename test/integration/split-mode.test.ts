/**
 * Regions as separate processes: us-east-1 and us-east-2 each served by its own `meridian serve
 * --regions … --peer …`. Clients use either endpoint; requests for the other region are passed on;
 * IAM lives in the home process. Replicas travel signed with the role's credentials and are
 * authorized by the destination process, small ones several to a request. The destination is
 * SIGKILLed under load and restarted, then the source: every version converges, exactly once.
 *
 * The pair runs with MERIDIAN_TEST_MIN_PART_SIZE=1024 (a tests-only knob) so an object of 1,000
 * parts costs a megabyte rather than 5 GB.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectAttributesCommand, GetObjectCommand, HeadObjectCommand, ListBucketsCommand, ListObjectVersionsCommand, PutBucketPolicyCommand, PutObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { eventually, s3Client } from '../support/clients.js';
import { meridianCli } from '../support/meridian-cli.js';
import { signedFetch } from './signed-fetch.js';
import { setUpReplication } from '../support/replication-setup.js';
import { startSplitPair, type SplitPair } from '../support/split-mode.js';

function bodyOf(key: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(key).digest();
  for (let off = 0; off < size; off += block.length) {
    block.copy(out, off);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

describe('split mode: one process per region', () => {
  let pair: SplitPair;

  before(async () => {
    pair = await startSplitPair({ MERIDIAN_TEST_MIN_PART_SIZE: '1024' });
  });

  after(async () => {
    await pair?.stop();
  });

  it('replicates SSE-KMS objects to the other process, which authorizes the role itself', async () => {
    const s = await setUpReplication(pair.east1);
    const src = s3Client(pair.east1, 'us-east-1');
    const put = await src.send(new PutObjectCommand({ Bucket: s.src, Key: 'hello.txt', Body: 'hello, other process', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: s.srcKeyArn }));
    await eventually(async () => ((await src.send(new HeadObjectCommand({ Bucket: s.src, Key: 'hello.txt' }))).ReplicationStatus === 'COMPLETED' ? true : undefined), 30_000);
    // Read the replica straight from the us-east-2 process, and through the us-east-1 one.
    for (const m of [pair.east2, pair.east1]) {
      const replica = await s3Client(m, 'us-east-2').send(new GetObjectCommand({ Bucket: s.dest, Key: 'hello.txt' }));
      assert.equal(replica.ReplicationStatus, 'REPLICA');
      assert.equal(replica.VersionId, put.VersionId);
      assert.equal(replica.SSEKMSKeyId, s.destKeyArn);
      assert.equal(await replica.Body!.transformToString(), 'hello, other process');
    }
    // The destination key lives in the us-east-2 process only.
    assert.match(pair.east2.logs(), /region opened.*us-east-2|us-east-2.*region opened/);
    assert.doesNotMatch(pair.east1.logs(), /"region":"us-east-2","dir"/);
  });

  it('ListBuckets in either process gives a bucket of the other\'s region its real creation date', async () => {
    const before = Date.now();
    await s3Client(pair.east2, 'us-east-2').send(new CreateBucketCommand({ Bucket: 'created-in-east2', CreateBucketConfiguration: { LocationConstraint: 'us-east-2' } }));
    const dates = [];
    for (const m of [pair.east1, pair.east2]) {
      const listed = (await s3Client(m, 'us-east-1').send(new ListBucketsCommand({}))).Buckets!.find((b) => b.Name === 'created-in-east2');
      assert.equal(listed?.BucketRegion, 'us-east-2');
      dates.push(listed!.CreationDate!.getTime());
    }
    // Whole seconds in the XML: the date may read up to a second before the call started.
    assert.ok(dates[0]! >= before - 1000 && dates[0]! <= Date.now(), `creation date ${new Date(dates[0]!).toISOString()} is now, not the epoch`);
    assert.equal(dates[1], dates[0], 'both processes report the same date');
  });

  it('a copy from a bucket another process serves is refused as not implemented, saying how to copy instead', async () => {
    const east2 = s3Client(pair.east2, 'us-east-2');
    const east1 = s3Client(pair.east1, 'us-east-1');
    await east2.send(new CreateBucketCommand({ Bucket: 'copy-from-east2', CreateBucketConfiguration: { LocationConstraint: 'us-east-2' } }));
    await east2.send(new PutObjectCommand({ Bucket: 'copy-from-east2', Key: 'k', Body: 'source bytes' }));
    await east1.send(new CreateBucketCommand({ Bucket: 'copy-into-east1' }));
    await assert.rejects(east1.send(new CopyObjectCommand({ Bucket: 'copy-into-east1', Key: 'k', CopySource: 'copy-from-east2/k' })), (e: { name: string; message: string; $metadata: { httpStatusCode?: number } }) => {
      assert.equal(e.name, 'NotImplemented');
      assert.equal(e.$metadata.httpStatusCode, 501);
      assert.match(e.message, /copy-from-east2 is in us-east-2, which another Meridian process serves .*GET the object from us-east-2 and PUT it here/);
      return true;
    });
  });

  it('replicates SSE-C objects sealed: the other process stores the ciphertext and reads it with the same customer key', async () => {
    const s = await setUpReplication(pair.east1);
    const src = s3Client(pair.east1, 'us-east-1');
    const key = randomBytes(32);
    const sseC = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(key).digest('base64') };
    const bodies = { 'sealed-large.bin': bodyOf('sealed-large', 200_000), 'sealed-small.bin': bodyOf('sealed-small', 1_000) };
    for (const [k, body] of Object.entries(bodies)) {
      const put = await src.send(new PutObjectCommand({ Bucket: s.src, Key: k, Body: body, ...sseC }));
      await eventually(async () => ((await src.send(new HeadObjectCommand({ Bucket: s.src, Key: k, ...sseC }))).ReplicationStatus === 'COMPLETED' ? true : undefined), 30_000);
      const replica = await s3Client(pair.east2, 'us-east-2').send(new GetObjectCommand({ Bucket: s.dest, Key: k, ...sseC }));
      assert.equal(replica.ReplicationStatus, 'REPLICA');
      assert.equal(replica.VersionId, put.VersionId);
      assert.equal(replica.ETag, put.ETag);
      assert.ok(Buffer.from(await replica.Body!.transformToByteArray()).equals(body));
    }
    const other = randomBytes(32);
    await assert.rejects(
      s3Client(pair.east2, 'us-east-2').send(new GetObjectCommand({ Bucket: s.dest, Key: 'sealed-small.bin', SSECustomerAlgorithm: 'AES256', SSECustomerKey: other.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(other).digest('base64') })),
      (e: { name: string }) => e.name === 'AccessDenied',
    );
  });

  it('replicates an SSE-KMS object of 1,000 parts: its description travels in the body, not in a header', async () => {
    const s = await setUpReplication(pair.east1);
    const src = s3Client(pair.east1, 'us-east-1');
    const key = 'thousand-parts.bin';
    const { UploadId } = await src.send(new CreateMultipartUploadCommand({ Bucket: s.src, Key: key, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: s.srcKeyArn }));
    const partBody = (n: number) => bodyOf(`part-${n}`, n === 1000 ? 300 : 1024);
    const etags: string[] = [];
    let next = 1;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next <= 1000) {
          const n = next++;
          etags[n - 1] = (await src.send(new UploadPartCommand({ Bucket: s.src, Key: key, UploadId, PartNumber: n, Body: partBody(n) }))).ETag!;
        }
      }),
    );
    const done = await src.send(new CompleteMultipartUploadCommand({ Bucket: s.src, Key: key, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
    assert.match(done.ETag!, /-1000"$/);
    await eventually(async () => ((await src.send(new HeadObjectCommand({ Bucket: s.src, Key: key }))).ReplicationStatus === 'COMPLETED' ? true : undefined), 60_000);
    const dest = s3Client(pair.east2, 'us-east-2');
    const replica = await dest.send(new GetObjectCommand({ Bucket: s.dest, Key: key }));
    assert.equal(replica.ETag, done.ETag);
    assert.equal(replica.VersionId, done.VersionId);
    const bytes = Buffer.from(await replica.Body!.transformToByteArray());
    assert.ok(bytes.equals(Buffer.concat(Array.from({ length: 1000 }, (_, i) => partBody(i + 1)))), 'the replica has the source bytes');
    const attrs = await dest.send(new GetObjectAttributesCommand({ Bucket: s.dest, Key: key, ObjectAttributes: ['ObjectParts'] }));
    assert.equal(attrs.ObjectParts?.TotalPartsCount, 1000);
  });

  it('small replicas travel several to a request; each is authorized on its own, so a denied key fails alone', async () => {
    const s = await setUpReplication(pair.east1);
    const src = s3Client(pair.east1, 'us-east-1');
    const dest = s3Client(pair.east2, 'us-east-2');
    // The destination refuses the role some keys: in a bundle, those fail and the rest are written.
    await dest.send(
      new PutBucketPolicyCommand({
        Bucket: s.dest,
        Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: { AWS: s.roleArn }, Action: 's3:ReplicateObject', Resource: `arn:aws:s3:::${s.dest}/denied/*` }] }),
      }),
    );
    const bundled = async (): Promise<{ bundles: number; replicas: number }> => {
      const text = (await signedFetch(pair.east1, 'GET', '/_meridian/metrics')).text;
      const value = (name: string) => Number(new RegExp(`^${name}\\{Region="us-east-2"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
      return { bundles: value('meridian_replica_bundles_total'), replicas: value('meridian_replica_bundled_replicas_total') };
    };
    const before = await bundled();
    const keys = Array.from({ length: 120 }, (_, i) => `${i % 10 === 3 ? 'denied' : 'ok'}/${String(i).padStart(3, '0')}`);
    const versions = new Map<string, string>();
    await Promise.all(
      keys.map(async (key) => {
        const put = await src.send(new PutObjectCommand({ Bucket: s.src, Key: key, Body: bodyOf(key, 2000), ServerSideEncryption: 'aws:kms', SSEKMSKeyId: s.srcKeyArn }));
        versions.set(key, put.VersionId!);
      }),
    );
    const statusOf = async (key: string) => (await src.send(new HeadObjectCommand({ Bucket: s.src, Key: key }))).ReplicationStatus;
    await eventually(async () => ((await Promise.all(keys.map(statusOf))).every((st) => st === 'COMPLETED' || st === 'FAILED') ? true : undefined), 60_000);
    for (const key of keys) {
      if (key.startsWith('denied/')) {
        assert.equal(await statusOf(key), 'FAILED', key);
        await assert.rejects(dest.send(new HeadObjectCommand({ Bucket: s.dest, Key: key })), (e: { name: string }) => e.name === 'NotFound');
        continue;
      }
      assert.equal(await statusOf(key), 'COMPLETED', key);
      const replica = await dest.send(new GetObjectCommand({ Bucket: s.dest, Key: key }));
      assert.equal(replica.VersionId, versions.get(key));
      assert.equal(replica.SSEKMSKeyId, s.destKeyArn, 'each replica is encrypted under the destination key');
      assert.ok(Buffer.from(await replica.Body!.transformToByteArray()).equals(bodyOf(key, 2000)), `${key}: the replica holds the source bytes`);
    }
    const after = await bundled();
    const bundles = after.bundles - before.bundles;
    const replicas = after.replicas - before.replicas;
    assert.ok(replicas >= keys.length, `every small replica went in a bundle (${replicas} of ${keys.length}, retries included)`);
    assert.ok(bundles < replicas, `bundles carried several replicas each (${replicas} replicas in ${bundles} requests)`);
  });

  it('a permission missing at the destination fails there, and explain shows the destination\'s checks', async () => {
    const s = await setUpReplication(pair.east1, { withoutKmsEncrypt: true });
    const src = s3Client(pair.east1, 'us-east-1');
    await src.send(new PutObjectCommand({ Bucket: s.src, Key: 'denied.txt', Body: 'no', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: s.srcKeyArn }));
    await eventually(async () => ((await src.send(new HeadObjectCommand({ Bucket: s.src, Key: 'denied.txt' }))).ReplicationStatus === 'FAILED' ? true : undefined), 30_000);
    const explained = await meridianCli(pair.east1, ['replication', 'explain', '--bucket', s.src, '--key', 'denied.txt']);
    assert.equal(explained.code, 0, explained.stderr);
    assert.match(explained.stdout, /write the replica: s3:ReplicateObject .* allowed/);
    assert.match(explained.stdout, /kms:Encrypt on arn:aws:kms:us-east-2:.* DENIED/);
    assert.match(explained.stdout, /fails with DstPutObjectNotPermitted/);
  });

  it('the destination stopped under load, then the source: every version converges exactly once', async () => {
    const s = await setUpReplication(pair.east1);
    const keys = Array.from({ length: 90 }, (_, i) => `load-${String(i).padStart(3, '0')}`);
    const sizeOf = (key: string) => (key.endsWith('7') ? 200 * 1024 : 3000);
    const acknowledged = new Map<string, string>();
    let next = 0;
    const writers = (count: number, until: number) =>
      Promise.all(
        Array.from({ length: count }, async () => {
          const put = s3Client(pair.east1, 'us-east-1');
          while (next < until) {
            const key = keys[next++]!;
            const r = await put.send(new PutObjectCommand({ Bucket: s.src, Key: key, Body: bodyOf(key, sizeOf(key)), ServerSideEncryption: 'aws:kms', SSEKMSKeyId: s.srcKeyArn }));
            acknowledged.set(key, r.VersionId!);
          }
        }),
      );
    const firstBatch = writers(4, 60);
    await new Promise((r) => setTimeout(r, 300));
    await pair.east2.kill(); // the destination dies mid-load
    await firstBatch;
    await writers(4, 75); // writes go on while the destination is away
    const src = s3Client(pair.east1, 'us-east-1');
    const pendingWhileDown = (await src.send(new HeadObjectCommand({ Bucket: s.src, Key: keys[74]! }))).ReplicationStatus;
    assert.equal(pendingWhileDown, 'PENDING', 'an unreachable destination keeps versions PENDING');
    await new Promise((r) => setTimeout(r, 1500));
    await pair.start('east2');
    await writers(4, 90);
    await pair.east1.kill(); // then the source dies with replication in flight
    await pair.start('east1');

    const source = s3Client(pair.east1, 'us-east-1');
    const dest = s3Client(pair.east2, 'us-east-2');
    for (const [key, versionId] of acknowledged) {
      await eventually(async () => ((await source.send(new HeadObjectCommand({ Bucket: s.src, Key: key, VersionId: versionId }))).ReplicationStatus === 'COMPLETED' ? true : undefined), 120_000, 200);
    }
    const listed = await dest.send(new ListObjectVersionsCommand({ Bucket: s.dest, MaxKeys: 1000 }));
    const versions = listed.Versions ?? [];
    assert.equal(versions.length, acknowledged.size, 'one replica per acknowledged version, no duplicates');
    for (const v of versions) assert.equal(v.VersionId, acknowledged.get(v.Key!), `${v.Key} keeps its version id`);
    for (const key of keys.filter((k) => k.endsWith('7') || k.endsWith('0'))) {
      const replica = await dest.send(new GetObjectCommand({ Bucket: s.dest, Key: key }));
      const bytes = Buffer.from(await replica.Body!.transformToByteArray());
      assert.ok(bytes.equals(bodyOf(key, sizeOf(key))), `replica of ${key} has the source bytes`);
    }
  });
});
