/**
 * Smoke test of `npm run bench:policy`: it runs in its shortest mode and reports every case as a
 * positive figure. No timing assertions: speed is shown by the benchmark's ratios, not tested.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';

const ROOT = new URL('..', import.meta.url).pathname;

test('npm run bench:policy -- --smoke --json reports every case', { timeout: 120_000 }, async () => {
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, [ROOT + 'bin/run-ts.mjs', ROOT + 'bench/policy-eval.ts', '--smoke', '--json'], { cwd: ROOT }, (err, out, stderr) =>
      err ? reject(new Error(`${String(err)}\n${stderr}`)) : resolve(out),
    ),
  );
  const result = JSON.parse(stdout) as { rows: { id: string; nsPerOp: number; vsSigV4: number }[] };
  assert.deepEqual(result.rows.map((r) => r.id), ['call', 'sha256-4k', 'sigv4', 'engine-10', 'engine-50', 'authorizer']);
  for (const r of result.rows) assert.ok(r.nsPerOp > 0 && Number.isFinite(r.vsSigV4), `${r.id}: ${r.nsPerOp}`);
});
