/**
 * The replication outbox of a region in PostgreSQL, shared by the workers of every gateway.
 *
 * A claim is one statement: pick due tasks FOR UPDATE SKIP LOCKED (a task another gateway is
 * claiming right now is skipped, not waited for) and set their lease (claimed_until) in the same
 * UPDATE. A crashed gateway's tasks come back when their lease runs out. Per-key order: a task is
 * not claimed while an older task of its key and destination is still in the outbox (parked,
 * backing off, or leased by anyone); a key's tasks get increasing ids because they are inserted
 * under the key's advisory lock, so "older" by id is "committed earlier" for one key. Across keys
 * ids commit out of order, which is why nothing here reads "ids above the last one seen".
 */
import type { NewOutboxTask, OutboxTask, ReplicationBacklog } from '../types.js';
import { setIf } from '../sqlite/codec.js';
import type { PgDatabase, Tx } from './database.js';
import { NOTIFY_OUTBOX_SQL } from './outbox-notifications.js';

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
  parked: boolean;
}

const COLUMNS = 'id, bucket, key, version_id, operation, destination_bucket, rule_id, attempts, not_before, created_at, last_error, parked';
const RETURNING = COLUMNS.split(', ')
  .map((c) => `o.${c}`)
  .join(', ');

/** No older task of the same key and destination is still in the outbox. */
const FIRST_OF_KEY = `NOT EXISTS (SELECT 1 FROM outbox p WHERE p.region = o.region AND p.bucket = o.bucket AND p.key = o.key
  AND p.destination_bucket = o.destination_bucket AND p.id < o.id)`;

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

export class PgRegionOutbox {
  constructor(
    private readonly db: PgDatabase,
    private readonly region: string,
  ) {}

  /** Insert tasks inside the caller's transaction. A new task is due at once unless notBefore says otherwise. */
  async insertIn(tx: Tx, tasks: readonly NewOutboxTask[] | undefined, now: number): Promise<void> {
    if (!tasks || tasks.length === 0) return;
    for (const t of tasks) {
      await tx.query(
        `INSERT INTO outbox (region, bucket, key, version_id, operation, destination_bucket, rule_id, not_before, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [this.region, t.bucket, t.key, t.versionId, t.operation, t.destinationBucket, t.ruleId, t.notBefore ?? now, now],
      );
    }
    // Every gateway's workers hear of the new tasks at commit (and not at all if this rolls back).
    await tx.query(NOTIFY_OUTBOX_SQL, [this.region]);
  }

  /** Due, unleased, first of their key: oldest due first, skipping rows another claim holds. */
  async claim(now: number, limit: number, leaseMs: number): Promise<OutboxTask[]> {
    const rows = await this.db.query<OutboxRow>(
      `UPDATE outbox o SET claimed_until = $3
       FROM (SELECT id FROM outbox o
             WHERE region = $1 AND NOT parked AND not_before <= $2 AND claimed_until <= $2 AND ${FIRST_OF_KEY}
             ORDER BY not_before, id LIMIT ${Math.max(0, Math.floor(limit))}
             FOR UPDATE SKIP LOCKED) c
       WHERE o.id = c.id
       RETURNING ${RETURNING}`,
      [this.region, now, now + leaseMs],
    );
    return rows.sort((a, b) => a.not_before - b.not_before || a.id - b.id).map(toTask);
  }

  completeIn(tx: Tx, id: number): Promise<unknown> {
    return tx.query('DELETE FROM outbox WHERE region = $1 AND id = $2', [this.region, id]);
  }

  async complete(id: number): Promise<void> {
    await this.completeIn(this.db.direct, id);
  }

  async retry(id: number, notBefore: number, lastError: string): Promise<void> {
    await this.db.execute(
      'UPDATE outbox SET attempts = attempts + 1, not_before = $3, last_error = $4, claimed_until = 0, parked = false WHERE region = $1 AND id = $2',
      [this.region, id, notBefore, lastError],
    );
  }

  async park(id: number, lastError: string): Promise<void> {
    await this.db.execute('UPDATE outbox SET attempts = attempts + 1, parked = true, last_error = $3, claimed_until = 0 WHERE region = $1 AND id = $2', [
      this.region,
      id,
      lastError,
    ]);
  }

  /** One parked task of the destination after `afterId` (wrapping around), unleased and first of its key. */
  async claimParked(destinationBucket: string, afterId: number, now: number, leaseMs: number): Promise<OutboxTask | undefined> {
    const pick = (after: number) =>
      this.db.query<OutboxRow>(
        `UPDATE outbox o SET claimed_until = $5
         FROM (SELECT id FROM outbox o
               WHERE region = $1 AND parked AND destination_bucket = $2 AND id > $3 AND claimed_until <= $4 AND ${FIRST_OF_KEY}
               ORDER BY id LIMIT 1
               FOR UPDATE SKIP LOCKED) c
         WHERE o.id = c.id
         RETURNING ${RETURNING}`,
        [this.region, destinationBucket, after, now, now + leaseMs],
      );
    let rows = await pick(afterId);
    if (rows.length === 0) rows = await pick(-1);
    return rows[0] ? toTask(rows[0]) : undefined;
  }

  async releaseParked(destinationBucket: string, now: number): Promise<number> {
    return this.db.execute('UPDATE outbox SET parked = false, not_before = $3 WHERE region = $1 AND parked AND destination_bucket = $2', [
      this.region,
      destinationBucket,
      now,
    ]);
  }

  async parkedDestinations(): Promise<{ destinationBucket: string; tasks: number }[]> {
    return this.db.query<{ destinationBucket: string; tasks: number }>(
      `SELECT destination_bucket AS "destinationBucket", count(*) AS tasks FROM outbox WHERE region = $1 AND parked
       GROUP BY destination_bucket ORDER BY destination_bucket`,
      [this.region],
    );
  }

  /**
   * Release every lease of the region. Only for a store one process owns: with several gateways, a
   * starting gateway must not take over tasks the others hold (their leases expire by themselves).
   */
  async releaseAll(): Promise<number> {
    return this.db.execute('UPDATE outbox SET claimed_until = 0 WHERE region = $1 AND claimed_until > 0', [this.region]);
  }

  async count(bucket?: string): Promise<number> {
    const [row] =
      bucket === undefined
        ? await this.db.query<{ n: number }>('SELECT count(*) AS n FROM outbox WHERE region = $1', [this.region])
        : await this.db.query<{ n: number }>('SELECT count(*) AS n FROM outbox WHERE region = $1 AND bucket = $2', [this.region, bucket]);
    return row?.n ?? 0;
  }

  async list(o: { bucket?: string; createdBefore?: number; retrying?: boolean; limit: number }): Promise<OutboxTask[]> {
    const where = ['region = $1'];
    const params: (string | number)[] = [this.region];
    if (o.bucket !== undefined) {
      params.push(o.bucket);
      where.push(`bucket = $${params.length}`);
    }
    if (o.createdBefore !== undefined) {
      params.push(o.createdBefore);
      where.push(`created_at < $${params.length}`);
    }
    if (o.retrying) where.push('attempts > 0');
    const rows = await this.db.query<OutboxRow>(
      `SELECT ${COLUMNS} FROM outbox WHERE ${where.join(' AND ')} ORDER BY created_at, id LIMIT ${Math.max(0, Math.floor(o.limit))}`,
      params,
    );
    return rows.map(toTask);
  }

  async backlog(bucket?: string): Promise<ReplicationBacklog[]> {
    return this.db.query<ReplicationBacklog>(
      `SELECT o.bucket AS bucket, o.destination_bucket AS "destinationBucket", o.rule_id AS "ruleId", count(*) AS operations,
         coalesce(sum(CASE WHEN o.operation = 'put' THEN v.size ELSE 0 END), 0) AS bytes, min(o.created_at) AS "oldestCreatedAt"
       FROM outbox o LEFT JOIN object_versions v ON v.region = o.region AND v.bucket = o.bucket AND v.key = o.key AND v.version_id = o.version_id
       WHERE o.region = $1${bucket === undefined ? '' : ' AND o.bucket = $2'}
       GROUP BY o.bucket, o.destination_bucket, o.rule_id ORDER BY o.bucket, o.destination_bucket, o.rule_id`,
      bucket === undefined ? [this.region] : [this.region, bucket],
    );
  }
}
