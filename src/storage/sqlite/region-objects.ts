/**
 * Object versions of a region: history ordered by seq, the current-object index for listings,
 * the blob-reference index, and replication state.
 *
 * Rewriting an existing version id:
 * - 'null': the old null version is deleted and the new one inserted with a fresh seq, so it
 *   becomes the latest (S3: a PUT in a suspended bucket replaces the null version and is current).
 * - any other id (a replication retry delivering the same replica again): the row is rewritten in
 *   place and KEEPS its seq, so its place in history does not move; it is latest only if it already
 *   was. A retry of an old version never hides a newer one.
 * In both cases the old record comes back as `displaced` (its blobs are the caller's to delete).
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
import type { SqliteConnection } from './connection.js';
import { decodeEncryption, decodeParts, encodeEncryption, encodeParts, fromJson, lazy, optionalJson, setIf, toJson } from './codec.js';
import { keyRange, prefixUpperBound, rangeSql } from './key-range.js';
import type { RegionOutbox } from './region-outbox.js';

type Detail = NonNullable<ObjectVersion['replicationDetail']>;

interface VersionRow {
  seq: number;
  bucket: string;
  key: string;
  version_id: string;
  is_delete_marker: number;
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
  is_latest: number;
  inline_data?: Buffer | null;
}

const COLUMNS = `v.seq, v.bucket, v.key, v.version_id, v.is_delete_marker, v.last_modified, v.size, v.etag,
  v.owner_account_id, v.storage_class, v.content_type, v.system_metadata, v.user_metadata, v.tags, v.checksum,
  v.encryption, v.replication_status, v.replication_detail, v.parts`;
const IS_LATEST = `(v.seq = (SELECT h.seq FROM object_versions h WHERE h.bucket = v.bucket AND h.key = v.key
  ORDER BY h.seq DESC LIMIT 1)) AS is_latest`;

// Every GET and HEAD runs one of these: built once, not per call (the statement cache is keyed by the
// text). HEAD leaves out the inline bytes, which for a small object are most of the row (and spill into
// overflow pages).
const LATEST = 'WHERE v.bucket = ? AND v.key = ? ORDER BY v.seq DESC LIMIT 1';
const VERSION = 'WHERE v.bucket = ? AND v.key = ? AND v.version_id = ?';
const GET_LATEST = `SELECT ${COLUMNS}, 1 AS is_latest, v.inline_data FROM object_versions v ${LATEST}`;
const GET_VERSION = `SELECT ${COLUMNS}, ${IS_LATEST}, v.inline_data FROM object_versions v ${VERSION}`;
const GET_LATEST_METADATA = `SELECT ${COLUMNS}, 1 AS is_latest FROM object_versions v ${LATEST}`;
const GET_VERSION_METADATA = `SELECT ${COLUMNS}, ${IS_LATEST} FROM object_versions v ${VERSION}`;

/**
 * A row of those statements read as an array (better-sqlite3's raw mode: the native side does not
 * build an object of 21 named properties), in COLUMNS order, then is_latest and, if read, inline_data.
 */
function versionRowOf(r: unknown[]): VersionRow {
  const row: VersionRow = {
    seq: r[0] as number,
    bucket: r[1] as string,
    key: r[2] as string,
    version_id: r[3] as string,
    is_delete_marker: r[4] as number,
    last_modified: r[5] as number,
    size: r[6] as number,
    etag: r[7] as string,
    owner_account_id: r[8] as string,
    storage_class: r[9] as string,
    content_type: r[10] as string | null,
    system_metadata: r[11] as string,
    user_metadata: r[12] as string,
    tags: r[13] as string | null,
    checksum: r[14] as string | null,
    encryption: r[15] as string | null,
    replication_status: r[16] as ReplicationStatus | null,
    replication_detail: r[17] as string | null,
    parts: r[18] as string,
    is_latest: r[19] as number,
  };
  if (r.length > 20) row.inline_data = r[20] as Buffer | null;
  return row;
}

/**
 * Listing pages read only what the response shows (no metadata, parts or encryption JSON), as arrays
 * (better-sqlite3's raw mode: no per-row object keyed by column name). Column order is SummaryRow's.
 */
const SUMMARY_COLUMNS = 'v.key, v.version_id, v.is_delete_marker, v.last_modified, v.size, v.etag, v.owner_account_id, v.storage_class, v.checksum';
type SummaryRow = [key: string, versionId: string, isDeleteMarker: number, lastModified: number, size: number, etag: string, owner: string, storageClass: string, checksum: string | null];

function toSummary(bucket: string, r: SummaryRow, isLatest: boolean): VersionSummary {
  const s: VersionSummary = {
    bucket,
    key: r[0],
    versionId: r[1],
    isDeleteMarker: r[2] === 1,
    lastModified: r[3],
    size: r[4],
    etag: r[5],
    ownerAccountId: r[6],
    storageClass: r[7],
    isLatest,
  };
  if (r[8] !== null) s.checksum = fromJson(r[8]);
  return s;
}

/** Aggregate per-destination states into one status: any FAILED, else any PENDING, else COMPLETED. */
export function aggregateReplicationStatus(detail: Detail): ReplicationStatus {
  const states = Object.values(detail).map((d) => d.status);
  if (states.includes('FAILED')) return 'FAILED';
  if (states.includes('PENDING')) return 'PENDING';
  return 'COMPLETED';
}

export class RegionObjects {
  constructor(
    private readonly conn: SqliteConnection,
    private readonly outbox: RegionOutbox,
    private readonly clock: Clock,
  ) {}

  // -------------------------------------------------------------------------------------------
  // Reads

  private toVersion(r: VersionRow): StoredObjectVersion {
    const inline =
      r.inline_data !== undefined
        ? r.inline_data
        : lazy(() => {
            const row = this.conn.stmt('SELECT inline_data FROM object_versions WHERE seq = ?').get(r.seq) as
              | { inline_data: Buffer | null }
              | undefined;
            return row?.inline_data ?? null;
          });
    const v: StoredObjectVersion = {
      bucket: r.bucket,
      key: r.key,
      versionId: r.version_id,
      isDeleteMarker: r.is_delete_marker === 1,
      lastModified: r.last_modified,
      size: r.size,
      etag: r.etag,
      ownerAccountId: r.owner_account_id,
      storageClass: r.storage_class,
      systemMetadata: fromJson(r.system_metadata),
      userMetadata: fromJson(r.user_metadata),
      parts: decodeParts(r.parts, inline),
      seq: r.seq,
      isLatest: r.is_latest === 1,
    };
    setIf(v, 'contentType', r.content_type);
    if (r.tags !== null) v.tags = fromJson(r.tags);
    if (r.checksum !== null) v.checksum = fromJson(r.checksum);
    setIf(v, 'encryption', decodeEncryption(r.encryption));
    setIf(v, 'replicationStatus', r.replication_status);
    if (r.replication_detail !== null) v.replicationDetail = fromJson(r.replication_detail);
    return v;
  }

  /** Without `withData`, inline bytes are read only if a part's data is touched (see toVersion). */
  getSync(bucket: string, key: string, versionId?: string, withData = true): StoredObjectVersion | undefined {
    const row =
      versionId === undefined
        ? this.conn.stmt(withData ? GET_LATEST : GET_LATEST_METADATA).raw(true).get(bucket, key)
        : this.conn.stmt(withData ? GET_VERSION : GET_VERSION_METADATA).raw(true).get(bucket, key, versionId);
    return row ? this.toVersion(versionRowOf(row as unknown[])) : undefined;
  }

  get(bucket: string, key: string, versionId?: string, withData = true): Promise<StoredObjectVersion | undefined> {
    return this.conn.read(() => this.getSync(bucket, key, versionId, withData));
  }

  listLatest(bucket: string, o: ListLatestOptions): Promise<StoredObjectVersion[]> {
    return this.conn.read(() => {
      if (o.delimiter) return this.listRolledUpSync(bucket, o, o.delimiter);
      const r = rangeSql('c.key', keyRange(o.prefix, o.startAfter));
      const rows = this.conn
        .stmt(`SELECT ${COLUMNS}, 1 AS is_latest FROM current_objects c JOIN object_versions v ON v.seq = c.seq
               WHERE c.bucket = ?${r.sql} ORDER BY c.key LIMIT ?`)
        .all(bucket, ...r.params, Math.max(0, o.limit)) as VersionRow[];
      return rows.map((row) => this.toVersion(row));
    });
  }

  /** listLatest with a delimiter: after the first key of a common prefix, seek past the prefix (one indexed query each). */
  private listRolledUpSync(bucket: string, o: ListLatestOptions, delimiter: string): StoredObjectVersion[] {
    return this.rollUpSync(o, delimiter, (r, want) =>
      (this.conn
        .stmt(`SELECT ${COLUMNS}, 1 AS is_latest FROM current_objects c JOIN object_versions v ON v.seq = c.seq
               WHERE c.bucket = ?${r.sql} ORDER BY c.key LIMIT ?`)
        .all(bucket, ...r.params, want) as VersionRow[]).map((row) => this.toVersion(row)),
    );
  }

  /**
   * The walk behind a delimiter listing, whatever the rows are: read small batches in key order; at
   * the first key of a common prefix, keep that one row and seek past the prefix.
   */
  private rollUpSync<T extends { key: string }>(
    o: ListLatestOptions,
    delimiter: string,
    page: (range: { sql: string; params: string[] }, want: number) => T[],
  ): T[] {
    const prefix = o.prefix ?? '';
    const limit = Math.max(0, o.limit);
    const out: T[] = [];
    const upper = keyRange(o.prefix, undefined).upper;
    let lower: { key: string; inclusive: boolean } | undefined = keyRange(o.prefix, o.startAfter).lower;
    while (out.length < limit) {
      const r = rangeSql('c.key', { ...(lower ? { lower } : {}), ...(upper !== undefined ? { upper } : {}) });
      // Small steps: a common prefix may start at any row, and the rows after it are not needed.
      const want = Math.min(limit - out.length, 100);
      const rows = page(r, want);
      if (rows.length === 0) break;
      let seek: string | undefined;
      for (const row of rows) {
        out.push(row);
        const at = row.key.indexOf(delimiter, prefix.length);
        if (at >= 0) {
          seek = row.key.slice(0, at + delimiter.length);
          break;
        }
        lower = { key: row.key, inclusive: false };
      }
      if (seek !== undefined) {
        const past = prefixUpperBound(seek);
        if (past === undefined) break;
        lower = { key: past, inclusive: true };
      } else if (rows.length < want) {
        break;
      }
    }
    return out;
  }

  listVersions(bucket: string, o: ListVersionsOptions): Promise<StoredObjectVersion[]> {
    return this.conn.read(() => {
      const limit = Math.max(0, o.limit);
      const keyMarker = o.keyMarker || undefined; // '' is the same as no marker
      if (o.versionIdMarker && keyMarker === undefined) {
        throw new Error('a version-id marker cannot be given without a key marker');
      }
      const out: VersionRow[] = [];
      const after = keyMarker;
      if (keyMarker !== undefined && o.versionIdMarker) {
        const marker = this.conn
          .stmt('SELECT seq FROM object_versions WHERE bucket = ? AND key = ? AND version_id = ?')
          .get(bucket, keyMarker, o.versionIdMarker) as { seq: number } | undefined;
        // A marker version that no longer exists (deleted between pages): restart at the key's
        // newest version; repeating entries is better than silently skipping some.
        const below = marker?.seq ?? Number.MAX_SAFE_INTEGER;
        if (!o.prefix || keyMarker.startsWith(o.prefix)) {
          out.push(
            ...(this.conn
              .stmt(`SELECT ${COLUMNS}, ${IS_LATEST} FROM object_versions v
                     WHERE v.bucket = ? AND v.key = ? AND v.seq < ? ORDER BY v.seq DESC LIMIT ?`)
              .all(bucket, keyMarker, below, limit) as VersionRow[]),
          );
        }
      }
      if (out.length < limit) {
        const r = rangeSql('v.key', keyRange(o.prefix, after));
        out.push(
          ...(this.conn
            .stmt(`SELECT ${COLUMNS}, ${IS_LATEST} FROM object_versions v
                   WHERE v.bucket = ?${r.sql} ORDER BY v.key, v.seq DESC LIMIT ?`)
            .all(bucket, ...r.params, limit - out.length) as VersionRow[]),
        );
      }
      return out.map((row) => this.toVersion(row));
    });
  }

  listLatestSummaries(bucket: string, o: ListLatestOptions): Promise<VersionSummary[]> {
    return this.conn.read(() => {
      if (o.delimiter) {
        return this.rollUpSync(o, o.delimiter, (r, want) => {
          const rows = this.conn
            .stmt(`SELECT ${SUMMARY_COLUMNS} FROM current_objects c JOIN object_versions v ON v.seq = c.seq
                   WHERE c.bucket = ?${r.sql} ORDER BY c.key LIMIT ?`)
            .raw(true)
            .all(bucket, ...r.params, want) as SummaryRow[];
          return rows.map((row) => toSummary(bucket, row, true));
        });
      }
      const r = rangeSql('c.key', keyRange(o.prefix, o.startAfter));
      const rows = this.conn
        .stmt(`SELECT ${SUMMARY_COLUMNS} FROM current_objects c JOIN object_versions v ON v.seq = c.seq
               WHERE c.bucket = ?${r.sql} ORDER BY c.key LIMIT ?`)
        .raw(true)
        .all(bucket, ...r.params, Math.max(0, o.limit)) as SummaryRow[];
      const out = new Array<VersionSummary>(rows.length);
      for (let i = 0; i < rows.length; i++) out[i] = toSummary(bucket, rows[i]!, true);
      return out;
    });
  }

  /**
   * listVersions' pages as summaries. Which version is latest comes from the order, not from a
   * per-row subquery: the key-range query always starts at a key boundary and returns each key's
   * versions newest first, so a key's first row is its latest; rows after a version-id marker are
   * older than the marker, so none of them is (unless the marker version is gone, see listVersions).
   */
  listVersionSummaries(bucket: string, o: ListVersionsOptions): Promise<VersionSummary[]> {
    return this.conn.read(() => {
      const limit = Math.max(0, o.limit);
      const keyMarker = o.keyMarker || undefined;
      if (o.versionIdMarker && keyMarker === undefined) {
        throw new Error('a version-id marker cannot be given without a key marker');
      }
      const out: VersionSummary[] = [];
      if (keyMarker !== undefined && o.versionIdMarker) {
        const marker = this.conn
          .stmt('SELECT seq FROM object_versions WHERE bucket = ? AND key = ? AND version_id = ?')
          .get(bucket, keyMarker, o.versionIdMarker) as { seq: number } | undefined;
        if (!o.prefix || keyMarker.startsWith(o.prefix)) {
          const rows = this.conn
            .stmt(`SELECT ${SUMMARY_COLUMNS} FROM object_versions v
                   WHERE v.bucket = ? AND v.key = ? AND v.seq < ? ORDER BY v.seq DESC LIMIT ?`)
            .raw(true)
            .all(bucket, keyMarker, marker?.seq ?? Number.MAX_SAFE_INTEGER, limit) as SummaryRow[];
          for (let i = 0; i < rows.length; i++) out.push(toSummary(bucket, rows[i]!, marker === undefined && i === 0));
        }
      }
      if (out.length < limit) {
        const r = rangeSql('v.key', keyRange(o.prefix, keyMarker));
        const rows = this.conn
          .stmt(`SELECT ${SUMMARY_COLUMNS} FROM object_versions v
                 WHERE v.bucket = ?${r.sql} ORDER BY v.key, v.seq DESC LIMIT ?`)
          .raw(true)
          .all(bucket, ...r.params, limit - out.length) as SummaryRow[];
        let previous: string | undefined;
        for (const row of rows) {
          out.push(toSummary(bucket, row, row[0] !== previous));
          previous = row[0];
        }
      }
      return out;
    });
  }

  // -------------------------------------------------------------------------------------------
  // Writes (the *Sync forms run inside a group-commit operation)

  /** Point current_objects at the key's latest version, or drop it if that is a delete marker / none. */
  private refreshCurrent(bucket: string, key: string): void {
    const top = this.conn
      .stmt('SELECT seq, is_delete_marker FROM object_versions WHERE bucket = ? AND key = ? ORDER BY seq DESC LIMIT 1')
      .get(bucket, key) as { seq: number; is_delete_marker: number } | undefined;
    if (top && top.is_delete_marker === 0) {
      this.conn
        .stmt(`INSERT INTO current_objects (bucket, key, seq) VALUES (?, ?, ?)
               ON CONFLICT (bucket, key) DO UPDATE SET seq = excluded.seq`)
        .run(bucket, key, top.seq);
    } else {
      this.conn.stmt('DELETE FROM current_objects WHERE bucket = ? AND key = ?').run(bucket, key);
    }
  }

  /** Throw WriteConditionFailed unless `condition` holds for the key's current object (inside a write). */
  checkConditionSync(bucket: string, key: string, condition: WriteCondition | undefined): void {
    if (!condition) return;
    const top = this.conn
      .stmt('SELECT etag, is_delete_marker FROM object_versions WHERE bucket = ? AND key = ? ORDER BY seq DESC LIMIT 1')
      .get(bucket, key) as { etag: string; is_delete_marker: number } | undefined;
    const current = top && top.is_delete_marker === 0 ? { etag: top.etag } : undefined;
    const holds = condition.kind === 'if-none-match' ? current === undefined : current !== undefined && current.etag === condition.etag;
    if (!holds) throw new WriteConditionFailed(condition, current);
  }

  putSync(v: ObjectVersion, tasks: readonly NewOutboxTask[] | undefined, condition?: WriteCondition): { displaced?: StoredObjectVersion } {
    this.checkConditionSync(v.bucket, v.key, condition);
    const existing = this.getSync(v.bucket, v.key, v.versionId);
    const parts = encodeParts(v.parts);
    const row = {
      bucket: v.bucket,
      key: v.key,
      version_id: v.versionId,
      is_delete_marker: v.isDeleteMarker ? 1 : 0,
      last_modified: v.lastModified,
      size: v.size,
      etag: v.etag,
      owner_account_id: v.ownerAccountId,
      storage_class: v.storageClass,
      content_type: v.contentType ?? null,
      system_metadata: toJson(v.systemMetadata),
      user_metadata: toJson(v.userMetadata),
      tags: optionalJson(v.tags),
      checksum: optionalJson(v.checksum),
      encryption: encodeEncryption(v.encryption),
      replication_status: v.replicationStatus ?? null,
      replication_detail: optionalJson(v.replicationDetail),
      parts: parts.json,
      inline_data: parts.inline,
    };
    let seq: number;
    if (existing && v.versionId !== 'null') {
      this.conn
        .stmt(`UPDATE object_versions SET is_delete_marker = @is_delete_marker, last_modified = @last_modified,
                 size = @size, etag = @etag, owner_account_id = @owner_account_id, storage_class = @storage_class,
                 content_type = @content_type, system_metadata = @system_metadata, user_metadata = @user_metadata,
                 tags = @tags, checksum = @checksum, encryption = @encryption, replication_status = @replication_status,
                 replication_detail = @replication_detail, parts = @parts, inline_data = @inline_data
               WHERE seq = @seq`)
        .run({ ...row, seq: existing.seq });
      this.conn.stmt('DELETE FROM version_blobs WHERE seq = ?').run(existing.seq);
      seq = existing.seq;
    } else {
      if (existing) this.conn.stmt('DELETE FROM object_versions WHERE seq = ?').run(existing.seq);
      const info = this.conn
        .stmt(`INSERT INTO object_versions (bucket, key, version_id, is_delete_marker, last_modified, size, etag,
                 owner_account_id, storage_class, content_type, system_metadata, user_metadata, tags, checksum,
                 encryption, replication_status, replication_detail, parts, inline_data)
               VALUES (@bucket, @key, @version_id, @is_delete_marker, @last_modified, @size, @etag,
                 @owner_account_id, @storage_class, @content_type, @system_metadata, @user_metadata, @tags, @checksum,
                 @encryption, @replication_status, @replication_detail, @parts, @inline_data)`)
        .run(row);
      seq = Number(info.lastInsertRowid);
    }
    const ref = this.conn.stmt('INSERT OR IGNORE INTO version_blobs (seq, file_id) VALUES (?, ?)');
    for (const id of parts.fileIds) ref.run(seq, id);
    this.refreshCurrent(v.bucket, v.key);
    this.outbox.insertSync(tasks, this.clock.now());
    return existing ? { displaced: existing } : {};
  }

  put(v: ObjectVersion, tasks?: NewOutboxTask[], condition?: WriteCondition): Promise<{ displaced?: StoredObjectVersion }> {
    return this.conn.write(() => this.putSync(v, tasks, condition));
  }

  delete(bucket: string, key: string, versionId: string): Promise<StoredObjectVersion | undefined> {
    return this.conn.write(() => {
      const existing = this.getSync(bucket, key, versionId);
      if (!existing) return undefined;
      this.conn.stmt('DELETE FROM object_versions WHERE seq = ?').run(existing.seq);
      this.refreshCurrent(bucket, key);
      return existing;
    });
  }

  /**
   * With a destination: merge that destination's state into the detail and recompute the aggregate
   * (a REPLICA keeps REPLICA). Without: set the status as given. A missing version is ignored (it
   * may have been deleted while its replication ran).
   */
  updateReplication(
    bucket: string,
    key: string,
    versionId: string,
    update: { status: ReplicationStatus; destination?: string; failureReason?: string; ruleId?: string },
  ): Promise<void> {
    return this.conn.write(() => {
      this.updateReplicationSync(bucket, key, versionId, update);
    });
  }

  /** The body of updateReplication, for use inside another write. False if the version is gone. */
  updateReplicationSync(
    bucket: string,
    key: string,
    versionId: string,
    update: { status: ReplicationStatus; destination?: string; failureReason?: string; ruleId?: string },
  ): boolean {
    const row = this.conn
      .stmt('SELECT seq, replication_status, replication_detail FROM object_versions WHERE bucket = ? AND key = ? AND version_id = ?')
      .get(bucket, key, versionId) as
      | { seq: number; replication_status: ReplicationStatus | null; replication_detail: string | null }
      | undefined;
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
    this.conn
      .stmt('UPDATE object_versions SET replication_status = ?, replication_detail = ? WHERE seq = ?')
      .run(status, optionalJson(detail), row.seq);
    return true;
  }

  /** Mark a version PENDING for each task's destination and insert the tasks (inside a write). */
  private queueSync(bucket: string, key: string, versionId: string, tasks: readonly NewOutboxTask[]): boolean {
    for (const t of tasks) {
      if (!this.updateReplicationSync(bucket, key, versionId, { status: 'PENDING', destination: t.destinationBucket, ruleId: t.ruleId })) return false;
    }
    this.outbox.insertSync(tasks, this.clock.now());
    return true;
  }

  queueReplication(bucket: string, key: string, versionId: string, tasks: NewOutboxTask[]): Promise<boolean> {
    return this.conn.write(() => this.queueSync(bucket, key, versionId, tasks));
  }

  /** FAILED versions of a bucket, counted by destination, rule and reason. */
  failures(bucket: string): Promise<ReplicationFailureCount[]> {
    return this.conn.read(() => {
      const rows = this.conn
        .stmt("SELECT replication_detail FROM object_versions WHERE bucket = ? AND replication_status = 'FAILED'")
        .all(bucket) as { replication_detail: string | null }[];
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
    });
  }

  /** Replace a version's tags (undefined removes them), queueing tag replication with it. A missing version is ignored. */
  putTags(bucket: string, key: string, versionId: string, tags: Record<string, string> | undefined, outbox?: readonly NewOutboxTask[]): Promise<void> {
    return this.conn.write(() => {
      this.conn
        .stmt('UPDATE object_versions SET tags = ? WHERE bucket = ? AND key = ? AND version_id = ?')
        .run(optionalJson(tags), bucket, key, versionId);
      if (outbox && outbox.length > 0) this.queueSync(bucket, key, versionId, outbox);
    });
  }

  getAcl<T>(bucket: string, key: string, versionId: string): Promise<T | undefined> {
    return this.conn.read(() => {
      const row = this.conn
        .stmt(`SELECT a.acl FROM object_acls a JOIN object_versions v ON v.seq = a.seq
               WHERE v.bucket = ? AND v.key = ? AND v.version_id = ?`)
        .get(bucket, key, versionId) as { acl: string } | undefined;
      return row ? fromJson<T>(row.acl) : undefined;
    });
  }

  putAcl(bucket: string, key: string, versionId: string, acl: unknown): Promise<void> {
    return this.conn.write(() => {
      const row = this.conn.stmt('SELECT seq FROM object_versions WHERE bucket = ? AND key = ? AND version_id = ?').get(bucket, key, versionId) as
        | { seq: number }
        | undefined;
      if (!row) return;
      if (acl === undefined) {
        this.conn.stmt('DELETE FROM object_acls WHERE seq = ?').run(row.seq);
      } else {
        this.conn
          .stmt('INSERT INTO object_acls (seq, acl) VALUES (?, ?) ON CONFLICT (seq) DO UPDATE SET acl = excluded.acl')
          .run(row.seq, toJson(acl));
      }
    });
  }
}
