/**
 * Smoke test of `npm run bench`: the command runs end to end in its shortest mode and produces every
 * figure as a positive number. No timing assertions: speed is shown by the benchmark's ratios, not tested.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { BenchResult } from './benchmark.js';

const ROOT = new URL('..', import.meta.url).pathname;

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ROOT + 'bin/run-ts.mjs', ROOT + 'bench/run.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('npm run bench -- --smoke --json reports every figure as a positive number', { timeout: 180_000 }, async () => {
  const { code, stdout, stderr } = await runBench(['--smoke', '--json']);
  assert.equal(code, 0, `benchmark failed:\n${stderr}`);
  const result = JSON.parse(stdout) as BenchResult;
  assert.ok(result.machine.cpus > 0);
  assert.match(result.machine.node, /^v\d+/);
  const ids = result.rows.map((r) => r.id);
  for (const expected of [
    'put-4096-sse-s3',
    'get-4096-sse-s3',
    'put-4096-sse-kms',
    'get-4096-sse-kms',
    'head-4096-sse-s3',
    'head-4096-sse-kms',
    'put-1048576-sse-s3',
    'get-1048576-sse-kms',
    'peak-rss-throughput',
    'list-v2',
    'list-versions',
    'sse-kms-vs-s3-put-4096',
    'sse-kms-vs-s3-get-4096',
    'replication-lag-w1-p50',
    'replication-lag-w1-p99',
    'replication-steady-1p-p50',
    'replication-steady-1p-p99',
    'replication-throughput-1p',
    'replication-steady-2p-p50',
    'replication-throughput-2p',
  ]) {
    assert.ok(ids.includes(expected), `missing figure ${expected} (have ${ids.join(', ')})`);
  }
  const large = String(result.settings.largeSize);
  assert.equal(ids.filter((id) => new RegExp(`^(put|get)-${large}-sse-(s3|kms)$`).test(id)).length, 4, 'large PUT/GET figures, one stream, SSE-S3 and SSE-KMS');
  assert.equal(ids.filter((id) => new RegExp(`^(put|get)-${large}-sse-(s3|kms)-x\\d+$`).test(id)).length, 4, 'large PUT/GET figures, several streams at once');
  assert.ok(ids.some((id) => id.startsWith('peak-rss-streams-')), 'peak RSS while clients stream');
  // Server CPU per request on every throughput row (whole process tree).
  for (const r of result.rows.filter((r) => r.unit === 'ops/s' && !r.id.startsWith('sse-'))) assert.ok(Number(r.detail?.meridianServerUsPerRequest) > 0, `${r.id}: server CPU per request`);
  // Both servers were warmed up on every small-object request kind before the first row.
  assert.equal(result.warmup?.length, 10, 'a warm-up curve per small-object request kind, and for 1 MiB PUT and GET');
  for (const w of result.warmup!) for (const side of ['meridian', 'baseline'] as const) assert.ok(w[side].length >= 1 && w[side].every((r) => r > 0), `warm-up ${w.shape}: ${side} ${w[side].join(' ')}`);
  // Every target of issue 12 has its line, and the geometric mean is a ratio.
  assert.ok((result.targets ?? []).length >= 15, 'a line per target');
  for (const t of result.targets!) assert.match(t.verdict, /^(PASS|FAIL|n\/a)$/);
  assert.ok(Number.isFinite(result.geometricMean) && result.geometricMean! > 0);
  for (const r of result.rows) {
    for (const [name, v] of [['meridian', r.meridian], ['baseline', r.baseline], ['ratio', r.ratio]] as const) {
      assert.ok(Number.isFinite(v) && v > 0, `${r.workload}: ${name} = ${v}`);
    }
  }
});
