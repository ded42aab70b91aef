/**
 * rclone (Debian's package) against a real server over HTTP and HTTPS (the self-signed certificate
 * trusted with --ca-cert): copy, check, sync, move and purge, with multipart uploads on
 * (--s3-upload-cutoff 8M --s3-chunk-size 5M: a 17 MiB file is four parts, completed with Go's
 * `&#34;`-escaped ETags) and off, and with --s3-server-side-encryption aws:kms. Every upload is
 * downloaded again and compared byte for byte.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { HeadObjectCommand, ListBucketsCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3Client } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import {
  assertSameTree,
  cleanEnv,
  installed,
  readTree,
  removeDir,
  runClient,
  sampleTree,
  scratchDir,
  SCHEMES,
  endpointOf,
  writeTree,
  type Tree,
} from '../support/external-clients.js';

const RCLONE = '/usr/bin/rclone';
const MULTIPART = ['--s3-upload-cutoff', '8M', '--s3-chunk-size', '5M'];
const KMS = ['--s3-server-side-encryption', 'aws:kms'];

describe('rclone', { skip: !installed(RCLONE) && 'rclone is not installed (apt-get install rclone)' }, () => {
  let m: MeridianProcess;
  let s3: S3Client;
  let dir: string;
  let tree: Tree;

  before(async () => {
    m = await startMeridianProcess();
    s3 = s3Client(m);
    dir = scratchDir('rclone');
    tree = sampleTree();
    writeTree(join(dir, 'src'), tree);
  });
  after(async () => {
    removeDir(dir);
    await m?.stop();
  });

  for (const scheme of SCHEMES) {
    describe(`over ${scheme}`, () => {
      const bucket = `rclone-${scheme}-${randomBytes(4).toString('hex')}`;
      // The remote is configured through environment variables, as in a container or CI job.
      const rclone = (...args: string[]) => {
        const { endpoint, caFile } = endpointOf(m, scheme);
        const env = cleanEnv(dir, {
          RCLONE_CONFIG: join(dir, 'rclone.conf'),
          RCLONE_CONFIG_M_TYPE: 's3',
          RCLONE_CONFIG_M_PROVIDER: 'Other',
          RCLONE_CONFIG_M_ENDPOINT: endpoint,
          RCLONE_CONFIG_M_ACCESS_KEY_ID: m.accessKeyId,
          RCLONE_CONFIG_M_SECRET_ACCESS_KEY: m.secretAccessKey,
          RCLONE_CONFIG_M_REGION: 'us-east-1',
        });
        return runClient(RCLONE, [...args, ...(caFile ? ['--ca-cert', caFile] : []), '--retries', '1', '--low-level-retries', '1'], { env });
      };
      const download = async (remote: string, extra: string[] = []): Promise<Tree> => {
        const to = join(dir, `down-${randomBytes(4).toString('hex')}`);
        await rclone('copy', `m:${bucket}/${remote}`, to, ...extra);
        const got = readTree(to);
        rmSync(to, { recursive: true, force: true });
        return got;
      };

      test('copy with multipart on: a 17 MiB file goes up in four parts; check passes; the bytes come back', async () => {
        await rclone('mkdir', `m:${bucket}`);
        await rclone('copy', join(dir, 'src'), `m:${bucket}/multipart`, ...MULTIPART);
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'multipart/large.bin' }));
        assert.match(head.ETag!, /-4"$/, 'uploaded as a multipart upload of four parts');
        await rclone('check', join(dir, 'src'), `m:${bucket}/multipart`);
        assertSameTree(await download('multipart'), tree, 'multipart copy');
      });

      test('copy with multipart off (single PUTs); check --download compares the bytes too', async () => {
        await rclone('copy', join(dir, 'src'), `m:${bucket}/single`);
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'single/large.bin' }));
        assert.doesNotMatch(head.ETag!, /-/, 'one PUT');
        await rclone('check', '--download', join(dir, 'src'), `m:${bucket}/single`);
        assertSameTree(await download('single'), tree, 'single-PUT copy');
      });

      test('sync uploads what changed and deletes what is gone', async () => {
        const local = join(dir, `sync-${scheme}`);
        writeTree(local, tree);
        await rclone('sync', local, `m:${bucket}/synced`, ...MULTIPART);
        const changed: Tree = { ...tree, 'small.txt': Buffer.from('changed since the last sync\n'), 'new.txt': Buffer.from('new file\n') };
        delete changed['dir/with space é.txt'];
        rmSync(local, { recursive: true });
        writeTree(local, changed);
        await rclone('sync', local, `m:${bucket}/synced`, ...MULTIPART);
        await rclone('check', local, `m:${bucket}/synced`);
        assertSameTree(await download('synced'), changed, 'after the second sync');
      });

      test('move between prefixes (server-side copy, then delete) leaves nothing behind', async () => {
        await rclone('move', `m:${bucket}/single`, `m:${bucket}/moved`);
        assertSameTree(await download('moved'), tree, 'moved');
        assert.deepEqual(await download('single'), {}, 'the source prefix is empty');
      });

      test('--s3-server-side-encryption aws:kms: stored under KMS, multipart and single, checked and read back', async () => {
        await rclone('copy', join(dir, 'src'), `m:${bucket}/kms`, ...KMS, ...MULTIPART);
        for (const key of ['kms/large.bin', 'kms/small.txt']) {
          const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
          assert.equal(head.ServerSideEncryption, 'aws:kms', key);
        }
        // With SSE-KMS the ETag is not an MD5: rclone knows, given the same flag.
        await rclone('check', join(dir, 'src'), `m:${bucket}/kms`, ...KMS);
        assertSameTree(await download('kms', KMS), tree, 'SSE-KMS copy');
        await rclone('move', `m:${bucket}/kms`, `m:${bucket}/kms-moved`, ...KMS);
        assertSameTree(await download('kms-moved', KMS), tree, 'SSE-KMS objects moved');
      });

      test('purge removes every object and the bucket', async () => {
        await rclone('purge', `m:${bucket}`);
        const buckets = await s3.send(new ListBucketsCommand({}));
        assert.ok(!(buckets.Buckets ?? []).some((b) => b.Name === bucket));
      });
    });
  }
});
