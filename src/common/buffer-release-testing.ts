/**
 * For tests of code that frees buffers early (buffer-release.ts): such code does something only in a
 * process that has ArrayBuffer.prototype.transfer, which on Node 20 means a V8 flag on the command
 * line, as cluster workers get it. The test runner itself has no such flag, so these tests run their
 * scenario in a child process that does.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Node 20 has ArrayBuffer.prototype.transfer behind this flag (cluster workers get it); later versions without. */
const transferFlag = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function' ? [] : ['--harmony-rab-gsab-transfer'];

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Runs `code` (an ES module that may import TypeScript sources) in a node process that can free buffers early, as workers can; returns its stdout, trimmed. */
export function inWorkerProcess(code: string): string {
  const r = spawnSync(process.execPath, [...transferFlag, '--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', cwd: repoRoot });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}
