/**
 * Object versions of a region in PostgreSQL. Same rules as the SQLite store (region-objects.ts
 * there): a 'null' version replaces the old null version and becomes latest; another existing id
 * (a replication retry) is rewritten in place and keeps its seq and its place in history.
 *
 * Across gateways, every write of a key runs in one short transaction that first takes the key's
 * advisory transaction lock (pg_advisory_xact_lock on a hash of region/bucket/key): the condition
 * check (If-None-Match / If-Match), the is_latest flip, the seq (nextval, taken after the lock, so
 * a later write of a key always sorts later) and the outbox rows all happen under it and commit
 * together. A hash collision between two keys only makes them wait for each other.
 */
import type {
  ListLatestOptions,
  ListVersionsOptions,
  NewOutboxTask,
  ObjectVersion,
  ReplicationFailureCount,
  ReplicationStatus,
  StoredObjectVersion,
  VersionSummary,
  WriteCondition,
} from '../types.js';
import { WriteConditionFailed } from '../errors.js';
import type { Clock } from '../../common/clock.js';
import { decodeEncryption, decodeParts, encodeEncryption, encodeParts, fromJson, optionalJson, setIf, toJson } from '../sqlite/codec.js';
import { keyRange, prefixUpperBound, type KeyRange } from '../sqlite/key-range.js';
import { aggregateReplicationStatus } from '../sqlite/region-objects.js';
import { ADVISORY_LOCK_SQL, keyLockName, type PgDatabase, type Tx } from './database.js';
import type { PgRegionOutbox } from './region-outbox.js';

type Detail = NonNullable<ObjectVersion['replicationDetail']>;
type ReplicationUpdate = { status: ReplicationStatus; destination?: string; failureReason?: string; ruleId?: string };

interface VersionRow {
  seq: number;
  bucket: string;
  key: string;
  version_id: string;
  is_latest: boolean;
  is_delete_marker: boolean;
  last_modified: number;
  size: number;
  etag: string;
  owner_account_id: string;
  storage_class: string;
  content_type: string | null;
  system_metadata: string;
  user_metadata: string;
  tags: string | null;
  checksum: string | null;
  encryption: string | null;
  replication_status: ReplicationStatus | null;
  replication_detail: string | null;
  parts: string;
  inline_data: Buffer | null;
}

const COLUMNS = `seq, bucket, key, version_id, is_latest, is_delete_marker, last_modified, size, etag, owner_account_id,
  storage_class, content_type, system_metadata, user_metadata, tags, checksum, encryption, replication_status,
  replication_detail, parts, inline_data`;

/** Listing pages read only what the response shows: no metadata, parts, encryption or inline bytes. */
const SUMMARY_COLUMNS = 'key, version_id, is_latest, is_delete_marker, last_modified, size, etag, owner_account_id, storage_class, checksum';
type SummaryRow = Pick<VersionRow, 'key' | 'version_id' | 'is_latest' | 'is_delete_marker' | 'last_modified' | 'size' | 'etag' | 'owner_account_id' | 'storage_class' | 'checksum'>;

function toSummary(bucket: string, r: SummaryRow): VersionSummary {
  const s: VersionSummary = {
    bucket,
    key: r.key,
    versionId: r.version_id,
    isDeleteMarker: r.is_delete_marker,
    lastModified: r.last_modified,
    size: r.size,
    etag: r.etag,
    ownerAccountId: r.owner_account_id,
    storageClass: r.storage_class,
    isLatest: r.is_latest,
  };
  if (r.checksum !== null) s.checksum = fromJson(r.checksum);
  return s;
}

function summaryOf(v: StoredObjectVersion): VersionSummary {
  const s: VersionSummary = {
    bucket: v.bucket,
    key: v.key,
    versionId: v.versionId,
    isDeleteMarker: v.isDeleteMarker,
    lastModified: v.lastModified,
    size: v.size,
    etag: v.etag,
    ownerAccountId: v.ownerAccountId,
    storageClass: v.storageClass,
    isLatest: v.isLatest,
  };
  if (v.checksum) s.checksum = v.checksum;
  return s;
}

function toVersion(r: VersionRow): StoredObjectVersion {
  const v: StoredObjectVersion = {
    bucket: r.bucket,
    key: r.key,
    versionId: r.version_id,
    isDeleteMarker: r.is_delete_marker,
    lastModified: r.last_modified,
    size: r.size,
    etag: r.etag,
    ownerAccountId: r.owner_account_id,
    storageClass: r.storage_class,
    systemMetadata: fromJson(r.system_metadata),
    userMetadata: fromJson(r.user_metadata),
    parts: decodeParts(r.parts, r.inline_data),
    seq: r.seq,
    isLatest: r.is_latest,
  };
  setIf(v, 'contentType', r.content_type);
  if (r.tags !== null) v.tags = fromJson(r.tags);
  if (r.checksum !== null) v.checksum = fromJson(r.checksum);
  setIf(v, 'encryption', decodeEncryption(r.encryption));
  setIf(v, 'replicationStatus', r.replication_status);
  if (r.replication_detail !== null) v.replicationDetail = fromJson(r.replication_detail);
  return v;
}

/** SQL conditions on `col` for a key range, numbering parameters from `next`. */
export function rangeCondition(col: string, range: KeyRange, next: number): { sql: string; params: string[] } {
  const parts: string[] = [];
  const params: string[] = [];
  if (range.lower) {
    parts.push(`${col} ${range.lower.inclusive ? '>=' : '>'} $${next + params.length}`);
    params.push(range.lower.key);
  }
  if (range.upper !== undefined) {
    parts.push(`${col} < $${next + params.length}`);
    params.push(range.upper);
  }
  return { sql: parts.map((p) => ` AND ${p}`).join(''), params };
}

/**
 * listLatest with a delimiter, as one statement: a recursive query visits one key per step, and
 * after a key that has the delimiter past the prefix it seeks straight past that common prefix
 * (the prefix with its last character incremented: `successor` is the delimiter's last character
 * plus one) on the index instead of reading the keys under it. Lengths are in characters
 * (PostgreSQL's text functions count code points, as Array.from does). Exported for the test that
 * checks how many rows the plan reads.
 */
export function skipScanQuery(
  region: string,
  bucket: string,
  o: ListLatestOptions,
  delimiter: string,
  successor: string,
  columns: string = COLUMNS,
): { sql: string; params: unknown[] } {
  const limit = Math.max(1, Math.floor(o.limit));
  const range = keyRange(o.prefix, o.startAfter);
  const first = rangeCondition('key', range, 7);
  const upper = range.upper === undefined ? '' : ` AND o.key < $${7 + first.params.length}`;
  const params: unknown[] = [region, bucket, Array.from(o.prefix ?? '').length, delimiter, Array.from(delimiter).length, successor, ...first.params];
  if (range.upper !== undefined) params.push(range.upper);
  const sql = `WITH RECURSIVE walk (key, n) AS (
      (SELECT key, 1 FROM object_versions WHERE region = $1 AND bucket = $2 AND is_latest AND NOT is_delete_marker${first.sql}
       ORDER BY key LIMIT 1)
      UNION ALL
      (SELECT nxt.key, w.n + 1 FROM walk w CROSS JOIN LATERAL (
         SELECT o.key FROM object_versions o
         WHERE o.region = $1 AND o.bucket = $2 AND o.is_latest AND NOT o.is_delete_marker${upper}
           AND o.key > w.key
           AND o.key >= (CASE WHEN strpos(substr(w.key, $3::int + 1), $4) > 0
                          THEN left(w.key, $3::int + strpos(substr(w.key, $3::int + 1), $4) + $5::int - 2) || $6
                          ELSE w.key END) COLLATE "C"
         ORDER BY o.key LIMIT 1) nxt
       WHERE w.n < ${limit})
    )
    SELECT v.* FROM walk w CROSS JOIN LATERAL (
      -- LIMIT 1 keeps this a lookup per visited key (a plain join may hash the whole bucket).
      SELECT ${columns} FROM object_versions WHERE region = $1 AND bucket = $2 AND key = w.key AND is_latest LIMIT 1) v
    ORDER BY w.key COLLATE "C"`;
  return { sql, params };
}

export class PgRegionObjects {
  constructor(
    private readonly db: PgDatabase,
    private readonly region: string,
    private readonly outbox: PgRegionOutbox,
    private readonly clock: Clock,
  ) {}

  /** Take the key's lock for the rest of the transaction. */
  lockKey(tx: Tx, bucket: string, key: string): Promise<unknown> {
    return tx.query(ADVISORY_LOCK_SQL, [keyLockName(this.region, bucket, key)]);
  }

  // -------------------------------------------------------------------------------------------
  // Reads

  async getIn(q: Tx, bucket: string, key: string, versionId?: string): Promise<StoredObjectVersion | undefined> {
    const { rows } =
      versionId === undefined
        ? await q.query<VersionRow>(`SELECT ${COLUMNS} FROM object_versions WHERE region = $1 AND bucket = $2 AND key = $3 AND is_latest`, [this.region, bucket, key])
        : await q.query<VersionRow>(`SELECT ${COLUMNS} FROM object_versions WHERE region = $1 AND bucket = $2 AND key = $3 AND version_id = $4`, [
            this.region,
            bucket,
            key,
            versionId,
          ]);
    return rows[0] ? toVersion(rows[0]) : undefined;
  }

  get(bucket: string, key: string, versionId?: string): Promise<StoredObjectVersion | undefined> {
    return this.getIn(this.db.direct, bucket, key, versionId);
  }

  /**
   * Latest objects by key. The inline bytes come with each row (a StoredObjectVersion's inline
   * part carries its data; there is no lazy synchronous load over a network connection).
   */
  async listLatest(bucket: string, o: ListLatestOptions): Promise<StoredObjectVersion[]> {
    if (o.delimiter) {
      const successor = prefixUpperBound(Array.from(o.delimiter).pop()!);
      // A delimiter ending in U+10FFFF has no successor character to seek to: rare enough to walk.
      if (successor !== undefined) return this.skipScan(bucket, o, o.delimiter, successor);
      return this.walkRolledUp(bucket, o, o.delimiter);
    }
    const r = rangeCondition('key', keyRange(o.prefix, o.startAfter), 3);
    const rows = await this.db.query<VersionRow>(
      `SELECT ${COLUMNS} FROM object_versions
       WHERE region = $1 AND bucket = $2 AND is_latest AND NOT is_delete_marker${r.sql}
       ORDER BY key LIMIT ${Math.max(0, Math.floor(o.limit))}`,
      [this.region, bucket, ...r.params],
    );
    return rows.map(toVersion);
  }

  /**
   * listLatest with a delimiter, in one statement: a recursive query visits one key per step, and
   * after a key that has the delimiter past the prefix it seeks straight past that common prefix
   * (prefix-with-last-character-incremented) on the index instead of reading the keys under it.
   * Lengths are in characters (PostgreSQL's text functions count code points, as Array.from does).
   */
  private async skipScan(bucket: string, o: ListLatestOptions, delimiter: string, successor: string): Promise<StoredObjectVersion[]> {
    if (Math.floor(o.limit) <= 0) return [];
    const q = skipScanQuery(this.region, bucket, o, delimiter, successor);
    return (await this.db.query<VersionRow>(q.sql, q.params)).map(toVersion);
  }

  /** The same as skipScan, one indexed query per step (a delimiter whose last character has no successor). */
  private async walkRolledUp(bucket: string, o: ListLatestOptions, delimiter: string): Promise<StoredObjectVersion[]> {
    const prefix = o.prefix ?? '';
    const limit = Math.max(0, Math.floor(o.limit));
    const out: StoredObjectVersion[] = [];
    let after = o.startAfter;
    while (out.length < limit) {
      const [v] = await this.listLatest(bucket, { ...(o.prefix ? { prefix: o.prefix } : {}), ...(after !== undefined ? { startAfter: after } : {}), limit: 1 });
      if (!v) break;
      out.push(v);
      const at = v.key.indexOf(delimiter, prefix.length);
      if (at < 0) {
        after = v.key;
        continue;
      }
      const past = prefixUpperBound(v.key.slice(0, at + delimiter.length));
      if (past === undefined) break;
      // The greatest string below `past` that any key can precede: every key of the common prefix is <= it.
      const rest = await this.db.query<{ key: string }>(
        `SELECT key FROM object_versions WHERE region = $1 AND bucket = $2 AND is_latest AND NOT is_delete_marker AND key < $3 ORDER BY key DESC LIMIT 1`,
        [this.region, bucket, past],
      );
      after = rest[0]!.key;
    }
    return out;
  }

  /** listLatest's pages, summaries only (what a listing response shows). */
  async listLatestSummaries(bucket: string, o: ListLatestOptions): Promise<VersionSummary[]> {
    if (o.delimiter) {
      const successor = prefixUpperBound(Array.from(o.delimiter).pop()!);
      if (successor === undefined) return (await this.walkRolledUp(bucket, o, o.delimiter)).map(summaryOf);
      if (Math.floor(o.limit) <= 0) return [];
      const q = skipScanQuery(this.region, bucket, o, o.delimiter, successor, SUMMARY_COLUMNS);
      return (await this.db.query<SummaryRow>(q.sql, q.params)).map((r) => toSummary(bucket, r));
    }
    const r = rangeCondition('key', keyRange(o.prefix, o.startAfter), 3);
    const rows = await this.db.query<SummaryRow>(
      `SELECT ${SUMMARY_COLUMNS} FROM object_versions
       WHERE region = $1 AND bucket = $2 AND is_latest AND NOT is_delete_marker${r.sql}
       ORDER BY key LIMIT ${Math.max(0, Math.floor(o.limit))}`,
      [this.region, bucket, ...r.params],
    );
    return rows.map((row) => toSummary(bucket, row));
  }

  /** listVersions' pages, summaries only. */
  async listVersionSummaries(bucket: string, o: ListVersionsOptions): Promise<VersionSummary[]> {
    return (await this.versionRows<SummaryRow>(bucket, o, SUMMARY_COLUMNS)).map((r) => toSummary(bucket, r));
  }

  async listVersions(bucket: string, o: ListVersionsOptions): Promise<StoredObjectVersion[]> {
    return (await this.versionRows<VersionRow>(bucket, o, COLUMNS)).map(toVersion);
  }

  private async versionRows<R extends SummaryRow>(bucket: string, o: ListVersionsOptions, columns: string): Promise<R[]> {
    const limit = Math.max(0, Math.floor(o.limit));
    const keyMarker = o.keyMarker || undefined; // '' is the same as no marker
    if (o.versionIdMarker && keyMarker === undefined) throw new Error('a version-id marker cannot be given without a key marker');
    const out: R[] = [];
    if (keyMarker !== undefined && o.versionIdMarker && (!o.prefix || keyMarker.startsWith(o.prefix))) {
      const [marker] = await this.db.query<{ seq: number }>('SELECT seq FROM object_versions WHERE region = $1 AND bucket = $2 AND key = $3 AND version_id = $4', [
        this.region,
        bucket,
        keyMarker,
        o.versionIdMarker,
      ]);
      // A marker version deleted between pages: restart at the key's newest version (repeating
      // entries is better than silently skipping some).
      out.push(
        ...(await this.db.query<R>(
          `SELECT ${columns} FROM object_versions WHERE region = $1 AND bucket = $2 AND key = $3 AND seq < $4 ORDER BY seq DESC LIMIT ${limit}`,
          [this.region, bucket, keyMarker, marker?.seq ?? Number.MAX_SAFE_INTEGER],
        )),
      );
    }
    if (out.length < limit) {
      const r = rangeCondition('key', keyRange(o.prefix, keyMarker), 3);
      out.push(
        ...(await this.db.query<R>(
          `SELECT ${columns} FROM object_versions WHERE region = $1 AND bucket = $2${r.sql} ORDER BY key, seq DESC LIMIT ${limit - out.length}`,
          [this.region, bucket, ...r.params],
        )),
      );
    }
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Writes (the *In forms run inside the caller's transaction, after lockKey)

  /** Throw WriteConditionFailed unless `condition` holds for the key's current object. */
  async checkConditionIn(tx: Tx, bucket: string, key: string, condition: WriteCondition | undefined): Promise<void> {
    if (!condition) return;
    const { rows } = await tx.query<{ etag: string; is_delete_marker: boolean }>(
      'SELECT etag, is_delete_marker FROM object_versions WHERE region = $1 AND bucket = $2 AND key = $3 AND is_latest',
      [this.region, bucket, key],
    );
    const top = rows[0];
    const current = top && !top.is_delete_marker ? { etag: top.etag } : undefined;
    const holds = condition.kind === 'if-none-match' ? current === undefined : current !== undefined && current.etag === condition.etag;
    if (!holds) throw new WriteConditionFailed(condition, current);
  }

  async putIn(tx: Tx, v: ObjectVersion, tasks: readonly NewOutboxTask[] | undefined, condition?: WriteCondition): Promise<{ displaced?: StoredObjectVersion }> {
    await this.checkConditionIn(tx, v.bucket, v.key, condition);
    const existing = await this.getIn(tx, v.bucket, v.key, v.versionId);
    const parts = encodeParts(v.parts);
    const fields = [
      v.isDeleteMarker,
      v.lastModified,
      v.size,
      v.etag,
      v.ownerAccountId,
      v.storageClass,
      v.contentType ?? null,
      toJson(v.systemMetadata),
      toJson(v.userMetadata),
      optionalJson(v.tags),
      optionalJson(v.checksum),
      encodeEncryption(v.encryption),
      v.replicationStatus ?? null,
      optionalJson(v.replicationDetail),
      parts.json,
      parts.inline,
    ];
    let seq: number;
    if (existing && v.versionId !== 'null') {
      await tx.query(
        `UPDATE object_versions SET is_delete_marker = $2, last_modified = $3, size = $4, etag = $5, owner_account_id = $6,
           storage_class = $7, content_type = $8, system_metadata = $9, user_metadata = $10, tags = $11, checksum = $12,
           encryption = $13, replication_status = $14, replication_detail = $15, parts = $16, inline_data = $17
         WHERE seq = $1`,
        [existing.seq, ...fields],
      );
      await tx.query('DELETE FROM version_blobs WHERE seq = $1', [existing.seq]);
      seq = existing.seq;
    } else {
      if (existing) await tx.query('DELETE FROM object_versions WHERE seq = $1', [existing.seq]);
      await tx.query('UPDATE object_versions SET is_latest = false WHERE region = $1 AND bucket = $2 AND key = $3 AND is_latest', [this.region, v.bucket, v.key]);
      const { rows } = await tx.query<{ seq: number }>(
        `INSERT INTO object_versions (seq, region, bucket, key, version_id, is_latest, is_delete_marker, last_modified, size, etag,
           owner_account_id, storage_class, content_type, system_metadata, user_metadata, tags, checksum, encryption,
           replication_status, replication_detail, parts, inline_data)
         VALUES (nextval('object_versions_seq'), $1, $2, $3, $4, true, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
         RETURNING seq`,
        [this.region, v.bucket, v.key, v.versionId, ...fields],
      );
      seq = rows[0]!.seq;
    }
    if (parts.fileIds.length > 0) {
      await tx.query(
        `INSERT INTO version_blobs (seq, region, file_id) SELECT $1, $2, f FROM unnest($3::text[]) AS f ON CONFLICT DO NOTHING`,
        [seq, this.region, parts.fileIds],
      );
    }
    await this.outbox.insertIn(tx, tasks, this.clock.now());
    return existing ? { displaced: existing } : {};
  }

  put(v: ObjectVersion, tasks?: NewOutboxTask[], condition?: WriteCondition): Promise<{ displaced?: StoredObjectVersion }> {
    return this.db.transaction(async (tx) => {
      await this.lockKey(tx, v.bucket, v.key);
      return this.putIn(tx, v, tasks, condition);
    });
  }

  delete(bucket: string, key: string, versionId: string): Promise<StoredObjectVersion | undefined> {
    return this.db.transaction(async (tx) => {
      await this.lockKey(tx, bucket, key);
      const existing = await this.getIn(tx, bucket, key, versionId);
      if (!existing) return undefined;
      await tx.query('DELETE FROM object_versions WHERE seq = $1', [existing.seq]);
      if (existing.isLatest) {
        await tx.query(
          `UPDATE object_versions SET is_latest = true WHERE seq = (
             SELECT seq FROM object_versions WHERE region = $1 AND bucket = $2 AND key = $3 ORDER BY seq DESC LIMIT 1)`,
          [this.region, bucket, key],
        );
      }
      return existing;
    });
  }

  /**
   * With a destination: merge that destination's state into the detail and recompute the aggregate
   * (a REPLICA keeps REPLICA). Without: set the status as given. A missing version is ignored.
   */
  updateReplication(bucket: string, key: string, versionId: string, update: ReplicationUpdate): Promise<void> {
    return this.db.transaction(async (tx) => {
      await this.updateReplicationIn(tx, bucket, key, versionId, update);
    });
  }

  /** The body of updateReplication inside a transaction; the row lock orders concurrent updates of one version. False if it is gone. */
  async updateReplicationIn(tx: Tx, bucket: string, key: string, versionId: string, update: ReplicationUpdate): Promise<boolean> {
    const { rows } = await tx.query<{ seq: number; replication_status: ReplicationStatus | null; replication_detail: string | null }>(
      `SELECT seq, replication_status, replication_detail FROM object_versions
       WHERE region = $1 AND bucket = $2 AND key = $3 AND version_id = $4 FOR UPDATE`,
      [this.region, bucket, key, versionId],
    );
    const row = rows[0];
    if (!row) return false;
    let status: ReplicationStatus = update.status;
    let detail: Detail | undefined = row.replication_detail === null ? undefined : fromJson<Detail>(row.replication_detail);
    if (update.destination !== undefined) {
      detail ??= {};
      const entry: Detail[string] = { status: update.status };
      setIf(entry, 'failureReason', update.failureReason);
      setIf(entry, 'ruleId', update.ruleId ?? detail[update.destination]?.ruleId);
      detail[update.destination] = entry;
      status = row.replication_status === 'REPLICA' ? 'REPLICA' : aggregateReplicationStatus(detail);
    }
    await tx.query('UPDATE object_versions SET replication_status = $2, replication_detail = $3 WHERE seq = $1', [row.seq, status, optionalJson(detail)]);
    return true;
  }

  /** Mark a version PENDING for each task's destination and insert the tasks (inside a transaction). */
  private async queueIn(tx: Tx, bucket: string, key: string, versionId: string, tasks: readonly NewOutboxTask[]): Promise<boolean> {
    for (const t of tasks) {
      if (!(await this.updateReplicationIn(tx, bucket, key, versionId, { status: 'PENDING', destination: t.destinationBucket, ruleId: t.ruleId }))) return false;
    }
    await this.outbox.insertIn(tx, tasks, this.clock.now());
    return true;
  }

  queueReplication(bucket: string, key: string, versionId: string, tasks: NewOutboxTask[]): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      await this.lockKey(tx, bucket, key);
      return this.queueIn(tx, bucket, key, versionId, tasks);
    });
  }

  /** FAILED versions of a bucket, counted by destination, rule and reason. */
  async failures(bucket: string): Promise<ReplicationFailureCount[]> {
    const rows = await this.db.query<{ replication_detail: string | null }>(
      "SELECT replication_detail FROM object_versions WHERE region = $1 AND bucket = $2 AND replication_status = 'FAILED'",
      [this.region, bucket],
    );
    const counts = new Map<string, ReplicationFailureCount>();
    for (const r of rows) {
      if (r.replication_detail === null) continue;
      for (const [destinationBucket, d] of Object.entries(fromJson<Detail>(r.replication_detail))) {
        if (d.status !== 'FAILED') continue;
        const reason = d.failureReason ?? 'Unknown';
        const k = `${destinationBucket}\n${d.ruleId ?? ''}\n${reason}`;
        const c = counts.get(k) ?? { bucket, destinationBucket, reason, count: 0 };
        if (d.ruleId !== undefined) c.ruleId = d.ruleId;
        c.count++;
        counts.set(k, c);
      }
    }
    return [...counts.values()];
  }

  /** Replace a version's tags (undefined removes them), queueing tag replication with it. A missing version is ignored. */
  putTags(bucket: string, key: string, versionId: string, tags: Record<string, string> | undefined, outbox?: readonly NewOutboxTask[]): Promise<void> {
    return this.db.transaction(async (tx) => {
      await this.lockKey(tx, bucket, key);
      await tx.query('UPDATE object_versions SET tags = $5 WHERE region = $1 AND bucket = $2 AND key = $3 AND version_id = $4', [
        this.region,
        bucket,
        key,
        versionId,
        optionalJson(tags),
      ]);
      if (outbox && outbox.length > 0) await this.queueIn(tx, bucket, key, versionId, outbox);
    });
  }

  async getAcl<T>(bucket: string, key: string, versionId: string): Promise<T | undefined> {
    const [row] = await this.db.query<{ acl: string }>(
      `SELECT a.acl FROM object_acls a JOIN object_versions v ON v.seq = a.seq
       WHERE v.region = $1 AND v.bucket = $2 AND v.key = $3 AND v.version_id = $4`,
      [this.region, bucket, key, versionId],
    );
    return row ? fromJson<T>(row.acl) : undefined;
  }

  putAcl(bucket: string, key: string, versionId: string, acl: unknown): Promise<void> {
    return this.db.transaction(async (tx) => {
      await this.lockKey(tx, bucket, key);
      const { rows } = await tx.query<{ seq: number }>('SELECT seq FROM object_versions WHERE region = $1 AND bucket = $2 AND key = $3 AND version_id = $4', [
        this.region,
        bucket,
        key,
        versionId,
      ]);
      if (!rows[0]) return;
      if (acl === undefined) await tx.query('DELETE FROM object_acls WHERE seq = $1', [rows[0].seq]);
      else await tx.query('INSERT INTO object_acls (seq, acl) VALUES ($1, $2) ON CONFLICT (seq) DO UPDATE SET acl = excluded.acl', [rows[0].seq, toJson(acl)]);
    });
  }

  async isBlobReferenced(fileId: string): Promise<boolean> {
    const [row] = await this.db.query<{ used: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM version_blobs WHERE region = $1 AND file_id = $2)
           OR EXISTS (SELECT 1 FROM upload_parts WHERE region = $1 AND blob_file_id = $2) AS used`,
      [this.region, fileId],
    );
    return row?.used === true;
  }
}
