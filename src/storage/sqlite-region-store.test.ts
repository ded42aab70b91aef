/** SQLite-specific properties of the region store that the shared contract cannot state. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openKmsKeyStore, openRegionMetadataStore } from './index.js';
import { SqliteConnection } from './sqlite/connection.js';
import { GLOBAL_MIGRATIONS } from './sqlite/global-schema.js';
import { SqliteIamStore } from './sqlite/iam-store.js';
import { bucketRecord, deleteMarker, objectVersion, upload } from './contract/fixtures.js';
import { openDatabase } from './sqlite/open-database.js';
import { REGION_MIGRATIONS } from './sqlite/region-schema.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meridian-sqlite-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('sqlite region store', () => {
  it('opens with WAL, synchronous=NORMAL (its group commit fsyncs the WAL itself), foreign keys, and the current schema version; data survives reopening', async () => {
    const path = join(dir, 'reopen.db');
    let s = openRegionMetadataStore(path, 'eu-west-1');
    const db = s.connection.db;
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('synchronous', { simple: true }), 1);
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
    assert.equal(db.pragma('user_version', { simple: true }), REGION_MIGRATIONS.length);
    await s.createBucket(bucketRecord('b'));
    await s.putObjectVersion(objectVersion('b', 'k', 'v1'));
    await s.close();
    s = openRegionMetadataStore(path, 'eu-west-1');
    assert.equal((await s.getObjectVersion('b', 'k'))?.versionId, 'v1');
    await s.close();
  });

  it('refuses a database written by a newer schema', () => {
    const path = join(dir, 'newer.db');
    openDatabase(path, { migrations: ['CREATE TABLE a (x)', 'CREATE TABLE b (x)'] }).close();
    assert.throws(() => openDatabase(path, { migrations: ['CREATE TABLE a (x)'] }), /newer/);
  });

  it('two processes opening a new database together: the one that finds it migrated by the other meanwhile applies nothing twice', () => {
    const path = join(dir, 'raced.db');
    const other = () => openDatabase(path, { migrations: REGION_MIGRATIONS }).close();
    // The other process (a second connection) migrates right after this one read the schema version
    // and before it takes the write lock: the moment the migration list is first looked at.
    let raced = false;
    const migrations = new Proxy([...REGION_MIGRATIONS], {
      get(target, prop, receiver) {
        if (prop === 'length' && !raced) {
          raced = true;
          other();
        }
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const db = openDatabase(path, { migrations });
    assert.ok(raced);
    assert.equal(db.pragma('user_version', { simple: true }), REGION_MIGRATIONS.length);
    db.close();
  });

  it('refuses to delete a bucket that still has versions or uploads (foreign keys)', async () => {
    const s = openRegionMetadataStore(join(dir, 'fk.db'), 'us-east-1');
    await s.createBucket(bucketRecord('b'));
    await s.putObjectVersion(deleteMarker('b', 'k', 'dm'));
    await assert.rejects(s.deleteBucket('b'));
    await s.deleteObjectVersion('b', 'k', 'dm');
    await s.createUpload(upload('u', 'b', 'k'));
    await assert.rejects(s.deleteBucket('b'));
    await s.abortUpload('u');
    await s.deleteBucket('b');
    assert.equal(await s.getBucket('b'), undefined);
    await s.close();
  });

  it('KMS writes share the region database and its group commit', async () => {
    const s = openRegionMetadataStore(join(dir, 'kms.db'), 'us-east-1');
    const kms = openKmsKeyStore(s);
    await s.createBucket(bucketRecord('b'));
    const before = s.connection.commits.stats.transactions;
    await Promise.all([
      s.putObjectVersion(objectVersion('b', 'k', 'v1')),
      kms.createAlias({ aliasName: 'alias/x', accountId: '1', targetKeyId: 'k', createdAt: 1, updatedAt: 1 }),
    ]);
    assert.equal(s.connection.commits.stats.transactions - before, 1);
    await s.close();
  });

  it('hot queries use indexes: no full scans, no sorting', async () => {
    const s = openRegionMetadataStore(join(dir, 'plans.db'), 'us-east-1');
    await s.createBucket(bucketRecord('b'));
    await s.putObjectVersion(objectVersion('b', 'k', 'v1'));
    await s.putObjectVersion(objectVersion('b', 'k', 'v2'));
    await s.createUpload(upload('u', 'b', 'k'));
    // Exercise every read path so its statement is prepared, then inspect the plans.
    await s.getObjectVersion('b', 'k');
    await s.getObjectVersion('b', 'k', 'v1');
    await s.listLatest('b', { prefix: 'a', startAfter: 'b', limit: 10 });
    await s.listLatest('b', { limit: 10 });
    await s.listVersions('b', { prefix: 'k', keyMarker: 'k', versionIdMarker: 'v2', limit: 10 });
    await s.listVersions('b', { limit: 10 });
    await s.listLatestSummaries('b', { prefix: 'a', startAfter: 'b', limit: 10 });
    await s.listLatestSummaries('b', { limit: 10 });
    await s.listVersionSummaries('b', { prefix: 'k', keyMarker: 'k', versionIdMarker: 'v2', limit: 10 });
    await s.listVersionSummaries('b', { limit: 10 });
    await s.listUploads('b', { prefix: 'k', keyMarker: 'k', uploadIdMarker: 'u', limit: 10 });
    await s.isBlobReferenced('f'.repeat(32));
    await s.claimOutboxTasks(0, 10, 10);
    const checked: string[] = [];
    for (const sql of s.connection.preparedSql()) {
      if (!/^\s*SELECT/i.test(sql) || /COUNT\(\*\)/.test(sql) || /FROM outbox/.test(sql)) continue;
      const params = Array.from(sql.matchAll(/\?/g), () => 'x');
      const plan = (s.connection.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail);
      for (const step of plan) assert.doesNotMatch(step, /^SCAN (?!CONSTANT ROW)|TEMP B-TREE/, `${sql}\n  -> ${plan.join(' | ')}`);
      checked.push(sql);
    }
    assert.ok(checked.length >= 12, `checked ${checked.length} statements`);
    await s.close();
  });

  it('replication status reads only what it reports: FAILED versions and retrying tasks by their partial indexes', async () => {
    const s = openRegionMetadataStore(join(dir, 'status-plans.db'), 'us-east-1');
    await s.createBucket(bucketRecord('b'));
    await s.replicationFailures('b');
    await s.listOutboxTasks({ bucket: 'b', retrying: true, limit: 20 });
    const plan = (needle: string, index: string) => {
      const sql = s.connection.preparedSql().find((q) => q.includes(needle))!;
      const params = Array.from(sql.matchAll(/\?/g), () => 'x');
      const steps = (s.connection.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail);
      assert.ok(steps.some((d) => d.includes(`USING INDEX ${index}`)), `${sql}\n  -> ${steps.join(' | ')}`);
      for (const d of steps) assert.doesNotMatch(d, /TEMP B-TREE/, `${sql}\n  -> ${steps.join(' | ')}`);
    };
    plan("replication_status = 'FAILED'", 'object_versions_failed');
    plan('attempts > 0', 'outbox_retrying');
    await s.close();
  });

  it('a claim hands out the tasks not leased, oldest due first; a lease that ran out frees its task', async () => {
    const s = openRegionMetadataStore(join(dir, 'claims.db'), 'us-east-1');
    await s.createBucket(bucketRecord('b'));
    const now = Date.now();
    for (let i = 0; i < 100; i++) {
      const v = `v${i}`;
      await s.putObjectVersion(objectVersion('b', `k${i}`, v), [{ bucket: 'b', key: `k${i}`, versionId: v, operation: 'put', destinationBucket: 'd', ruleId: 'r', notBefore: now - 1000 + i }]);
    }
    // 64 in flight, then the next claim takes the 36 others in due order.
    const first = await s.claimOutboxTasks(now, 64, 60_000);
    assert.deepEqual(first.map((t) => t.key), Array.from({ length: 64 }, (_, i) => `k${i}`));
    const second = await s.claimOutboxTasks(now, 64, 60_000);
    assert.deepEqual(second.map((t) => t.key), Array.from({ length: 36 }, (_, i) => `k${64 + i}`));
    assert.equal((await s.claimOutboxTasks(now, 64, 60_000)).length, 0, 'live leases are not handed out again');
    // A task given back is claimable again; leases that ran out come back.
    await s.retryOutboxTask(second[0]!.id, now, 'transient');
    assert.deepEqual((await s.claimOutboxTasks(now, 10, 60_000)).map((t) => t.key), ['k64']);
    assert.deepEqual((await s.claimOutboxTasks(now + 30_000, 10, 60_000)).map((t) => t.key), [], 'leases still running');
    const expired = await s.claimOutboxTasks(now + 60_000, 200, 60_000);
    assert.equal(expired.length, 100);
    await s.close();
  });

  it('access keys are found by primary key', async () => {
    const conn = SqliteConnection.open(join(dir, 'global.db'), GLOBAL_MIGRATIONS);
    const iam = new SqliteIamStore(conn);
    await iam.getAccessKey('AKIA');
    const sql = conn.preparedSql().find((q) => q.includes('FROM iam_access_keys WHERE access_key_id'))!;
    const plan = conn.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all('AKIA') as { detail: string }[];
    assert.match(plan[0]!.detail, /SEARCH iam_access_keys USING INDEX sqlite_autoindex_iam_access_keys_1 \(access_key_id=\?\)/);
    await conn.close();
  });
});
