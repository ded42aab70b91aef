/**
 * Requests that arrive in one turn of the event loop start together, in a read epoch that begins after
 * the last of them arrived: what another process committed before any of them arrived is seen by all
 * of them, and the cached-row check is made once for the batch.
 */
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { currentReadEpoch } from '../common/read-epoch.js';
import { startTogether } from './http-adapter.js';

describe('requests start together', () => {
  it('requests arriving in one turn start in one epoch, newer than any epoch in use when they arrived', async () => {
    const schedule = startTogether();
    const atArrival = currentReadEpoch();
    const started: number[] = [];
    schedule(() => started.push(currentReadEpoch()));
    schedule(() => started.push(currentReadEpoch()));
    schedule(() => started.push(currentReadEpoch()));
    assert.deepEqual(started, [], 'nothing starts inside the arrival callback');
    await nextTurn();
    assert.equal(started.length, 3);
    assert.ok(started.every((e) => e === started[0]), `one epoch for the batch: ${started.join(', ')}`);
    assert.ok(started[0]! > atArrival, 'begun after the arrivals');
  });

  it('a request arriving in a later turn starts in a later epoch', async () => {
    const schedule = startTogether();
    const epochs: number[] = [];
    schedule(() => epochs.push(currentReadEpoch()));
    await nextTurn();
    schedule(() => epochs.push(currentReadEpoch()));
    await nextTurn();
    assert.equal(epochs.length, 2);
    assert.ok(epochs[1]! > epochs[0]!);
  });
});
