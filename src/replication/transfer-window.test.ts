/** The replication transfer window: many small replicas at once, large ones by their bytes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TransferWindow } from './transfer-window.js';

const MiB = 1024 * 1024;
const tick = () => new Promise((r) => setImmediate(r));

describe('transfer window', () => {
  it('holds 64 tasks before any size is known, all of maxTasks once replicas are small', async () => {
    const w = new TransferWindow({ maxTasks: 256, maxBytes: 256 * MiB });
    assert.equal(w.tasks(), 64);
    for (let i = 0; i < 10; i++) (await w.admit(4096))();
    assert.equal(w.tasks(), 256);
    assert.equal(new TransferWindow({ maxTasks: 8, maxBytes: MiB }).tasks(), 8, 'never more than maxTasks');
  });

  it('holds about maxBytes worth of tasks, judged by the largest recent replica', async () => {
    const w = new TransferWindow({ maxTasks: 256, maxBytes: 256 * MiB });
    (await w.admit(64 * MiB))();
    assert.equal(w.tasks(), 4);
    (await w.admit(4096))();
    assert.equal(w.tasks(), 4, 'one small replica does not reopen the window');
    (await w.admit(1024 * MiB))();
    assert.equal(w.tasks(), 1, 'at least one');
    for (let i = 0; i < 32; i++) (await w.admit(4096))();
    assert.equal(w.tasks(), 256, 'the large ones have left the recent sizes');
  });

  it('admits at most maxBytes at once, first come first served; a replica larger than that goes alone', async () => {
    const w = new TransferWindow({ maxTasks: 256, maxBytes: 250 });
    const order: string[] = [];
    const a = await w.admit(100);
    const b = await w.admit(100);
    assert.equal(w.inFlight, 200);
    const c = w.admit(100).then((r) => (order.push('c'), r));
    const huge = w.admit(1000).then((r) => (order.push('huge'), r));
    const d = w.admit(10).then((r) => (order.push('d'), r));
    await tick();
    assert.deepEqual(order, [], '10 more bytes would fit, but d queues behind c');
    assert.equal(w.waiting, 3);
    a();
    a(); // releasing twice counts once
    const releaseC = await c;
    await tick();
    assert.deepEqual(order, ['c']);
    assert.equal(w.inFlight, 200);
    b();
    releaseC();
    const releaseHuge = await huge;
    await tick();
    assert.deepEqual(order, ['c', 'huge'], 'alone, and before d');
    assert.equal(w.inFlight, 1000);
    releaseHuge();
    (await d)();
    assert.deepEqual(order, ['c', 'huge', 'd']);
    assert.equal(w.inFlight, 0);
    assert.equal(w.waiting, 0);
  });
});
