/**
 * The `meridian` command runs the compiled server (dist/, built by `npm install`, `npm start` and
 * `npm test`) only while that build is current, and the TypeScript sources otherwise: an edited
 * source file is never shadowed by an old build.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
// @ts-expect-error a plain-JavaScript module of the launcher, without type declarations
import { freshBuild, STAMP } from '../../bin/server-build.mjs';

const ROOT = new URL('../..', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'meridian-build-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function tree(name: string): string {
  const root = join(scratch, name);
  mkdirSync(join(root, 'src', 'server'), { recursive: true });
  mkdirSync(join(root, 'dist'), { recursive: true });
  for (const f of ['src/server/a.ts', 'src/server/a.test.ts', 'dist/' + STAMP]) writeFileSync(join(root, f), '');
  const t = new Date(Date.now() - 60_000);
  for (const f of ['src/server/a.ts', 'src/server/a.test.ts', 'src/server', 'src']) utimesSync(join(root, f), t, t);
  return root;
}

const touch = (p: string) => utimesSync(p, new Date(), new Date(Date.now() + 1000));

describe('which server the meridian command runs', () => {
  it('the build when its stamp is at least as new as every source file', () => {
    const root = tree('fresh');
    assert.equal(freshBuild(root), join(root, 'dist'));
  });

  it('the sources when a source file is newer than the build, or was added or removed since', () => {
    const edited = tree('edited');
    touch(join(edited, 'src/server/a.ts'));
    assert.equal(freshBuild(edited), undefined);
    const removed = tree('removed');
    rmSync(join(removed, 'src/server/a.ts'));
    touch(join(removed, 'src/server'));
    assert.equal(freshBuild(removed), undefined);
  });

  it('ignores test files (they are not built), and runs the sources when there is no build', () => {
    const root = tree('tests');
    touch(join(root, 'src/server/a.test.ts'));
    assert.equal(freshBuild(root), join(root, 'dist'));
    rmSync(join(root, 'dist', STAMP));
    assert.equal(freshBuild(root), undefined);
  });

  it('the checkout has a current build after `npm test` started, and it runs (meridian --help)', async () => {
    assert.equal(freshBuild(ROOT), join(ROOT, 'dist'));
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [join(ROOT, 'bin/meridian.mjs'), '--help'], (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );
    assert.match(out, /serve/);
  });
});
