/**
 * The console's own unit and component tests (console/src/**\/*.spec.ts[x]) run with Vitest, which
 * bundles them as Vite bundles the console; this runs them inside `npm test`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const ROOT = new URL('../..', import.meta.url).pathname;

test('console unit and component tests (Vitest)', () => {
  const vitest = join(createRequire(join(ROOT, 'package.json')).resolve('vitest/package.json'), '..', 'vitest.mjs');
  const r = spawnSync(process.execPath, [vitest, 'run', '--config', join(ROOT, 'console/vite.config.ts'), '--reporter=verbose'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0' } });
  const out = `${r.stdout}\n${r.stderr}`.replace(/\u001b\[[0-9;]*m/g, '');
  assert.equal(r.status, 0, out);
  // It ran the specs (a configuration that finds none must not pass).
  const passed = /Tests\s+(\d+) passed/.exec(out);
  assert.ok(passed && Number(passed[1]) >= 10, out);
});
