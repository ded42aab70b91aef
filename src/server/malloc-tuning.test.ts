import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { it } from 'node:test';
import { MALLOC_TUNABLES, workerMallocEnv } from './malloc-tuning.js';

it('workers get the malloc settings in GLIBC_TUNABLES, after any tunables the operator set', () => {
  assert.deepEqual(workerMallocEnv({}), { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=4194304:glibc.malloc.trim_threshold=33554432' });
  assert.deepEqual(workerMallocEnv({ GLIBC_TUNABLES: 'glibc.cpu.hwcaps=-AVX512F' }), { GLIBC_TUNABLES: `glibc.cpu.hwcaps=-AVX512F:${MALLOC_TUNABLES}` });
});

it('an operator who tunes malloc keeps exactly their settings', () => {
  assert.deepEqual(workerMallocEnv({ MALLOC_MMAP_THRESHOLD_: '131072' }), {});
  assert.deepEqual(workerMallocEnv({ MALLOC_TRIM_THRESHOLD_: '0' }), {});
  assert.deepEqual(workerMallocEnv({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }), {});
});

/** How much glibc's main heap ([heap]) grows while a process allocates eight 1 MiB buffers and keeps them. */
const CHILD = `
const { readFileSync } = require('node:fs');
const heapSize = () => {
  const m = /^([0-9a-f]+)-([0-9a-f]+) .*\\[heap\\]$/m.exec(readFileSync('/proc/self/maps', 'utf8'));
  return m ? parseInt(m[2], 16) - parseInt(m[1], 16) : 0;
};
const before = heapSize();
const kept = Array.from({ length: 8 }, () => Buffer.allocUnsafeSlow(1048576).fill(1));
process.stdout.write(String((heapSize() - before) / 1048576));
kept.length = 0;
`;

const glibc = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime;

it('with them, glibc serves 1 MiB buffers from its heap (reused) instead of mapping each afresh', { skip: glibc === undefined && 'not glibc' }, () => {
  const heapGrowthMiB = (env: NodeJS.ProcessEnv): number => {
    const r = spawnSync(process.execPath, ['-e', CHILD], { env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return Number(r.stdout);
  };
  const { GLIBC_TUNABLES: _, MALLOC_MMAP_THRESHOLD_: __, MALLOC_TRIM_THRESHOLD_: ___, ...plain } = process.env;
  assert.ok(heapGrowthMiB(plain) < 1, 'by default each 1 MiB buffer is a mapping of its own, outside the heap');
  assert.ok(heapGrowthMiB({ ...plain, ...workerMallocEnv(plain) }) >= 7, 'with the settings the buffers come from the heap');
});
