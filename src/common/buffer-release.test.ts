import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { handOver, isReleasable, releaseBuffer } from './buffer-release.js';
import { inWorkerProcess } from './buffer-release-testing.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

describe('releasing buffers early', () => {
  it('never frees a buffer nobody handed over, a slice, or a small buffer, whatever the runtime', () => {
    const plain = Buffer.alloc(65536, 1);
    releaseBuffer(plain);
    assert.equal(plain.length, 65536);
    assert.equal(plain[65535], 1);

    const whole = Buffer.alloc(65536, 2);
    const slice = handOver(whole.subarray(0, 32768));
    assert.equal(isReleasable(slice), false, 'a slice shares its memory');
    releaseBuffer(slice);
    assert.equal(whole[65535], 2);

    const small = handOver(Buffer.alloc(1024, 3));
    assert.equal(isReleasable(small), false);
    releaseBuffer(small);
    assert.equal(small[1023], 3);
  });

  it("in a worker process, a handed-over buffer's memory is freed and every view of it is left empty", () => {
    const out = inWorkerProcess(`
      const { canReleaseBuffers, handOver, isReleasable, releaseBuffer } = await import(${JSON.stringify(here('./buffer-release.ts'))});
      const b = handOver(Buffer.alloc(65536, 7));
      const view = new Uint8Array(b.buffer);
      const before = isReleasable(b);
      releaseBuffer(b);
      releaseBuffer(b); // a second call is harmless
      const other = Buffer.alloc(65536, 9);
      releaseBuffer(other);
      const shared = handOver(Buffer.from(new SharedArrayBuffer(65536)).fill(5)); // memory of several threads: never
      releaseBuffer(shared);
      console.log(JSON.stringify({ canReleaseBuffers, before, after: b.length, view: view.length, detached: b.buffer.byteLength, other: other[65535], shared: shared[65535] }));
    `);
    assert.deepEqual(JSON.parse(out), { canReleaseBuffers: true, before: true, after: 0, view: 0, detached: 0, other: 9, shared: 5 });
  });
});
