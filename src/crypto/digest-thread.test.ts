/** The digest thread: MD5 and SHA-256 of large bodies off the event loop, with backpressure and crash handling. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DIGEST_BATCH_BYTES, OffloadedDigests, digestThreadRunning, setDigestThreadIdleStopMsForTest, terminateDigestThreadForTest } from './digest-thread.js';

async function digestOnThread(body: Buffer, pieceBytes: number, algorithms: ('md5' | 'sha256')[] = ['md5', 'sha256']): Promise<Buffer[]> {
  const d = new OffloadedDigests(algorithms);
  for (let i = 0; i < body.length; i += pieceBytes) await d.update(body.subarray(i, i + pieceBytes));
  return d.digest();
}

const expected = (body: Buffer, alg: string) => createHash(alg).update(body).digest('hex');

test('digests equal node:crypto for sizes around the batch size, in any piece size', async () => {
  for (const size of [0, 1, DIGEST_BATCH_BYTES - 1, DIGEST_BATCH_BYTES, DIGEST_BATCH_BYTES + 1, 5 * DIGEST_BATCH_BYTES + 3]) {
    const body = randomBytes(size);
    for (const piece of [1000, 65_536, DIGEST_BATCH_BYTES, 3 * DIGEST_BATCH_BYTES]) {
      const [md5, sha256] = await digestOnThread(body, piece);
      assert.equal(md5!.toString('hex'), expected(body, 'md5'), `md5 of ${size} bytes in pieces of ${piece}`);
      assert.equal(sha256!.toString('hex'), expected(body, 'sha256'), `sha256 of ${size} bytes in pieces of ${piece}`);
    }
  }
});

test('interleaved bodies keep their own state', async () => {
  const bodies = Array.from({ length: 6 }, (_, i) => randomBytes(2 * DIGEST_BATCH_BYTES + i * 7919));
  const digests = bodies.map(() => new OffloadedDigests(['md5']));
  const step = 100_003;
  for (let off = 0; off < bodies[5]!.length; off += step) {
    await Promise.all(bodies.map((b, i) => (off < b.length ? digests[i]!.update(b.subarray(off, off + step)) : undefined)));
  }
  const results = await Promise.all(digests.map((d) => d.digest()));
  results.forEach(([md5], i) => assert.equal(md5!.toString('hex'), expected(bodies[i]!, 'md5')));
});

test('an algorithm forgotten part-way stops being computed: its digest is empty, the others are whole', async () => {
  const body = randomBytes(3 * DIGEST_BATCH_BYTES + 17);
  const d = new OffloadedDigests(['md5', 'sha256']);
  await d.update(body.subarray(0, DIGEST_BATCH_BYTES + 5));
  d.forget('md5');
  await d.update(body.subarray(DIGEST_BATCH_BYTES + 5));
  const [md5, sha256] = await d.digest();
  assert.equal(md5!.length, 0, 'no MD5 of part of a body');
  assert.equal(sha256!.toString('hex'), expected(body, 'sha256'));
  // Another body on the same thread still gets both.
  const [md5b, sha256b] = await digestOnThread(body, 65_536);
  assert.equal(md5b!.toString('hex'), expected(body, 'md5'));
  assert.equal(sha256b!.toString('hex'), expected(body, 'sha256'));
});

test('a producer that outruns the thread is told to wait, and may go on once the thread catches up', async () => {
  const d = new OffloadedDigests(['md5', 'sha256']);
  const chunk = randomBytes(DIGEST_BATCH_BYTES);
  let told = false;
  const all: Buffer[] = [];
  for (let i = 0; i < 16; i++) {
    all.push(chunk);
    const wait = d.update(chunk);
    if (wait) {
      told = true;
      await wait;
    }
  }
  assert.ok(told, 'update returned a promise once batches piled up');
  const [md5] = await d.digest();
  assert.equal(md5!.toString('hex'), expected(Buffer.concat(all), 'md5'));
});

test('a discarded body leaves the thread serving the others; digest twice is refused', async () => {
  const a = new OffloadedDigests(['md5']);
  a.update(randomBytes(DIGEST_BATCH_BYTES + 5));
  a.discard();
  const body = randomBytes(DIGEST_BATCH_BYTES * 2);
  const [md5] = await digestOnThread(body, 70_000, ['md5']);
  assert.equal(md5!.toString('hex'), expected(body, 'md5'));
  const b = new OffloadedDigests(['md5']);
  await b.digest();
  await assert.rejects(b.digest(), /already requested/);
});

test('if the thread dies, the bodies it held fail (never a digest of part of a body) and the next body gets a new thread', async () => {
  const d = new OffloadedDigests(['md5']);
  d.update(randomBytes(DIGEST_BATCH_BYTES * 2));
  await terminateDigestThreadForTest();
  await assert.rejects(d.digest(), /digest thread/);
  assert.throws(() => d.update(Buffer.from('more')), /digest thread/);
  const body = randomBytes(DIGEST_BATCH_BYTES + 1);
  const [md5] = await digestOnThread(body, 65_536, ['md5']);
  assert.equal(md5!.toString('hex'), expected(body, 'md5'));
});

test('the thread stops once idle (its memory returned) and starts again for the next body', async () => {
  setDigestThreadIdleStopMsForTest(50);
  try {
    const body = randomBytes(DIGEST_BATCH_BYTES + 9);
    await digestOnThread(body, 65_536, ['md5']);
    assert.ok(digestThreadRunning());
    const busy = new OffloadedDigests(['md5']);
    await sleep(200);
    assert.ok(digestThreadRunning(), 'a body in progress keeps it');
    busy.discard();
    await sleep(200);
    assert.equal(digestThreadRunning(), false);
    const [md5] = await digestOnThread(body, 65_536, ['md5']);
    assert.equal(md5!.toString('hex'), expected(body, 'md5'));
  } finally {
    setDigestThreadIdleStopMsForTest(30_000);
  }
});
