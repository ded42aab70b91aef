/**
 * restic (Debian's package; minio-go underneath) against a real server over HTTP and HTTPS (the
 * self-signed certificate trusted with --cacert): init, backup twice, check --read-data, restore
 * each snapshot and compare the bytes, then forget --prune and check and restore again.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
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

const RESTIC = '/usr/bin/restic';

describe('restic', { skip: !installed(RESTIC) && 'restic is not installed (apt-get install restic)' }, () => {
  let m: MeridianProcess;
  let dir: string;

  before(async () => {
    m = await startMeridianProcess();
    dir = scratchDir('restic');
  });
  after(async () => {
    removeDir(dir);
    await m?.stop();
  });

  for (const scheme of SCHEMES) {
    describe(`over ${scheme}`, () => {
      const bucket = `restic-${scheme}-${randomBytes(4).toString('hex')}`;
      const first: Tree = sampleTree();
      const second: Tree = { ...first, 'small.txt': Buffer.from('edited after the first backup\n'), 'added.bin': randomBytes(200_000) };
      delete second['dir/with space é.txt'];
      let src: string;
      const snapshots: string[] = [];

      const restic = async (...args: string[]) => {
        const { endpoint, caFile } = endpointOf(m, scheme);
        const env = cleanEnv(dir, {
          RESTIC_REPOSITORY: `s3:${endpoint}/${bucket}`,
          RESTIC_PASSWORD: 'correct horse battery staple',
          AWS_ACCESS_KEY_ID: m.accessKeyId,
          AWS_SECRET_ACCESS_KEY: m.secretAccessKey,
          RESTIC_CACHE_DIR: join(dir, `cache-${scheme}`),
        });
        return (await runClient(RESTIC, [...args, ...(caFile ? ['--cacert', caFile] : [])], { env, cwd: dir })).stdout;
      };
      const restore = async (snapshot: string): Promise<Tree> => {
        const target = join(dir, `restore-${randomBytes(4).toString('hex')}`);
        await restic('restore', snapshot, '--target', target);
        const got = readTree(join(target, src));
        rmSync(target, { recursive: true, force: true });
        return got;
      };
      const listSnapshots = async (): Promise<string[]> => (JSON.parse(await restic('snapshots', '--json')) as { id: string }[]).map((s) => s.id);

      test('init creates the repository (and its bucket)', async () => {
        src = join(dir, `src-${scheme}`);
        await restic('init');
        assert.deepEqual(await listSnapshots(), []);
      });

      test('two backups; check --read-data reads every pack; each snapshot restores its own bytes', async () => {
        writeTree(src, first);
        await restic('backup', src);
        rmSync(src, { recursive: true });
        writeTree(src, second);
        await restic('backup', src);
        snapshots.push(...(await listSnapshots()));
        assert.equal(snapshots.length, 2);
        assert.match(await restic('check', '--read-data'), /no errors were found/);
        assertSameTree(await restore(snapshots[0]!), first, 'first snapshot');
        assertSameTree(await restore('latest'), second, 'latest snapshot');
      });

      test('forget --keep-last 1 --prune deletes the unused packs; the repository stays whole', async () => {
        const out = await restic('forget', '--keep-last', '1', '--prune');
        assert.match(out, /remove 1 snapshots|removed snapshot|1 snapshots/i);
        assert.deepEqual(await listSnapshots(), [snapshots[1]]);
        assert.match(await restic('check', '--read-data'), /no errors were found/);
        assertSameTree(await restore('latest'), second, 'latest snapshot after prune');
      });
    });
  }
});
