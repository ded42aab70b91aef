/** Bucket records of a region and their JSON sub-configurations. */
import type { BucketRecord } from '../types.js';
import type { SqliteConnection } from './connection.js';
import { fromJson, setIf, toJson } from './codec.js';
import { RowCache } from './row-cache.js';

interface BucketRow {
  name: string;
  region: string;
  owner_account_id: string;
  created_at: number;
  versioning: BucketRecord['versioning'];
  location_constraint: string;
  object_ownership: string | null;
}

function toBucket(r: BucketRow): BucketRecord {
  const b: BucketRecord = {
    name: r.name,
    region: r.region,
    ownerAccountId: r.owner_account_id,
    createdAt: r.created_at,
    versioning: r.versioning,
    locationConstraint: r.location_constraint,
  };
  setIf(b, 'objectOwnership', r.object_ownership);
  return b;
}

export class RegionBuckets {
  /**
   * Bucket rows and configuration values, read by nearly every request: cached, dropped by this
   * class's writes and, through the bucket_changes counter (region-schema.ts), by other processes'.
   */
  private readonly cache: RowCache<BucketRow | string | undefined>;

  constructor(private readonly conn: SqliteConnection) {
    this.cache = new RowCache(conn, { topic: 'buckets', counterSql: 'SELECT n FROM bucket_changes WHERE id = 0' });
  }

  /** A write of buckets or bucket_configs: what any cache of them on this connection holds is dropped. */
  private change<T>(fn: () => T): Promise<T> {
    return this.conn.write(() => {
      this.conn.noteChange('buckets');
      return fn();
    });
  }

  create(b: BucketRecord): Promise<void> {
    return this.change(() => {
      this.conn
        .stmt(`INSERT INTO buckets (name, region, owner_account_id, created_at, versioning, location_constraint, object_ownership)
               VALUES (?, ?, ?, ?, ?, ?, ?)`)
        .run(b.name, b.region, b.ownerAccountId, b.createdAt, b.versioning, b.locationConstraint, b.objectOwnership ?? null);
    });
  }

  private getSync(name: string): BucketRecord | undefined {
    const row = this.conn.stmt('SELECT * FROM buckets WHERE name = ?').get(name) as BucketRow | undefined;
    return row ? toBucket(row) : undefined;
  }

  get(name: string): Promise<BucketRecord | undefined> {
    return this.conn.read(() => {
      const row = this.cache.get(`b/${name}`, () => this.conn.stmt('SELECT * FROM buckets WHERE name = ?').get(name) as BucketRow | undefined);
      return row ? toBucket(row as BucketRow) : undefined;
    });
  }

  list(): Promise<BucketRecord[]> {
    return this.conn.read(() => (this.conn.stmt('SELECT * FROM buckets ORDER BY name').all() as BucketRow[]).map(toBucket));
  }

  /** Patch fields; a missing bucket is ignored. An `objectOwnership: undefined` in the patch clears it. */
  update(name: string, patch: Partial<Omit<BucketRecord, 'name' | 'region'>>): Promise<void> {
    return this.change(() => {
      const cur = this.getSync(name);
      if (!cur) return;
      const next: BucketRecord = { ...cur, ...patch, name: cur.name, region: cur.region };
      this.conn
        .stmt(`UPDATE buckets SET owner_account_id = ?, created_at = ?, versioning = ?, location_constraint = ?,
                 object_ownership = ? WHERE name = ?`)
        .run(next.ownerAccountId, next.createdAt, next.versioning, next.locationConstraint, next.objectOwnership ?? null, name);
    });
  }

  /**
   * Deletes the bucket and its configurations. Foreign keys refuse it (the promise rejects) if a
   * version or upload still names the bucket, so a PUT racing the emptiness check cannot be orphaned.
   */
  delete(name: string): Promise<void> {
    return this.change(() => {
      this.conn.stmt('DELETE FROM buckets WHERE name = ?').run(name);
    });
  }

  hasContent(name: string): Promise<boolean> {
    return this.conn.read(() => {
      const row = this.conn
        .stmt(`SELECT EXISTS (SELECT 1 FROM object_versions WHERE bucket = ?)
                   OR EXISTS (SELECT 1 FROM uploads WHERE bucket = ?) AS has`)
        .get(name, name) as { has: number };
      return row.has === 1;
    });
  }

  getConfig<T>(bucket: string, kind: string): Promise<T | undefined> {
    return this.conn.read(() => {
      const value = this.cache.get(`c/${kind}/${bucket}`, () =>
        this.conn.stmt('SELECT value FROM bucket_configs WHERE bucket = ? AND kind = ?').pluck().get(bucket, kind) as string | undefined,
      );
      return value === undefined ? undefined : fromJson<T>(value as string);
    });
  }

  putConfig(bucket: string, kind: string, value: unknown): Promise<void> {
    return this.change(() => {
      this.conn
        .stmt(`INSERT INTO bucket_configs (bucket, kind, value) VALUES (?, ?, ?)
               ON CONFLICT (bucket, kind) DO UPDATE SET value = excluded.value`)
        .run(bucket, kind, toJson(value));
    });
  }

  deleteConfig(bucket: string, kind: string): Promise<void> {
    return this.change(() => {
      this.conn.stmt('DELETE FROM bucket_configs WHERE bucket = ? AND kind = ?').run(bucket, kind);
    });
  }
}
