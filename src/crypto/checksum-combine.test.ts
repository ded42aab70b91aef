/** CRC combination against direct computation over the concatenated data. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { combineCrcs, isCombinable } from './checksum-combine.js';
import { computeChecksum } from './checksums.js';

const ALGORITHMS = ['CRC32', 'CRC32C', 'CRC64NVME'] as const;

test('combining the CRCs of pieces equals the CRC of the whole (random splits, empty pieces included)', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 6 }), fc.constantFrom(...ALGORITHMS), (arrays, algorithm) => {
      const pieces = arrays.map((a) => Buffer.from(a));
      const combined = combineCrcs(
        algorithm,
        pieces.map((p) => ({ checksum: computeChecksum(algorithm, p), length: p.length })),
      );
      assert.equal(combined, computeChecksum(algorithm, Buffer.concat(pieces)));
    }),
    { numRuns: 300 },
  );
});

test('large pieces: the length enters as x^(8n), not by iterating bytes', () => {
  const a = Buffer.alloc(5 * 1024 * 1024, 7);
  const b = Buffer.from('tail');
  for (const algorithm of ALGORITHMS) {
    const combined = combineCrcs(algorithm, [
      { checksum: computeChecksum(algorithm, a), length: a.length },
      { checksum: computeChecksum(algorithm, b), length: b.length },
    ]);
    assert.equal(combined, computeChecksum(algorithm, Buffer.concat([a, b])));
  }
});

test('only the CRCs combine', () => {
  assert.deepEqual(['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'].map(isCombinable), [true, true, true, false, false]);
});
