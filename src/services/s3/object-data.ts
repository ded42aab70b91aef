/**
 * Object bytes at rest: plaintext streams in, is sealed segment by segment under the object's data
 * key and lands in the blob store (inline in the database when small); reads decrypt only the
 * segments a range touches. No plaintext object byte is ever written to disk.
 */
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { handOver } from '../../common/buffer-release.js';
import { HEADER_SIZE, SegmentDecryptor, cipherRangeFor, createEncryptStream, decryptBuffer, encryptBuffer, encryptedSize } from '../../crypto/index.js';
import type { BlobRef, BlobStore, ObjectPart } from '../../storage/types.js';
import { CryptoIntegrityError } from '../../crypto/index.js';

/**
 * Encrypt a plaintext stream into a new blob. Rejects (and leaves nothing behind) if the source fails, e.g. a bad checksum.
 * `declaredSize` is the size the request declared (Content-Length or x-amz-decoded-content-length, which the
 * payload verifier enforces); when it is small enough to live inline, the bytes are gathered and sealed in one
 * encryptBuffer call (same format) instead of going through the encrypting stream pipeline, whose per-request
 * machinery (Transform, stream.pipeline and the AbortError its finish allocates) took about a fifth of a
 * 4 KiB PUT's CPU (see BENCHMARKS.md).
 */
export async function writeEncryptedBlob(blobs: BlobStore, plaintext: Readable, dataKey: Buffer, declaredSize?: number): Promise<BlobRef> {
  const writer = blobs.createWriter();
  if (declaredSize !== undefined && declaredSize <= blobs.inlineThreshold) {
    try {
      await writer.write(encryptBuffer(dataKey, await collect(plaintext, declaredSize)));
      return await writer.finish();
    } catch (e) {
      await writer.abort().catch(() => undefined);
      throw e;
    }
  }
  const sink = new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _enc, cb) {
      writer.write(chunk).then(() => cb(), cb);
    },
    writev(chunks, cb) {
      // Each chunk to the writer as it is (it gathers them and writes with writev): no concatenation copy.
      Promise.all(chunks.map((c) => writer.write(c.chunk as Buffer))).then(() => cb(), cb);
    },
  });
  try {
    await pipeline(plaintext, createEncryptStream(dataKey), sink);
    return await writer.finish();
  } catch (e) {
    await writer.abort().catch(() => undefined);
    throw e;
  }
}

/**
 * Encrypt a plaintext already in memory (a small replica's part) into a new blob: one encryptBuffer
 * call, same format as the stream. `size` is the part's declared size, which the bytes must match.
 */
export async function writeEncryptedBuffer(blobs: BlobStore, plaintext: Buffer, dataKey: Buffer, size: number): Promise<BlobRef> {
  if (plaintext.length !== size) throw new Error(`part is ${plaintext.length} bytes, not the ${size} declared`);
  return storeWhole(blobs, encryptBuffer(dataKey, plaintext));
}

/** writeSealedBlob for sealed bytes already in memory, with the same length check. */
export async function writeSealedBuffer(blobs: BlobStore, sealed: Buffer, plainSize: number): Promise<BlobRef> {
  const expected = encryptedSize(plainSize);
  if (sealed.length !== expected) throw new Error(`sealed part is ${sealed.length > expected ? 'longer' : 'shorter'} than the ${expected} bytes its ${plainSize}-byte plaintext encrypts to`);
  return storeWhole(blobs, sealed);
}

async function storeWhole(blobs: BlobStore, stored: Buffer): Promise<BlobRef> {
  const writer = blobs.createWriter();
  try {
    await writer.write(stored);
    return await writer.finish();
  } catch (e) {
    await writer.abort().catch(() => undefined);
    throw e;
  }
}

/**
 * A small stream, whole (at most `limit` bytes: the payload verifier enforces the declared length, this
 * bounds memory should a caller pass a wrong one). Listeners rather than `for await`, whose async
 * iterator machinery cost more than the rest of a 4 KiB body's handling; like it, a stream that fails,
 * closes early or runs long rejects and is destroyed.
 */
function collect(stream: Readable, limit: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    const done = (err?: Error): void => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
      if (!err) return resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, n));
      stream.destroy();
      reject(err);
    };
    const onData = (chunk: Buffer): void => {
      n += chunk.length;
      if (n > limit) return done(new Error(`body longer than its declared ${limit} bytes`));
      chunks.push(chunk);
    };
    const onEnd = (): void => done();
    const onError = (e: Error): void => done(e);
    const onClose = (): void => done(Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

/**
 * Store an already sealed blob (header and segments) as it is: replicas of SSE-C objects, whose data
 * key nobody here can unwrap. The bytes cannot be authenticated without that key, so at least their
 * length must be the one the part's plaintext size implies; anything else is refused and left nowhere.
 */
export async function writeSealedBlob(blobs: BlobStore, sealed: Readable, plainSize: number): Promise<BlobRef> {
  const expected = encryptedSize(plainSize);
  const writer = blobs.createWriter();
  try {
    let n = 0;
    for await (const chunk of sealed) {
      n += (chunk as Buffer).length;
      if (n > expected) break;
      await writer.write(chunk as Buffer);
    }
    if (n !== expected) throw new Error(`sealed part is ${n > expected ? 'longer' : 'shorter'} than the ${expected} bytes its ${plainSize}-byte plaintext encrypts to`);
    return await writer.finish();
  } catch (e) {
    await writer.abort().catch(() => undefined);
    throw e;
  }
}

/** Inclusive plaintext byte range. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Plaintext of one part's sub-range. A read from the first segment (every whole-object GET) is one
 * file read from byte 0, header included; a range further in reads the header on its own first. The
 * file is read in big chunks into one reused buffer (BlobStore.readChunks) and each chunk goes
 * straight into the decryptor, which copies out only verified plaintext: no Transform or pipeline
 * per part, no ciphertext buffer per chunk. Leaving early (an error, a failed tag, a client gone)
 * closes the file.
 */
async function* partRange(blobs: BlobStore, part: ObjectPart, dataKey: Buffer, start: number, end: number): AsyncGenerator<Buffer> {
  if (part.blob.kind === 'inline') {
    yield decryptBuffer(dataKey, part.blob.data).subarray(start, end + 1);
    return;
  }
  const r = cipherRangeFor(part.size, start, end);
  const fromStart = r.firstSegment === 0;
  const options = { plainSize: part.size, firstSegment: r.firstSegment, skip: r.skip, length: r.length };
  let decryptor: SegmentDecryptor | undefined;
  if (!fromStart) decryptor = new SegmentDecryptor(dataKey, await readHeader(blobs, part.blob), options);
  // The header's bytes while they are still arriving (copied: the chunk buffer is reused).
  let header = Buffer.alloc(0);
  const plain: Buffer[] = [];
  const emit = (b: Buffer): void => {
    plain.push(b);
  };
  for await (const data of blobs.readChunks(part.blob, { start: fromStart ? 0 : r.cipherStart, end: r.cipherEndInclusive })) {
    let chunk = data;
    if (!decryptor) {
      const need = HEADER_SIZE - header.length;
      header = Buffer.concat([header, chunk.subarray(0, need)]);
      chunk = chunk.subarray(need);
      if (header.length < HEADER_SIZE) continue;
      decryptor = new SegmentDecryptor(dataKey, header, options);
    }
    decryptor.update(chunk, emit);
    for (const b of plain) yield b;
    plain.length = 0;
  }
  if (!decryptor) throw new CryptoIntegrityError(`encrypted blob of ${header.length} bytes is truncated`);
  decryptor.end();
}

/** The 24-byte header of a file blob (shorter if the file is: the decryptor reports that). */
async function readHeader(blobs: BlobStore, blob: BlobRef): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const chunk of blobs.readChunks(blob, { start: 0, end: HEADER_SIZE - 1 })) pieces.push(Buffer.from(chunk));
  return Buffer.concat(pieces);
}

function* touchedParts(parts: ObjectPart[], range: ByteRange | undefined): Generator<{ part: ObjectPart; start: number; end: number }> {
  let offset = 0;
  for (const part of parts) {
    const partStart = offset;
    const partEnd = offset + part.size - 1;
    offset += part.size;
    if (part.size === 0) continue;
    if (range && (range.end < partStart || range.start > partEnd)) continue;
    const start = range ? Math.max(range.start, partStart) - partStart : 0;
    const end = range ? Math.min(range.end, partEnd) - partStart : part.size - 1;
    yield { part, start, end };
  }
}

async function* plaintextOf(blobs: BlobStore, parts: ObjectPart[], dataKey: Buffer, range?: ByteRange): AsyncGenerator<Buffer> {
  for (const { part, start, end } of touchedParts(parts, range)) yield* partRange(blobs, part, dataKey, start, end);
}

/**
 * The plaintext of an object (or a range of it), part after part. The parts' blobs are retained
 * until the stream closes: an overwrite or delete meanwhile cannot remove a part not read yet.
 */
export function readObjectData(blobs: BlobStore, parts: ObjectPart[], dataKey: Buffer, range?: ByteRange): Readable {
  const release = blobs.retain(blobsOf(parts));
  const stream = Readable.from(plaintextOf(blobs, parts, dataKey, range), { objectMode: false, highWaterMark: 1 << 20 });
  stream.once('close', release);
  return stream;
}

/** One blob's stored bytes as they are (sealed), retained until the stream closes. */
export function readSealedBlob(blobs: BlobStore, blob: BlobRef): Readable {
  const release = blobs.retain([blob]);
  const stream = blobs.openRead(blob);
  stream.once('close', release);
  return stream;
}

/**
 * Like readObjectData, but the first segment the read touches is read and authenticated before this
 * resolves (in practice the whole first file read: every segment of an object whose blob fits in one
 * read): a damaged or tampered start of the object fails the request with an error response
 * instead of a 200 whose body breaks off. A failure further in can only cut the stream (the status
 * line is gone by then); a segment's plaintext is never released before its tag verifies.
 */
export async function openObjectData(blobs: BlobStore, parts: ObjectPart[], dataKey: Buffer, range?: ByteRange): Promise<Readable> {
  // Retained from here until the response stream closes (see readObjectData).
  const release = blobs.retain(blobsOf(parts));
  const source = plaintextOf(blobs, parts, dataKey, range);
  let first: IteratorResult<Buffer>;
  try {
    first = await source.next();
  } catch (e) {
    release();
    throw e;
  }
  // Every chunk is new plaintext nothing else holds (decipher output, or a fresh copy): the response
  // frees each as soon as the socket has it (common/buffer-release.ts).
  async function* rest(): AsyncGenerator<Buffer> {
    try {
      if (first.done) return;
      yield handOver(first.value);
      for await (const chunk of source) yield handOver(chunk);
    } finally {
      // A client that goes away early: close the blob reads behind the generator.
      await source.return(undefined);
    }
  }
  const stream = Readable.from(rest(), { objectMode: false, highWaterMark: 1 << 20 });
  stream.once('close', () => {
    // A stream destroyed before its first read never starts rest(), whose finally would close the
    // file the first read left open: close it here (a no-op once the source has finished).
    source.return(undefined).catch(() => undefined);
    release();
  });
  return stream;
}

/**
 * The plaintext (or range) of an object whose parts are all inline, as one Buffer; undefined when any
 * part lives in a file. Small objects are decrypted in one call and sent without stream machinery:
 * on a 4 KiB GET, Readable.from + an async generator + stream.pipeline (whose finish allocates an
 * AbortError) were a large share of the request's CPU (bench/: about a quarter more GETs/s without).
 */
export function inlineObjectData(parts: ObjectPart[], dataKey: Buffer, range?: ByteRange): Buffer | undefined {
  if (!parts.every((p) => p.blob.kind === 'inline')) return undefined;
  const pieces: Buffer[] = [];
  for (const { part, start, end } of touchedParts(parts, range)) {
    const blob = part.blob as Extract<BlobRef, { kind: 'inline' }>;
    pieces.push(decryptBuffer(dataKey, blob.data).subarray(start, end + 1));
  }
  return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
}

/** Every blob an object's parts reference (for deletion after the metadata no longer points at them). */
export function blobsOf(parts: ObjectPart[]): BlobRef[] {
  return parts.map((p) => p.blob);
}
