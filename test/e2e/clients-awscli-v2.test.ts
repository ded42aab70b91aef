/**
 * The aws CLI v2 (Debian's awscli package, /usr/bin/aws) against a real server over HTTP and HTTPS
 * (the self-signed certificate trusted with ca_bundle): s3 cp (multipart), s3 sync both ways with
 * --delete, presign fetched by plain HTTP(S), rb --force (the seed walkthrough with v2:
 * clients-awscli-v2-walkthrough.test.ts). Debian's v2 predates `endpoint_url` in profiles, so every command gets
 * --endpoint-url. Newer CLIs and SDKs upload with aws-chunked bodies and CRC32/CRC64NVME trailers
 * by default; Debian's does not yet, so those requests are sent raw, exactly as they look.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { encodeAwsChunked } from '../../src/server/auth/test-support.js';
import { computeChecksum, type ChecksumAlgorithm } from '../../src/crypto/checksums.js';
import { AwsCli } from '../support/aws-cli.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { assertSameTree, endpointOf, installed, readTree, sampleTree, SCHEMES, writeTree, type Tree } from '../support/external-clients.js';
import { signedFetch } from '../integration/signed-fetch.js';

const AWS_V2 = '/usr/bin/aws';

function fetchBytes(url: string, ca?: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? httpsGet : httpGet;
    get(url, ca ? { ca } : {}, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

describe('aws CLI v2', { skip: !installed(AWS_V2) && 'the aws CLI v2 is not installed (apt-get install awscli)' }, () => {
  let m: MeridianProcess;

  before(async () => {
    m = await startMeridianProcess();
  });
  after(async () => {
    await m?.stop();
  });

  test('it is the v2 CLI', async () => {
    const cli = new AwsCli([], { binary: AWS_V2 });
    try {
      assert.match((await cli.run(['--version'])).stdout, /^aws-cli\/2\./);
    } finally {
      cli.remove();
    }
  });

  for (const scheme of SCHEMES) {
    describe(`over ${scheme}`, () => {
      let cli: AwsCli;
      let tree: Tree;
      const bucket = `awsv2-${scheme}-${randomBytes(4).toString('hex')}`;
      const s3 = (...args: string[]) => cli.run(['s3', ...args, '--profile', 'p', ...(['cp', 'sync'].includes(args[0]!) ? ['--only-show-errors'] : [])]);

      before(() => {
        const { endpoint, caFile } = endpointOf(m, scheme);
        cli = new AwsCli([{ name: 'p', region: 'us-east-1', endpoint, accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey }], {
          binary: AWS_V2,
          endpointUrl: endpoint,
          ...(caFile ? { caBundle: caFile } : {}),
        });
        tree = sampleTree();
        writeTree(join(cli.dir, 'src'), tree);
      });
      after(() => cli?.remove());

      test('mb; cp of a 17 MiB file is a multipart upload; cp back gives the same bytes', async () => {
        await s3('mb', `s3://${bucket}`);
        await s3('cp', join(cli.dir, 'src/large.bin'), `s3://${bucket}/one/large.bin`);
        const head = await cli.run(['s3api', 'head-object', '--bucket', bucket, '--key', 'one/large.bin', '--profile', 'p']);
        assert.match(head.json.ETag, /-3"$/, '8 MiB parts');
        const out = join(cli.dir, 'large.out');
        await s3('cp', `s3://${bucket}/one/large.bin`, out);
        assert.ok(readFileSync(out).equals(tree['large.bin']!));
      });

      test('sync up, change, sync --delete, sync down: the trees are equal', async () => {
        await s3('sync', join(cli.dir, 'src'), `s3://${bucket}/tree`);
        const changed: Tree = { ...tree, 'small.txt': Buffer.from('changed, and longer than before\n'), 'dir/new.txt': Buffer.from('new\n') };
        delete changed['dir/with space é.txt'];
        const local = join(cli.dir, 'changed');
        writeTree(local, changed);
        await s3('sync', '--delete', local, `s3://${bucket}/tree`);
        const down = join(cli.dir, 'down');
        await s3('sync', `s3://${bucket}/tree`, down);
        assertSameTree(readTree(down), changed, 'synced down');
        rmSync(down, { recursive: true });
      });

      test('presign: the URL fetched without credentials returns the bytes; a tampered one is refused', async () => {
        const url = (await cli.run(['s3', 'presign', `s3://${bucket}/tree/dir/nested/plus+sign&amp.txt`, '--expires-in', '300', '--profile', 'p'])).stdout.trim();
        assert.match(url, /X-Amz-Algorithm=AWS4-HMAC-SHA256/);
        const { caFile } = endpointOf(m, scheme);
        const ca = caFile ? readFileSync(caFile, 'utf8') : undefined;
        const got = await fetchBytes(url, ca);
        assert.equal(got.status, 200);
        assert.ok(got.body.equals(tree['dir/nested/plus+sign&amp.txt']!));
        const tampered = await fetchBytes(url.replace('X-Amz-Expires=300', 'X-Amz-Expires=301'), ca);
        assert.equal(tampered.status, 403);
      });

      test('rb --force empties and removes the bucket', async () => {
        await s3('rb', '--force', `s3://${bucket}`);
        const list = await cli.run(['s3api', 'list-buckets', '--profile', 'p']);
        assert.ok(!(list.json.Buckets ?? []).some((b: { Name: string }) => b.Name === bucket));
      });

      describe('checksum trailers as newer CLIs and SDKs send them (raw requests)', () => {
        const trailerBucket = `trailers-${scheme}-${randomBytes(4).toString('hex')}`;
        const raw = (method: string, path: string, o: Parameters<typeof signedFetch>[3] = {}) => {
          const { endpoint, caFile } = endpointOf(m, scheme);
          return signedFetch(m, method, path, { endpoint, ...(caFile ? { ca: readFileSync(caFile, 'utf8') } : {}), ...o });
        };
        /** PutObject/UploadPart as the CLI streams it: aws-chunked, unsigned payload, checksum in the trailer. */
        const chunked = (data: Buffer, algorithm: ChecksumAlgorithm, extra: Record<string, string> = {}) => {
          const trailer = `x-amz-checksum-${algorithm.toLowerCase()}`;
          return {
            payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
            headers: {
              'content-encoding': 'aws-chunked',
              'x-amz-decoded-content-length': String(data.length),
              'x-amz-sdk-checksum-algorithm': algorithm,
              'x-amz-trailer': trailer,
              ...extra,
            },
            body: encodeAwsChunked(data, { chunkSize: 64 * 1024, trailers: [[trailer, computeChecksum(algorithm, data)]] }),
          };
        };

        before(async () => {
          assert.equal((await raw('PUT', `/${trailerBucket}`)).status, 200);
        });

        for (const algorithm of ['CRC32', 'CRC64NVME'] as const) {
          test(`PutObject with a ${algorithm} trailer: stored, checksum returned, bytes equal; a wrong trailer is BadDigest`, async () => {
            const data = randomBytes(200_000);
            const put = await raw('PUT', `/${trailerBucket}/put-${algorithm}`, chunked(data, algorithm));
            assert.equal(put.status, 200, put.text);
            assert.equal(put.headers[`x-amz-checksum-${algorithm.toLowerCase()}`], computeChecksum(algorithm, data));
            const get = await raw('GET', `/${trailerBucket}/put-${algorithm}`, { headers: { 'x-amz-checksum-mode': 'ENABLED' } });
            assert.ok(get.body.equals(data), 'the same bytes, no chunk framing');
            assert.equal(get.headers[`x-amz-checksum-${algorithm.toLowerCase()}`], computeChecksum(algorithm, data));

            const wrong = chunked(data, algorithm);
            wrong.body = encodeAwsChunked(data, { chunkSize: 64 * 1024, trailers: [[`x-amz-checksum-${algorithm.toLowerCase()}`, computeChecksum(algorithm, Buffer.from('other'))]] });
            const bad = await raw('PUT', `/${trailerBucket}/bad-${algorithm}`, wrong);
            assert.equal(bad.status, 400);
            assert.match(bad.text, /<Code>BadDigest<\/Code>/);
            assert.equal((await raw('HEAD', `/${trailerBucket}/bad-${algorithm}`)).status, 404, 'nothing stored');
          });
        }

        test('multipart with CRC64NVME trailers on each part (FULL_OBJECT), completed with Go-style XML: the whole-object CRC and bytes', async () => {
          const key = 'multipart-crc64';
          const parts = [randomBytes(5 * 1024 * 1024), randomBytes(1 * 1024 * 1024 + 7)];
          const created = await raw('POST', `/${trailerBucket}/${key}`, { query: 'uploads', headers: { 'x-amz-checksum-algorithm': 'CRC64NVME', 'x-amz-checksum-type': 'FULL_OBJECT' } });
          assert.equal(created.status, 200, created.text);
          const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.text)![1]!;
          const etags: string[] = [];
          for (const [i, data] of parts.entries()) {
            const up = await raw('PUT', `/${trailerBucket}/${key}`, { query: `partNumber=${i + 1}&uploadId=${encodeURIComponent(uploadId)}`, ...chunked(data, 'CRC64NVME') });
            assert.equal(up.status, 200, up.text);
            etags.push(String(up.headers.etag));
          }
          const whole = Buffer.concat(parts);
          const body =
            '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
            etags.map((e, i) => `<Part><ChecksumCRC64NVME>${computeChecksum('CRC64NVME', parts[i]!)}</ChecksumCRC64NVME><ETag>${e.replace(/"/g, '&#34;')}</ETag><PartNumber>${i + 1}</PartNumber></Part>`).join('') +
            '</CompleteMultipartUpload>';
          const done = await raw('POST', `/${trailerBucket}/${key}`, { query: `uploadId=${encodeURIComponent(uploadId)}`, body, headers: { 'x-amz-checksum-crc64nvme': computeChecksum('CRC64NVME', whole), 'x-amz-checksum-type': 'FULL_OBJECT' } });
          assert.equal(done.status, 200, done.text);
          assert.match(done.text, new RegExp(`<ChecksumCRC64NVME>${computeChecksum('CRC64NVME', whole).replace(/[+/]/g, '\\$&')}</ChecksumCRC64NVME>`));
          const get = await raw('GET', `/${trailerBucket}/${key}`, { headers: { 'x-amz-checksum-mode': 'ENABLED' } });
          assert.ok(get.body.equals(whole));
          assert.equal(get.headers['x-amz-checksum-crc64nvme'], computeChecksum('CRC64NVME', whole));
        });
      });
    });
  }
});
