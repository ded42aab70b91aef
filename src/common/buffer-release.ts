/**
 * Giving a large buffer's memory back the moment its last user is done with it, instead of whenever
 * V8 next collects the object that holds it.
 *
 * A 1 MiB GET decrypts into sixteen new 64 KiB buffers (Node's cipher allocates its output), which
 * the socket is done with a moment later. Left to the collector they pile up between collections: V8
 * counts their bytes and collects more often because of them (request-cost, 1 MiB GETs with two
 * workers: 79 scavenges and 2 full collections per 1,000 GETs, against 52 and none when each is freed
 * after its write), and the malloc heap grows by whatever was waiting. `ArrayBuffer.prototype.transfer`
 * to length 0 frees the memory at once and leaves every view of it empty (detached), so a late reader
 * sees zero bytes, never freed memory.
 *
 * Only a producer knows that nothing else holds a buffer, so it says so (`handOver`); only the last
 * user knows when no native operation (a socket write) still reads it, so it frees it (`releaseBuffer`).
 * A buffer nobody handed over is never touched: static bodies, cached rows and shared slices stay
 * as they are. Who hands over and who frees: a GET's decrypted chunks (services/s3/object-data.ts)
 * are freed by the response (server/http-adapter.ts sendStream); a request's body chunks
 * (server/request-body.ts joinBody) by the encrypting stream once sealed (crypto/segmented-aead.ts),
 * whose sealed pieces the blob writer frees once written (storage/fs/blob-store.ts). Node 20 has the method behind a V8 flag that only a process's command line can set
 * (server/v8-tuning.ts gives it to cluster workers); where it is missing, both calls do nothing.
 */

type Transferable = ArrayBuffer & { transfer?: (length: number) => ArrayBuffer };

/** Whether this process can free a buffer's memory early (Node 21+, or 20 with the flag). */
export const canReleaseBuffers = typeof (ArrayBuffer.prototype as Transferable).transfer === 'function';

/** Smaller buffers are not worth a call each; those come and go cheaply with the young generation. */
const MIN_RELEASE_BYTES = 16 * 1024;

const handedOver = new WeakSet<ArrayBufferLike>();

/**
 * Declare `buf` handed over whole: the caller keeps no reference to it or to any view of its memory,
 * and whoever consumes it last may free it with releaseBuffer. Only a buffer that spans its whole
 * ArrayBuffer qualifies (a slice shares its memory with others). Returns `buf`.
 */
export function handOver(buf: Buffer): Buffer {
  // The method's presence on this very buffer, not only on the prototype: a SharedArrayBuffer has none.
  if (typeof (buf.buffer as Transferable).transfer === 'function' && buf.byteLength >= MIN_RELEASE_BYTES && buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength) {
    handedOver.add(buf.buffer);
  }
  return buf;
}

/** Whether releaseBuffer would free `buf` (it was handed over, and is the whole of its memory). */
export function isReleasable(buf: Buffer): boolean {
  return handedOver.has(buf.buffer) && buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength;
}

/**
 * Free the memory of a buffer that was handed over (anything else is left alone). Call it only once
 * nothing reads the memory any more, natively included: after a write's callback, never before.
 */
export function releaseBuffer(buf: Buffer): void {
  if (!isReleasable(buf)) return;
  const ab = buf.buffer as Transferable;
  handedOver.delete(ab);
  ab.transfer!(0);
}
