/**
 * The replication outbox of a region. Tasks are inserted by the object writes themselves (same
 * transaction); workers claim them with a lease so that a crashed worker's tasks come back.
 */
import type { NewOutboxTask, OutboxTask, ReplicationBacklog } from '../types.js';
import type { SqliteConnection } from './connection.js';
import { setIf } from './codec.js';

interface OutboxRow {
  id: number;
  bucket: string;
  key: string;
  version_id: string;
  operation: OutboxTask['operation'];
  destination_bucket: string;
  rule_id: string;
  attempts: number;
  not_before: number;
  created_at: number;
  last_error: string | null;
  parked: number;
}

const COLUMNS = 'id, bucket, key, version_id, operation, destination_bucket, rule_id, attempts, not_before, created_at, last_error, parked';

function toTask(r: OutboxRow): OutboxTask {
  const t: OutboxTask = {
    id: r.id,
    bucket: r.bucket,
    key: r.key,
    versionId: r.version_id,
    operation: r.operation,
    destinationBucket: r.destination_bucket,
    ruleId: r.rule_id,
    attempts: r.attempts,
    notBefore: r.not_before,
    createdAt: r.created_at,
  };
  setIf(t, 'lastError', r.last_error);
  if (r.parked) t.parked = true;
  return t;
}

/** A lease needs no fsync of its own (see claim). */
const LEASE = { durable: false } as const;

export class RegionOutbox {
  constructor(private readonly conn: SqliteConnection) {}

  /** Insert tasks; call inside a write (the caller's transaction). A new task is due at once unless notBefore says otherwise. */
  insertSync(tasks: readonly NewOutboxTask[] | undefined, now: number): void {
    if (!tasks) return;
    const insert = this.conn.stmt(
      `INSERT INTO outbox (bucket, key, version_id, operation, destination_bucket, rule_id, not_before, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const t of tasks) {
      insert.run(t.bucket, t.key, t.versionId, t.operation, t.destinationBucket, t.ruleId, t.notBefore ?? now, now);
    }
  }

  /**
   * Claims are leases, which a crash voids anyway (the next background process releases them, or they
   * run out): committed without an fsync of their own (group-commit.ts), so claiming does not cost the
   * worker's event loop a disk flush per claim.
   */
  claim(now: number, limit: number, leaseMs: number): Promise<OutboxTask[]> {
    return this.conn.write(() => {
      // Due and not held by a live lease; oldest due first. Claimed-but-unexpired rows are skipped by
      // the filter (there are at most as many as the workers hold). Per-key order: a task waits while
      // an older task of its key and destination is still in the outbox (parked, backing off, or
      // leased — by a crashed process too), as a probe's claim does (outbox_by_key answers it).
      const rows = this.conn
        .stmt(
          `SELECT ${COLUMNS} FROM outbox o WHERE parked = 0 AND not_before <= ? AND claimed_until <= ?
             AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.bucket = o.bucket AND p.key = o.key AND p.destination_bucket = o.destination_bucket AND p.id < o.id)
           ORDER BY not_before, id LIMIT ?`,
        )
        .all(now, now, Math.max(0, limit)) as OutboxRow[];
      const lease = this.conn.stmt('UPDATE outbox SET claimed_until = ? WHERE id = ?');
      for (const r of rows) lease.run(now + leaseMs, r.id);
      return rows.map(toTask);
    }, LEASE);
  }

  complete(id: number): Promise<void> {
    return this.conn.write(() => this.completeSync(id));
  }

  completeSync(id: number): void {
    this.conn.stmt('DELETE FROM outbox WHERE id = ?').run(id);
  }

  retry(id: number, notBefore: number, lastError: string): Promise<void> {
    return this.conn.write(() => {
      this.conn
        .stmt('UPDATE outbox SET attempts = attempts + 1, not_before = ?, last_error = ?, claimed_until = 0, parked = 0 WHERE id = ?')
        .run(notBefore, lastError, id);
    });
  }

  park(id: number, lastError: string): Promise<void> {
    return this.conn.write(() => {
      this.conn.stmt('UPDATE outbox SET attempts = attempts + 1, parked = 1, last_error = ?, claimed_until = 0 WHERE id = ?').run(lastError, id);
    });
  }

  claimParked(destinationBucket: string, afterId: number, now: number, leaseMs: number): Promise<OutboxTask | undefined> {
    return this.conn.write(() => {
      const pick = this.conn.stmt(
        `SELECT ${COLUMNS} FROM outbox o WHERE parked = 1 AND destination_bucket = ? AND id > ? AND claimed_until <= ?
           AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.bucket = o.bucket AND p.key = o.key AND p.destination_bucket = o.destination_bucket AND p.id < o.id)
         ORDER BY destination_bucket, id LIMIT 1`,
      );
      const row = (pick.get(destinationBucket, afterId, now) ?? pick.get(destinationBucket, -1, now)) as OutboxRow | undefined;
      if (!row) return undefined;
      this.conn.stmt('UPDATE outbox SET claimed_until = ? WHERE id = ?').run(now + leaseMs, row.id);
      return toTask(row);
    }, LEASE);
  }

  releaseParked(destinationBucket: string, now: number): Promise<number> {
    return this.conn.write(
      () => this.conn.stmt('UPDATE outbox SET parked = 0, not_before = ? WHERE parked = 1 AND destination_bucket = ?').run(now, destinationBucket).changes,
    );
  }

  parkedDestinations(): Promise<{ destinationBucket: string; tasks: number }[]> {
    return this.conn.read(
      () =>
        this.conn
          .stmt('SELECT destination_bucket AS destinationBucket, COUNT(*) AS tasks FROM outbox WHERE parked = 1 GROUP BY destination_bucket ORDER BY destination_bucket')
          .all() as { destinationBucket: string; tasks: number }[],
    );
  }

  releaseAll(): Promise<number> {
    return this.conn.write(() => this.conn.stmt('UPDATE outbox SET claimed_until = 0 WHERE claimed_until > 0').run().changes);
  }

  count(bucket?: string): Promise<number> {
    return this.conn.read(() => {
      const row =
        bucket === undefined
          ? (this.conn.stmt('SELECT COUNT(*) AS n FROM outbox').get() as { n: number })
          : (this.conn.stmt('SELECT COUNT(*) AS n FROM outbox WHERE bucket = ?').get(bucket) as { n: number });
      return row.n;
    });
  }

  list(o: { bucket?: string; createdBefore?: number; retrying?: boolean; limit: number }): Promise<OutboxTask[]> {
    return this.conn.read(() => {
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (o.bucket !== undefined) {
        where.push('bucket = ?');
        params.push(o.bucket);
      }
      if (o.createdBefore !== undefined) {
        where.push('created_at < ?');
        params.push(o.createdBefore);
      }
      if (o.retrying) where.push('attempts > 0');
      const sql = `SELECT ${COLUMNS} FROM outbox${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id LIMIT ?`;
      return (this.conn.stmt(sql).all(...params, Math.max(0, o.limit)) as OutboxRow[]).map(toTask);
    });
  }

  backlog(bucket?: string): Promise<ReplicationBacklog[]> {
    return this.conn.read(() => {
      const sql = `SELECT o.bucket AS bucket, o.destination_bucket AS destinationBucket, o.rule_id AS ruleId, COUNT(*) AS operations,
                     COALESCE(SUM(CASE WHEN o.operation = 'put' THEN v.size ELSE 0 END), 0) AS bytes, MIN(o.created_at) AS oldestCreatedAt
                   FROM outbox o LEFT JOIN object_versions v ON v.bucket = o.bucket AND v.key = o.key AND v.version_id = o.version_id
                   ${bucket === undefined ? '' : 'WHERE o.bucket = ?'}
                   GROUP BY o.bucket, o.destination_bucket, o.rule_id ORDER BY o.bucket, o.destination_bucket, o.rule_id`;
      return this.conn.stmt(sql).all(...(bucket === undefined ? [] : [bucket])) as ReplicationBacklog[];
    });
  }
}
