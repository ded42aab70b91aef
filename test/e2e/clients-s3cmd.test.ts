/**
 * s3cmd (Debian's package) against a real server over HTTP and HTTPS (the self-signed certificate
 * trusted with ca_certs_file): mb, put (a 17 MiB file goes up multipart in 15 MiB chunks), get,
 * sync both ways, setacl, info, del and rb, from a config file as `s3cmd --configure` writes one.
 * Every download is compared byte for byte.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectAclCommand, HeadObjectCommand, ListBucketsCommand, PutBucketOwnershipControlsCommand, PutPublicAccessBlockCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3Client } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import {
  assertSameTree,
  cleanEnv,
  endpointOf,
  installed,
  readTree,
  removeDir,
  runClient,
  sampleTree,
  SCHEMES,
  scratchDir,
  writeTree,
  type Tree,
} from '../support/external-clients.js';

const S3CMD = '/usr/bin/s3cmd';
const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';

describe('s3cmd', { skip: !installed(S3CMD) && 's3cmd is not installed (apt-get install s3cmd)' }, () => {
  let m: MeridianProcess;
  let s3: S3Client;
  let dir: string;
  let tree: Tree;

  before(async () => {
    m = await startMeridianProcess();
    s3 = s3Client(m);
    dir = scratchDir('s3cmd');
    tree = sampleTree();
    writeTree(join(dir, 'src'), tree);
  });
  after(async () => {
    removeDir(dir);
    await m?.stop();
  });

  for (const scheme of SCHEMES) {
    describe(`over ${scheme}`, () => {
      const bucket = `s3cmd-${scheme}-${randomBytes(4).toString('hex')}`;
      const s3cmd = async (...args: string[]) => {
        const { endpoint, caFile } = endpointOf(m, scheme);
        const host = new URL(endpoint).host;
        const config = join(dir, `s3cfg-${scheme}`);
        // Path-style addressing (host_bucket without %(bucket)s), SigV4, the test server's region.
        writeFileSync(
          config,
          [
            '[default]',
            `access_key = ${m.accessKeyId}`,
            `secret_key = ${m.secretAccessKey}`,
            `host_base = ${host}`,
            `host_bucket = ${host}`,
            'bucket_location = us-east-1',
            'signature_v2 = False',
            `use_https = ${scheme === 'https' ? 'True' : 'False'}`,
            ...(caFile ? [`ca_certs_file = ${caFile}`, 'check_ssl_certificate = True', 'check_ssl_hostname = True'] : []),
            '',
          ].join('\n'),
        );
        return (await runClient(S3CMD, ['-c', config, '--no-progress', ...args], { env: cleanEnv(dir), cwd: dir })).stdout;
      };

      test('mb; put of a 17 MiB file (multipart) and a small one; get returns the same bytes', async () => {
        await s3cmd('mb', `s3://${bucket}`);
        await s3cmd('put', join(dir, 'src/large.bin'), `s3://${bucket}/large.bin`);
        await s3cmd('put', join(dir, 'src/small.txt'), `s3://${bucket}/small.txt`);
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'large.bin' }));
        assert.match(head.ETag!, /-2"$/, 'two parts of 15 MiB at most');
        for (const name of ['large.bin', 'small.txt']) {
          const out = join(dir, `got-${scheme}-${name}`);
          await s3cmd('get', '--force', `s3://${bucket}/${name}`, out);
          assert.ok(readFileSync(out).equals(tree[name]!), `${name}: the same bytes`);
        }
      });

      test('sync up, change, sync again with --delete-removed, sync down: the trees are equal', async () => {
        const local = join(dir, `sync-${scheme}`);
        writeTree(local, tree);
        await s3cmd('sync', `${local}/`, `s3://${bucket}/tree/`);
        const changed: Tree = { ...tree, 'small.txt': Buffer.from('changed\n'), 'dir/new.txt': Buffer.from('new\n') };
        delete changed['dir/with space é.txt'];
        rmSync(local, { recursive: true });
        writeTree(local, changed);
        await s3cmd('sync', '--delete-removed', `${local}/`, `s3://${bucket}/tree/`);
        const down = join(dir, `down-${scheme}`);
        await s3cmd('sync', `s3://${bucket}/tree/`, `${down}/`);
        assertSameTree(readTree(down), changed, 'synced down');
      });

      test('setacl --acl-public and --acl-grant (ObjectWriter bucket, public ACLs allowed) are stored; info shows them', async () => {
        // What an s3cmd user does on AWS first: ACLs are off by default since 2023.
        await s3.send(new PutBucketOwnershipControlsCommand({ Bucket: bucket, OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] } }));
        await s3.send(
          new PutPublicAccessBlockCommand({
            Bucket: bucket,
            PublicAccessBlockConfiguration: { BlockPublicAcls: false, IgnorePublicAcls: false, BlockPublicPolicy: false, RestrictPublicBuckets: false },
          }),
        );
        await s3cmd('setacl', '--acl-public', `s3://${bucket}/small.txt`);
        const grantee = 'a'.repeat(64);
        await s3cmd('setacl', `--acl-grant=read:${grantee}`, `s3://${bucket}/large.bin`);
        const publicAcl = await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'small.txt' }));
        assert.ok(publicAcl.Grants!.some((g) => g.Grantee?.URI === ALL_USERS && g.Permission === 'READ'), 'AllUsers READ');
        const granted = await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'large.bin' }));
        assert.ok(granted.Grants!.some((g) => g.Grantee?.ID === grantee && g.Permission === 'READ'), 'the grantee READ');
        const info = await s3cmd('info', `s3://${bucket}/small.txt`);
        assert.match(info, /ACL:\s+\*anon\*: READ/);
        assert.match(info, /File size:\s+24/);
        await s3cmd('setacl', '--acl-private', `s3://${bucket}/small.txt`);
        assert.doesNotMatch(await s3cmd('info', `s3://${bucket}/small.txt`), /\*anon\*/);
      });

      test('del of one object, del --recursive --force of the rest, rb', async () => {
        await s3cmd('del', `s3://${bucket}/small.txt`);
        await s3cmd('del', '--recursive', '--force', `s3://${bucket}`);
        await s3cmd('rb', `s3://${bucket}`);
        const buckets = await s3.send(new ListBucketsCommand({}));
        assert.ok(!(buckets.Buckets ?? []).some((b) => b.Name === bucket));
      });
    });
  }
});
