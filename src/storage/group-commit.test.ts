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

  it('COMMIT itself does not fsync (synchronous = NORMAL); each write resolves after an fsync of the WAL', async () => {
    const db = openTestDb('normal.db');
    const gc = new GroupCommit(db);
    assert.equal(db.pragma('synchronous', { simple: true }), 1);
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    await Promise.all([gc.write(() => insert.run('a')), gc.write(() => insert.run('b'))]);
    assert.deepEqual([gc.stats.transactions, gc.stats.walSyncs], [1, 1]);
    await gc.close();
    db.close();
  });

  it('a write resolves only once an fsync that started after its COMMIT has completed', async () => {
    const db = openTestDb('held.db');
    const events: string[] = [];
    const held: ((err: Error | null) => void)[] = [];
    const gc = new GroupCommit(db, 512, {
      syncWal: (done) => {
        events.push('fsync started');
        held.push(done);
      },
    });
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    let resolved = false;
    const w = gc.write(() => (events.push('commit'), insert.run('x'))).then(() => (resolved = true));
    await waitFor(() => held.length === 1);
    assert.deepEqual(events, ['commit', 'fsync started']);
    // Committed (another reader sees it), but not yet acknowledged.
    assert.deepEqual(db.prepare('SELECT v FROM t').all(), [{ v: 'x' }]);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(resolved, false, 'no success before the fsync completes');
    held.shift()!(null);
    await w;
    assert.equal(resolved, true);
    db.close();
  });

  it('writes queued while an fsync runs commit together when it completes, in one transaction and one fsync', async () => {
    const db = openTestDb('shared.db');
    const held: ((err: Error | null) => void)[] = [];
    const gc = new GroupCommit(db, 512, { syncWal: (done) => held.push(done) });
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const first = gc.write(() => insert.run('first'));
    await waitFor(() => held.length === 1);
    // Three more writes, each in a turn of the event loop of its own, while the first fsync is held.
    const later: Promise<unknown>[] = [];
    for (let i = 0; i < 3; i++) {
      later.push(gc.write(() => insert.run(`later${i}`)));
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(gc.stats.transactions, 1, 'nothing committed while the fsync runs');
    assert.equal(held.length, 1, 'one fsync at a time');
    held.shift()!(null);
    await first;
    await waitFor(() => held.length === 1);
    assert.equal(gc.stats.transactions, 2, 'the three later writes committed in one transaction');
    held.shift()!(null);
    await Promise.all(later);
    assert.equal(gc.stats.walSyncs, 2, 'and shared one fsync');
    db.close();
  });

  it('settled() resolves at once when nothing waits, else only after every write committed before it was told', async () => {
    const db = openTestDb('settled.db');
    const held: ((err: Error | null) => void)[] = [];
    const gc = new GroupCommit(db, 512, { syncWal: (done) => held.push(done) });
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    await gc.settled(); // idle: no fsync asked for
    assert.equal(held.length, 0);
    const order: string[] = [];
    const w = gc.write(() => insert.run('x')).then(() => order.push('write told'));
    await waitFor(() => held.length === 1); // committed (visible), its fsync running
    const s = gc.settled().then(() => order.push('settled'));
    held.shift()!(null);
    await waitFor(() => held.length === 1); // the flush's own fsync
    held.shift()!(null);
    await Promise.all([w, s]);
    assert.deepEqual(order, ['write told', 'settled']);
    db.close();
  });

  it('a failed fsync rejects the writes it covered (an I/O error), and later writes go on', async () => {
    const db = openTestDb('eio.db');
    let fail = true;
    const gc = new GroupCommit(db, 512, {
      syncWal: (done) => setImmediate(() => done(fail ? Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }) : null)),
    });
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    await assert.rejects(gc.write(() => insert.run('lost?')), (e: NodeJS.ErrnoException) => e.code === 'EIO');
    assert.equal(gc.stats.failedOperations, 1);
    fail = false;
    await gc.write(() => insert.run('after'));
    db.close();
  });

  it('a non-durable write asks for no fsync, but resolves no earlier than the durable writes committed before it', async () => {
    const db = openTestDb('light.db');
    const held: ((err: Error | null) => void)[] = [];
    const gc = new GroupCommit(db, 512, { syncWal: (done) => held.push(done) });
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const order: string[] = [];
    const durable = gc.write(() => insert.run('object')).then(() => order.push('durable'));
    await waitFor(() => held.length === 1);
    const lease = gc.write(() => insert.run('lease'), { durable: false }).then(() => order.push('lease'));
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(order, [], 'the lease waits for the object it may lead to');
    held.shift()!(null);
    await Promise.all([durable, lease]);
    assert.deepEqual(order, ['durable', 'lease']);
    // Nothing pending: a lease alone commits and resolves without any fsync.
    await gc.write(() => insert.run('lease2'), { durable: false });
    assert.deepEqual([gc.stats.walSyncs, held.length], [1, 0]);
    db.close();
  });

  it('an outbox claim is a lease: it commits without an fsync of its own', async () => {
    const store = openRegionMetadataStore(join(dir, 'claims.db'), 'us-east-1');
    await store.createBucket(bucketRecord('b'));
    await store.putObjectVersion(objectVersion('b', 'k', 'v1'), [{ bucket: 'b', key: 'k', versionId: 'v1', operation: 'put', destinationBucket: 'd', ruleId: 'r' }]);
    const stats = store.connection.commits.stats;
    const light = stats.lightTransactions;
    const syncs = stats.walSyncs;
    assert.equal((await store.claimOutboxTasks(Date.now(), 10, 60_000)).length, 1);
    assert.equal(stats.lightTransactions - light, 1);
    assert.equal(stats.walSyncs - syncs, 0);
    await store.completeOutboxTask((await store.listOutboxTasks({ limit: 1 }))[0]!.id);
    assert.equal(stats.lightTransactions - light, 1, 'completing is durable');
    assert.equal(stats.walSyncs - syncs, 1);
    await store.close();
  });

  it('a write waiting for another connection\'s write lock leaves the event loop free, gathers the writes that arrive meanwhile, and commits once the lock is released', async () => {
    const db = openTestDb('lock-wait.db');
    const other = new Database(join(dir, 'lock-wait.db')); // another worker, as far as SQLite can tell
    const gc = new GroupCommit(db);
    const insert = db.prepare('INSERT INTO t (id, v) VALUES (?, ?)');
    other.exec('BEGIN IMMEDIATE');
    const first = gc.write(() => insert.run(1, 'one'));
    // SQLite's busy handler would sleep right here, holding this thread for the busy timeout (5 s).
    let ticks = 0;
    const started = performance.now();
    await new Promise<void>((resolve) => {
      const tick = () => (++ticks === 20 ? resolve() : setTimeout(tick, 1));
      setTimeout(tick, 1);
    });
    assert.ok(performance.now() - started < 1000, 'the event loop ran its timers while the write waited');
    const second = gc.write(() => insert.run(2, 'two'));
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(gc.stats.transactions, 0, 'nothing committed while the other connection holds the lock');
    assert.equal(gc.stats.lockWaits, 1);
    other.exec('COMMIT');
    await Promise.all([first, second]);
    assert.equal(gc.stats.transactions, 1, 'both writes in one transaction');
    assert.deepEqual(other.prepare('SELECT id, v FROM t ORDER BY id').all(), [{ id: 1, v: 'one' }, { id: 2, v: 'two' }]);
    assert.equal(db.pragma('busy_timeout', { simple: true }), 5000, 'the connection keeps its busy timeout for everything else');
    await gc.close();
    other.close();
    db.close();
  });

  it('a write that cannot get the write lock within the busy timeout fails with SQLITE_BUSY, and later writes go on', async () => {
    const db = openDatabase(join(dir, 'lock-timeout.db'), { migrations: ['CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)'], busyTimeoutMs: 50 });
    const other = new Database(join(dir, 'lock-timeout.db'));
    const gc = new GroupCommit(db);
    const insert = db.prepare('INSERT INTO t (id, v) VALUES (?, ?)');
    other.exec('BEGIN IMMEDIATE');
    await assert.rejects(gc.write(() => insert.run(1, 'one')), (e: { code?: string }) => e.code === 'SQLITE_BUSY');
    other.exec('COMMIT');
    await gc.write(() => insert.run(2, 'two'));
    assert.deepEqual(db.prepare('SELECT id FROM t').all(), [{ id: 2 }]);
    await gc.close();
    other.close();
    db.close();
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

async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
  assert.ok(cond(), 'condition not reached');
}
