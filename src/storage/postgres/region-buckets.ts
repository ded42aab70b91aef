/** Bucket records of a region and their JSON sub-configurations, in PostgreSQL. */
import type { BucketRecord } from '../types.js';
import { fromJson, setIf, toJson } from '../sqlite/codec.js';
import type { PgDatabase } from './database.js';

interface BucketRow {
  name: string;
  bucket_region: string;
  owner_account_id: string;
  created_at: number;
  versioning: BucketRecord['versioning'];
  location_constraint: string;
  object_ownership: string | null;
}

const COLUMNS = 'name, bucket_region, owner_account_id, created_at, versioning, location_constraint, object_ownership';

function toBucket(r: BucketRow): BucketRecord {
  const b: BucketRecord = {
    name: r.name,
    region: r.bucket_region,
    ownerAccountId: r.owner_account_id,
    createdAt: r.created_at,
    versioning: r.versioning,
    locationConstraint: r.location_constraint,
  };
  setIf(b, 'objectOwnership', r.object_ownership);
  return b;
}

export class PgRegionBuckets {
  constructor(
    private readonly db: PgDatabase,
    private readonly region: string,
  ) {}

  async create(b: BucketRecord): Promise<void> {
    await this.db.execute(
      `INSERT INTO buckets (region, name, bucket_region, owner_account_id, created_at, versioning, location_constraint, object_ownership)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [this.region, b.name, b.region, b.ownerAccountId, b.createdAt, b.versioning, b.locationConstraint, b.objectOwnership ?? null],
    );
  }

  async get(name: string): Promise<BucketRecord | undefined> {
    const [row] = await this.db.query<BucketRow>(`SELECT ${COLUMNS} FROM buckets WHERE region = $1 AND name = $2`, [this.region, name]);
    return row ? toBucket(row) : undefined;
  }

  async list(): Promise<BucketRecord[]> {
    return (await this.db.query<BucketRow>(`SELECT ${COLUMNS} FROM buckets WHERE region = $1 ORDER BY name`, [this.region])).map(toBucket);
  }

  /** Patch fields under the row lock; a missing bucket is ignored. `objectOwnership: undefined` clears it. */
  update(name: string, patch: Partial<Omit<BucketRecord, 'name' | 'region'>>): Promise<void> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<BucketRow>(`SELECT ${COLUMNS} FROM buckets WHERE region = $1 AND name = $2 FOR UPDATE`, [this.region, name]);
      if (!rows[0]) return;
      const cur = toBucket(rows[0]);
      const next: BucketRecord = { ...cur, ...patch, name: cur.name, region: cur.region };
      await tx.query(
        `UPDATE buckets SET owner_account_id = $3, created_at = $4, versioning = $5, location_constraint = $6, object_ownership = $7
         WHERE region = $1 AND name = $2`,
        [this.region, name, next.ownerAccountId, next.createdAt, next.versioning, next.locationConstraint, next.objectOwnership ?? null],
      );
    });
  }

  /**
   * Deletes the bucket and its configurations. The foreign keys of versions and uploads refuse it
   * (the promise rejects) if any still names the bucket, so a PUT racing the emptiness check on
   * another gateway cannot be orphaned.
   */
  async delete(name: string): Promise<void> {
    await this.db.execute('DELETE FROM buckets WHERE region = $1 AND name = $2', [this.region, name]);
  }

  async hasContent(name: string): Promise<boolean> {
    const [row] = await this.db.query<{ has: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM object_versions WHERE region = $1 AND bucket = $2)
           OR EXISTS (SELECT 1 FROM uploads WHERE region = $1 AND bucket = $2) AS has`,
      [this.region, name],
    );
    return row?.has === true;
  }

  async getConfig<T>(bucket: string, kind: string): Promise<T | undefined> {
    const [row] = await this.db.query<{ value: string }>('SELECT value FROM bucket_configs WHERE region = $1 AND bucket = $2 AND kind = $3', [
      this.region,
      bucket,
      kind,
    ]);
    return row ? fromJson<T>(row.value) : undefined;
  }

  async putConfig(bucket: string, kind: string, value: unknown): Promise<void> {
    await this.db.execute(
      `INSERT INTO bucket_configs (region, bucket, kind, value) VALUES ($1, $2, $3, $4)
       ON CONFLICT (region, bucket, kind) DO UPDATE SET value = excluded.value`,
      [this.region, bucket, kind, toJson(value)],
    );
  }

  async deleteConfig(bucket: string, kind: string): Promise<void> {
    await this.db.execute('DELETE FROM bucket_configs WHERE region = $1 AND bucket = $2 AND kind = $3', [this.region, bucket, kind]);
  }
}
