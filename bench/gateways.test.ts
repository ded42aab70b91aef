/**
 * Smoke test of `npm run bench:gateways`: the command runs end to end in its shortest mode (a
 * throwaway PostgreSQL, embedded mode, gateways, replication over two gateways, a bulk-loaded
 * listing) and produces every figure as a positive number. No timing assertions: speed is what the
 * benchmark reports, not what a test checks. Skipped where the PostgreSQL binaries are missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { postgresUnavailable } from '../src/storage/testing/throwaway-postgres.js';
import type { GatewayResult } from './gateways.js';

const ROOT = new URL('..', import.meta.url).pathname;

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ROOT + 'bin/run-ts.mjs', ROOT + 'bench/gateways.ts', ...args], {
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

test('npm run bench:gateways -- --smoke --json reports every figure as a positive number', { skip: postgresUnavailable(), timeout: 180_000 }, async () => {
  const { code, stdout, stderr } = await runBench(['--smoke', '--json', '--list-keys', '2500']);
  assert.equal(code, 0, `benchmark failed:\n${stderr}`);
  const result = JSON.parse(stdout) as GatewayResult;
  assert.equal(result.settings.listKeys, 2500, '--list-keys is taken');
  const ids = result.rows.map((r) => r.id);
  const expected = ['put-4096-embedded', 'get-4096-embedded'];
  for (const n of result.settings.gateways) expected.push(`put-4096-pg-${n}`, `get-4096-pg-${n}`);
  expected.push('replication-lag-p50-pg-2', 'replication-lag-p99-pg-2', 'replication-steady-rate-pg-2', 'replication-throughput-pg-2', 'list-v2-keys', 'list-v2-delimiter');
  for (const id of expected) assert.ok(ids.includes(id), `missing figure ${id} (have ${ids.join(', ')})`);
  for (const r of result.rows) assert.ok(Number.isFinite(r.value) && r.value > 0, `${r.workload}: ${r.value}`);
  // Server CPU per request: the gateways' on every 4 KiB row, PostgreSQL's apart on the PostgreSQL rows.
  for (const r of result.rows.filter((r) => /^(put|get)-4096-/.test(r.id))) {
    assert.ok(Number(r.detail?.gatewayCpuUsPerRequest) > 0, `${r.id}: gateway CPU per request`);
    if (r.id.includes('-pg-')) assert.ok(Number(r.detail?.postgresCpuUsPerRequest) > 0, `${r.id}: PostgreSQL CPU per request`);
    else assert.equal(r.detail?.postgresCpuUsPerRequest, undefined, `${r.id}: embedded mode has no PostgreSQL`);
  }
  // Both gateways' workers took part in replication, and every steady PUT's lag was counted once.
  const lag = result.rows.find((r) => r.id === 'replication-lag-p50-pg-2')!;
  const perGateway = String(lag.detail?.replicatedByGateway).split('+').map(Number);
  assert.equal(perGateway.length, 2);
  assert.equal(perGateway.reduce((a, b) => a + b, 0), lag.detail?.objects);
});
