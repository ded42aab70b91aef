/**
 * Multipart uploads of a region. Uploads of a key are ordered by creation (seq); the upload-id
 * marker of ListMultipartUploads means "after that upload", like the version-id marker.
 */
import type { CompletedUpload, MultipartUpload, NewOutboxTask, ObjectVersion, StoredObjectVersion, UploadedPart, WriteCondition } from '../types.js';
import { UploadNotFound, UploadPartChanged } from '../errors.js';
import type { SqliteConnection } from './connection.js';
import { decodeEncryption, encodeEncryption, fromJson, optionalJson, setIf, toJson } from './codec.js';
import { keyRange, rangeSql } from './key-range.js';
import type { RegionObjects } from './region-objects.js';

type UploadBody = Omit<MultipartUpload, 'uploadId' | 'bucket' | 'key' | 'initiated' | 'encryption'> & { encryption?: string };

interface UploadRow {
  seq: number;
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
    blob:
      r.blob_file_id !== null
        ? { kind: 'file', id: r.blob_file_id, size: r.blob_size ?? 0 }
        : { kind: 'inline', data: r.inline_data ?? Buffer.alloc(0) },
  };
  if (r.checksum !== null) p.checksum = fromJson(r.checksum);
  return p;
}

function sameBlob(a: UploadedPart['blob'], b: UploadedPart['blob']): boolean {
  if (a.kind === 'file' || b.kind === 'file') return a.kind === 'file' && b.kind === 'file' && a.id === b.id;
  return a.data.equals(b.data);
}

const PART_COLUMNS = 'part_number, size, etag, last_modified, checksum, blob_file_id, blob_size, inline_data';

export class RegionMultipart {
  constructor(
    private readonly conn: SqliteConnection,
    private readonly objects: RegionObjects,
  ) {}

  create(u: MultipartUpload): Promise<void> {
    return this.conn.write(() => {
      const { uploadId, bucket, key, initiated, encryption, ...rest } = u;
      const body: UploadBody = { ...rest };
      const enc = encodeEncryption(encryption);
      if (enc !== null) body.encryption = enc;
      this.conn
        .stmt('INSERT INTO uploads (upload_id, bucket, key, initiated, body) VALUES (?, ?, ?, ?, ?)')
        .run(uploadId, bucket, key, initiated, toJson(body));
    });
  }

  private getSync(uploadId: string): MultipartUpload | undefined {
    const row = this.conn.stmt('SELECT * FROM uploads WHERE upload_id = ?').get(uploadId) as UploadRow | undefined;
    return row ? toUpload(row) : undefined;
  }

  get(uploadId: string): Promise<MultipartUpload | undefined> {
    return this.conn.read(() => this.getSync(uploadId));
  }

  private partsSync(uploadId: string): UploadedPart[] {
    return (
      this.conn
        .stmt(`SELECT ${PART_COLUMNS} FROM upload_parts WHERE upload_id = ? ORDER BY part_number`)
        .all(uploadId) as PartRow[]
    ).map(toPart);
  }

  putPart(uploadId: string, part: UploadedPart): Promise<{ replaced?: UploadedPart }> {
    return this.conn.write(() => {
      if (!this.conn.stmt('SELECT 1 FROM uploads WHERE upload_id = ?').get(uploadId)) {
        throw new Error(`no such upload: ${uploadId}`);
      }
      const old = this.conn
        .stmt(`SELECT ${PART_COLUMNS} FROM upload_parts WHERE upload_id = ? AND part_number = ?`)
        .get(uploadId, part.partNumber) as PartRow | undefined;
      if (old) this.conn.stmt('DELETE FROM upload_parts WHERE upload_id = ? AND part_number = ?').run(uploadId, part.partNumber);
      const b = part.blob;
      this.conn
        .stmt(`INSERT INTO upload_parts (upload_id, ${PART_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(
          uploadId,
          part.partNumber,
          part.size,
          part.etag,
          part.lastModified,
          optionalJson(part.checksum),
          b.kind === 'file' ? b.id : null,
          b.kind === 'file' ? b.size : null,
          b.kind === 'inline' ? b.data : null,
        );
      return old ? { replaced: toPart(old) } : {};
    });
  }

  listParts(uploadId: string, options: { partNumberMarker?: number; limit?: number } = {}): Promise<UploadedPart[]> {
    return this.conn.read(() =>
      (
        this.conn
          .stmt(`SELECT ${PART_COLUMNS} FROM upload_parts WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?`)
          .all(uploadId, options.partNumberMarker ?? 0, Math.max(0, options.limit ?? 1000)) as PartRow[]
      ).map(toPart),
    );
  }

  list(
    bucket: string,
    o: { prefix?: string; keyMarker?: string; uploadIdMarker?: string; limit: number },
  ): Promise<MultipartUpload[]> {
    return this.conn.read(() => {
      const limit = Math.max(0, o.limit);
      const keyMarker = o.keyMarker || undefined;
      const out: UploadRow[] = [];
      if (keyMarker !== undefined && o.uploadIdMarker && (!o.prefix || keyMarker.startsWith(o.prefix))) {
        const marker = this.conn
          .stmt('SELECT seq FROM uploads WHERE bucket = ? AND key = ? AND upload_id = ?')
          .get(bucket, keyMarker, o.uploadIdMarker) as { seq: number } | undefined;
        // A vanished marker upload (completed or aborted meanwhile): restart at the key's first upload.
        out.push(
          ...(this.conn
            .stmt('SELECT * FROM uploads WHERE bucket = ? AND key = ? AND seq > ? ORDER BY seq LIMIT ?')
            .all(bucket, keyMarker, marker?.seq ?? 0, limit) as UploadRow[]),
        );
      }
      if (out.length < limit) {
        const r = rangeSql('key', keyRange(o.prefix, keyMarker));
        out.push(
          ...(this.conn
            .stmt(`SELECT * FROM uploads WHERE bucket = ?${r.sql} ORDER BY key, seq LIMIT ?`)
            .all(bucket, ...r.params, limit - out.length) as UploadRow[]),
        );
      }
      return out.map(toUpload);
    });
  }

  complete(
    uploadId: string,
    version: ObjectVersion,
    tasks?: NewOutboxTask[],
    condition?: WriteCondition,
  ): Promise<{ unusedParts: UploadedPart[]; displaced?: StoredObjectVersion }> {
    return this.conn.write(() => {
      if (!this.getSync(uploadId)) throw new UploadNotFound(uploadId);
      const parts = this.partsSync(uploadId);
      const byNumber = new Map(parts.map((p) => [p.partNumber, p]));
      // The caller chose these parts before this transaction: an UploadPart of the same number may
      // have replaced one since (and its blob is on its way out). Commit only the parts as they are now.
      for (const p of version.parts) {
        const now = byNumber.get(p.partNumber);
        if (!now || !sameBlob(now.blob, p.blob)) throw new UploadPartChanged(uploadId, p.partNumber);
      }
      this.objects.checkConditionSync(version.bucket, version.key, condition);
      const used = new Set(version.parts.map((p) => p.partNumber));
      const unusedParts = parts.filter((p) => !used.has(p.partNumber));
      // Parts go first: the version then takes over their blob files (one transaction, so the
      // files are never unreferenced in committed state).
      this.conn.stmt('DELETE FROM uploads WHERE upload_id = ?').run(uploadId);
      const { displaced } = this.objects.putSync(version, tasks);
      const done: Omit<CompletedUpload, 'uploadId' | 'bucket' | 'key' | 'completedAt'> = { versionId: version.versionId, etag: version.etag };
      if (version.checksum) done.checksum = version.checksum;
      if (version.encryption) {
        const { algorithm, kmsKeyArn, bucketKeyEnabled, customerKeyMd5 } = version.encryption;
        done.encryption = { algorithm };
        setIf(done.encryption, 'kmsKeyArn', kmsKeyArn);
        setIf(done.encryption, 'bucketKeyEnabled', bucketKeyEnabled);
        setIf(done.encryption, 'customerKeyMd5', customerKeyMd5);
      }
      this.conn
        .stmt('INSERT OR REPLACE INTO completed_uploads (upload_id, bucket, key, completed_at, body) VALUES (?, ?, ?, ?, ?)')
        .run(uploadId, version.bucket, version.key, version.lastModified, toJson(done));
      return displaced ? { unusedParts, displaced } : { unusedParts };
    });
  }

  getCompleted(uploadId: string): Promise<CompletedUpload | undefined> {
    return this.conn.read(() => {
      const row = this.conn.stmt('SELECT upload_id, bucket, key, completed_at, body FROM completed_uploads WHERE upload_id = ?').get(uploadId) as
        | { upload_id: string; bucket: string; key: string; completed_at: number; body: string }
        | undefined;
      if (!row) return undefined;
      return { uploadId: row.upload_id, bucket: row.bucket, key: row.key, completedAt: row.completed_at, ...fromJson<Omit<CompletedUpload, 'uploadId' | 'bucket' | 'key' | 'completedAt'>>(row.body) };
    });
  }

  pruneCompleted(before: number): Promise<number> {
    return this.conn.write(() => this.conn.stmt('DELETE FROM completed_uploads WHERE completed_at < ?').run(before).changes);
  }

  abort(uploadId: string): Promise<UploadedPart[] | undefined> {
    return this.conn.write(() => {
      if (!this.conn.stmt('SELECT 1 FROM uploads WHERE upload_id = ?').get(uploadId)) return undefined;
      const parts = this.partsSync(uploadId);
      this.conn.stmt('DELETE FROM uploads WHERE upload_id = ?').run(uploadId);
      return parts;
    });
  }
}
