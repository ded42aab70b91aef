import { it } from 'node:test';
import assert from 'node:assert/strict';
import { secureRandomBytes } from './random.js';

it('returns fresh buffers of the size asked for, never the same bytes twice', () => {
  const seen = new Set<string>();
  // More than one pool's worth, so refills are crossed, and sizes that do not divide the pool.
  for (let i = 0; i < 2000; i++) {
    const n = [12, 16, 32, 48, 7][i % 5]!;
    const b = secureRandomBytes(n);
    assert.equal(b.length, n);
    const hex = b.toString('hex');
    assert.ok(!seen.has(hex), 'no repeated output');
    seen.add(hex);
  }
});

it('a buffer handed out is independent of the pool: zeroing it affects nothing else', () => {
  const a = secureRandomBytes(32);
  const copy = Buffer.from(a);
  const b = secureRandomBytes(32);
  b.fill(0);
  assert.deepEqual(a, copy);
});

it('large sizes come straight from the CSPRNG; invalid sizes are refused', () => {
  assert.equal(secureRandomBytes(1000).length, 1000);
  assert.equal(secureRandomBytes(0).length, 0);
  assert.throws(() => secureRandomBytes(-1), RangeError);
  assert.throws(() => secureRandomBytes(1.5), RangeError);
});

it('bytes look uniform (a coarse check that the pool is really filled)', () => {
  const counts = new Array<number>(256).fill(0);
  for (let i = 0; i < 400; i++) for (const byte of secureRandomBytes(64)) counts[byte]!++;
  // 25,600 bytes: 100 per value expected; a zero-filled or stuck pool would fail wildly.
  assert.ok(Math.max(...counts) < 200 && Math.min(...counts) > 30, `byte counts ${Math.min(...counts)}..${Math.max(...counts)}`);
});
