// Whether dist/ (scripts/build-server.mjs) is a build of the sources as they are now.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const STAMP = '.build-stamp';

/** The newest modification time of the server's sources (tests left out: they are not built). */
export function newestSource(dir) {
  let newest = statSync(dir).mtimeMs; // a deleted file shows in its directory's time
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** dist/ when it is at least as new as every source file, else undefined. */
export function freshBuild(root) {
  const dist = join(root, 'dist');
  const stamp = join(dist, STAMP);
  try {
    if (existsSync(stamp) && statSync(stamp).mtimeMs >= newestSource(join(root, 'src'))) return dist;
  } catch {
    // A build being swapped in, or sources being moved: run the sources.
  }
  return undefined;
}
