/**
 * The `aws s3` high-level commands end to end, with the real aws CLI v1 as a user runs them:
 * mb, cp --recursive (up and down, multipart for large files), ls, sync (only what changed, and
 * --delete), server-side cp and mv (CopyObject; UploadPartCopy for large objects), rm --recursive,
 * presign with s3v4 fetched by plain HTTP, and rb --force.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { AwsCli } from '../support/aws-cli.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';

function filesUnder(dir: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = readFileSync(p);
    }
  };
  walk(dir);
  return out;
}

describe('aws s3 high-level commands', () => {
  let m: MeridianProcess;
  let cli: AwsCli;
  const bucket = `hl-${randomBytes(5).toString('hex')}`;
  const tree: Record<string, Buffer> = {
    'a/one.txt': Buffer.from('one\n'),
    'a/b/two.txt': Buffer.from('two\n'),
    'space name.txt': Buffer.from('spaces survive\n'),
    'ünïcødé.txt': Buffer.from('utf-8 keys\n'),
    'big.bin': randomBytes(10 * 1024 * 1024 + 17), // above the CLI's 8 MiB multipart threshold
  };
  let src: string;
  const s3 = (...args: string[]) => cli.run(['s3', ...args, '--profile', 'p']);

  before(async () => {
    m = await startMeridianProcess({ tls: false });
    cli = new AwsCli([
      { name: 'p', region: 'us-east-1', endpoint: m.httpEndpoint, accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey, extra: 's3 =\n    signature_version = s3v4' },
    ]);
    src = join(cli.dir, 'src');
    for (const [name, data] of Object.entries(tree)) {
      mkdirSync(join(src, name, '..'), { recursive: true });
      writeFileSync(join(src, name), data);
    }
  });
  after(async () => {
    cli?.remove();
    await m?.stop();
  });

  it('mb, then cp --recursive uploads the tree (multipart for the large file) and ls shows it', async () => {
    await s3('mb', `s3://${bucket}`);
    const listed = await s3('ls');
    assert.match(listed.stdout, new RegExp(` ${bucket}\\n`));
    await s3('cp', src, `s3://${bucket}/tree/`, '--recursive');
    const top = await s3('ls', `s3://${bucket}/`);
    assert.match(top.stdout, /PRE tree\//);
    const all = await s3('ls', `s3://${bucket}/tree/`, '--recursive');
    for (const [name, data] of Object.entries(tree)) {
      assert.match(all.stdout, new RegExp(`\\s${data.length} tree/${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`), `ls shows ${name} with its size`);
    }
    const head = await cli.run(['s3api', 'head-object', '--bucket', bucket, '--key', 'tree/big.bin', '--profile', 'p']);
    assert.match(head.json.ETag, /-2"$/, 'the CLI uploaded the large file in 8 MiB parts');
  });

  it('cp --recursive downloads the tree byte for byte', async () => {
    const out = join(cli.dir, 'down');
    await s3('cp', `s3://${bucket}/tree/`, out, '--recursive');
    assert.deepEqual(filesUnder(out), tree);
  });

  it('sync uploads only what changed, and sync --delete mirrors deletions', async () => {
    const first = await s3('sync', src, `s3://${bucket}/synced/`);
    assert.equal(first.stdout.match(/^upload:/gm)?.length, Object.keys(tree).length);
    const again = await s3('sync', src, `s3://${bucket}/synced/`);
    assert.equal(again.stdout.trim(), '', 'nothing changed, nothing uploaded');
    writeFileSync(join(src, 'a/one.txt'), 'one, longer now\n');
    writeFileSync(join(src, 'new.txt'), 'new\n');
    const changed = await s3('sync', src, `s3://${bucket}/synced/`);
    assert.deepEqual(changed.stdout.match(/s3:\/\/\S+/g)?.sort(), [`s3://${bucket}/synced/a/one.txt`, `s3://${bucket}/synced/new.txt`]);
    const mirror = join(cli.dir, 'mirror');
    await s3('sync', `s3://${bucket}/synced/`, mirror);
    assert.deepEqual(filesUnder(mirror), filesUnder(src));
    await s3('rm', `s3://${bucket}/synced/new.txt`);
    const del = await s3('sync', `s3://${bucket}/synced/`, mirror, '--delete');
    assert.match(del.stdout, /delete: .*new\.txt/);
    assert.equal(filesUnder(mirror)['new.txt'], undefined);
  });

  it('server-side cp and mv (UploadPartCopy for the large object); the moved source is gone', async () => {
    await s3('cp', `s3://${bucket}/tree/big.bin`, `s3://${bucket}/copy/big.bin`);
    await s3('mv', `s3://${bucket}/copy/big.bin`, `s3://${bucket}/moved/big.bin`);
    await s3('cp', `s3://${bucket}/tree/space name.txt`, `s3://${bucket}/moved/space name.txt`);
    const listing = await s3('ls', `s3://${bucket}/`, '--recursive');
    assert.doesNotMatch(listing.stdout, /copy\/big\.bin/);
    const local = join(cli.dir, 'moved.bin');
    await s3('cp', `s3://${bucket}/moved/big.bin`, local);
    assert.deepEqual(readFileSync(local), tree['big.bin']);
  });

  it('presign (s3v4) gives a URL plain HTTP can fetch; it expires', async () => {
    const url = (await s3('presign', `s3://${bucket}/tree/a/one.txt`, '--expires-in', '60')).stdout.trim();
    assert.match(url, /X-Amz-Algorithm=AWS4-HMAC-SHA256/);
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'one\n');
    const tampered = url.replace('one.txt', 'two.txt');
    assert.equal((await fetch(tampered)).status, 403);
  });

  it('rm --recursive removes a prefix; rb --force removes the rest and the bucket', async () => {
    const rm = await s3('rm', `s3://${bucket}/tree/`, '--recursive');
    assert.equal(rm.stdout.match(/^delete:/gm)?.length, Object.keys(tree).length);
    const left = await s3('ls', `s3://${bucket}/`, '--recursive');
    assert.doesNotMatch(left.stdout, /tree\//);
    await s3('rb', `s3://${bucket}`, '--force');
    const buckets = await s3('ls');
    assert.doesNotMatch(buckets.stdout, new RegExp(bucket));
  });
});
