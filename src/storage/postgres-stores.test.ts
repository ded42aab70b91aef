/**
 * What only the PostgreSQL backend has to prove, on a throwaway server whose default collation is
 * ICU (not C): keys are ordered by UTF-8 bytes anyway; several gateways (separate connection pools
 * on one database) agree on bucket names, conditional writes, per-key order, outbox claims and
 * multipart uploads; a delimiter listing seeks past common prefixes instead of reading them; and the
 * schema version is checked and migrated.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MetadataUnavailable, WriteConditionFailed } from './errors.js';
import { bucketRecord, byUtf8, fileId, filePart, objectVersion, upload } from './contract/fixtures.js';
import { PgBucketDirectory } from './postgres/bucket-directory.js';
import { PgDatabase } from './postgres/database.js';
import { checkPostgresSchema, migratePostgres, PG_SCHEMA_VERSION, postgresSchemaVersion, SchemaVersionMismatch } from './postgres/migrate.js';
import { skipScanQuery } from './postgres/region-objects.js';
import { PgRegionMetadataStore } from './postgres/region-metadata-store.js';
import { migratedDatabases, type TestDatabase } from './testing/postgres-databases.js';
import { postgresUnavailable, startThrowawayPostgres, type ThrowawayPostgres } from './testing/throwaway-postgres.js';

const skip = postgresUnavailable();

describe('PostgreSQL storage backend', { skip }, () => {
  let server: ThrowawayPostgres;
  let fresh: Awaited<ReturnType<typeof migratedDatabases>>;
  const cleanups: (() => Promise<void>)[] = [];

  before(async () => {
    server = await startThrowawayPostgres();
    fresh = await migratedDatabases(server);
  });
  after(async () => {
    for (const c of cleanups.reverse()) await c();
    await server?.destroy();
  });

  /** A fresh database and N "gateways": each its own pool on it, as separate processes would have. */
  async function gateways(n: number): Promise<{ t: TestDatabase; dbs: PgDatabase[] }> {
    const t = await fresh();
    const dbs = [t.db, ...Array.from({ length: n - 1 }, () => new PgDatabase(t.url, { max: 10 }))];
    cleanups.push(async () => {
      for (const db of dbs.slice(1)) await db.close();
      await t.drop();
    });
    return { t, dbs };
  }

  describe('key order is UTF-8 byte order on a database whose default collation is not C', () => {
    const keys = ['a', 'B', 'é', '~', '\u00ff', '\u{1F600}', 'e', 'Z', 'ä', '\uFF21', 'a/b', 'a~', 'A'];
    const sorted = [...keys].sort(byUtf8);

    it('the database really sorts differently by default (the test would otherwise prove nothing)', async () => {
      const { t } = await gateways(1);
      const rows = await t.db.query<{ k: string }>(`SELECT k FROM unnest($1::text[]) AS k ORDER BY k`, [keys]);
      assert.notDeepEqual(
        rows.map((r) => r.k),
        sorted,
      );
      assert.deepEqual((await t.db.query<{ lt: boolean }>(`SELECT 'B' < 'a' AS lt`))[0], { lt: false });
    });

    it('listLatest, listVersions, listUploads, listBuckets and the directory list in byte order', async () => {
      const { t } = await gateways(1);
      const s = new PgRegionMetadataStore(t.db, 'us-east-1');
      const dir = new PgBucketDirectory(t.db);
      for (const k of keys) {
        await s.createBucket(bucketRecord(`b-${Buffer.from(k).toString('hex')}`));
        await dir.claim({ name: k, region: 'us-east-1', ownerAccountId: 'A' });
      }
      await s.createBucket(bucketRecord('c'));
      for (const k of keys) {
        await s.putObjectVersion(objectVersion('c', k, 'v1'));
        await s.putObjectVersion(objectVersion('c', k, 'v2'));
        await s.createUpload(upload(`u-${Buffer.from(k).toString('hex')}`, 'c', k));
      }
      assert.deepEqual((await s.listLatest('c', { limit: 100 })).map((v) => v.key), sorted);
      assert.deepEqual(
        (await s.listVersions('c', { limit: 100 })).map((v) => `${v.key}#${v.versionId}`),
        sorted.flatMap((k) => [`${k}#v2`, `${k}#v1`]),
      );
      assert.deepEqual((await s.listUploads('c', { limit: 100 })).map((u) => u.key), sorted);
      assert.deepEqual((await dir.listByOwner('A')).map((e) => e.name), sorted);
      const hexNames = keys.map((k) => `b-${Buffer.from(k).toString('hex')}`).concat('c').sort(byUtf8);
      assert.deepEqual((await s.listBuckets()).map((b) => b.name), hexNames);
      // Ranges too: after 'Z' come the lower-case and non-ASCII keys, not 'a' < 'B' < 'é' < 'Z' as ICU has it.
      assert.deepEqual((await s.listLatest('c', { startAfter: 'Z', limit: 100 })).map((v) => v.key), sorted.filter((k) => byUtf8(k, 'Z') > 0));
      assert.deepEqual((await s.listLatest('c', { prefix: 'a', limit: 100 })).map((v) => v.key), ['a', 'a/b', 'a~']);
    });
  });

  describe('several gateways on one database', () => {
    it('concurrent claims of one bucket name: exactly one wins', async () => {
      const { dbs } = await gateways(2);
      const dirs = dbs.map((db) => new PgBucketDirectory(db));
      for (let round = 0; round < 5; round++) {
        const name = `race-${round}`;
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => dirs[i % 2]!.claim({ name, region: `r${i}`, ownerAccountId: `acct${i}` })),
        );
        assert.equal(results.filter(Boolean).length, 1);
        const winner = results.indexOf(true);
        assert.deepEqual(await dirs[1 - (winner % 2)]!.lookup(name), { name, region: `r${winner}`, ownerAccountId: `acct${winner}` });
      }
    });

    it('if-none-match writes of one new key from two gateways: exactly one commits', async () => {
      const { dbs } = await gateways(2);
      const stores = dbs.map((db) => new PgRegionMetadataStore(db, 'us-east-1'));
      await stores[0]!.createBucket(bucketRecord('b'));
      for (let round = 0; round < 3; round++) {
        const key = `lock-${round}`;
        const results = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) => stores[i % 2]!.putObjectVersion(objectVersion('b', key, `v${i}`), [], { kind: 'if-none-match' })),
        );
        const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
        assert.equal(won.length, 1);
        for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof WriteConditionFailed, String(r.reason));
        assert.equal((await stores[1]!.listVersions('b', { prefix: key, limit: 100 })).length, 1);
      }
    });

    it('if-match compare-and-swap from two gateways loses no update', async () => {
      const { dbs } = await gateways(2);
      const stores = dbs.map((db) => new PgRegionMetadataStore(db, 'us-east-1'));
      await stores[0]!.createBucket(bucketRecord('b'));
      await stores[0]!.putObjectVersion(objectVersion('b', 'counter', 'v0', { etag: 'n0' }));
      let committed = 0;
      let n = 0;
      // Each writer reads the current ETag and writes the next one on condition it is unchanged.
      const writer = async (s: PgRegionMetadataStore) => {
        for (let i = 0; i < 15; i++) {
          const cur = await s.getObjectVersion('b', 'counter');
          const next = Number(cur!.etag.slice(1)) + 1;
          try {
            await s.putObjectVersion(objectVersion('b', 'counter', `v${++n}`, { etag: `n${next}` }), [], { kind: 'if-match', etag: cur!.etag });
            committed++;
          } catch (e) {
            assert.ok(e instanceof WriteConditionFailed, String(e));
          }
        }
      };
      await Promise.all([writer(stores[0]!), writer(stores[1]!), writer(stores[0]!), writer(stores[1]!)]);
      assert.ok(committed > 0);
      assert.equal((await stores[1]!.getObjectVersion('b', 'counter'))?.etag, `n${committed}`, 'every committed write built on the one before');
      assert.equal((await stores[0]!.listVersions('b', { limit: 1000 })).length, committed + 1);
    });

    it('per-key order: concurrent writes of one key from two gateways get seq and outbox ids in the same order, one latest', async () => {
      const { dbs } = await gateways(2);
      const stores = dbs.map((db) => new PgRegionMetadataStore(db, 'us-east-1'));
      await stores[0]!.createBucket(bucketRecord('b'));
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          stores[i % 2]!.putObjectVersion(objectVersion('b', 'k', `v${i}`), [
            { bucket: 'b', key: 'k', versionId: `v${i}`, operation: 'put', destinationBucket: 'dst', ruleId: 'r' },
          ]),
        ),
      );
      const versions = await stores[0]!.listVersions('b', { limit: 100 });
      assert.equal(versions.length, 40);
      assert.equal(versions.filter((v) => v.isLatest).length, 1);
      assert.equal(versions[0]!.isLatest, true, 'the latest is the highest seq');
      const bySeq = [...versions].sort((a, b) => a.seq - b.seq).map((v) => v.versionId);
      const byTaskId = (await stores[1]!.listOutboxTasks({ limit: 100 })).sort((a, b) => a.id - b.id).map((t) => t.versionId);
      assert.deepEqual(byTaskId, bySeq, 'replication sees the versions in the order they became latest');
    });

    it('outbox claims from two gateways at once hand out each task once', async () => {
      const { dbs } = await gateways(2);
      const stores = dbs.map((db) => new PgRegionMetadataStore(db, 'us-east-1'));
      await stores[0]!.createBucket(bucketRecord('b'));
      for (let i = 0; i < 60; i++) {
        await stores[0]!.putObjectVersion(objectVersion('b', `k${i}`, 'v1'), [
          { bucket: 'b', key: `k${i}`, versionId: 'v1', operation: 'put', destinationBucket: 'dst', ruleId: 'r', notBefore: 0 },
        ]);
      }
      const claimed: number[] = [];
      const worker = async (s: PgRegionMetadataStore) => {
        for (;;) {
          const batch = await s.claimOutboxTasks(1000, 4, 1_000_000);
          if (batch.length === 0) return;
          claimed.push(...batch.map((t) => t.id));
        }
      };
      await Promise.all([worker(stores[0]!), worker(stores[1]!), worker(stores[0]!), worker(stores[1]!)]);
      assert.equal(claimed.length, 60);
      assert.equal(new Set(claimed).size, 60, 'no task claimed twice while its lease runs');
    });

    it('a multipart upload whose parts go to different gateways completes on a third', async () => {
      const { dbs } = await gateways(3);
      const stores = dbs.map((db) => new PgRegionMetadataStore(db, 'us-east-1'));
      await stores[0]!.createBucket(bucketRecord('b'));
      await stores[0]!.createUpload(upload('u1', 'b', 'big'));
      const parts = Array.from({ length: 10 }, (_, i) => filePart(i + 1, fileId(i + 1)));
      await Promise.all(parts.map((p, i) => stores[i % 2]!.putPart('u1', p)));
      // The same part number from both at once: one replaces the other, never two rows.
      const [r1, r2] = await Promise.all([stores[0]!.putPart('u1', filePart(3, fileId(33))), stores[1]!.putPart('u1', filePart(3, fileId(34)))]);
      assert.equal([r1.replaced, r2.replaced].filter(Boolean).length, 2, 'each replaced what was there before it');
      const listed = await stores[2]!.listParts('u1');
      assert.deepEqual(listed.map((p) => p.partNumber), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      const version = objectVersion('b', 'big', 'v1', {
        size: listed.reduce((n, p) => n + p.size, 0),
        etag: 'x-10',
        parts: listed.map((p) => ({ partNumber: p.partNumber, size: p.size, etag: p.etag, blob: p.blob })),
      });
      await stores[2]!.completeUpload('u1', version);
      assert.equal((await stores[0]!.getObjectVersion('b', 'big'))?.parts.length, 10);
      assert.equal(await stores[1]!.getUpload('u1'), undefined);
    });
  });

  it('a delimiter listing reads a few index entries per common prefix, not every key under them', async () => {
    const { t } = await gateways(1);
    const s = new PgRegionMetadataStore(t.db, 'us-east-1');
    await s.createBucket(bucketRecord('b'));
    const keys = Array.from({ length: 10 }, (_, d) => Array.from({ length: 200 }, (_, i) => `dir${d}/file${String(i).padStart(4, '0')}`)).flat();
    keys.push('top1', 'top2');
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => s.putObjectVersion(objectVersion('b', k, 'v'))));
    await t.db.query('ANALYZE object_versions');
    const o = { delimiter: '/', limit: 1000 };
    assert.deepEqual((await s.listLatest('b', o)).map((v) => v.key), [...Array.from({ length: 10 }, (_, d) => `dir${d}/file0000`), 'top1', 'top2']);
    const q = skipScanQuery('us-east-1', 'b', o, '/', '0');
    const [plan] = await t.db.query<{ 'QUERY PLAN': unknown[] }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${q.sql}`, q.params);
    let rowsRead = 0;
    const walk = (node: Record<string, unknown>) => {
      if (node['Relation Name'] === 'object_versions') {
        assert.notEqual(node['Node Type'], 'Seq Scan', 'no sequential scan of the versions');
        rowsRead += (Number(node['Actual Rows']) + Number(node['Rows Removed by Filter'] ?? 0)) * Number(node['Actual Loops']);
      }
      for (const child of (node['Plans'] as Record<string, unknown>[] | undefined) ?? []) walk(child);
    };
    walk((plan!['QUERY PLAN'][0] as { Plan: Record<string, unknown> }).Plan);
    assert.ok(rowsRead <= 40, `read ${rowsRead} rows for 12 entries over ${keys.length} keys`);
  });

  it('while PostgreSQL is down every operation fails at once with MetadataUnavailable; after a restart the same store works again', async () => {
    const { t } = await gateways(1);
    const s = new PgRegionMetadataStore(t.db, 'us-east-1');
    await s.createBucket(bucketRecord('b'));
    await s.putObjectVersion(objectVersion('b', 'k', 'v1'));
    await server.stop();
    try {
      await assert.rejects(s.getObjectVersion('b', 'k'), MetadataUnavailable);
      await assert.rejects(s.putObjectVersion(objectVersion('b', 'k', 'v2')), MetadataUnavailable);
      await assert.rejects(s.claimOutboxTasks(0, 10, 1000), MetadataUnavailable);
    } finally {
      await server.start();
    }
    // The pool drops the dead connections and opens new ones by itself.
    assert.equal((await s.getObjectVersion('b', 'k'))?.versionId, 'v1');
    await s.putObjectVersion(objectVersion('b', 'k', 'v3'));
    assert.deepEqual((await s.listVersions('b', { limit: 10 })).map((v) => v.versionId), ['v3', 'v1'], 'nothing acknowledged was lost; the failed write left nothing');
  });

  it('a key with U+0000 (which PostgreSQL text cannot hold) is refused as 400 InvalidArgument, writing nothing', async () => {
    const { t } = await gateways(1);
    const s = new PgRegionMetadataStore(t.db, 'us-east-1');
    await s.createBucket(bucketRecord('b'));
    await assert.rejects(s.putObjectVersion(objectVersion('b', 'a\u0000b', 'v1')), (e: unknown) => (e as { code?: string; status?: number }).code === 'InvalidArgument' && (e as { status?: number }).status === 400);
    await assert.rejects(s.createUpload(upload('u1', 'b', 'a\u0000b')), (e: unknown) => (e as { status?: number }).status === 400);
    assert.deepEqual(await s.listVersions('b', { limit: 10 }), []);
    assert.equal(await s.bucketHasContent('b'), false);
  });

  describe('schema versions', () => {
    it('an empty database asks for `meridian migrate`; migrate brings it to this version; a newer one is refused', async () => {
      const url = await server.createDatabase();
      const a = new PgDatabase(url);
      const b = new PgDatabase(url);
      cleanups.push(async () => (await a.close(), await b.close()));
      await assert.rejects(checkPostgresSchema(a), (e: unknown) => e instanceof SchemaVersionMismatch && /meridian migrate/.test(e.message) && e.found === 0);
      // Two processes migrating at once: the lock makes one wait, and both end at this version.
      const [ra, rb] = await Promise.all([migratePostgres(a), migratePostgres(b)]);
      assert.deepEqual([ra.to, rb.to], [PG_SCHEMA_VERSION, PG_SCHEMA_VERSION]);
      assert.deepEqual([ra.from, rb.from].sort(), [0, PG_SCHEMA_VERSION].sort());
      await checkPostgresSchema(a);
      assert.deepEqual(await migratePostgres(a), { from: PG_SCHEMA_VERSION, to: PG_SCHEMA_VERSION }, 'idempotent');
      await a.query(`INSERT INTO schema_version (version, description) VALUES ($1, 'from the future')`, [PG_SCHEMA_VERSION + 1]);
      assert.equal(await postgresSchemaVersion(b), PG_SCHEMA_VERSION + 1);
      await assert.rejects(checkPostgresSchema(b), (e: unknown) => e instanceof SchemaVersionMismatch && /newer than this build/.test(e.message));
      await assert.rejects(migratePostgres(b), SchemaVersionMismatch);
    });
  });
});
