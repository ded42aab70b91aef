/**
 * Cached rows (sqlite/row-cache.ts): served from memory within a read epoch, dropped by this
 * connection's writes at once and by other connections' commits from the next epoch on; with a change
 * counter, only by commits that moved it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { beginReadEpoch } from '../common/read-epoch.js';
import { bucketRecord, objectVersion } from './contract/fixtures.js';
import { openIamStore, openKmsKeyStore, openRegionMetadataStore } from './index.js';
import { SqliteConnection } from './sqlite/connection.js';
import { RowCache } from './sqlite/row-cache.js';
import type { AccessKeyRecord, KmsKeyRecord } from './types.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meridian-row-cache-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function accessKey(id: string, owner: AccessKeyRecord['owner'], over: Partial<AccessKeyRecord> = {}): AccessKeyRecord {
  return { accessKeyId: id, secretAccessKey: `secret-${id}`, owner, status: 'Active', createdAt: 1, ...over };
}

const SCHEMA = [
  `CREATE TABLE cfg (k TEXT PRIMARY KEY, v TEXT NOT NULL);
   CREATE TABLE other (id INTEGER PRIMARY KEY, v TEXT);
   CREATE TABLE changes (id INTEGER PRIMARY KEY CHECK (id = 0), n INTEGER NOT NULL);
   INSERT INTO changes VALUES (0, 0);
   CREATE TRIGGER cfg_ins AFTER INSERT ON cfg BEGIN UPDATE changes SET n = n + 1 WHERE id = 0; END;
   CREATE TRIGGER cfg_upd AFTER UPDATE ON cfg BEGIN UPDATE changes SET n = n + 1 WHERE id = 0; END;`,
];

/** Two connections to one file (as two cluster workers have), and a cache on the first. */
function twoConnections(name: string, opts: ConstructorParameters<typeof RowCache>[1] = {}) {
  const path = join(dir, name);
  const mine = SqliteConnection.open(path, SCHEMA);
  const theirs = SqliteConnection.open(path, SCHEMA);
  const cache = new RowCache<string | undefined>(mine, opts);
  let loads = 0;
  const read = (k: string) =>
    mine.read(() =>
      cache.get(k, () => {
        loads++;
        return mine.stmt('SELECT v FROM cfg WHERE k = ?').pluck().get(k) as string | undefined;
      }),
    );
  const set = (conn: SqliteConnection, k: string, v: string) =>
    conn.write(() => conn.stmt('INSERT INTO cfg (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v').run(k, v));
  return { mine, theirs, cache, read, set, loads: () => loads, close: () => Promise.all([mine.close(), theirs.close()]) };
}

describe('row cache', () => {
  it('answers from memory within an epoch; another connection’s change shows from the next epoch on', async () => {
    const t = twoConnections('epoch.db', { counterSql: 'SELECT n FROM changes WHERE id = 0' });
    await t.set(t.theirs, 'policy', 'allow');
    beginReadEpoch();
    assert.equal(await t.read('policy'), 'allow');
    assert.equal(await t.read('policy'), 'allow');
    assert.equal(t.loads(), 1);

    await t.set(t.theirs, 'policy', 'deny');
    // A new request starts a new epoch: the change is seen.
    beginReadEpoch();
    assert.equal(await t.read('policy'), 'deny');
    assert.equal(t.loads(), 2);
    await t.close();
  });

  it('an epoch ends with the turn of the event loop even without a new request', async () => {
    const t = twoConnections('turn.db', { counterSql: 'SELECT n FROM changes WHERE id = 0' });
    await t.set(t.theirs, 'acl', 'private');
    beginReadEpoch();
    assert.equal(await t.read('acl'), 'private');
    await t.set(t.theirs, 'acl', 'public-read');
    await nextTurn();
    assert.equal(await t.read('acl'), 'public-read');
    await t.close();
  });

  it('keeps its rows while other connections commit only to other tables (the counter did not move)', async () => {
    const t = twoConnections('counter.db', { counterSql: 'SELECT n FROM changes WHERE id = 0' });
    await t.set(t.theirs, 'enc', 'AES256');
    beginReadEpoch();
    assert.equal(await t.read('enc'), 'AES256');
    for (let i = 0; i < 5; i++) {
      await t.theirs.write(() => t.theirs.stmt('INSERT INTO other (v) VALUES (?)').run(`object ${i}`));
      beginReadEpoch();
      assert.equal(await t.read('enc'), 'AES256');
    }
    assert.equal(t.loads(), 1, 'object writes elsewhere did not empty the cache');
    await t.close();
  });

  it('without a counter, any other connection’s commit drops everything', async () => {
    const t = twoConnections('nocounter.db');
    await t.set(t.theirs, 'k', 'v');
    beginReadEpoch();
    await t.read('k');
    await t.theirs.write(() => t.theirs.stmt('INSERT INTO other (v) VALUES (?)').run('x'));
    beginReadEpoch();
    await t.read('k');
    assert.equal(t.loads(), 2);
    await t.close();
  });

  it('a write through this connection that notes its topic takes effect at once, within the same epoch', async () => {
    const t = twoConnections('own.db', { topic: 'cfg', counterSql: 'SELECT n FROM changes WHERE id = 0' });
    await t.set(t.mine, 'k', 'old');
    beginReadEpoch();
    assert.equal(await t.read('k'), 'old');
    await t.mine.write(() => {
      t.mine.noteChange('cfg');
      t.mine.stmt('UPDATE cfg SET v = ? WHERE k = ?').run('new', 'k');
    });
    assert.equal(await t.read('k'), 'new');
    await t.close();
  });

  it('clearOnAnyCommit: any transaction this connection commits drops everything', async () => {
    const t = twoConnections('anycommit.db', { clearOnAnyCommit: true });
    await t.set(t.mine, 'k', 'old');
    beginReadEpoch();
    assert.equal(await t.read('k'), 'old');
    await t.set(t.mine, 'k', 'new'); // not through the cache's owner: no clear() call
    assert.equal(await t.read('k'), 'new');
    await t.close();
  });

  it('keepMisses: false never remembers "no row"; a full cache starts over', async () => {
    const t = twoConnections('misses.db', { keepMisses: false, maxEntries: 3 });
    beginReadEpoch();
    assert.equal(await t.read('new-key'), undefined);
    await t.set(t.mine, 'new-key', 'v'); // appears without any epoch or clear
    assert.equal(await t.read('new-key'), 'v');
    for (const k of ['a', 'b', 'c', 'd', 'e']) await t.read(k);
    assert.ok(t.loads() <= 7);
    await t.close();
  });
});

describe('bucket and access key caches in the stores', () => {
  it('a bucket configuration or versioning change by another process is seen by the next request; object writes keep the cache', async () => {
    const path = join(dir, 'region.db');
    const mine = openRegionMetadataStore(path, 'us-east-1');
    const theirs = openRegionMetadataStore(path, 'us-east-1');
    await theirs.createBucket(bucketRecord('b', { versioning: 'Unversioned' }));
    beginReadEpoch();
    assert.equal((await mine.getBucket('b'))?.versioning, 'Unversioned');
    assert.equal(await mine.getBucketConfig('b', 'policy'), undefined);

    await theirs.putBucketConfig('b', 'policy', '{"Statement":[]}');
    await theirs.updateBucket('b', { versioning: 'Enabled' });
    beginReadEpoch();
    assert.equal(await mine.getBucketConfig('b', 'policy'), '{"Statement":[]}');
    assert.equal((await mine.getBucket('b'))?.versioning, 'Enabled');

    await theirs.deleteBucketConfig('b', 'policy');
    beginReadEpoch();
    assert.equal(await mine.getBucketConfig('b', 'policy'), undefined);

    // This process's own writes show at once, in the same epoch.
    await mine.putBucketConfig('b', 'cors', [{ allowedOrigins: ['*'] }]);
    assert.deepEqual(await mine.getBucketConfig('b', 'cors'), [{ allowedOrigins: ['*'] }]);
    // Each read returns its own object: changing one cannot change what the next reader gets.
    const cors = (await mine.getBucketConfig<{ allowedOrigins: string[] }[]>('b', 'cors'))!;
    cors[0]!.allowedOrigins.push('mutated');
    assert.deepEqual(await mine.getBucketConfig('b', 'cors'), [{ allowedOrigins: ['*'] }]);
    const bucket = (await mine.getBucket('b'))!;
    bucket.versioning = 'Suspended';
    assert.equal((await mine.getBucket('b'))?.versioning, 'Enabled');

    await theirs.putObjectVersion(objectVersion('b', 'k', 'v1'));
    await theirs.deleteBucket('b').catch(() => undefined); // refused: the bucket has a version
    beginReadEpoch();
    assert.equal((await mine.getBucket('b'))?.name, 'b');
    await mine.close();
    await theirs.close();
  });

  it('an access key deactivated or deleted by another process is refused from the next request; a new one works at once', async () => {
    const path = join(dir, 'global.db');
    const mine = openIamStore(path);
    const theirs = openIamStore(path);
    const owner = { type: 'user' as const, accountId: '111122223333', userName: 'alice' };
    await theirs.putAccessKey(accessKey('AKIAALICE', owner));
    beginReadEpoch();
    assert.equal((await mine.getAccessKey('AKIAALICE'))?.status, 'Active');
    await theirs.updateAccessKeyStatus('AKIAALICE', 'Inactive');
    beginReadEpoch();
    assert.equal((await mine.getAccessKey('AKIAALICE'))?.status, 'Inactive');
    await theirs.deleteAccessKey('AKIAALICE');
    beginReadEpoch();
    assert.equal(await mine.getAccessKey('AKIAALICE'), undefined);
    // Not found is not remembered: a key created meanwhile works in the same epoch.
    await theirs.putAccessKey(accessKey('ASIASESSION', owner, { sessionToken: 't', expiresAt: Date.now() + 60_000 }));
    assert.equal((await mine.getAccessKey('ASIASESSION'))?.sessionToken, 't');
    await mine.close();
    await theirs.close();
  });

  it('the KMS change token is read again only when keys may have changed: here at once, elsewhere from the next request', async () => {
    const path = join(dir, 'kms.db');
    const mineRegion = openRegionMetadataStore(path, 'us-east-1');
    const theirsRegion = openRegionMetadataStore(path, 'us-east-1');
    const mine = openKmsKeyStore(mineRegion);
    const theirs = openKmsKeyStore(theirsRegion);
    const k = { keyId: 'k1', arn: 'arn:aws:kms:us-east-1:111122223333:key/k1', accountId: '111122223333', region: 'us-east-1', createdAt: 1, description: '', keyState: 'Enabled', keyUsage: 'ENCRYPT_DECRYPT', keySpec: 'SYMMETRIC_DEFAULT', origin: 'AWS_KMS', keyManager: 'CUSTOMER', multiRegion: false, policy: '{}', tags: [], rotationEnabled: false, materials: [] } as KmsKeyRecord;
    beginReadEpoch();
    const t0 = await mine.changeToken();
    await mine.createKey(k);
    const t1 = await mine.changeToken();
    assert.notEqual(t1, t0, 'a write through this connection moves the token at once');
    // Objects written by another process leave it alone; a key change there moves it from the next request.
    await theirsRegion.createBucket(bucketRecord('kb'));
    beginReadEpoch();
    assert.equal(await mine.changeToken(), t1);
    await theirs.updateKey('111122223333', 'k1', { keyState: 'Disabled' });
    beginReadEpoch();
    const t2 = await mine.changeToken();
    assert.notEqual(t2, t1);
    assert.equal((await mine.getKey('111122223333', 'k1'))?.keyState, 'Disabled');
    await mineRegion.close();
    await theirsRegion.close();
  });
});
