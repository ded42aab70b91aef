import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { fileURLToPath } from 'node:url';
import { CryptoIntegrityError } from './errors.js';
import { HEADER_SIZE, SEGMENT_SIZE, cipherRangeFor, encryptedSize } from './segment-layout.js';
import { createDecryptStream, createEncryptStream, decryptBuffer, encryptBuffer } from './segmented-aead.js';
import { chunksOf, runStream, splitAt } from './test-streams.js';
import { inWorkerProcess } from '../common/buffer-release-testing.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

const S = SEGMENT_SIZE;
const key = randomBytes(32);
const SIZES = [0, 1, S - 1, S, S + 1, 2 * S, 3 * S, 3 * S + 7];

async function encryptStreamed(plaintext: Buffer, chunks: Buffer[] = chunksOf(plaintext, 16 * 1024), aad?: Buffer) {
  return runStream(createEncryptStream(key, aad), chunks);
}

async function decryptStreamed(blob: Buffer, plainSize: number, chunks?: Buffer[], aad?: Buffer) {
  const body = blob.subarray(HEADER_SIZE);
  return runStream(createDecryptStream(key, blob.subarray(0, HEADER_SIZE), { plainSize, aad }), chunks ?? chunksOf(body, 10_000));
}

describe('segmented AES-256-GCM round trips', () => {
  for (const size of SIZES) {
    it(`${size} bytes: stream and buffer forms agree on the format`, async () => {
      const plaintext = randomBytes(size);
      const streamed = await encryptStreamed(plaintext);
      const buffered = encryptBuffer(key, plaintext);
      assert.equal(streamed.length, encryptedSize(size));
      assert.equal(buffered.length, encryptedSize(size));
      assert.equal(streamed[0], 0x01, 'version byte');
      assert.deepEqual(decryptBuffer(key, streamed), plaintext);
      assert.deepEqual(await decryptStreamed(buffered, size), plaintext);
      assert.deepEqual(await decryptStreamed(streamed, size), plaintext);
    });
  }

  it('an empty plaintext is a header and one tag', async () => {
    const blob = await encryptStreamed(Buffer.alloc(0), []);
    assert.equal(blob.length, HEADER_SIZE + 16);
    assert.equal(decryptBuffer(key, blob).length, 0);
    assert.equal((await decryptStreamed(blob, 0, [blob.subarray(HEADER_SIZE)])).length, 0);
  });

  it('uses a fresh salt and nonce prefix per blob, so one data key can seal many blobs', () => {
    const plaintext = Buffer.alloc(100, 7);
    const a = encryptBuffer(key, plaintext);
    const b = encryptBuffer(key, plaintext);
    assert.notDeepEqual(a.subarray(1, HEADER_SIZE), b.subarray(1, HEADER_SIZE));
    assert.notDeepEqual(a.subarray(HEADER_SIZE), b.subarray(HEADER_SIZE));
  });

  it('random sizes up to 3 MiB with random input chunking, both directions', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 3 * 1024 * 1024 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        async (size, plainCuts, cipherCuts) => {
          const plaintext = randomBytes(size);
          const blob = await encryptStreamed(plaintext, splitAt(plaintext, plainCuts));
          assert.equal(blob.length, encryptedSize(size));
          const body = blob.subarray(HEADER_SIZE);
          assert.deepEqual(await decryptStreamed(blob, size, splitAt(body, cipherCuts)), plaintext);
        },
      ),
      { numRuns: 15 },
    );
  });

  it('survives one-byte input chunks', async () => {
    const plaintext = randomBytes(S + 40);
    const blob = await encryptStreamed(plaintext, chunksOf(plaintext, 1));
    assert.deepEqual(await decryptStreamed(blob, plaintext.length, chunksOf(blob.subarray(HEADER_SIZE), 1)), plaintext);
  });

  it('accepts one chunk holding many segments', async () => {
    const plaintext = randomBytes(5 * S + 3);
    const blob = await encryptStreamed(plaintext, [plaintext]);
    assert.deepEqual(await decryptStreamed(blob, plaintext.length, [blob.subarray(HEADER_SIZE)]), plaintext);
  });

  it('binds the caller AAD into every segment', async () => {
    const plaintext = randomBytes(2 * S + 5);
    const aad = Buffer.from('arn:aws:s3:::bucket/key');
    const blob = await encryptStreamed(plaintext, undefined, aad);
    assert.deepEqual(decryptBuffer(key, blob, aad), plaintext);
    assert.deepEqual(await decryptStreamed(blob, plaintext.length, undefined, aad), plaintext);
    assert.throws(() => decryptBuffer(key, blob), CryptoIntegrityError);
    assert.throws(() => decryptBuffer(key, blob, Buffer.from('arn:aws:s3:::bucket/other')), CryptoIntegrityError);
    await assert.rejects(decryptStreamed(blob, plaintext.length), CryptoIntegrityError);
  });

  it('holds back at most one segment while encrypting', async () => {
    const enc = createEncryptStream(key);
    let emitted = 0;
    enc.on('data', (c: Buffer) => (emitted += c.length));
    const write = (b: Buffer) => new Promise<void>((resolve, reject) => enc.write(b, (err) => (err ? reject(err) : resolve())));
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    await write(Buffer.alloc(S));
    await tick();
    assert.equal(emitted, HEADER_SIZE, 'a full segment could still be the last one');
    await write(Buffer.alloc(1));
    await tick();
    assert.equal(emitted, HEADER_SIZE + S + 16, 'one more byte proves the first segment was not last');
    await write(Buffer.alloc(2 * S));
    await tick();
    assert.equal(emitted, HEADER_SIZE + 3 * (S + 16), 'segments 1 and 2 are sealed, only the last byte is held back');
    enc.end();
    await new Promise((resolve) => enc.on('end', resolve));
    assert.equal(emitted, encryptedSize(3 * S + 1));
  });

  it('in a worker process, frees each handed-over input chunk once all of it is sealed, however chunks and segments line up, and no other', () => {
    const out = inWorkerProcess(`
      const { createEncryptStream, decryptBuffer } = await import(${JSON.stringify(here('./segmented-aead.ts'))});
      const { handOver, isReleasable } = await import(${JSON.stringify(here('../common/buffer-release.ts'))});
      const { randomBytes } = await import('node:crypto');
      const key = randomBytes(32);
      // Chunks that straddle segment boundaries; every third one is not handed over, and a 1-byte one is too small to free.
      const sizes = [100003, 65536, 30000, 1, 200000, 65535, 17000, 40000];
      const plain = randomBytes(sizes.reduce((a, b) => a + b, 0));
      const chunks = [];
      for (let i = 0, o = 0; i < sizes.length; o += sizes[i], i++) {
        const c = Buffer.from(plain.subarray(o, o + sizes[i]));
        chunks.push(i % 3 === 2 ? c : handOver(c));
      }
      const enc = createEncryptStream(key);
      const sealed = [];
      let outputsReleasable = true;
      enc.on('data', (b) => {
        if (b.length >= 16384 && !isReleasable(b)) outputsReleasable = false;
        sealed.push(Buffer.from(b));
      });
      const ended = new Promise((resolve, reject) => { enc.on('end', resolve); enc.on('error', reject); });
      // After the first chunk only part of it is sealed (a segment is held back): it must still be whole.
      enc.write(chunks[0]);
      const firstWhileHeld = chunks[0].length;
      for (const c of chunks.slice(1)) enc.write(c);
      enc.end();
      await ended;
      console.log(JSON.stringify({ intact: decryptBuffer(key, Buffer.concat(sealed)).equals(plain), firstWhileHeld, lengths: chunks.map((c) => c.length), outputsReleasable }));
    `);
    assert.deepEqual(JSON.parse(out), {
      intact: true,
      firstWhileHeld: 100003,
      lengths: [0, 0, 30000, 1, 0, 65535, 0, 0],
      outputsReleasable: true,
    });
  });

  it('rejects a data key that is not 32 bytes', () => {
    assert.throws(() => createEncryptStream(randomBytes(16)), RangeError);
    assert.throws(() => encryptBuffer(randomBytes(31), Buffer.alloc(1)), RangeError);
    assert.throws(() => createDecryptStream(randomBytes(33), Buffer.alloc(HEADER_SIZE), { plainSize: 0 }), RangeError);
  });
});

describe('ranged decryption', () => {
  const size = 3 * S + 1234;
  const plaintext = randomBytes(size);
  const blob = encryptBuffer(key, plaintext);
  const header = blob.subarray(0, HEADER_SIZE);

  async function readRange(start: number, end: number, cuts: number[] = []): Promise<Buffer> {
    const r = cipherRangeFor(size, start, end);
    assert.equal(r.headerEnd, HEADER_SIZE);
    const sealed = blob.subarray(r.cipherStart, r.cipherEndInclusive + 1);
    const opts = { plainSize: size, firstSegment: r.firstSegment, skip: r.skip, length: r.length };
    return runStream(createDecryptStream(key, header, opts), splitAt(sealed, cuts));
  }

  it('every range with ends at, next to and inside segment boundaries', async () => {
    const points = [0, 1, 777, S - 1, S, S + 1, 2 * S - 1, 2 * S, 2 * S + 1, 3 * S - 1, 3 * S, 3 * S + 1, size - 2, size - 1];
    for (const start of points) {
      for (const end of points) {
        if (end < start) continue;
        assert.deepEqual(await readRange(start, end), plaintext.subarray(start, end + 1), `range ${start}-${end}`);
      }
    }
  });

  it('any range, any input chunking, equals the plaintext slice', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(size - 1), fc.nat(size - 1), fc.array(fc.nat(), { maxLength: 12 }), async (a, b, cuts) => {
        const [start, end] = a <= b ? [a, b] : [b, a];
        assert.deepEqual(await readRange(start, end, cuts), plaintext.subarray(start, end + 1));
      }),
      { numRuns: 300 },
    );
  });

  it('ranges of an object whose last segment is full', async () => {
    const full = randomBytes(2 * S);
    const fullBlob = encryptBuffer(key, full);
    for (const [start, end] of [[0, 2 * S - 1], [S, 2 * S - 1], [2 * S - 1, 2 * S - 1], [S - 1, S]] as const) {
      const r = cipherRangeFor(full.length, start, end);
      const opts = { plainSize: full.length, firstSegment: r.firstSegment, skip: r.skip, length: r.length };
      const out = await runStream(createDecryptStream(key, fullBlob.subarray(0, HEADER_SIZE), opts), [
        fullBlob.subarray(r.cipherStart, r.cipherEndInclusive + 1),
      ]);
      assert.deepEqual(out, full.subarray(start, end + 1));
    }
  });

  it('a zero-length request still authenticates its first segment', async () => {
    const sealed = blob.subarray(HEADER_SIZE, HEADER_SIZE + S + 16);
    const opts = { plainSize: size, firstSegment: 0, skip: 0, length: 0 };
    assert.equal((await runStream(createDecryptStream(key, header, opts), [sealed])).length, 0);
    const bad = Buffer.from(sealed);
    bad[5] ^= 1;
    await assert.rejects(runStream(createDecryptStream(key, header, opts), [bad]), CryptoIntegrityError);
  });

  it('rejects input beyond the touched segments (the caller must read exactly the range cipherRangeFor gives)', async () => {
    const r = cipherRangeFor(size, 10, 20);
    const opts = { plainSize: size, firstSegment: r.firstSegment, skip: r.skip, length: r.length };
    await assert.rejects(runStream(createDecryptStream(key, header, opts), [blob.subarray(r.cipherStart)]), CryptoIntegrityError);
  });

  it('rejects options that do not describe a range of the object', () => {
    const bad = [
      { plainSize: size, firstSegment: 4 },
      { plainSize: size, firstSegment: -1 },
      { plainSize: size, firstSegment: 3, skip: 1235 },
      { plainSize: size, firstSegment: 0, skip: S },
      { plainSize: size, firstSegment: 3, skip: 0, length: 1235 },
      { plainSize: size, length: -1 },
      { plainSize: -1 },
    ];
    for (const opts of bad) assert.throws(() => createDecryptStream(key, header, opts), RangeError, JSON.stringify(opts));
  });
});

describe('throughput', () => {
  it('64 MiB through the encrypt and decrypt streams (printed, not asserted)', async () => {
    const size = 64 * 1024 * 1024;
    const plaintext = randomBytes(size);
    const blob = encryptBuffer(key, plaintext);
    const header = blob.subarray(0, HEADER_SIZE);
    // Counts bytes instead of collecting them, so the figure is the cipher's, not the test's.
    const timed = async (transform: Transform, chunks: Buffer[]): Promise<number> => {
      let bytes = 0;
      const sink = new Writable({ write: (c: Buffer, _e, cb) => ((bytes += c.length), cb()) });
      const t = process.hrtime.bigint();
      await pipeline(Readable.from(chunks), transform, sink);
      const seconds = Number(process.hrtime.bigint() - t) / 1e9;
      return bytes / 1e6 / seconds;
    };
    let enc = 0;
    let dec = 0;
    for (let round = 0; round < 3; round++) { // best of 3: the first round pays for JIT and page faults
      enc = Math.max(enc, await timed(createEncryptStream(key), chunksOf(plaintext, S)));
      dec = Math.max(dec, await timed(createDecryptStream(key, header, { plainSize: size }), chunksOf(blob.subarray(HEADER_SIZE), S)));
    }
    console.log(`# segmented AEAD, 64 MiB, best of 3: encrypt ${enc.toFixed(0)} MB/s, decrypt ${dec.toFixed(0)} MB/s`);
  });
});
