#!/usr/bin/env node
// `npm test`: type-check, compile the server if its build is stale, then run every *.test.ts with node's test runner.
// Usage: npm test [-- <path filter>...]   e.g. `npm test -- policy` runs only files whose path contains "policy".
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
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
const status = run(process.execPath, [
  '--import', 'tsx',
  '--test',
  '--test-concurrency=2',
  '--test-timeout=600000',
  ...files,
]);
process.exit(status);
