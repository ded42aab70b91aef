/**
 * The design's layering, enforced: folders are layers and imports only point down
 * (../shared/design.md, "Layers"). An upward import fails here, not in review.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve(new URL('../../src', import.meta.url).pathname);

/** Which layers each layer may import (besides itself). */
const ALLOWED: Record<string, string[]> = {
  cli: ['server', 'services', 'replication', 'faults', 'policy', 'crypto', 'storage', 'regions', 'common'],
  server: ['services', 'replication', 'faults', 'policy', 'crypto', 'storage', 'regions', 'common'],
  services: ['replication', 'faults', 'policy', 'crypto', 'storage', 'regions', 'common'],
  replication: ['faults', 'policy', 'crypto', 'storage', 'regions', 'common'],
  // Injected faults (MERIDIAN_FAULTS=on): a registry and thin wrappers the layers above put in place.
  faults: ['storage', 'regions', 'common'],
  policy: ['common'],
  crypto: ['common'],
  storage: ['common'],
  regions: ['common'],
  common: [],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function layerOf(file: string): string {
  return relative(SRC, file).split('/')[0]!;
}

test('every file under src/ lives in a known layer', () => {
  for (const f of files(SRC)) assert.ok(layerOf(f) in ALLOWED, `${relative(SRC, f)} is outside the known layers`);
});

test('imports only point down the layers', () => {
  const violations: string[] = [];
  for (const f of files(SRC)) {
    const from = layerOf(f);
    const source = readFileSync(f, 'utf8');
    for (const m of source.matchAll(/(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
      const spec = m[1] ?? m[2]!;
      const target = resolve(dirname(f), spec);
      if (!target.startsWith(SRC)) {
        violations.push(`${relative(SRC, f)} imports ${spec}, outside src/`);
        continue;
      }
      const to = layerOf(target);
      if (to !== from && !ALLOWED[from]!.includes(to)) violations.push(`${relative(SRC, f)} (${from}) imports ${spec} (${to})`);
    }
  }
  assert.deepEqual(violations, []);
});
