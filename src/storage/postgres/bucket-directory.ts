/**
 * The global bucket-name directory in PostgreSQL. A claim is one INSERT … ON CONFLICT DO NOTHING:
 * of concurrent claims of one name, from any number of gateways, the primary key lets exactly one in.
 */
import type { BucketDirectory } from '../types.js';
import type { PgDatabase } from './database.js';

type Entry = { name: string; region: string; ownerAccountId: string };
interface Row {
  name: string;
  region: string;
  owner_account_id: string;
}
const toEntry = (r: Row): Entry => ({ name: r.name, region: r.region, ownerAccountId: r.owner_account_id });

export class PgBucketDirectory implements BucketDirectory {
  constructor(private readonly db: PgDatabase) {}

  async claim(entry: Entry): Promise<boolean> {
    const n = await this.db.execute(
      'INSERT INTO bucket_directory (name, region, owner_account_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [entry.name, entry.region, entry.ownerAccountId],
    );
    return n === 1;
  }

  async lookup(name: string): Promise<Entry | undefined> {
    const [row] = await this.db.query<Row>('SELECT name, region, owner_account_id FROM bucket_directory WHERE name = $1', [name]);
    return row ? toEntry(row) : undefined;
  }

  async release(name: string): Promise<void> {
    await this.db.execute('DELETE FROM bucket_directory WHERE name = $1', [name]);
  }

  /** Names ascending (byte order). */
  async listByOwner(ownerAccountId: string): Promise<Entry[]> {
    return (
      await this.db.query<Row>('SELECT name, region, owner_account_id FROM bucket_directory WHERE owner_account_id = $1 ORDER BY name', [ownerAccountId])
    ).map(toEntry);
  }
}
