/** The filesystem blob store: inline threshold, durable files, ranges, cleanup and orphan sweep. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createFsBlobStore, FsBlobStore } from './index.js';
import type { BlobRef } from './types.js';
import { inWorkerProcess } from '../common/buffer-release-testing.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

let root: string;
let n = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'meridian-blobs-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});
const freshDir = (): string => join(root, `store-${++n}`);

async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Wait for a condition the store reaches asynchronously (an unlink after the last release). */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await sleep(10);
  assert.ok(cond());
}

/** Every file in a store's fan-out directories, name → size: finished blobs and writes in progress. */
async function blobFiles(store: FsBlobStore): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const sub of await readdir(store.dir)) {
    if (!/^[0-9a-f]{2}$/.test(sub)) continue;
    for (const name of await readdir(join(store.dir, sub))) out.set(name, (await stat(join(store.dir, sub, name))).size);
  }
  return out;
}

async function writeBlob(store: FsBlobStore, data: Buffer, chunk = 7000): Promise<BlobRef> {
  const w = store.createWriter();
  for (let i = 0; i < data.length; i += chunk) await w.write(data.subarray(i, i + chunk));
  return w.finish();
}

describe('fs blob store', () => {
  it('returns blobs up to the threshold inline and larger ones as files', async () => {
    const store = createFsBlobStore(freshDir(), { inlineThreshold: 10_000 });
    assert.equal(store.inlineThreshold, 10_000);
    const small = randomBytes(10_000);
    const ref = await writeBlob(store, small);
    assert.deepEqual(ref, { kind: 'inline', data: small });
    const empty = await store.createWriter().finish();
    assert.deepEqual(empty, { kind: 'inline', data: Buffer.alloc(0) });

    const big = randomBytes(10_001);
    const fileRef = await writeBlob(store, big);
    assert.equal(fileRef.kind, 'file');
    if (fileRef.kind !== 'file') return;
    assert.equal(fileRef.size, big.length);
    assert.match(fileRef.id, /^[0-9a-f]{32}$/);
    assert.deepEqual(await readFile(join(store.dir, fileRef.id.slice(0, 2), fileRef.id)), big);
    assert.deepEqual(await readdir(store.tmpDir), [], 'nothing is written to tmp/');
  });

  it('writes a file under its final name from its first byte on; finish() leaves it there', async () => {
    const store = createFsBlobStore(freshDir(), { inlineThreshold: 10, writeBufferBytes: 16 });
    const w = store.createWriter();
    const data = randomBytes(100);
    await w.write(data.subarray(0, 50));
    const [[name, size]] = [...(await blobFiles(store))];
    assert.match(name!, /^[0-9a-f]{32}$/);
    assert.equal(size, 50, 'past the inline threshold and the gather buffer, the bytes are in the file');
    await w.write(data.subarray(50));
    const ref = await w.finish();
    assert.deepEqual(ref, { kind: 'file', id: name, size: 100 });
    assert.deepEqual(await readFile(store.pathOf(name!)), data);
    assert.deepEqual(await readdir(store.tmpDir), []);
  });

  it('a slow upload writes what it has at least every quarter of the orphan grace, so its file never looks old', async () => {
    const store = createFsBlobStore(freshDir(), { inlineThreshold: 10, orphanGraceMs: 400 });
    assert.equal(store.touchIntervalMs, 100);
    assert.equal(createFsBlobStore(freshDir()).touchIntervalMs, 60_000, 'by default every minute (the grace is 10 minutes)');
    const w = store.createWriter();
    await w.write(randomBytes(100));
    await w.write(randomBytes(100));
    const [[name, size]] = [...(await blobFiles(store))];
    assert.equal(size, 0, 'gathered: 200 bytes are far below the 1 MiB gather buffer');
    await sleep(150);
    await w.write(randomBytes(100));
    assert.equal((await blobFiles(store)).get(name!), 300, 'written out although still below it');
    await w.finish();
  });

  it('a file removed while it is being written (another process swept it) fails finish(): nothing may reference it', async () => {
    const store = createFsBlobStore(freshDir(), { inlineThreshold: 10 });
    const w = store.createWriter();
    await w.write(randomBytes(100));
    const [name] = [...(await blobFiles(store)).keys()];
    await rm(store.pathOf(name!));
    await assert.rejects(w.finish(), /was removed while it was being written/);
    assert.equal((await blobFiles(store)).size, 0);
  });

  it('the default threshold is 128 KiB', () => {
    assert.equal(createFsBlobStore(freshDir()).inlineThreshold, 128 * 1024);
  });

  it('writes large blobs through a small buffer, in order, even when writes are not awaited', async () => {
    const store = createFsBlobStore(freshDir(), { inlineThreshold: 1000, writeBufferBytes: 4096 });
    const data = randomBytes(300_000);
    const w = store.createWriter();
    const writes: Promise<void>[] = [];
    for (let i = 0; i < data.length; i += 1234) writes.push(w.write(data.subarray(i, i + 1234)));
    await Promise.all(writes);
    const ref = await w.finish();
    assert.deepEqual(await readAll(store.openRead(ref)), data);
    await assert.rejects(w.write(Buffer.from('late')), /finished/);
  });

  it('in a worker process, frees a handed-over chunk once it is in the file (not before), and leaves other chunks alone', () => {
    const out = inWorkerProcess(`
      const { createFsBlobStore } = await import(${JSON.stringify(here('./index.ts'))});
      const { handOver } = await import(${JSON.stringify(here('../common/buffer-release.ts'))});
      const { randomBytes } = await import('node:crypto');
      const { mkdtempSync } = await import('node:fs');
      const { tmpdir } = await import('node:os');
      const { join } = await import('node:path');
      const store = createFsBlobStore(mkdtempSync(join(tmpdir(), 'meridian-release-')), { inlineThreshold: 1000, writeBufferBytes: 100000 });
      const data = randomBytes(400000);
      const chunks = [];
      for (let i = 0, n = 0; i < data.length; i += 50000, n++) {
        const c = Buffer.from(data.subarray(i, i + 50000));
        chunks.push(n % 2 ? c : handOver(c));
      }
      const w = store.createWriter();
      await w.write(chunks[0]);
      const gathered = chunks[0].length; // held until 100,000 bytes are gathered: not written yet
      for (const c of chunks.slice(1)) await w.write(c);
      const ref = await w.finish();
      const back = [];
      for await (const c of store.openRead(ref)) back.push(c);
      console.log(JSON.stringify({ intact: Buffer.concat(back).equals(data), gathered, lengths: chunks.map((c) => c.length) }));
    `);
    assert.deepEqual(JSON.parse(out), { intact: true, gathered: 50000, lengths: [0, 50000, 0, 50000, 0, 50000, 0, 50000] });
  });

  it('gathers less per write while more than two writers write files at once (crowdedWriteBufferBytes)', async () => {
    const store = createFsBlobStore(freshDir(), { inlineThreshold: 1000, writeBufferBytes: 64 * 1024, crowdedWriteBufferBytes: 16 * 1024 });
    const tmpSizes = async (): Promise<number[]> => [...(await blobFiles(store)).values()].sort((a, b) => a - b);
    const [first, second, third] = [store.createWriter(), store.createWriter(), store.createWriter()];
    const a = randomBytes(2000 + 40 * 1024);
    await first.write(a.subarray(0, 2000));
    await second.write(randomBytes(2000));
    await first.write(a.subarray(2000, 2000 + 20 * 1024));
    assert.deepEqual(await tmpSizes(), [0, 0], 'two writers: 22,480 bytes stay gathered (below 64 KiB)');
    await third.write(randomBytes(2000));
    await first.write(a.subarray(2000 + 20 * 1024));
    assert.deepEqual(await tmpSizes(), [0, 0, a.length], 'three writers: past 16 KiB gathered, the first writer wrote');
    const ref = await first.finish();
    assert.deepEqual(await readAll(store.openRead(ref)), a);
    await Promise.all([second.abort(), third.abort()]);

    const byDefault = createFsBlobStore(freshDir());
    assert.deepEqual([byDefault.gatherBytes(1), byDefault.gatherBytes(2), byDefault.gatherBytes(3)], [1024 * 1024, 1024 * 1024, 256 * 1024]);
    assert.equal(createFsBlobStore(freshDir(), { writeBufferBytes: 4096 }).gatherBytes(8), 4096, 'never more than writeBufferBytes');
  });

  it('flushes a large file to disk as it grows (one background fdatasync per writebackBytes), not only at the end', async () => {
    const store = createFsBlobStore(freshDir(), { inlineThreshold: 1000, writeBufferBytes: 16 * 1024, writebackBytes: 128 * 1024 });
    const data = randomBytes(1024 * 1024);
    const ref = await writeBlob(store, data);
    // At most one in flight per writer, so fewer than 8 may start; but more than the final fsync alone.
    assert.ok(store.writebacks >= 2 && store.writebacks <= 8, `${store.writebacks} background flushes`);
    assert.deepEqual(await readAll(store.openRead(ref)), data);

    const byDefault = createFsBlobStore(freshDir(), { inlineThreshold: 1000 });
    assert.equal(byDefault.writebackBytes, 8 * 1024 * 1024);
    await writeBlob(byDefault, randomBytes(2 * 1024 * 1024), 64 * 1024);
    assert.equal(byDefault.writebacks, 0, 'a file below 8 MiB waits for its final fsync only');
  });

  it('an aborted writer waits for its background flush before removing its file', async () => {
    const store = createFsBlobStore(freshDir(), { inlineThreshold: 1000, writeBufferBytes: 16 * 1024, writebackBytes: 16 * 1024 });
    const w = store.createWriter();
    for (let i = 0; i < 8; i++) await w.write(randomBytes(16 * 1024));
    assert.ok(store.writebacks >= 1);
    await w.abort();
    assert.equal((await blobFiles(store)).size, 0);
  });

  it('reads ranges in chunks of one reused buffer (readChunks), and closes the file when the reader stops early', async () => {
    const store = createFsBlobStore(freshDir(), { inlineThreshold: 100, readChunkBytes: 1000, largeReadChunkBytes: 1000 });
    const data = randomBytes(4500);
    const file = await writeBlob(store, data);
    const inline = await writeBlob(store, data.subarray(0, 50));
    const copyAll = async (ref: BlobRef, range: { start: number; end: number }): Promise<{ bytes: Buffer; chunks: number; buffers: Set<ArrayBufferLike> }> => {
      const pieces: Buffer[] = [];
      const buffers = new Set<ArrayBufferLike>();
      for await (const c of store.readChunks(ref, range)) {
        assert.ok(c.length <= 1000);
        buffers.add(c.buffer);
        pieces.push(Buffer.from(c)); // the chunk is only valid until the next one: copied
      }
      return { bytes: Buffer.concat(pieces), chunks: pieces.length, buffers };
    };
    const whole = await copyAll(file, { start: 0, end: 4499 });
    assert.deepEqual(whole.bytes, data);
    assert.equal(whole.chunks, 5);
    assert.equal(whole.buffers.size, 2, 'chunks alternate between two buffers (the next read runs while the reader handles one)');
    assert.deepEqual((await copyAll(file, { start: 999, end: 2000 })).bytes, data.subarray(999, 2001));
    assert.deepEqual((await copyAll(file, { start: 4499, end: 4499 })).bytes, data.subarray(4499));
    assert.deepEqual((await copyAll(inline, { start: 10, end: 19 })).bytes, data.subarray(10, 20));
    // Stopping after the first chunk closes the descriptor.
    const openFds = (): number => readdirSync('/proc/self/fd').length;
    const before = openFds();
    for await (const c of store.readChunks(file, { start: 0, end: 4499 })) {
      assert.equal(c.length, 1000);
      assert.equal(openFds(), before + 1, 'the file is open while it is read');
      break;
    }
    assert.equal(openFds(), before, 'and closed once the reader stops');
    await store.delete([file]);
    assert.equal(existsSync(store.pathOf((file as Extract<BlobRef, { kind: 'file' }>).id)), false);
    await assert.rejects(async () => {
      for await (const c of store.readChunks(file, { start: 0, end: 10 })) assert.fail(`read ${c.length} bytes of a deleted blob`);
    }, { code: 'ENOENT' });
  });

  it('reads a long range in bigger steps than a short one (largeReadChunkBytes): a 1 MiB object in one read', async () => {
    const store = createFsBlobStore(freshDir(), { inlineThreshold: 100, readChunkBytes: 1000, largeReadChunkBytes: 3000 });
    const data = randomBytes(4500);
    const file = await writeBlob(store, data);
    const chunksOf = async (range: { start: number; end: number }): Promise<{ sizes: number[]; bufferBytes: number[]; bytes: Buffer }> => {
      const sizes: number[] = [];
      const bufferBytes: number[] = [];
      const pieces: Buffer[] = [];
      for await (const c of store.readChunks(file, range)) {
        sizes.push(c.length);
        bufferBytes.push(c.buffer.byteLength);
        pieces.push(Buffer.from(c));
      }
      return { sizes, bufferBytes, bytes: Buffer.concat(pieces) };
    };
    const short = await chunksOf({ start: 100, end: 899 });
    assert.deepEqual(short.sizes, [800]);
    assert.deepEqual(short.bufferBytes, [1000], 'a short range reads into a small buffer');
    const longer = await chunksOf({ start: 0, end: 2499 });
    assert.deepEqual(longer.sizes, [2500], 'a range longer than readChunkBytes but within largeReadChunkBytes: one read');
    assert.deepEqual(longer.bytes, data.subarray(0, 2500));
    const all = await chunksOf({ start: 0, end: 4499 });
    assert.deepEqual(all.sizes, [3000, 1500]);
    assert.deepEqual(all.bufferBytes, [3000, 3000]);
    assert.deepEqual(all.bytes, data);
    // The default: the blob of a 1 MiB object (1 MiB of plaintext, 24-byte header, 16 tags) is one read.
    const defaults = createFsBlobStore(freshDir());
    const mib = await writeBlob(defaults, randomBytes(1048576 + 24 + 16 * 16));
    let reads = 0;
    for await (const c of defaults.readChunks(mib, { start: 0, end: 1048576 + 24 + 16 * 16 - 1 })) {
      reads++;
      assert.equal(c.length, 1048856);
    }
    assert.equal(reads, 1);
  });

  it('reads ahead: the next chunk is read while the reader holds the current one, which stays intact; two such reads at a time', async () => {
    const store = createFsBlobStore(freshDir(), { inlineThreshold: 100, readChunkBytes: 1000, largeReadChunkBytes: 1000 });
    const data = randomBytes(4500);
    const file = await writeBlob(store, data);
    const range = { start: 0, end: 4499 };
    // A chunk is left unchanged until the next one is asked for, although the next read has started.
    const readers = [0, 1, 2].map(() => store.readChunks(file, range)[Symbol.asyncIterator]());
    const firsts = await Promise.all(readers.map((r) => r.next()));
    const seen = readers.map(() => new Set<ArrayBufferLike>());
    for (const [i, reader] of readers.entries()) {
      let offset = 0;
      let chunk = firsts[i]!;
      while (!chunk.done) {
        await new Promise((resolve) => setTimeout(resolve, 2)); // the read ahead lands meanwhile
        assert.deepEqual(Buffer.from(chunk.value), data.subarray(offset, offset + chunk.value.length), `reader ${i} at ${offset}`);
        seen[i]!.add(chunk.value.buffer);
        offset += chunk.value.length;
        chunk = await reader.next();
      }
      assert.equal(offset, 4500);
    }
    assert.deepEqual(
      seen.map((s) => s.size),
      [2, 2, 1],
      'the first two read ahead (two buffers each), the third one chunk at a time',
    );
    // Leaving a read-ahead early waits for the read in flight, then closes the file.
    const openFds = (): number => readdirSync('/proc/self/fd').length;
    const before = openFds();
    for await (const c of store.readChunks(file, range)) {
      assert.equal(c.length, 1000);
      break;
    }
    assert.equal(openFds(), before);
  });

  it('reads inclusive byte ranges of inline and file blobs', async () => {
    const store = createFsBlobStore(freshDir(), { inlineThreshold: 100 });
    const data = randomBytes(1000);
    const inline = await writeBlob(store, data.subarray(0, 100));
    const file = await writeBlob(store, data, 333);
    assert.deepEqual(await readAll(store.openRead(inline)), data.subarray(0, 100));
    assert.deepEqual(await readAll(store.openRead(inline, { start: 10, end: 19 })), data.subarray(10, 20));
    assert.deepEqual(await readAll(store.openRead(inline, { start: 99, end: 99 })), data.subarray(99, 100));
    assert.deepEqual(await readAll(store.openRead(file)), data);
    assert.deepEqual(await readAll(store.openRead(file, { start: 0, end: 0 })), data.subarray(0, 1));
    assert.deepEqual(await readAll(store.openRead(file, { start: 500, end: 999 })), data.subarray(500));
    assert.deepEqual(await readAll(store.openRead(file, { start: 123, end: 456 })), data.subarray(123, 457));
  });

  it('abort removes the file being written, or the finished file; twice is fine', async () => {
    const store = createFsBlobStore(freshDir(), { inlineThreshold: 10 });
    const w = store.createWriter();
    await w.write(randomBytes(100));
    assert.equal((await blobFiles(store)).size, 1);
    await w.abort();
    await w.abort();
    assert.equal((await blobFiles(store)).size, 0);
    await assert.rejects(w.write(Buffer.from('x')), /aborted/);

    const w2 = store.createWriter();
    await w2.write(randomBytes(100));
    const ref = await w2.finish();
    assert.equal(ref.kind, 'file');
    await w2.abort();
    assert.equal(existsSync(store.pathOf((ref as { id: string }).id)), false);
  });

  it('delete unlinks files, ignores inline refs and missing files', async () => {
    const store = createFsBlobStore(freshDir(), { inlineThreshold: 10 });
    const ref = await writeBlob(store, randomBytes(50));
    const path = store.pathOf((ref as { id: string }).id);
    assert.ok(existsSync(path));
    await store.delete([ref, { kind: 'inline', data: Buffer.from('x') }]);
    assert.equal(existsSync(path), false);
    await store.delete([ref]);
  });

  it('a retained blob outlives its delete until the last reader releases it', async () => {
    const store = createFsBlobStore(freshDir(), { inlineThreshold: 10 });
    const data = randomBytes(5000);
    const ref = await writeBlob(store, data);
    const path = store.pathOf((ref as { id: string }).id);
    const releaseA = store.retain([ref]);
    const releaseB = store.retain([ref, { kind: 'inline', data: Buffer.from('x') }]);
    await store.delete([ref]);
    assert.ok(existsSync(path), 'still being read');
    assert.ok((await readAll(store.openRead(ref))).equals(data));
    releaseA();
    releaseA(); // twice is harmless: B still holds it
    assert.ok(existsSync(path));
    releaseB();
    await until(() => !existsSync(path));
    await until(() => store.pendingDeletes === 0); // the unlink's completion reaches the store just after
  });

  it('with a grace period, delete only schedules removal; the sweep leaves such files alone; close carries it out', async () => {
    const store = createFsBlobStore(freshDir(), { inlineThreshold: 10, deleteGraceMs: 3_600_000, orphanGraceMs: 0 });
    const ref = await writeBlob(store, randomBytes(50));
    const path = store.pathOf((ref as { id: string }).id);
    await store.delete([ref]);
    assert.ok(existsSync(path));
    assert.equal(store.pendingDeletes, 1);
    assert.equal(await store.sweepOrphans(async () => false), 0, 'a file waiting for its readers is not an orphan');
    assert.ok(existsSync(path));
    await store.close();
    assert.equal(existsSync(path), false);
    assert.equal(store.pendingDeletes, 0);
  });

  it('after its grace period a deleted file goes by itself, unless a reader still holds it', async () => {
    const store = createFsBlobStore(freshDir(), { inlineThreshold: 10, deleteGraceMs: 50 });
    const [free, held] = [await writeBlob(store, randomBytes(50)), await writeBlob(store, randomBytes(50))];
    const release = store.retain([held]);
    await store.delete([free, held]);
    assert.ok(existsSync(store.pathOf((free as { id: string }).id)), 'kept during the grace period');
    await until(() => !existsSync(store.pathOf((free as { id: string }).id)));
    assert.ok(existsSync(store.pathOf((held as { id: string }).id)), 'a reader outlasts the grace period');
    // The file is gone a moment before the store has counted it done (its unlink resolves after).
    await until(() => store.pendingDeletes === 1);
    assert.ok(existsSync(store.pathOf((held as { id: string }).id)));
    release();
    await until(() => !existsSync(store.pathOf((held as { id: string }).id)));
    await until(() => store.pendingDeletes === 0);
  });

  it('files freed together are unlinked one at a time, not all at once (they would fill the thread pool the WAL fsyncs on)', async () => {
    const store = createFsBlobStore(freshDir(), { inlineThreshold: 10 });
    const refs = [];
    for (let i = 0; i < 20; i++) refs.push(await writeBlob(store, randomBytes(50)));
    const release = store.retain(refs);
    await store.delete(refs);
    await sleep(30); // the (zero) grace passes: they wait for their reader now
    assert.equal(store.queuedRemovals, 0);
    release(); // all twenty are free at this instant
    assert.equal(store.queuedRemovals, 20, 'one unlink under way, nineteen waiting behind it');
    assert.ok(refs.filter((r) => existsSync(store.pathOf((r as { id: string }).id))).length >= 19, 'at most the first is gone yet');
    await until(() => store.pendingDeletes === 0);
    assert.equal(refs.filter((r) => existsSync(store.pathOf((r as { id: string }).id))).length, 0);
  });

  it('removes temp files left by earlier versions when created; a write cut off by a crash waits for the orphan sweep', async () => {
    const dir = freshDir();
    const first = createFsBlobStore(dir, { inlineThreshold: 10 });
    const kept = await writeBlob(first, randomBytes(50));
    const w = first.createWriter();
    await w.write(randomBytes(50)); // never finished: the "crash"
    await writeFile(join(first.tmpDir, 'stray'), 'x');
    const second = createFsBlobStore(dir, { inlineThreshold: 10, orphanGraceMs: 0 });
    assert.deepEqual(await readdir(second.tmpDir), []);
    assert.equal((await readAll(second.openRead(kept))).length, 50);
    assert.equal((await blobFiles(second)).size, 2, 'the unfinished file is referenced by nothing, but not removed at start-up');
    await sleep(5);
    assert.equal(await second.sweepOrphans(async (id) => id === (kept as { id: string }).id), 1);
    assert.deepEqual([...(await blobFiles(second)).keys()], [(kept as { id: string }).id]);
    await w.abort(); // closes the orphaned handle; its file is already gone
  });

  it('shared with other processes, leaves temp files alone when created: they may be uploads in progress elsewhere', async () => {
    const dir = freshDir();
    const first = createFsBlobStore(dir, { inlineThreshold: 10, soleUser: false });
    const w = first.createWriter();
    await w.write(randomBytes(50)); // another worker's upload, still going
    await writeFile(join(first.tmpDir, '0'.repeat(32)), 'x'); // an upload of an earlier version, still going
    const second = createFsBlobStore(dir, { inlineThreshold: 10, soleUser: false });
    assert.equal((await readdir(second.tmpDir)).length, 1);
    const ref = await w.finish();
    assert.equal((await readAll(second.openRead(ref))).length, 50);
  });

  it('sweeps unreferenced files only once they are older than the grace period', async () => {
    const store = createFsBlobStore(freshDir(), { inlineThreshold: 10, orphanGraceMs: 300 });
    const live = await writeBlob(store, randomBytes(50));
    const orphan = await writeBlob(store, randomBytes(50));
    const liveId = (live as { id: string }).id;
    const orphanId = (orphan as { id: string }).id;
    const inFlight = store.createWriter();
    await inFlight.write(randomBytes(50)); // a slow upload, its file already under its final name
    const asked: string[] = [];
    const isReferenced = async (id: string): Promise<boolean> => {
      asked.push(id);
      return id === liveId;
    };
    assert.equal(await store.sweepOrphans(isReferenced), 0, 'young files are never swept');
    assert.deepEqual(asked, [], 'nor even looked up');
    await sleep(400);
    assert.equal(await store.sweepOrphans(isReferenced), 1);
    assert.ok(existsSync(store.pathOf(liveId)));
    assert.equal(existsSync(store.pathOf(orphanId)), false);
    assert.equal((await blobFiles(store)).size, 2, 'an active write is not swept, however old');
    const ref = await inFlight.finish();
    assert.equal(ref.kind, 'file');
    assert.ok(existsSync(store.pathOf((ref as { id: string }).id)));
  });
});
