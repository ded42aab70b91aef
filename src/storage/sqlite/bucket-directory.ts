/** The global bucket-name directory: a name belongs to one bucket in one region, across all accounts. */
import type { BucketDirectory } from '../types.js';
import { SqliteConnection, type ConnectionOptions } from './connection.js';
import { GLOBAL_MIGRATIONS } from './global-schema.js';

type Entry = { name: string; region: string; ownerAccountId: string };
interface Row {
  name: string;
  region: string;
  owner_account_id: string;
}
const toEntry = (r: Row): Entry => ({ name: r.name, region: r.region, ownerAccountId: r.owner_account_id });

export class SqliteBucketDirectory implements BucketDirectory {
  constructor(
    private readonly conn: SqliteConnection,
    /** Whether close() closes the connection (true when this directory opened it). */
    private readonly ownsConnection = false,
  ) {}

  static open(path: string, options: ConnectionOptions = {}): SqliteBucketDirectory {
    return new SqliteBucketDirectory(SqliteConnection.open(path, GLOBAL_MIGRATIONS, options), true);
  }

  /** Two concurrent claims of one name: the first insert wins, the second sees the conflict. */
  claim(entry: Entry): Promise<boolean> {
    return this.conn.write(() => {
      const info = this.conn
        .stmt('INSERT INTO bucket_directory (name, region, owner_account_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING')
        .run(entry.name, entry.region, entry.ownerAccountId);
      return info.changes === 1;
    });
  }

  lookup(name: string): Promise<Entry | undefined> {
    return this.conn.read(() => {
      const row = this.conn.stmt('SELECT * FROM bucket_directory WHERE name = ?').get(name) as Row | undefined;
      return row ? toEntry(row) : undefined;
    });
  }

  release(name: string): Promise<void> {
    return this.conn.write(() => {
      this.conn.stmt('DELETE FROM bucket_directory WHERE name = ?').run(name);
    });
  }

  /** Names ascending. */
  listByOwner(ownerAccountId: string): Promise<Entry[]> {
    return this.conn.read(() =>
      (this.conn.stmt('SELECT * FROM bucket_directory WHERE owner_account_id = ? ORDER BY name').all(ownerAccountId) as Row[]).map(
        toEntry,
      ),
    );
  }

  /** Closes the file only if this directory opened it. */
  close(): Promise<void> {
    return this.ownsConnection ? this.conn.close() : this.conn.commits.flush();
  }
}
