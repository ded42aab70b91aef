#!/usr/bin/env node
// `npm test`: type-check, compile the server if its build is stale, then run every *.test.ts with node's test runner.
// Usage: npm test [-- <path filter>...]   e.g. `npm test -- policy` runs only files whose path contains "policy".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

// The SDK warns on every client about Node 20 support ending; tests know.
const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  return r.status ?? 1;
}

if (filters.length === 0) {
  console.log('== type-check (tsc --noEmit)');
  if (run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', '.']) !== 0) process.exit(1);
  // The web console has its own settings (DOM library, JSX).
  if (run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', 'console']) !== 0) process.exit(1);
}

// The servers the tests start run what `npm start` runs: the compiled build, brought up to date here.
if (run(process.execPath, [join(root, 'scripts/build-server.mjs'), '--if-stale']) !== 0) process.exit(1);

const files = ['src', 'test', 'bench']
  .filter((d) => existsSync(join(root, d)))
  .flatMap((d) => findTests(join(root, d)))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
console.log(`== ${files.length} test files`);
// TAP on stdout as always; the failures alone also go to a file, printed again after the summary.
const failuresDir = mkdtempSync(join(tmpdir(), 'meridian-test-failures-'));
const failuresFile = join(failuresDir, 'failures.txt');
const status = run(process.execPath, [
  '--import', 'tsx',
  '--test',
  '--test-concurrency=2',
  '--test-timeout=600000',
  '--test-reporter=tap', '--test-reporter-destination=stdout',
  `--test-reporter=${join(root, 'scripts/failures-reporter.mjs')}`, `--test-reporter-destination=${failuresFile}`,
  ...files,
]);
const failures = existsSync(failuresFile) ? readFileSync(failuresFile, 'utf8') : '';
rmSync(failuresDir, { recursive: true, force: true });
if (failures.trim()) console.log(`\n== failing tests (also above, in place)\n${failures.trimEnd()}`);
else if (status !== 0) console.log(`\n== the test runner exited with ${status} but reported no failing test`);
process.exit(status);
