#!/usr/bin/env node
// Builds the web console (console/ → console/dist) with Vite. Runs from `npm install`/`npm ci`
// (prepare) and before `npm start` (prestart) with --if-stale, which skips the build when
// console/dist is newer than every input. Usage: node scripts/build-console.mjs [--if-stale]
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'console', 'dist', 'index.html');
// What the bundle is made of: the console's sources and the modules it shares with the server.
const inputs = ['console/src', 'console/index.html', 'console/vite.config.ts', 'src/policy', 'src/regions', 'package-lock.json'];

function newest(p) {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(p).map((n) => newest(join(p, n))));
}

if (process.argv.includes('--if-stale') && existsSync(dist)) {
  const built = statSync(dist).mtimeMs;
  if (inputs.every((i) => newest(join(root, i)) <= built)) process.exit(0);
}

let vite;
try {
  vite = await import(createRequire(join(root, 'package.json')).resolve('vite'));
} catch {
  // An install without devDependencies: Meridian runs, /_console/ says how to build it.
  console.warn('meridian: vite is not installed (devDependencies omitted?); the web console is not built. Run `npm install` then `npm run build:console`.');
  process.exit(0);
}
const started = Date.now();
await vite.build({ configFile: join(root, 'console', 'vite.config.ts'), logLevel: 'warn' });
console.log(`meridian: web console built into console/dist in ${Date.now() - started} ms`);
