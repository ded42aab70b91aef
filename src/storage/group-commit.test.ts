/** Group commit: many writes per transaction, failures isolated, no success before the commit. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openRegionMetadataStore } from './index.js';
import { GroupCommit } from './sqlite/group-commit.js';
import { openDatabase, type SqliteDatabase } from './sqlite/open-database.js';
import { bucketRecord, objectVersion } from './contract/fixtures.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meridian-gc-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function openTestDb(name: string): SqliteDatabase {
  return openDatabase(join(dir, name), { migrations: ['CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)'] });
}

describe('group commit', () => {
  it('200 concurrent PUTs share far fewer than 200 transactions', async () => {
    const store = openRegionMetadataStore(join(dir, 'many.db'), 'us-east-1');
    await store.createBucket(bucketRecord('b'));
    const stats = store.connection.commits.stats;
    const before = stats.transactions;
    await Promise.all(Array.from({ length: 200 }, (_, i) => store.putObjectVersion(objectVersion('b', `k${i}`, 'v1'))));
    const used = stats.transactions - before;
    assert.ok(used <= 5, `200 writes took ${used} transactions`);
    assert.equal((await store.listLatest('b', { limit: 1000 })).length, 200);
    await store.close();
  });

  it('a failing operation rolls back only itself and rejects only its own promise', async () => {
    const db = openTestDb('fail.db');
    const gc = new GroupCommit(db);
    const insert = db.prepare('INSERT INTO t (id, v) VALUES (?, ?)');
    const results = await Promise.allSettled([
      gc.write(() => insert.run(1, 'one')),
      gc.write(() => {
        insert.run(2, 'two'); // written, then rolled back with its savepoint
        throw new Error('boom');
      }),
      gc.write(() => insert.run(1, 'duplicate')), // constraint violation
      gc.write(() => insert.run(3, 'three')),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    assert.equal((results[1] as PromiseRejectedResult).reason.message, 'boom');
    assert.deepEqual(db.prepare('SELECT id, v FROM t ORDER BY id').all(), [{ id: 1, v: 'one' }, { id: 3, v: 'three' }]);
    assert.equal(gc.stats.transactions, 1);
    assert.equal(gc.stats.failedOperations, 2);
    db.close();
  });

  it('an error that rolls back the whole transaction fails the batch so far, and later operations still commit', async () => {
    const db = openTestDb('abort.db');
    // RAISE(ROLLBACK) ends the whole transaction, not just the savepoint (as disk-full or I/O errors do).
    db.exec("CREATE TRIGGER t_abort BEFORE INSERT ON t WHEN NEW.v = 'abort' BEGIN SELECT RAISE(ROLLBACK, 'whole'); END");
    const gc = new GroupCommit(db);
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const results = await Promise.allSettled([
      gc.write(() => insert.run('before')),
      gc.write(() => insert.run('abort')),
      gc.write(() => insert.run('after')),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected', 'fulfilled']);
    assert.match(String((results[0] as PromiseRejectedResult).reason), /rolled back/);
    assert.deepEqual(db.prepare('SELECT v FROM t').all(), [{ v: 'after' }]);
    db.close();
  });

  it('a write resolves only once another connection can see it (committed)', async () => {
    const db = openTestDb('visible.db');
    const gc = new GroupCommit(db);
    const other = new Database(join(dir, 'visible.db'), { readonly: true });
    const count = () => (other.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n;
    const writes = Array.from({ length: 50 }, (_, i) =>
      gc.write(() => db.prepare('INSERT INTO t (v) VALUES (?)').run(`x${i}`)).then(() => count()),
    );
    assert.equal(count(), 0, 'nothing is visible before the batch runs');
    const seen = await Promise.all(writes);
    for (const n of seen) assert.equal(n, 50, 'at resolution the whole batch is committed');
    other.close();
    db.close();
  });

  it('reads run at once and see only committed state', async () => {
    const db = openTestDb('reads.db');
    const gc = new GroupCommit(db);
    const pending = gc.write(() => db.prepare("INSERT INTO t (v) VALUES ('a')").run());
    const readNow = await gc.read(() => db.prepare('SELECT COUNT(*) AS n FROM t').get());
    assert.deepEqual(readNow, { n: 0 });
    await pending;
    assert.deepEqual(await gc.read(() => db.prepare('SELECT COUNT(*) AS n FROM t').get()), { n: 1 });
    await assert.rejects(gc.read(() => db.prepare('SELECT nope FROM t').get()));
    db.close();
  });

  it('bounds the batch size', async () => {
    const db = openTestDb('bounded.db');
    const gc = new GroupCommit(db, 100);
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    await Promise.all(Array.from({ length: 350 }, (_, i) => gc.write(() => insert.run(`v${i}`))));
    assert.equal(gc.stats.transactions, 4);
    assert.equal(gc.stats.largestBatch, 100);
    assert.equal(gc.stats.operations, 350);
    db.close();
  });

  it('a batch of non-durable writes only commits without an fsync; one durable write makes the batch durable', async () => {
    const db = openTestDb('light.db');
    const gc = new GroupCommit(db);
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    // The synchronous setting in force while each batch runs (and so at its COMMIT): 1 = NORMAL, 2 = FULL.
    const sync = () => db.pragma('synchronous', { simple: true }) as number;
    const light = await Promise.all([gc.write(() => (insert.run('lease'), sync()), { durable: false }), gc.write(() => sync(), { durable: false })]);
    assert.deepEqual(light, [1, 1]);
    assert.equal(sync(), 2, 'FULL again after the light batch');
    const mixed = await Promise.all([gc.write(() => sync(), { durable: false }), gc.write(() => (insert.run('object'), sync()))]);
    assert.deepEqual(mixed, [2, 2]);
    assert.deepEqual([gc.stats.transactions, gc.stats.lightTransactions], [2, 1]);
    assert.deepEqual(await gc.read(() => db.prepare('SELECT COUNT(*) AS n FROM t').get()), { n: 2 });
    db.close();
  });

  it('an outbox claim is a lease: it commits without an fsync of its own', async () => {
    const store = openRegionMetadataStore(join(dir, 'claims.db'), 'us-east-1');
    await store.createBucket(bucketRecord('b'));
    await store.putObjectVersion(objectVersion('b', 'k', 'v1'), [{ bucket: 'b', key: 'k', versionId: 'v1', operation: 'put', destinationBucket: 'd', ruleId: 'r' }]);
    const stats = store.connection.commits.stats;
    const light = stats.lightTransactions;
    assert.equal((await store.claimOutboxTasks(Date.now(), 10, 60_000)).length, 1);
    assert.equal(stats.lightTransactions - light, 1);
    await store.completeOutboxTask((await store.listOutboxTasks({ limit: 1 }))[0]!.id);
    assert.equal(stats.lightTransactions - light, 1, 'completing is durable');
    await store.close();
  });

  it('refuses asynchronous operations and writes after close', async () => {
    const db = openTestDb('misuse.db');
    const gc = new GroupCommit(db);
    await assert.rejects(gc.write(() => Promise.resolve(1)), /synchronous/);
    await gc.close();
    await assert.rejects(gc.write(() => 1), /closed/);
    db.close();
  });
});
