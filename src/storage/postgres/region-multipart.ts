/**
 * Multipart uploads of a region in PostgreSQL. Parts of one upload may arrive at different
 * gateways, and CompleteMultipartUpload at yet another: the upload row is the point of agreement.
 * UploadPart holds it FOR SHARE (parts of one upload are stored in parallel) and the part number's
 * advisory lock; completion and abort hold it FOR UPDATE, so a part is either stored before the
 * completion reads the parts, or finds the upload gone.
 */
import type { CompletedUpload, MultipartUpload, NewOutboxTask, ObjectVersion, StoredObjectVersion, UploadedPart, WriteCondition } from '../types.js';
import { UploadNotFound, UploadPartChanged } from '../errors.js';
import { decodeEncryption, encodeEncryption, fromJson, optionalJson, setIf, toJson } from '../sqlite/codec.js';
import { keyRange } from '../sqlite/key-range.js';
import { ADVISORY_LOCK_SQL, type PgDatabase, type Tx } from './database.js';
import { rangeCondition, type PgRegionObjects } from './region-objects.js';

type UploadBody = Omit<MultipartUpload, 'uploadId' | 'bucket' | 'key' | 'initiated' | 'encryption'> & { encryption?: string };

interface UploadRow {
  upload_id: string;
  bucket: string;
  key: string;
  initiated: number;
  body: string;
}

interface PartRow {
  part_number: number;
  size: number;
  etag: string;
  last_modified: number;
  checksum: string | null;
  blob_file_id: string | null;
  blob_size: number | null;
  inline_data: Buffer | null;
}

const UPLOAD_COLUMNS = 'upload_id, bucket, key, initiated, body';
const PART_COLUMNS = 'part_number, size, etag, last_modified, checksum, blob_file_id, blob_size, inline_data';

function toUpload(r: UploadRow): MultipartUpload {
  const { encryption, ...rest } = fromJson<UploadBody>(r.body);
  const u: MultipartUpload = { uploadId: r.upload_id, bucket: r.bucket, key: r.key, initiated: r.initiated, ...rest };
  setIf(u, 'encryption', encryption === undefined ? undefined : decodeEncryption(encryption));
  return u;
}

function toPart(r: PartRow): UploadedPart {
  const p: UploadedPart = {
    partNumber: r.part_number,
    size: r.size,
    etag: r.etag,
    lastModified: r.last_modified,
    blob: r.blob_file_id !== null ? { kind: 'file', id: r.blob_file_id, size: r.blob_size ?? 0 } : { kind: 'inline', data: r.inline_data ?? Buffer.alloc(0) },
  };
  if (r.checksum !== null) p.checksum = fromJson(r.checksum);
  return p;
}

function sameBlob(a: UploadedPart['blob'], b: UploadedPart['blob']): boolean {
  if (a.kind === 'file' || b.kind === 'file') return a.kind === 'file' && b.kind === 'file' && a.id === b.id;
  return a.data.equals(b.data);
}

export class PgRegionMultipart {
  constructor(
    private readonly db: PgDatabase,
    private readonly region: string,
    private readonly objects: PgRegionObjects,
  ) {}

  async create(u: MultipartUpload): Promise<void> {
    const { uploadId, bucket, key, initiated, encryption, ...rest } = u;
    const body: UploadBody = { ...rest };
    const enc = encodeEncryption(encryption);
    if (enc !== null) body.encryption = enc;
    await this.db.execute('INSERT INTO uploads (region, upload_id, bucket, key, initiated, body) VALUES ($1, $2, $3, $4, $5, $6)', [
      this.region,
      uploadId,
      bucket,
      key,
      initiated,
      toJson(body),
    ]);
  }

  async get(uploadId: string): Promise<MultipartUpload | undefined> {
    const [row] = await this.db.query<UploadRow>(`SELECT ${UPLOAD_COLUMNS} FROM uploads WHERE region = $1 AND upload_id = $2`, [this.region, uploadId]);
    return row ? toUpload(row) : undefined;
  }

  private async partsIn(tx: Tx, uploadId: string): Promise<UploadedPart[]> {
    const { rows } = await tx.query<PartRow>(`SELECT ${PART_COLUMNS} FROM upload_parts WHERE region = $1 AND upload_id = $2 ORDER BY part_number`, [
      this.region,
      uploadId,
    ]);
    return rows.map(toPart);
  }

  putPart(uploadId: string, part: UploadedPart): Promise<{ replaced?: UploadedPart }> {
    return this.db.transaction(async (tx) => {
      const { rows: upload } = await tx.query('SELECT 1 FROM uploads WHERE region = $1 AND upload_id = $2 FOR SHARE', [this.region, uploadId]);
      if (upload.length === 0) throw new Error(`no such upload: ${uploadId}`);
      // Two UploadParts of one number (on two gateways): the second waits and then replaces the first.
      await tx.query(ADVISORY_LOCK_SQL, [`part/${this.region}/${uploadId}/${part.partNumber}`]);
      const { rows: old } = await tx.query<PartRow>(
        `DELETE FROM upload_parts WHERE region = $1 AND upload_id = $2 AND part_number = $3 RETURNING ${PART_COLUMNS}`,
        [this.region, uploadId, part.partNumber],
      );
      const b = part.blob;
      await tx.query(
        `INSERT INTO upload_parts (region, upload_id, ${PART_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          this.region,
          uploadId,
          part.partNumber,
          part.size,
          part.etag,
          part.lastModified,
          optionalJson(part.checksum),
          b.kind === 'file' ? b.id : null,
          b.kind === 'file' ? b.size : null,
          b.kind === 'inline' ? b.data : null,
        ],
      );
      return old[0] ? { replaced: toPart(old[0]) } : {};
    });
  }

  async listParts(uploadId: string, options: { partNumberMarker?: number; limit?: number } = {}): Promise<UploadedPart[]> {
    const rows = await this.db.query<PartRow>(
      `SELECT ${PART_COLUMNS} FROM upload_parts WHERE region = $1 AND upload_id = $2 AND part_number > $3 ORDER BY part_number LIMIT $4`,
      [this.region, uploadId, options.partNumberMarker ?? 0, Math.max(0, options.limit ?? 1000)],
    );
    return rows.map(toPart);
  }

  async list(bucket: string, o: { prefix?: string; keyMarker?: string; uploadIdMarker?: string; limit: number }): Promise<MultipartUpload[]> {
    const limit = Math.max(0, Math.floor(o.limit));
    const keyMarker = o.keyMarker || undefined;
    const out: UploadRow[] = [];
    if (keyMarker !== undefined && o.uploadIdMarker && (!o.prefix || keyMarker.startsWith(o.prefix))) {
      const [marker] = await this.db.query<{ seq: number }>('SELECT seq FROM uploads WHERE region = $1 AND bucket = $2 AND key = $3 AND upload_id = $4', [
        this.region,
        bucket,
        keyMarker,
        o.uploadIdMarker,
      ]);
      // A vanished marker upload (completed or aborted meanwhile): restart at the key's first upload.
      out.push(
        ...(await this.db.query<UploadRow>(
          `SELECT ${UPLOAD_COLUMNS} FROM uploads WHERE region = $1 AND bucket = $2 AND key = $3 AND seq > $4 ORDER BY seq LIMIT ${limit}`,
          [this.region, bucket, keyMarker, marker?.seq ?? 0],
        )),
      );
    }
    if (out.length < limit) {
      const r = rangeCondition('key', keyRange(o.prefix, keyMarker), 3);
      out.push(
        ...(await this.db.query<UploadRow>(
          `SELECT ${UPLOAD_COLUMNS} FROM uploads WHERE region = $1 AND bucket = $2${r.sql} ORDER BY key, seq LIMIT ${limit - out.length}`,
          [this.region, bucket, ...r.params],
        )),
      );
    }
    return out.map(toUpload);
  }

  complete(uploadId: string, version: ObjectVersion, tasks?: NewOutboxTask[], condition?: WriteCondition): Promise<{ unusedParts: UploadedPart[]; displaced?: StoredObjectVersion }> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query('SELECT 1 FROM uploads WHERE region = $1 AND upload_id = $2 FOR UPDATE', [this.region, uploadId]);
      if (rows.length === 0) throw new UploadNotFound(uploadId);
      const parts = await this.partsIn(tx, uploadId);
      const byNumber = new Map(parts.map((p) => [p.partNumber, p]));
      // The caller chose these parts before this transaction: an UploadPart of the same number may
      // have replaced one since. Commit only the parts as they are now.
      for (const p of version.parts) {
        const now = byNumber.get(p.partNumber);
        if (!now || !sameBlob(now.blob, p.blob)) throw new UploadPartChanged(uploadId, p.partNumber);
      }
      await this.objects.lockKey(tx, version.bucket, version.key);
      await this.objects.checkConditionIn(tx, version.bucket, version.key, condition);
      const used = new Set(version.parts.map((p) => p.partNumber));
      const unusedParts = parts.filter((p) => !used.has(p.partNumber));
      // Parts go first: the version then takes over their blob files in the same transaction.
      await tx.query('DELETE FROM uploads WHERE region = $1 AND upload_id = $2', [this.region, uploadId]);
      const { displaced } = await this.objects.putIn(tx, version, tasks);
      const done: Omit<CompletedUpload, 'uploadId' | 'bucket' | 'key' | 'completedAt'> = { versionId: version.versionId, etag: version.etag };
      if (version.checksum) done.checksum = version.checksum;
      if (version.encryption) {
        const { algorithm, kmsKeyArn, bucketKeyEnabled, customerKeyMd5 } = version.encryption;
        done.encryption = { algorithm };
        setIf(done.encryption, 'kmsKeyArn', kmsKeyArn);
        setIf(done.encryption, 'bucketKeyEnabled', bucketKeyEnabled);
        setIf(done.encryption, 'customerKeyMd5', customerKeyMd5);
      }
      await tx.query(
        `INSERT INTO completed_uploads (region, upload_id, bucket, key, completed_at, body) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (region, upload_id) DO UPDATE SET bucket = excluded.bucket, key = excluded.key, completed_at = excluded.completed_at, body = excluded.body`,
        [this.region, uploadId, version.bucket, version.key, version.lastModified, toJson(done)],
      );
      return displaced ? { unusedParts, displaced } : { unusedParts };
    });
  }

  async getCompleted(uploadId: string): Promise<CompletedUpload | undefined> {
    const [row] = await this.db.query<{ upload_id: string; bucket: string; key: string; completed_at: number; body: string }>(
      'SELECT upload_id, bucket, key, completed_at, body FROM completed_uploads WHERE region = $1 AND upload_id = $2',
      [this.region, uploadId],
    );
    if (!row) return undefined;
    return {
      uploadId: row.upload_id,
      bucket: row.bucket,
      key: row.key,
      completedAt: row.completed_at,
      ...fromJson<Omit<CompletedUpload, 'uploadId' | 'bucket' | 'key' | 'completedAt'>>(row.body),
    };
  }

  pruneCompleted(before: number): Promise<number> {
    return this.db.execute('DELETE FROM completed_uploads WHERE region = $1 AND completed_at < $2', [this.region, before]);
  }

  abort(uploadId: string): Promise<UploadedPart[] | undefined> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query('SELECT 1 FROM uploads WHERE region = $1 AND upload_id = $2 FOR UPDATE', [this.region, uploadId]);
      if (rows.length === 0) return undefined;
      const parts = await this.partsIn(tx, uploadId);
      await tx.query('DELETE FROM uploads WHERE region = $1 AND upload_id = $2', [this.region, uploadId]);
      return parts;
    });
  }
}
