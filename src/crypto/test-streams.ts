// Test helpers for the stream tests of this folder (not part of the public API).
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Feeds `chunks` through `transform` and returns everything it emitted. */
export async function runStream(transform: Transform, chunks: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from(chunks), transform, async (source: AsyncIterable<Buffer>) => {
    for await (const c of source) out.push(c);
  });
  return Buffer.concat(out);
}

/** Like runStream, but also reports what was emitted before an error (to check nothing unverified leaks). */
export async function runStreamCapturing(transform: Transform, chunks: Buffer[]): Promise<{ out: Buffer; error: unknown }> {
  const out: Buffer[] = [];
  let error: unknown;
  try {
    await pipeline(Readable.from(chunks), transform, async (source: AsyncIterable<Buffer>) => {
      for await (const c of source) out.push(c);
    });
  } catch (err) {
    error = err;
  }
  return { out: Buffer.concat(out), error };
}

/** Splits `buf` at the given offsets (taken modulo its length, sorted, deduplicated); keeps empty pieces out. */
export function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => (buf.length === 0 ? 0 : c % (buf.length + 1))))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, buf.length]) {
    if (p > prev) pieces.push(buf.subarray(prev, p));
    prev = Math.max(prev, p);
  }
  return pieces;
}

/** Fixed-size pieces (the last may be shorter). */
export function chunksOf(buf: Buffer, size: number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) pieces.push(buf.subarray(i, i + size));
  return pieces;
}
