#!/usr/bin/env node
// Compiles the server (src/**/*.ts, tests left out) to plain JavaScript in dist/, the same tree one
// level up from the sources, so paths relative to a module (console/dist) resolve alike. Types are
// stripped by esbuild, module by module, as tsx does at run time (no bundling). bin/meridian.mjs runs
// dist/ when it is newer than every source file, and the sources through tsx otherwise: a process
// then carries no TypeScript loader (its hooks thread and compile caches cost about 35 MB of RSS per
// process, times every cluster worker). Runs from `npm install`/`npm ci` (prepare) and before
// `npm start` (prestart). Usage: node scripts/build-server.mjs [--if-stale]
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { newestSource, STAMP } from '../bin/server-build.mjs';

const root = new URL('..', import.meta.url).pathname;
const src = join(root, 'src');
const dist = join(root, 'dist');

if (process.argv.includes('--if-stale') && existsSync(join(dist, STAMP)) && statSync(join(dist, STAMP)).mtimeMs >= newestSource(src)) process.exit(0);

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.warn('meridian: esbuild is not installed; the server runs from its TypeScript sources (through tsx).');
  process.exit(0);
}
const started = Date.now();
// Built beside dist/ and swapped in, so a server starting meanwhile sees the old build or none (and
// falls back to the sources), never half of one.
const out = join(root, `dist.build-${process.pid}`);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const files = sources(src);
await esbuild.build({
  entryPoints: files,
  outdir: out,
  outbase: src,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  bundle: false,
  logLevel: 'warning',
  tsconfig: join(root, 'tsconfig.json'),
});
writeFileSync(join(out, 'package.json'), '{ "type": "module" }\n');
writeFileSync(join(out, STAMP), `${new Date(started).toISOString()}\n`);
// Dated when the build started: a source saved while it ran makes the build stale, as it should.
utimesSync(join(out, STAMP), new Date(started), new Date(started));
const old = join(root, `dist.old-${process.pid}`);
if (existsSync(dist)) renameSync(dist, old);
renameSync(out, dist);
rmSync(old, { recursive: true, force: true });
console.log(`meridian: server compiled into ${relative(process.cwd(), dist) || 'dist'} (${files.length} modules) in ${Date.now() - started} ms`);
