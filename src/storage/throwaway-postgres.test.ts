/**
 * The test harness's throwaway PostgreSQL: it starts from the machine's binaries, its default
 * collation is not C (so COLLATE "C" on key columns is really exercised), it survives a restart
 * with its data, and destroy() leaves nothing behind.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { postgresUnavailable, startThrowawayPostgres, type ThrowawayPostgres } from './testing/throwaway-postgres.js';

const skip = postgresUnavailable();

describe('throwaway PostgreSQL for tests', { skip }, () => {
  let server: ThrowawayPostgres;
  before(async () => {
    server = await startThrowawayPostgres();
  });
  after(() => server?.destroy());

  async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return (await c.query<T>(sql)).rows;
    } finally {
      await c.end();
    }
  }

  it('serves a fresh database whose default collation does not order by bytes', async () => {
    const url = await server.createDatabase();
    // Byte order puts 'B' (0x42) before 'a' (0x61); the ICU root collation does not.
    const [row] = await query<{ default_lt: boolean; c_lt: boolean }>(url, `SELECT 'B' < 'a' AS default_lt, 'B' < 'a' COLLATE "C" AS c_lt`);
    assert.deepEqual(row, { default_lt: false, c_lt: true });
  });

  it('keeps committed data across a restart on the same port', async () => {
    const url = await server.createDatabase();
    await query(url, 'CREATE TABLE t (x int); INSERT INTO t VALUES (42)');
    await server.restart();
    assert.equal(server.running, true);
    assert.deepEqual(await query(url, 'SELECT x FROM t'), [{ x: 42 }]);
  });

  it('refuses connections while stopped', async () => {
    await server.stop();
    await assert.rejects(query(server.url, 'SELECT 1'), /ECONNREFUSED/);
    await server.start();
    assert.deepEqual(await query(server.url, 'SELECT 1 AS one'), [{ one: 1 }]);
  });

  it('destroy() stops the server and removes its directory', async () => {
    const other = await startThrowawayPostgres();
    assert.ok(existsSync(other.dataDir));
    await other.destroy();
    assert.equal(existsSync(other.dataDir), false);
    await assert.rejects(query(other.url, 'SELECT 1'), /ECONNREFUSED/);
  });
});
