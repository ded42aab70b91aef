/** Key ranges in UTF-8 byte order: the prefix upper bound is exact. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compareUtf8, keyRange, prefixUpperBound } from './sqlite/key-range.js';

/** Strings of whole code points (no lone surrogates), biased towards the interesting boundaries. */
const text = fc.array(
  fc.oneof(
    fc.constantFrom('a', 'b', 'é', '中', '\uD7FF', '\uE000', '\uFFFF', '\u{10000}', '\u{1F600}', '\u{10FFFF}'),
    fc.string({ unit: 'grapheme-composite', maxLength: 1 }),
  ),
  { maxLength: 4 },
).map((parts) => parts.join(''));

describe('key ranges', () => {
  it('[prefix, upperBound) holds exactly the strings that start with prefix (property)', () => {
    fc.assert(
      fc.property(text, text, (prefix, rest) => {
        for (const s of [prefix + rest, rest, rest + prefix]) {
          const upper = prefixUpperBound(prefix);
          const inRange = compareUtf8(s, prefix) >= 0 && (upper === undefined || compareUtf8(s, upper) < 0);
          assert.equal(inRange, s.startsWith(prefix), `${JSON.stringify(s)} vs prefix ${JSON.stringify(prefix)}`);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('handles the ends of Unicode', () => {
    assert.equal(prefixUpperBound('a'), 'b');
    assert.equal(prefixUpperBound('\uD7FF'), '\uE000');
    assert.equal(prefixUpperBound('a\u{10FFFF}'), 'b');
    assert.equal(prefixUpperBound('\u{10FFFF}'), undefined);
  });

  it('takes the stricter of prefix and startAfter as the lower bound', () => {
    assert.deepEqual(keyRange('p/', 'a'), { lower: { key: 'p/', inclusive: true }, upper: 'p0' });
    assert.deepEqual(keyRange('p/', 'p/x'), { lower: { key: 'p/x', inclusive: false }, upper: 'p0' });
    assert.deepEqual(keyRange('p/', 'p/'), { lower: { key: 'p/', inclusive: false }, upper: 'p0' });
    assert.deepEqual(keyRange(undefined, ''), {});
  });
});
