/**
 * Group commit: concurrent writes share one transaction and so one fsync.
 *
 * A write is a synchronous function queued here. On the next turn of the event loop (setImmediate)
 * the queue runs inside ONE transaction, each operation inside its own SAVEPOINT: an operation that
 * throws rolls back only its own changes and rejects only its own promise. The successful promises
 * resolve after COMMIT has returned (with synchronous = FULL the WAL is fsynced by then), never
 * before. Batches are bounded so one batch cannot hold the event loop for long.
 *
 * A write queued with `durable: false` (a lease on outbox tasks, which a crash voids anyway) needs no
 * fsync of its own: a batch made only of such writes commits with synchronous = NORMAL — atomic and
 * consistent, made durable by the next FULL commit — so it does not hold the event loop (and the
 * write lock) for an fsync. A batch with any durable write commits FULL, as always.
 *
 * Reads run at once, outside any transaction, and see only committed state: there is never an open
 * transaction between two turns of the event loop, because a batch runs start to finish in one turn.
 */
import type { SqliteDatabase } from './open-database.js';

export interface GroupCommitStats {
  /** Transactions committed (one per batch). */
  transactions: number;
  /** Operations that committed. */
  operations: number;
  /** Operations rolled back (their promise rejected). */
  failedOperations: number;
  /** Largest number of operations seen in one batch. */
  largestBatch: number;
  /** Transactions committed without an fsync (every write in them non-durable). */
  lightTransactions: number;
}

export interface WriteOptions {
  /** Whether the write must be on disk when its promise resolves (default true). */
  durable?: boolean;
}

interface QueuedWrite {
  fn: () => unknown;
  durable: boolean;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

export class GroupCommit {
  readonly stats: GroupCommitStats = { transactions: 0, operations: 0, failedOperations: 0, largestBatch: 0, lightTransactions: 0 };
  private queue: QueuedWrite[] = [];
  private scheduled = false;
  private closed = false;
  private readonly begin;
  private readonly commit;
  private readonly rollback;
  private readonly savepoint;
  private readonly release;
  private readonly rollbackTo;

  constructor(
    private readonly db: SqliteDatabase,
    /** Operations per transaction at most. */
    readonly maxBatch = 512,
  ) {
    // IMMEDIATE takes the write lock up front, so a busy database waits at BEGIN (busy_timeout)
    // instead of failing an operation half-way.
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commit = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
    this.savepoint = db.prepare('SAVEPOINT op');
    this.release = db.prepare('RELEASE op');
    this.rollbackTo = db.prepare('ROLLBACK TO op');

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

  /** Resolves once every write queued before this call has committed (or failed). */
  flush(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.write(() => undefined);
  }

  /** Flush, then refuse further writes. The caller closes the database. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.runBatch());
  }

  private runBatch(): void {
    this.scheduled = false;
    const batch = this.queue.splice(0, this.maxBatch);
    if (this.queue.length > 0) this.schedule();
    if (batch.length === 0) return;
    const durable = batch.some((op) => op.durable);
    // Not prepared statements: SQLite applies this pragma when it compiles it, not when it runs.
    if (!durable) this.db.pragma('synchronous = NORMAL');
    try {
      this.commitBatch(batch);
    } finally {
      if (!durable) this.db.pragma('synchronous = FULL');
    }
  }

  private commitBatch(batch: QueuedWrite[]): void {
    try {
      this.begin.run();
    } catch (e) {
      for (const op of batch) op.reject(e);
      this.stats.failedOperations += batch.length;
      return;
    }

    let done: { op: QueuedWrite; value: unknown }[] = [];
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
            return;
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
      return;
    }
    this.stats.transactions++;
    if (!batch.some((op) => op.durable)) this.stats.lightTransactions++;
    this.stats.operations += done.length;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
    // Only now, with the commit durable, do callers learn of success.
    for (const d of done) d.op.resolve(d.value);
  }
}

function isThenable(v: unknown): boolean {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}
