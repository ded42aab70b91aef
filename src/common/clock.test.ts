import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OffsetClock } from './clock.js';

test('an OffsetClock moves forward by what it is advanced, runs its listeners, and never goes back', async () => {
  const clock = new OffsetClock();
  let ran = 0;
  clock.onAdvance(() => {
    ran++;
  });
  const before = clock.now();
  await clock.advance(10 * 86_400_000);
  assert.ok(clock.now() - before >= 10 * 86_400_000);
  assert.equal(clock.offsetMs, 10 * 86_400_000);
  assert.equal(ran, 1);
  await assert.rejects(clock.advance(-1), RangeError);
  await assert.rejects(clock.advance(Number.NaN), RangeError);
  assert.equal(clock.offsetMs, 10 * 86_400_000);
});
