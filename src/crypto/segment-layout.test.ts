import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hkdfSync, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { CryptoIntegrityError } from './errors.js';
import { HEADER_SIZE, SEGMENT_SIZE, TAG_SIZE, cipherRangeFor, encryptedSize, plainSizeFor, segmentKey, segmentNonce } from './segment-layout.js';

const S = SEGMENT_SIZE;

describe('encryptedSize', () => {
  it('adds the 24-byte header and one 16-byte tag per 64 KiB segment', () => {
    assert.equal(HEADER_SIZE, 24);
    assert.equal(TAG_SIZE, 16);
    assert.equal(encryptedSize(0), 24 + 16, 'an empty plaintext is one empty final segment');
    assert.equal(encryptedSize(1), 24 + 1 + 16);
    assert.equal(encryptedSize(S - 1), 24 + S - 1 + 16);
    assert.equal(encryptedSize(S), 24 + S + 16, 'a full last segment needs no extra empty segment');
    assert.equal(encryptedSize(S + 1), 24 + S + 1 + 32);
    assert.equal(encryptedSize(3 * S), 24 + 3 * S + 48);
    assert.equal(encryptedSize(5 * 1024 ** 4), 24 + 5 * 1024 ** 4 + 16 * (5 * 1024 ** 4) / S, 'S3 maximum object size');
  });

  it('rejects sizes that are not non-negative integers', () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1]) assert.throws(() => encryptedSize(bad), RangeError);
  });
});

describe('plainSizeFor', () => {
  it('inverts encryptedSize', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 50 * S }), (n) => plainSizeFor(encryptedSize(n)) === n),
      { numRuns: 2000 },
    );
    for (const n of [0, 1, S - 1, S, S + 1, 2 * S, 2 * S + 1]) assert.equal(plainSizeFor(encryptedSize(n)), n);
  });

  it('rejects blob sizes no plaintext encrypts to', () => {
    for (const bad of [0, 23, 24, 24 + 15, 24 + S + 16 + 1, 24 + S + 16 + 15, 24 + S + 16 + 16]) {
      assert.throws(() => plainSizeFor(bad), CryptoIntegrityError, `size ${bad}`);
    }
  });
});

describe('cipherRangeFor', () => {
  it('maps a range inside one segment to that sealed segment', () => {
    assert.deepEqual(cipherRangeFor(3 * S, S + 10, S + 19), {
      headerEnd: 24,
      cipherStart: 24 + (S + 16),
      cipherEndInclusive: 24 + 2 * (S + 16) - 1,
      firstSegment: 1,
      skip: 10,
      length: 10,
    });
  });

  it('ends at the short last segment of the object', () => {
    const size = 2 * S + 100;
    const r = cipherRangeFor(size, S - 1, size - 1);
    assert.equal(r.firstSegment, 0);
    assert.equal(r.cipherStart, 24);
    assert.equal(r.cipherEndInclusive, encryptedSize(size) - 1);
    assert.equal(r.skip, S - 1);
    assert.equal(r.length, size - S + 1);
  });

  it('covers exactly the touched segments for any range', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 * S }), fc.nat(), fc.nat(), (size, a, b) => {
        const start = Math.min(a % size, b % size);
        const end = Math.max(a % size, b % size);
        const r = cipherRangeFor(size, start, end);
        const sealed = S + TAG_SIZE;
        assert.equal((r.cipherStart - HEADER_SIZE) % sealed, 0, 'starts at a segment boundary');
        assert.equal(r.firstSegment, Math.floor(start / S));
        assert.equal(r.firstSegment * S + r.skip, start);
        assert.equal(r.length, end - start + 1);
        const lastSegment = Math.floor(end / S);
        const touchedPlain = Math.min(size, (lastSegment + 1) * S) - r.firstSegment * S;
        const touchedTags = (lastSegment - r.firstSegment + 1) * TAG_SIZE;
        assert.equal(r.cipherEndInclusive + 1 - r.cipherStart, touchedPlain + touchedTags, 'the touched segments, each with its tag');
        assert.ok(r.cipherEndInclusive < encryptedSize(size));
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects ranges outside the plaintext', () => {
    assert.throws(() => cipherRangeFor(0, 0, 0), RangeError, 'an empty object has no byte ranges');
    assert.throws(() => cipherRangeFor(10, 5, 4), RangeError);
    assert.throws(() => cipherRangeFor(10, 0, 10), RangeError);
    assert.throws(() => cipherRangeFor(10, -1, 3), RangeError);
  });
});

describe('segmentNonce', () => {
  it('is prefix | uint32be(index) | last flag', () => {
    const prefix = Buffer.from('01020304050607', 'hex');
    assert.equal(segmentNonce(prefix, 0, false).toString('hex'), '01020304050607' + '00000000' + '00');
    assert.equal(segmentNonce(prefix, 0x01020304, true).toString('hex'), '01020304050607' + '01020304' + '01');
    assert.equal(segmentNonce(prefix, 2 ** 32 - 1, false).toString('hex'), '01020304050607' + 'ffffffff' + '00');
  });
});

describe('segmentKey', () => {
  it('is HKDF-SHA256(data key, salt, "meridian/segment/v1") to 32 bytes, as node:crypto computes it', () => {
    for (const salt of [randomBytes(16), Buffer.alloc(0), Buffer.alloc(16)]) {
      const dataKey = randomBytes(32);
      const expected = Buffer.from(hkdfSync('sha256', dataKey, salt, Buffer.from('meridian/segment/v1'), 32));
      assert.deepEqual(segmentKey(dataKey, salt).export(), expected);
    }
  });
});
