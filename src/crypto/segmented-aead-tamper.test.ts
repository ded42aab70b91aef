// What decryption must refuse: every change to a blob, and every wrong key or context, is a
// CryptoIntegrityError, and no plaintext of an unverified segment is ever emitted.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { CryptoIntegrityError } from './errors.js';
import { HEADER_SIZE, SEGMENT_SIZE, TAG_SIZE } from './segment-layout.js';
import { createDecryptStream, decryptBuffer, encryptBuffer } from './segmented-aead.js';
import { chunksOf, runStream, runStreamCapturing } from './test-streams.js';

const S = SEGMENT_SIZE;
const SEALED = S + TAG_SIZE;
const key = randomBytes(32);
const size = 2 * S + 5000; // two full segments and a short final one
const plaintext = randomBytes(size);
const blob = encryptBuffer(key, plaintext);

function flipped(buf: Buffer, at: number): Buffer {
  const copy = Buffer.from(buf);
  copy[at]! ^= 0x01;
  return copy;
}

/** Both decryption paths must refuse `bad`; the stream is told the genuine plaintext size. */
async function assertRefused(bad: Buffer, message: string, plainSize = size, k = key, aad?: Buffer): Promise<void> {
  assert.throws(() => decryptBuffer(k, bad, aad), CryptoIntegrityError, `buffer: ${message}`);
  const stream = createDecryptStream(k, bad.subarray(0, HEADER_SIZE), { plainSize, aad });
  await assert.rejects(runStream(stream, chunksOf(bad.subarray(HEADER_SIZE), 7000)), CryptoIntegrityError, `stream: ${message}`);
}

describe('tamper detection', () => {
  it('a flipped bit in the header', async () => {
    await assertRefused(flipped(blob, 0), 'version byte');
    await assertRefused(flipped(blob, 1), 'salt (derives another segment key)');
    await assertRefused(flipped(blob, 16), 'salt, last byte');
    await assertRefused(flipped(blob, 17), 'nonce prefix, first byte');
    await assertRefused(flipped(blob, 23), 'nonce prefix, last byte');
  });

  it('a flipped bit in a segment body or tag', async () => {
    await assertRefused(flipped(blob, HEADER_SIZE), 'first body byte');
    await assertRefused(flipped(blob, HEADER_SIZE + S - 1), 'last body byte of segment 0');
    await assertRefused(flipped(blob, HEADER_SIZE + S), 'tag of segment 0');
    await assertRefused(flipped(blob, HEADER_SIZE + SEALED + 1000), 'body of segment 1');
    await assertRefused(flipped(blob, blob.length - TAG_SIZE - 1), 'last body byte of the final segment');
    await assertRefused(flipped(blob, blob.length - 1), 'last tag byte');
  });

  it('a flipped bit anywhere (property)', () => {
    fc.assert(
      fc.property(fc.nat(blob.length - 1), fc.integer({ min: 1, max: 255 }), (at, mask) => {
        const bad = Buffer.from(blob);
        bad[at]! ^= mask;
        assert.throws(() => decryptBuffer(key, bad), CryptoIntegrityError);
      }),
      { numRuns: 300 },
    );
  });

  it('truncation: a missing final segment, a partial segment, a missing byte', async () => {
    const twoSegments = blob.subarray(0, HEADER_SIZE + 2 * SEALED);
    // decryptBuffer sees a valid-looking 2-segment blob: segment 1 was sealed as "not last".
    await assertRefused(twoSegments, 'final segment dropped');
    assert.throws(() => decryptBuffer(key, blob.subarray(0, HEADER_SIZE + SEALED)), CryptoIntegrityError, 'cut after segment 0');
    await assertRefused(blob.subarray(0, blob.length - 1), 'last byte dropped');
    await assertRefused(blob.subarray(0, blob.length - TAG_SIZE), 'final tag dropped');
    await assertRefused(blob.subarray(0, HEADER_SIZE + 100), 'cut inside segment 0');
    await assertRefused(blob.subarray(0, HEADER_SIZE), 'header only');
    assert.throws(() => decryptBuffer(key, blob.subarray(0, 10)), CryptoIntegrityError, 'cut inside the header');
  });

  it('the stream, told the true size, refuses a blob that ends early at a segment boundary', async () => {
    const stream = createDecryptStream(key, blob.subarray(0, HEADER_SIZE), { plainSize: size });
    await assert.rejects(runStream(stream, [blob.subarray(HEADER_SIZE, HEADER_SIZE + 2 * SEALED)]), CryptoIntegrityError);
  });

  it('extra trailing bytes', async () => {
    await assertRefused(Buffer.concat([blob, Buffer.from([0])]), 'one extra byte');
    await assertRefused(Buffer.concat([blob, Buffer.alloc(TAG_SIZE)]), 'an extra empty segment');
    await assertRefused(Buffer.concat([blob, blob.subarray(HEADER_SIZE, HEADER_SIZE + SEALED)]), 'segment 0 appended again');
  });

  it('a copy of an earlier segment inserted before the final one', () => {
    // Each segment's nonce fixes its index and whether it is last, so no copy fits anywhere else.
    const moved = Buffer.concat([blob.subarray(0, HEADER_SIZE + 2 * SEALED), blob.subarray(HEADER_SIZE, HEADER_SIZE + SEALED), blob.subarray(HEADER_SIZE + 2 * SEALED)]);
    assert.throws(() => decryptBuffer(key, moved), CryptoIntegrityError);
  });

  it('swapped segments', async () => {
    const s0 = blob.subarray(HEADER_SIZE, HEADER_SIZE + SEALED);
    const s1 = blob.subarray(HEADER_SIZE + SEALED, HEADER_SIZE + 2 * SEALED);
    const swapped = Buffer.concat([blob.subarray(0, HEADER_SIZE), s1, s0, blob.subarray(HEADER_SIZE + 2 * SEALED)]);
    await assertRefused(swapped, 'segments 0 and 1 swapped');
  });

  it('segments or headers from another blob under the same data key', async () => {
    const other = encryptBuffer(key, plaintext);
    await assertRefused(Buffer.concat([other.subarray(0, HEADER_SIZE), blob.subarray(HEADER_SIZE)]), 'header of another blob');
    const spliced = Buffer.from(blob);
    other.copy(spliced, HEADER_SIZE + SEALED, HEADER_SIZE + SEALED, HEADER_SIZE + 2 * SEALED);
    await assertRefused(spliced, 'segment 1 of another blob with the same plaintext and key');
  });

  it('a wrong key or AAD', async () => {
    await assertRefused(blob, 'wrong key', size, randomBytes(32));
    await assertRefused(blob, 'unexpected AAD', size, key, Buffer.from('context'));
    const empty = encryptBuffer(key, Buffer.alloc(0));
    await assertRefused(empty, 'empty plaintext, wrong key', 0, randomBytes(32));
    await assertRefused(flipped(empty, HEADER_SIZE + 3), 'empty plaintext, flipped tag', 0);
  });

  it('a wrong plaintext size from metadata', async () => {
    const chunks = [blob.subarray(HEADER_SIZE)];
    for (const claimed of [size - 1, size + 1, 2 * S, 3 * S]) {
      const stream = createDecryptStream(key, blob.subarray(0, HEADER_SIZE), { plainSize: claimed });
      await assert.rejects(runStream(stream, chunks), CryptoIntegrityError, `claimed ${claimed}`);
    }
  });

  it('emits only verified segments before failing', async () => {
    const bad = flipped(blob, HEADER_SIZE + SEALED + 10); // segment 1 damaged
    const stream = createDecryptStream(key, bad.subarray(0, HEADER_SIZE), { plainSize: size });
    const { out, error } = await runStreamCapturing(stream, chunksOf(bad.subarray(HEADER_SIZE), 1000));
    assert.ok(error instanceof CryptoIntegrityError);
    assert.match(error.message, /segment 1 failed authentication/);
    assert.deepEqual(out, plaintext.subarray(0, S), 'segment 0 only: none of segment 1 leaked');
  });

  it('a damaged header is reported as a stream error, not a throw', async () => {
    const stream = createDecryptStream(key, Buffer.alloc(5), { plainSize: size });
    await assert.rejects(runStream(stream, [blob.subarray(HEADER_SIZE)]), CryptoIntegrityError);
    const emptyInput = createDecryptStream(key, flipped(blob, 0).subarray(0, HEADER_SIZE), { plainSize: size });
    await assert.rejects(runStream(emptyInput, []), CryptoIntegrityError);
  });
});
