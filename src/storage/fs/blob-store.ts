/**
 * BlobStore over a directory:
 *   <dir>/<xx>/<id>    blobs, fanned out by the first two hex characters of the id
 *   <dir>/tmp/<id>     writes in progress of earlier versions, which wrote there and renamed into
 *                      place (left over from a crash: removed at start-up when this process is the
 *                      directory's only user, else by the orphan sweep once old)
 *
 * Small blobs (total <= inlineThreshold) never touch the disk here: they come back inline and live in
 * the metadata database. Larger ones are written under their final name (ids are random and the file
 * is created exclusively, so nothing else ever has that name): the directory is fsynced as soon as the
 * file exists, while the body is still arriving, and finish() resolves once the file is fsynced too,
 * so a blob is durable before its metadata commits. A file whose write never finished (a crash, a
 * failed request) is referenced by no metadata: the writer removes it, or the orphan sweep does once
 * it is older than the grace period. See docs/decisions.md "Blobs are written under their final name".
 */
import { secureRandomBytes as randomBytes } from '../../common/random.js';
import { releaseBuffer } from '../../common/buffer-release.js';
import { closeSync, createReadStream, fstatSync, fsyncSync, mkdirSync, openSync, read, readdirSync, rmSync } from 'node:fs';
import { open, readdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import type { BlobRef, BlobStore, BlobWriter } from '../types.js';

export interface FsBlobStoreOptions {
  /** Blobs of at most this many bytes come back inline (default 128 KiB). */
  inlineThreshold?: number;
  /** Files younger than this are never swept as orphans: their metadata may not have committed yet (default 10 min). */
  orphanGraceMs?: number;
  /** Bytes a writer gathers before writing them to its file (default 1 MiB): bounds memory per writer. */
  writeBufferBytes?: number;
  /**
   * The same while more than two writers of this store are writing files at once (default 256 KiB,
   * at most writeBufferBytes). With 16 streams on a fresh server (four uploads per worker) the peak
   * summed RSS was 448–453 MiB gathering 1 MiB and 380–384 gathering 256 KiB: chunks held that long
   * seem to outlive young-generation collections and wait, dead, for a full one (docs/decisions.md).
   * One or two uploads keep the larger batches, which save hand-offs to the thread pool.
   */
  crowdedWriteBufferBytes?: number;
  /**
   * A writer starts flushing its file to disk (fdatasync, in the background) each time this many
   * bytes have been written since the last such flush (default 8 MiB), so the fsync before finish()
   * resolves has only the tail left to write. 0: only that final fsync.
   */
  writebackBytes?: number;
  /**
   * How long delete() waits before removing a file (default 0: at once unless retained). Covers
   * readers between their metadata lookup and their retain(); the server sets it (MERIDIAN_BLOB_DELETE_GRACE_MS).
   */
  deleteGraceMs?: number;
  /** Inspect the directory as it is (tools such as fsck): no temp-file clean-up, nothing created. */
  inspectOnly?: boolean;
  /** Bytes per read of a range up to this long (default 256 KiB): one read for a small object or range. */
  readChunkBytes?: number;
  /**
   * Bytes per read of a longer range (default 1.25 MiB): a 1 MiB object's blob (1 MiB + 280 bytes) in
   * one read, a large object in 1.25 MiB steps. Each read is a hand-off to libuv's thread pool and back,
   * tens of µs of CPU on the VMs we measure on: 256 KiB steps cost a 1 MiB GET about an eighth of its CPU.
   */
  largeReadChunkBytes?: number;
  /**
   * Whether this store is the directory's only user (default true). Then anything in tmp/ at start-up
   * is a write that never finished and is removed at once. Worker processes and gateways sharing the
   * directory pass false: another one's upload may be in progress there, so leftovers are only
   * removed by the orphan sweep, once older than the grace period.
   */
  soleUser?: boolean;
}

const BLOB_ID = /^[0-9a-f]{32}$/;

function isNotFound(e: unknown): boolean {
  return (e as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

async function unlinkIfExists(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}

async function fsyncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function fsyncDirSync(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Long reads per store that read ahead at once (a second buffer each). */
const MAX_READING_AHEAD = 2;

/** A positioned read on libuv's pool (fs.read with a callback: no FileHandle or promise machinery per read). */
function readAt(fd: number, buffer: Buffer, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, buffer, 0, length, position, (e, n) => (e ? reject(e) : resolve(n))));
}

export class FsBlobStore implements BlobStore {
  readonly inlineThreshold: number;
  readonly orphanGraceMs: number;
  /**
   * A writer writes what it has gathered at least this often (a quarter of the orphan grace, at most a
   * minute), so a file being written is never older than the grace period (see FsBlobWriter.doWrite).
   */
  readonly touchIntervalMs: number;
  readonly writeBufferBytes: number;
  readonly crowdedWriteBufferBytes: number;
  readonly writebackBytes: number;
  /** Background flushes started by writers so far (see writebackBytes). */
  writebacks = 0;
  /**
   * Background flushes running now, across writers. At most two: each holds a thread of libuv's
   * pool (four) for milliseconds, and the metadata WAL's fsync runs on the same pool.
   */
  writebacksInFlight = 0;
  readonly tmpDir: string;
  readonly deleteGraceMs: number;
  readonly readChunkBytes: number;
  readonly largeReadChunkBytes: number;
  /** Ids of files being written by this process: never swept, whatever their age. */
  private readonly active = new Set<string>();
  /** Open reads per file id (retain/release). */
  private readonly readers = new Map<string, number>();
  /** Files deleted but not yet removed: waiting for the grace period, or (grace over) for their last reader. */
  private readonly doomed = new Map<string, 'grace' | 'readers'>();
  /**
   * Deletions in grace, oldest first (one grace for all, so due times only grow): one timer for the
   * head of the queue instead of one per file, which matters under a stream of overwrites.
   */
  private graceQueue: { id: string; due: number }[] = [];
  private graceHead = 0;
  private graceTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly dir: string,
    options: FsBlobStoreOptions = {},
  ) {
    this.inlineThreshold = options.inlineThreshold ?? 128 * 1024;
    this.orphanGraceMs = options.orphanGraceMs ?? 10 * 60 * 1000;
    this.touchIntervalMs = Math.min(60_000, Math.floor(this.orphanGraceMs / 4));
    this.writeBufferBytes = options.writeBufferBytes ?? 1024 * 1024;
    this.crowdedWriteBufferBytes = Math.min(this.writeBufferBytes, options.crowdedWriteBufferBytes ?? 256 * 1024);
    this.writebackBytes = options.writebackBytes ?? 8 * 1024 * 1024;
    this.deleteGraceMs = options.deleteGraceMs ?? 0;
    this.readChunkBytes = options.readChunkBytes ?? 256 * 1024;
    this.largeReadChunkBytes = Math.max(this.readChunkBytes, options.largeReadChunkBytes ?? 1280 * 1024);
    this.tmpDir = join(dir, 'tmp');
    // Start-up work, synchronous on purpose: when one process owns a blob directory, anything in tmp/
    // is a write that never finished (crash). Fan-out directories are created once, here, so finish()
    // never has to create (and fsync) a directory.
    if (options.inspectOnly) return;
    const created = mkdirSync(dir, { recursive: true }) !== undefined;
    if (options.soleUser ?? true) rmSync(this.tmpDir, { recursive: true, force: true });
    mkdirSync(this.tmpDir, { recursive: true });
    const existing = new Set(readdirSync(dir));
    let added = false;
    for (let i = 0; i < 256; i++) {
      const name = i.toString(16).padStart(2, '0');
      if (!existing.has(name)) {
        try {
          mkdirSync(join(dir, name));
        } catch (e) {
          // Another gateway on the shared directory opened this region at the same moment.
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        added = true;
      }
    }
    // A blob created in a fan-out directory is only as durable as that directory's own entry.
    if (added) fsyncDirSync(dir);
    if (created) fsyncDirSync(dirname(dir));
  }

  /** Where a finished blob lives. */
  pathOf(id: string): string {
    if (!BLOB_ID.test(id)) throw new Error(`invalid blob id: ${JSON.stringify(id)}`);
    return join(this.dir, id.slice(0, 2), id);
  }

  /** How many bytes a writer gathers before a write, while `writing` writers of this store write files. */
  gatherBytes(writing: number): number {
    return writing > 2 ? this.crowdedWriteBufferBytes : this.writeBufferBytes;
  }

  createWriter(): BlobWriter {
    return new FsBlobWriter(this, this.active);
  }

  openRead(ref: BlobRef, range?: { start: number; end: number }): Readable {
    if (ref.kind === 'inline') {
      const bytes = range ? ref.data.subarray(range.start, range.end + 1) : ref.data;
      let sent = false;
      return new Readable({
        read() {
          if (!sent && bytes.length > 0) this.push(bytes);
          sent = true;
          this.push(null);
        },
      });
    }
    // node's default of 64 KiB per read made a 1 MiB GET sixteen reads, each its own buffer and stream turn.
    const highWaterMark = this.readChunkBytes;
    return createReadStream(this.pathOf(ref.id), range ? { start: range.start, end: range.end, highWaterMark } : { highWaterMark });
  }

  /** Read buffers not in use, kept for the next reader (a few; more are allocated when many read at once). */
  private readonly spareReadBuffers: Buffer[] = [];
  /** The same for long ranges' buffers: fewer, they are five times the size. */
  private readonly spareLargeReadBuffers: Buffer[] = [];

  async *readChunks(ref: BlobRef, range: { start: number; end: number }): AsyncGenerator<Buffer> {
    if (ref.kind === 'inline') {
      if (range.end >= range.start) yield ref.data.subarray(range.start, range.end + 1);
      return;
    }
    // Opened and closed on the event loop, only the reads go to libuv's pool: an open of a file whose
    // directory entry is cached (every object read more than once) and a close of a read-only
    // descriptor take a few µs of syscall, while each hand-off to the pool and back costs tens of µs
    // of CPU on the VMs we measure on (1 MiB GET: 8 % less server CPU). A cold directory lookup blocks
    // the loop for one disk read, as the decryption of a large read does anyway.
    const fd = openSync(this.pathOf(ref.id), 'r');
    const large = range.end + 1 - range.start > this.readChunkBytes;
    const spares = large ? this.spareLargeReadBuffers : this.spareReadBuffers;
    const buffer = spares.pop() ?? Buffer.allocUnsafeSlow(large ? this.largeReadChunkBytes : this.readChunkBytes);
    if (range.end + 1 - range.start > buffer.length && this.readingAhead < MAX_READING_AHEAD) {
      yield* this.readAhead(fd, buffer, spares, range);
      return;
    }
    try {
      let position = range.start;
      while (position <= range.end) {
        const want = Math.min(buffer.length, range.end + 1 - position);
        const bytesRead = await readAt(fd, buffer, want, position);
        if (bytesRead === 0) return; // the file is shorter than the range: the reader sees it end early
        position += bytesRead;
        yield buffer.subarray(0, bytesRead);
      }
    } finally {
      if (spares.length < (large ? 4 : 16)) spares.push(buffer);
      closeSync(fd);
    }
  }

  /** Reads in progress that read ahead (see readAhead). */
  private readingAhead = 0;

  /**
   * readChunks for a range of several reads: the next read runs on the pool while the reader
   * handles the current chunk (two buffers, alternating), so a single large download's event loop
   * does not sit idle for each read's round trip (64 MiB GET, one stream: 7–25 % more MB/s). Only
   * MAX_READING_AHEAD reads at a time do: with more streams the loop has other work while one waits,
   * and the second buffer would only cost memory.
   */
  private async *readAhead(fd: number, first: Buffer, spares: Buffer[], range: { start: number; end: number }): AsyncGenerator<Buffer> {
    this.readingAhead++;
    const buffers = [first, spares.pop() ?? Buffer.allocUnsafeSlow(first.length)];
    let position = range.start;
    let which = 0;
    const start = (): Promise<number> | undefined => {
      if (position > range.end) return undefined;
      const b = buffers[which]!;
      return readAt(fd, b, Math.min(b.length, range.end + 1 - position), position);
    };
    let pending = start();
    try {
      while (pending) {
        const bytesRead = await pending;
        pending = undefined;
        if (bytesRead === 0) return;
        const current = buffers[which]!;
        position += bytesRead;
        which ^= 1;
        pending = start();
        yield current.subarray(0, bytesRead);
      }
    } finally {
      // A read still in flight writes into its buffer and uses the descriptor: wait for it.
      if (pending) await pending.catch(() => 0);
      for (const b of buffers) if (spares.length < 4) spares.push(b);
      closeSync(fd);
      this.readingAhead--;
    }
  }

  async delete(refs: BlobRef[]): Promise<void> {
    for (const ref of refs) {
      if (ref.kind !== 'file') continue;
      const id = ref.id;
      this.pathOf(id); // validates the id now, not in a timer
      if (this.doomed.has(id)) continue;
      if (this.deleteGraceMs === 0 && !this.readers.has(id)) {
        await unlinkIfExists(this.pathOf(id));
        continue;
      }
      this.doomed.set(id, 'grace');
      this.graceQueue.push({ id, due: Date.now() + this.deleteGraceMs });
      this.armGraceTimer();
    }
  }

  private armGraceTimer(): void {
    if (this.graceTimer || this.graceHead >= this.graceQueue.length) return;
    const wait = Math.max(0, this.graceQueue[this.graceHead]!.due - Date.now());
    this.graceTimer = setTimeout(() => this.graceOver(), wait);
    this.graceTimer.unref();
  }

  /** Every deletion whose grace has passed: removed now, or when its last reader releases it. */
  private graceOver(): void {
    this.graceTimer = undefined;
    const now = Date.now();
    while (this.graceHead < this.graceQueue.length && this.graceQueue[this.graceHead]!.due <= now) {
      const { id } = this.graceQueue[this.graceHead++]!;
      if (this.doomed.get(id) !== 'grace') continue;
      if (this.readers.has(id)) this.doomed.set(id, 'readers');
      else this.removeDoomed(id);
    }
    if (this.graceHead > 1024 && this.graceHead * 2 > this.graceQueue.length) {
      this.graceQueue = this.graceQueue.slice(this.graceHead);
      this.graceHead = 0;
    }
    this.armGraceTimer();
  }

  private removeDoomed(id: string): void {
    this.doomed.delete(id);
    this.removals.push(id);
    if (!this.removing) void this.drainRemovals();
  }

  /**
   * Files to unlink, one at a time. Unlinking a large file is slow in the kernel and runs on libuv's
   * thread pool, which also fsyncs the metadata WAL: a grace period ending for many large files at
   * once used to start every unlink together, fill the pool, and hold commits (acknowledged PUTs,
   * replication) back for seconds. One at a time leaves the other pool threads to the rest.
   */
  private readonly removals: string[] = [];
  private removing = false;

  private async drainRemovals(): Promise<void> {
    this.removing = true;
    try {
      for (let id = this.removals.shift(); id !== undefined; id = this.removals.shift()) {
        // A failure here (I/O error) leaves an orphan, which the sweep or fsck removes later.
        await unlinkIfExists(this.pathOf(id)).catch(() => undefined);
      }
    } finally {
      this.removing = false;
    }
  }

  /** Files waiting in the removal queue (tests). */
  get queuedRemovals(): number {
    return this.removals.length + (this.removing ? 1 : 0);
  }

  retain(refs: BlobRef[]): () => void {
    const ids = refs.flatMap((r) => (r.kind === 'file' ? [r.id] : []));
    for (const id of ids) this.readers.set(id, (this.readers.get(id) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const id of ids) {
        const n = (this.readers.get(id) ?? 1) - 1;
        if (n > 0) {
          this.readers.set(id, n);
          continue;
        }
        this.readers.delete(id);
        if (this.doomed.get(id) === 'readers') this.removeDoomed(id);
      }
    };
  }

  /** Deletions not carried out yet (tests, fsck). */
  get pendingDeletes(): number {
    return this.doomed.size + this.queuedRemovals;
  }

  async close(): Promise<void> {
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    this.graceQueue = [];
    this.graceHead = 0;
    const ids = [...this.doomed.keys(), ...this.removals.splice(0)];
    this.doomed.clear();
    for (const id of ids) await unlinkIfExists(this.pathOf(id)).catch(() => undefined);
  }

  /**
   * Delete finished files nobody references and temp files nobody is writing, once they are older
   * than the grace period. Returns how many files were removed.
   */
  async sweepOrphans(isReferenced: (fileId: string) => Promise<boolean>): Promise<number> {
    const cutoff = Date.now() - this.orphanGraceMs;
    let removed = 0;
    const oldEnough = async (path: string): Promise<boolean> => {
      try {
        const s = await stat(path);
        // mtime moves on write, ctime also on rename (earlier versions renamed finished files into
        // place): young by either measure means possibly in flight.
        return Math.max(s.mtimeMs, s.ctimeMs) < cutoff;
      } catch (e) {
        if (isNotFound(e)) return false;
        throw e;
      }
    };
    for (let i = 0; i < 256; i++) {
      const sub = join(this.dir, i.toString(16).padStart(2, '0'));
      let names: string[];
      try {
        names = await readdir(sub);
      } catch (e) {
        if (isNotFound(e)) continue;
        throw e;
      }
      for (const name of names) {
        if (!BLOB_ID.test(name)) continue;
        // Deleted but kept for readers: removed by its own timer, never by the sweep. Being written
        // here: referenced once its write finishes and commits.
        if (this.doomed.has(name) || this.readers.has(name) || this.active.has(name)) continue;
        const path = join(sub, name);
        if (!(await oldEnough(path))) continue;
        if (await isReferenced(name)) continue;
        await unlinkIfExists(path);
        removed++;
      }
    }
    for (const name of await readdir(this.tmpDir)) {
      if (this.active.has(name)) continue;
      const path = join(this.tmpDir, name);
      if (!(await oldEnough(path))) continue;
      await unlinkIfExists(path);
      removed++;
    }
    return removed;
  }
}

class FsBlobWriter implements BlobWriter {
  /** The file's id, drawn when a file is first needed: a blob that stays inline never needs one. */
  #id: string | undefined;
  private get id(): string {
    return (this.#id ??= randomBytes(16).toString('hex'));
  }
  /** Bytes not yet written to the file (or all of them while the blob may still be inline). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private total = 0;
  private file: FileHandle | undefined;
  private state: 'open' | 'finishing' | 'finished' | 'aborted' = 'open';
  /** The file's path, once created. */
  private path: string | undefined;
  /**
   * The fsync of the file's directory, started when the file was created (settles with its error, if
   * any): the new entry reaches the disk while the body arrives, off finish()'s path.
   */
  private entrySynced: Promise<unknown> | undefined;
  /** When bytes last went to the file (or it was created): what keeps its mtime young. */
  private lastWriteAt = 0;
  /** Serializes writes, so callers that do not await write() still get ordered bytes. */
  private chain: Promise<void> = Promise.resolve();
  /** Bytes written to the file since the last background flush to disk started. */
  private unsynced = 0;
  /** The background fdatasync in flight, if any (one at a time per writer). */
  private writeback: Promise<void> | undefined;
  /**
   * Its failure, kept for finish(): after a failed fsync Linux may report the next one as a success
   * although the pages were lost, so the final fsync alone would not tell.
   */
  private writebackError: unknown;

  constructor(
    private readonly store: FsBlobStore,
    private readonly active: Set<string>,
  ) {}

  write(chunk: Buffer): Promise<void> {
    if (this.state !== 'open') return Promise.reject(new Error(`blob writer is ${this.state}`));
    const run = this.chain.then(() => this.doWrite(chunk));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async doWrite(chunk: Buffer): Promise<void> {
    if (this.state === 'aborted') throw new Error('blob writer is aborted');
    if (chunk.length === 0) return;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.total += chunk.length;
    if (!this.file) {
      if (this.total <= this.store.inlineThreshold) return;
      this.active.add(this.id);
      const path = this.store.pathOf(this.id);
      this.file = await open(path, 'wx');
      this.lastWriteAt = Date.now();
      // Only a file this writer created is ever removed by it.
      this.path = path;
      this.entrySynced = fsyncDir(dirname(path)).then(
        () => undefined,
        (e: unknown) => e ?? new Error('directory fsync failed'),
      );
    }
    // Resolving only after the flush is the backpressure: at most ~writeBufferBytes held. A slow
    // upload also writes what it has every so often, so its file never looks old to the orphan sweep
    // of another process sharing the directory (ours skips it as active): a file written under its
    // final name and swept while still open would be committed as a blob that is no longer there.
    if (this.pendingBytes >= this.store.gatherBytes(this.active.size) || Date.now() - this.lastWriteAt >= this.store.touchIntervalMs) {
      await this.flush();
    }
  }

  private async flush(): Promise<void> {
    if (!this.file || this.pending.length === 0) return;
    this.lastWriteAt = Date.now();
    const chunks = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    let bufs = chunks;
    // writev may write less than asked; keep going until all bytes are out.
    while (bufs.length > 0) {
      const { bytesWritten } = await this.file.writev(bufs);
      bufs = dropBytes(bufs, bytesWritten);
      this.unsynced += bytesWritten;
    }
    // The file has them now: chunks handed over (an upload's sealed segments) are freed at once
    // instead of waiting, dead, for a collection (common/buffer-release.ts).
    for (const c of chunks) releaseBuffer(c);
    this.startWriteback();
  }

  /**
   * A large blob's pages go to disk while the rest of it is still arriving: without this the
   * whole file waited for the final fsync (64 MiB: ~40 ms of disk time at the end of the request).
   */
  private startWriteback(): void {
    const every = this.store.writebackBytes;
    if (every <= 0 || this.unsynced < every || this.writeback || !this.file || this.store.writebacksInFlight >= 2) return;
    this.unsynced = 0;
    this.store.writebacks++;
    this.store.writebacksInFlight++;
    this.writeback = this.file.datasync().then(
      () => {
        this.writeback = undefined;
      },
      (e: unknown) => {
        this.writebackError ??= e;
        this.writeback = undefined;
      },
    ).finally(() => this.store.writebacksInFlight--);
  }

  finish(): Promise<BlobRef> {
    if (this.state !== 'open') return Promise.reject(new Error(`blob writer is ${this.state}`));
    this.state = 'finishing';
    const run = this.chain.then(() => this.doFinish());
    this.chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async doFinish(): Promise<BlobRef> {
    if (this.state === 'aborted') throw new Error('blob writer is aborted');
    if (!this.file) {
      const data = Buffer.concat(this.pending, this.total);
      for (const c of this.pending) releaseBuffer(c);
      this.pending = [];
      this.state = 'finished';
      return { kind: 'inline', data };
    }
    try {
      await this.flush();
      await this.writeback;
      if (this.writebackError !== undefined) throw this.writebackError;
      await this.file.sync();
      // Removed meanwhile (by another process's orphan sweep, or by hand): committing would reference
      // a blob that is gone. The request fails instead, as it did when finished files were renamed.
      if (fstatSync(this.file.fd).nlink === 0) throw new Error(`blob file ${this.path} was removed while it was being written`);
      await this.file.close();
      this.file = undefined;
      // The file is durable only once its directory entry is.
      const entryError = await this.entrySynced;
      if (entryError !== undefined) throw entryError;
      this.state = 'finished';
      return { kind: 'file', id: this.id, size: this.total };
    } catch (e) {
      this.state = 'aborted';
      await this.cleanup();
      throw e;
    } finally {
      this.active.delete(this.id);
    }
  }

  async abort(): Promise<void> {
    this.state = 'aborted';
    this.pending = [];
    // Let a write or finish in flight settle first (chain never rejects), then remove what it left.
    await this.chain;
    await this.cleanup();
  }

  private async cleanup(): Promise<void> {
    this.pending = [];
    await this.writeback;
    await this.entrySynced;
    const file = this.file;
    this.file = undefined;
    if (file) await file.close().catch(() => undefined);
    if (this.path) await unlinkIfExists(this.path);
    this.path = undefined;
    this.active.delete(this.id);
  }
}

/** The buffers left after the first `n` bytes. */
function dropBytes(bufs: Buffer[], n: number): Buffer[] {
  let i = 0;
  while (i < bufs.length && n >= bufs[i]!.length) n -= bufs[i++]!.length;
  if (i === bufs.length) return [];
  const rest = bufs.slice(i);
  rest[0] = rest[0]!.subarray(n);
  return rest;
}
