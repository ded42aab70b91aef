/**
 * Group commit: concurrent writes share one transaction and so one fsync.
 *
 * A write is a synchronous function queued here. On the next turn of the event loop (setImmediate)
 * the queue runs inside ONE transaction, each operation inside its own SAVEPOINT: an operation that
 * throws rolls back only its own changes and rejects only its own promise.
 *
 * Durability without blocking the event loop: the database runs with synchronous = NORMAL, so COMMIT
 * appends the batch to the WAL and returns without an fsync (and releases the write lock at once,
 * which the other cluster workers wait on). The successful promises of a batch resolve only after an
 * fsync of the WAL that STARTED AFTER the batch's COMMIT has completed, run on libuv's thread pool
 * while the main thread goes on with the next requests. Writes queued while an fsync runs commit
 * together when it completes, and share the next fsync. A SIGKILL never loses a committed batch (its frames are in the kernel's page cache);
 * power loss can lose only batches whose fsync had not completed, none of which was acknowledged.
 * SQLite's own checkpoints still fsync the WAL before copying it into the database file and the
 * database file before the WAL is reused, so what is on disk is always a consistent database.
 * (docs/decisions.md, "Group commit fsyncs the WAL off the event loop".)
 *
 * A write queued with `durable: false` (a lease on outbox tasks, which a crash voids anyway) does not
 * ask for an fsync of its own, but it resolves no earlier than every durable write committed before
 * it: a replication worker never acts on an outbox task whose object could still vanish.
 *
 * Waiting for another process's write lock (cluster workers share the file) does not hold the event
 * loop: `BEGIN IMMEDIATE` is tried with the busy timeout switched off, and while another connection
 * holds the lock the batch waits in the event loop, retried every millisecond and gathering the
 * writes that arrive meanwhile. (SQLite's own busy handler sleeps the thread for 1 ms, then 2, 5 and
 * more, every request of the worker stalled meanwhile.) After the connection's busy timeout the batch
 * makes one last, blocking attempt and fails with SQLITE_BUSY.
 *
 * Reads run at once, outside any transaction, and see committed state: there is never an open
 * transaction between two turns of the event loop, because a batch runs start to finish in one turn.
 * A read can see a commit whose fsync is still running; it survives anything but power loss.
 */
import { closeSync, fsync, openSync } from 'node:fs';
import type { SqliteDatabase } from './open-database.js';

export interface GroupCommitStats {
  /** Transactions committed (one per batch). */
  transactions: number;
  /** Operations that committed. */
  operations: number;
  /** Operations rolled back, or whose fsync failed (their promise rejected). */
  failedOperations: number;
  /** Largest number of operations seen in one batch. */
  largestBatch: number;
  /** Transactions committed without asking for an fsync (every write in them non-durable). */
  lightTransactions: number;
  /** fsyncs of the WAL run (each covers every batch committed before it started). */
  walSyncs: number;
  /** Times a batch found the write lock held by another connection and waited in the event loop. */
  lockWaits: number;
}

export interface WriteOptions {
  /** Whether the write must be on disk when its promise resolves (default true). */
  durable?: boolean;
}

export interface GroupCommitOptions {
  /**
   * Makes every commit so far durable, off the main thread, then calls back (with an error if the
   * disk failed). Default: fsync of the database's `-wal` file on libuv's thread pool. Tests pass
   * their own to observe or hold the fsync.
   */
  syncWal?: (done: (err: Error | null) => void) => void;
}

interface QueuedWrite {
  fn: () => unknown;
  durable: boolean;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

/** A committed operation waiting to be told. */
interface Committed {
  op: QueuedWrite;
  value: unknown;
}

export class GroupCommit {
  readonly stats: GroupCommitStats = { transactions: 0, operations: 0, failedOperations: 0, largestBatch: 0, lightTransactions: 0, walSyncs: 0, lockWaits: 0 };
  private queue: QueuedWrite[] = [];
  private scheduled = false;
  private closed = false;
  private readonly begin;
  private readonly commit;
  private readonly rollback;
  private readonly savepoint;
  private readonly release;
  private readonly rollbackTo;
  /** Undefined for an in-memory database: nothing to make durable. */
  private readonly syncWal: ((done: (err: Error | null) => void) => void) | undefined;
  private walFd: number | undefined;
  /** Committed, waiting for an fsync that has not started yet. */
  private awaitingSync: Committed[] | undefined;
  /** Covered by the fsync running now. */
  private inSync: Committed[] | undefined;
  private syncIdle: (() => void)[] = [];
  /** A batch came due while an fsync ran: it runs when that fsync completes. */
  private batchAfterSync = false;
  private readonly busyTimeoutMs: number;
  /** When the batch waiting for another connection's write lock first found it taken (performance.now()). */
  private lockWaitSince: number | undefined;

  constructor(
    private readonly db: SqliteDatabase,
    /** Operations per transaction at most. */
    readonly maxBatch = 512,
    options: GroupCommitOptions = {},
  ) {
    // IMMEDIATE takes the write lock up front, so a busy database waits at BEGIN (busy_timeout)
    // instead of failing an operation half-way.
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commit = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
    this.savepoint = db.prepare('SAVEPOINT op');
    this.release = db.prepare('RELEASE op');
    this.rollbackTo = db.prepare('ROLLBACK TO op');
    this.busyTimeoutMs = db.pragma('busy_timeout', { simple: true }) as number;
    if (!db.memory) {
      // COMMIT no longer fsyncs: this class does, before it tells anyone (see the header).
      db.pragma('synchronous = NORMAL');
      this.syncWal = options.syncWal ?? ((done) => this.fsyncWalFile(done));
    }
  }

  /** Queue a write. It must be synchronous: it runs inside the batch's transaction. */
  write<T>(fn: () => T, options: WriteOptions = {}): Promise<T> {
    if (this.closed) return Promise.reject(new Error('database is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, durable: options.durable !== false, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Run a read now (committed state); errors come back as a rejected promise. */
  read<T>(fn: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('database is closed'));
    try {
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Resolves once every write queued before this call has committed and is durable (or failed). */
  flush(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.write(() => undefined);
  }

  /**
   * Resolves once every write committed before this call has been told (its promise settled): at
   * once when nothing waits for an fsync, else after a flush (which settles after all of them).
   */
  settled(): Promise<void> {
    if (this.closed || (!this.inSync && !this.awaitingSync && this.queue.length === 0 && !this.batchAfterSync)) return Promise.resolve();
    return this.flush();
  }

  /** Flush, then refuse further writes. The caller closes the database. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    if (this.awaitingSync || this.inSync) await new Promise<void>((resolve) => this.syncIdle.push(resolve));
    if (this.walFd !== undefined) {
      closeSync(this.walFd);
      this.walFd = undefined;
    }
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.runBatch());
  }

  private runBatch(): void {
    this.scheduled = false;
    // While an fsync runs, writes keep queueing and commit together once it completes: one
    // transaction and one fsync for all of them, as when the fsync held the event loop, but
    // with the event loop free meanwhile.
    if (this.inSync) {
      this.batchAfterSync = true;
      return;
    }
    if (this.queue.length === 0) return;
    let began: unknown;
    try {
      began = this.beginWithoutBlocking();
    } catch (e) {
      began = e;
    }
    if (began === 'busy') {
      this.waitForLock();
      return;
    }
    this.lockWaitSince = undefined;
    const batch = this.queue.splice(0, this.maxBatch);
    if (this.queue.length > 0) this.schedule();
    if (began !== 'began') {
      for (const op of batch) op.reject(began);
      this.stats.failedOperations += batch.length;
      return;
    }
    const done = this.commitBatch(batch);
    if (done) this.afterCommit(done, batch.some((op) => op.durable));
  }

  /**
   * `BEGIN IMMEDIATE` without SQLite's busy handler: 'busy' when another connection holds the write
   * lock. Once the batch has waited the busy timeout in the event loop, a last attempt waits in SQLite
   * as before and throws SQLITE_BUSY if the lock is still taken.
   */
  private beginWithoutBlocking(): 'began' | 'busy' {
    if (this.lockWaitSince !== undefined && performance.now() - this.lockWaitSince >= this.busyTimeoutMs) {
      this.begin.run();
      return 'began';
    }
    // db.pragma, not a prepared statement: SQLite applies busy_timeout when it compiles the PRAGMA, so
    // running a prepared one again changes nothing.
    this.db.pragma('busy_timeout = 0');
    try {
      this.begin.run();
      return 'began';
    } catch (e) {
      if ((e as { code?: unknown }).code === 'SQLITE_BUSY') return 'busy';
      throw e;
    } finally {
      this.db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
    }
  }

  /** Try again soon, leaving the event loop free meanwhile (see the header). */
  private waitForLock(): void {
    if (this.lockWaitSince === undefined) {
      this.lockWaitSince = performance.now();
      this.stats.lockWaits++;
    }
    this.scheduled = true;
    // On a timer (1 ms, Node's finest), not at once: retrying on every turn of the loop spins a core the
    // lock's holder may need; measured, it served fewer PUTs per second than the timer.
    setTimeout(() => this.runBatch(), 1);
  }

  /** Runs the batch in the transaction just begun; returns the operations that committed (undefined if none could). */
  private commitBatch(batch: QueuedWrite[]): Committed[] | undefined {
    let done: Committed[] = [];
    for (let i = 0; i < batch.length; i++) {
      const op = batch[i]!;
      try {
        this.savepoint.run();
      } catch (e) {
        op.reject(e);
        this.stats.failedOperations++;
        continue;
      }
      try {
        const value = op.fn();
        if (isThenable(value)) throw new Error('group-commit operations must be synchronous (got a Promise)');
        this.release.run();
        done.push({ op, value });
      } catch (e) {
        op.reject(e);
        this.stats.failedOperations++;
        if (this.db.inTransaction) {
          this.rollbackTo.run();
          this.release.run();
        } else {
          // Some errors (disk full, I/O error) make SQLite roll back the whole transaction: the
          // operations that already ran are gone too. Fail them and carry on in a fresh transaction.
          const lost = new Error('transaction rolled back by a failing operation in the same batch', { cause: e });
          for (const d of done) d.op.reject(lost);
          this.stats.failedOperations += done.length;
          done = [];
          try {
            this.begin.run();
          } catch (e2) {
            for (const rest of batch.slice(i + 1)) rest.reject(e2);
            this.stats.failedOperations += batch.length - i - 1;
            return undefined;
          }
        }
      }
    }

    try {
      this.commit.run();
    } catch (e) {
      if (this.db.inTransaction) this.rollback.run();
      for (const d of done) d.op.reject(e);
      this.stats.failedOperations += done.length;
      return undefined;
    }
    this.stats.transactions++;
    this.stats.operations += done.length;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
    return done;
  }

  /** Tell the batch's callers, once what they wrote (and everything committed before it) is durable. */
  private afterCommit(done: Committed[], durable: boolean): void {
    if (!durable) this.stats.lightTransactions++;
    if (!this.syncWal) {
      settle(done, null);
    } else if (durable) {
      (this.awaitingSync ??= []).push(...done);
      this.startSync();
    } else if (this.awaitingSync) {
      // Durable batches committed earlier wait for the next fsync: so does this one.
      this.awaitingSync.push(...done);
    } else if (this.inSync) {
      this.inSync.push(...done);
    } else {
      settle(done, null);
    }
  }

  private startSync(): void {
    if (this.inSync || !this.awaitingSync || !this.syncWal) return;
    const group = (this.inSync = this.awaitingSync);
    this.awaitingSync = undefined;
    this.stats.walSyncs++;
    this.syncWal((err) => {
      this.inSync = undefined;
      if (err) this.stats.failedOperations += group.length;
      settle(group, err);
      if (this.batchAfterSync) {
        this.batchAfterSync = false;
        this.runBatch();
      }
      this.startSync();
      if (!this.inSync && !this.awaitingSync) for (const resolve of this.syncIdle.splice(0)) resolve();
    });
  }

  private fsyncWalFile(done: (err: Error | null) => void): void {
    try {
      // The WAL file keeps its inode while any connection is open (SQLite deletes it only when the
      // last connection closes, and truncates rather than replaces it), so one descriptor serves.
      this.walFd ??= openSync(`${this.db.name}-wal`, 'r');
    } catch (e) {
      done(e as Error);
      return;
    }
    fsync(this.walFd, done);
  }
}

function settle(done: Committed[], err: Error | null): void {
  if (err) {
    for (const d of done) d.op.reject(err);
  } else {
    for (const d of done) d.op.resolve(d.value);
  }
}

function isThenable(v: unknown): boolean {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}
