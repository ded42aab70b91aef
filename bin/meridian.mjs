#!/usr/bin/env node
// The `meridian` command. Runs the compiled server in dist/ when it is up to date with the sources
// (`npm install` and `npm start` build it: scripts/build-server.mjs), else the TypeScript sources
// through tsx, so a checkout also works with no build step at all.
import { fileURLToPath } from 'node:url';
import { freshBuild } from './server-build.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = process.env.MERIDIAN_RUN_SOURCES === '1' ? undefined : freshBuild(root);
let main;
if (dist) {
  ({ main } = await import(new URL('../dist/cli/main.js', import.meta.url).href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
await main(process.argv.slice(2));
