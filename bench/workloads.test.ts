/** The warm-up's stopping rule: a server is warm once a round's rate is within 10 % of the round before. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { warmedUp } from './workloads.js';

test('a single round is never enough to call a server warm', () => {
  assert.equal(warmedUp([]), false);
  assert.equal(warmedUp([3000]), false);
});

test('a rate still climbing is not warm; one that has levelled off is', () => {
  // A fresh server's 4 KiB PUT rounds from a real run: still climbing until the last two.
  const rounds = [575, 1332, 1982, 2198, 2224];
  const verdicts = rounds.map((_, i) => warmedUp(rounds.slice(0, i + 1)));
  assert.deepEqual(verdicts, [false, false, false, false, true]);
});

test('a fall of more than 10 % is not steady either, and a zero round never is', () => {
  assert.equal(warmedUp([3000, 2600]), false);
  assert.equal(warmedUp([3000, 2750]), true);
  assert.equal(warmedUp([0, 0]), false);
});
