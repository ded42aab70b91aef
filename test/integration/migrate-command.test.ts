/**
 * `meridian migrate` without a metadata URL: the SQLite files of the data directory are brought to
 * this build's schema (created if missing), the versions are reported, and a file from a newer
 * Meridian is refused rather than opened.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import Database from 'better-sqlite3';
import { meridianOnDataDir } from '../support/meridian-cli.js';

const dataDir = mkdtempSync(join(tmpdir(), 'meridian-migrate-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

it('creates the global database, reports versions, is idempotent, and refuses a newer file', async () => {
  const first = await meridianOnDataDir(['migrate'], dataDir);
  assert.equal(first.code, 0, first.stderr);
  const global = join(dataDir, 'global', 'global.db');
  const m = new RegExp(`${global.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: schema version 0 -> (\\d+)`).exec(first.stdout);
  assert.ok(m, first.stdout);
  const again = await meridianOnDataDir(['migrate'], dataDir);
  assert.match(again.stdout, new RegExp(`schema version ${m[1]}, up to date`));

  const db = new Database(global);
  db.pragma(`user_version = ${Number(m[1]) + 1}`);
  db.close();
  const newer = await meridianOnDataDir(['migrate'], dataDir);
  assert.equal(newer.code, 1);
  assert.match(newer.stderr, /newer than this build knows/);
});
