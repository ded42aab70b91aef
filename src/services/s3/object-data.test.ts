import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FsBlobStore } from '../../storage/index.js';
import type { ObjectPart } from '../../storage/types.js';
import { inlineObjectData, openObjectData, readObjectData, writeEncryptedBlob, type ByteRange } from './object-data.js';

async function collect(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('inlineObjectData gives the same bytes as the streaming read, whole and ranged, and declines file parts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'object-data-'));
  try {
    const blobs = new FsBlobStore(dir, { inlineThreshold: 100_000 });
    const dataKey = randomBytes(32);
    const plain = [randomBytes(0), randomBytes(1), randomBytes(4096), randomBytes(70_000)];
    const parts: ObjectPart[] = [];
    for (const [i, p] of plain.entries()) {
      parts.push({ partNumber: i + 1, size: p.length, blob: await writeEncryptedBlob(blobs, Readable.from([p]), dataKey) });
    }
    assert.ok(parts.every((p) => p.blob.kind === 'inline'));
    const all = Buffer.concat(plain);
    const ranges: (ByteRange | undefined)[] = [undefined, { start: 0, end: 0 }, { start: 3, end: 5000 }, { start: 65_000, end: all.length - 1 }, { start: 4097, end: 4097 }];
    for (const range of ranges) {
      const expected = range ? all.subarray(range.start, range.end + 1) : all;
      assert.deepEqual(inlineObjectData(parts, dataKey, range), expected);
      assert.deepEqual(await collect(readObjectData(blobs, parts, dataKey, range)), expected);
    }
    // An empty object is an empty buffer, not "not inline".
    assert.deepEqual(inlineObjectData([parts[0]!], dataKey), Buffer.alloc(0));

    const big = randomBytes(200_000);
    const filePart: ObjectPart = { partNumber: 5, size: big.length, blob: await writeEncryptedBlob(blobs, Readable.from([big]), dataKey) };
    assert.equal(filePart.blob.kind, 'file');
    assert.equal(inlineObjectData([...parts, filePart], dataKey), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeEncryptedBlob with a small declared size: same bytes back, source errors and overlong bodies reject', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'object-data-'));
  try {
    const blobs = new FsBlobStore(dir);
    const dataKey = randomBytes(32);
    for (const size of [0, 1, 4096, 65_536, 65_537, blobs.inlineThreshold]) {
      const plain = randomBytes(size);
      // Arrives in uneven pieces, as a socket delivers it.
      const pieces = [plain.subarray(0, 7), plain.subarray(7, 5000), plain.subarray(5000)].filter((p) => p.length > 0);
      const blob = await writeEncryptedBlob(blobs, Readable.from(pieces), dataKey, size);
      const part: ObjectPart = { partNumber: 0, size, blob };
      assert.deepEqual(await collect(readObjectData(blobs, [part], dataKey)), plain, `size ${size}`);
    }
    const failing = new Readable({ read() {} });
    failing.push(randomBytes(100));
    setImmediate(() => failing.destroy(new Error('bad checksum')));
    await assert.rejects(writeEncryptedBlob(blobs, failing, dataKey, 4096), /bad checksum/);
    await assert.rejects(writeEncryptedBlob(blobs, Readable.from([randomBytes(200)]), dataKey, 100), /longer than its declared/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('openObjectData: a stream destroyed before it is read closes the file its first read opened, and releases the blob', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'object-data-'));
  try {
    const blobs = new FsBlobStore(dir, { inlineThreshold: 1000, readChunkBytes: 64 * 1024 });
    const dataKey = randomBytes(32);
    const body = randomBytes(1024 * 1024);
    const part: ObjectPart = { partNumber: 1, size: body.length, blob: await writeEncryptedBlob(blobs, Readable.from([body]), dataKey) };
    assert.equal(part.blob.kind, 'file');
    const path = join(dir, (part.blob as { id: string }).id.slice(0, 2), (part.blob as { id: string }).id);
    const openOnIt = () => readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === path;
      } catch {
        return false;
      }
    }).length;
    const stream = await openObjectData(blobs, [part], dataKey);
    assert.equal(openOnIt(), 1, 'the first segment was read, the file is still open for the rest');
    const closed = new Promise((resolve) => stream.once('close', resolve));
    stream.destroy();
    await closed;
    for (let i = 0; i < 50 && openOnIt() > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(openOnIt(), 0);
    // Read whole, it still gives the object back.
    assert.deepEqual(await collect(await openObjectData(blobs, [part], dataKey)), body);
    assert.equal(openOnIt(), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
