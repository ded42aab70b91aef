/**
 * The process-tree and memory readings the benchmark's CPU and RSS figures are built from.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { PeakRss, processTree } from './processes.js';

const linux = process.platform === 'linux';

test('a process tree holds the root and its children, grandchildren included', { skip: !linux }, async () => {
  // A child that starts a grandchild and reports its pid.
  const child = spawn(process.execPath, ['-e', `
    const g = require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    console.log(g.pid);
    setInterval(() => {}, 1000);
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  let grandchild = 0;
  try {
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    grandchild = Number(line.toString().trim());
    const tree = processTree(process.pid);
    assert.equal(tree[0], process.pid);
    assert.ok(tree.includes(child.pid!), `child ${child.pid} in ${tree.join(',')}`);
    assert.ok(tree.includes(grandchild), `grandchild ${grandchild} in ${tree.join(',')}`);
    assert.deepEqual(processTree(child.pid!).sort(), [child.pid!, grandchild].sort());
  } finally {
    if (grandchild > 0) process.kill(grandchild, 'SIGKILL');
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
});

test('a process that does not exist has an empty tree', { skip: !linux }, () => {
  assert.deepEqual(processTree(2 ** 22 + 7), []);
});

test('peak RSS samples PSS only when asked to', { skip: !linux }, () => {
  const plain = new PeakRss([process.pid]);
  const withPss = new PeakRss([process.pid], { pss: true });
  assert.ok(plain.stop().get(process.pid)! > 0);
  withPss.stop();
  assert.equal(plain.peakPss(process.pid), 0);
  assert.ok(withPss.peakPss(process.pid) > 0);
});
