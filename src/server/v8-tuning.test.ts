import assert from 'node:assert/strict';
import { it } from 'node:test';
import { serverV8Flags } from './v8-tuning.js';

/** Node 20 needs the flag for ArrayBuffer.prototype.transfer on the command line; later versions have the method. */
const transferFlag = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function' ? [] : ['--harmony-rab-gsab-transfer'];

function withExecArgv<T>(argv: string[], fn: () => T): T {
  const saved = process.execArgv;
  process.execArgv = argv;
  try {
    return fn();
  } finally {
    process.execArgv = saved;
  }
}

it('serving processes get a lower interrupt budget, and workers room in the old generation before a full collection', () => {
  assert.deepEqual(withExecArgv([], serverV8Flags), ['--interrupt-budget=16384', '--initial-old-space-size=64', ...transferFlag]);
});

it("an operator's own setting of a flag on node's command line wins, in any of V8's spellings", () => {
  // Given after the operator's on a worker's command line, ours would override theirs.
  assert.deepEqual(withExecArgv(['--interrupt-budget=1000'], serverV8Flags), ['--initial-old-space-size=64', ...transferFlag]);
  assert.deepEqual(withExecArgv(['--interrupt_budget=1000', '--initial_old_space_size=16', '--no-harmony-rab-gsab-transfer'], serverV8Flags), []);
  assert.deepEqual(withExecArgv(['--max-old-space-size=512'], serverV8Flags), ['--interrupt-budget=16384', '--initial-old-space-size=64', ...transferFlag]);
});
