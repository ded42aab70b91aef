/** Contract: object versions, versioning semantics, listings (part of the RegionMetadataStore suite). */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import type { ObjectVersion, RegionMetadataStore } from '../types.js';
import { bucketRecord, byUtf8, deleteMarker, fileId, objectVersion, withStore, withoutHistory, type StoreFactory } from './fixtures.js';

const B = 'versions-bucket';

async function withBucket(make: StoreFactory<RegionMetadataStore>, fn: (s: RegionMetadataStore) => Promise<void>): Promise<void> {
  await withStore(make, async (s) => {
    await s.createBucket(bucketRecord(B));
    await fn(s);
  });
}

const ids = (vs: { key: string; versionId: string }[]): string[] => vs.map((v) => `${v.key}#${v.versionId}`);

export function objectVersionCases(make: StoreFactory<RegionMetadataStore>): void {
  it('stores every field of a version and gives it back unchanged', async () => {
    await withBucket(make, async (s) => {
      const v: ObjectVersion = objectVersion(B, 'photos/cat.jpg', 'v1', {
        contentType: 'image/jpeg',
        systemMetadata: { 'cache-control': 'no-cache' },
        userMetadata: { colour: 'grey' },
        tags: { k: 'v' },
        checksum: { algorithm: 'CRC32', value: 'AAAAAA==', type: 'FULL_OBJECT' },
        encryption: {
          algorithm: 'aws:kms',
          kmsKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/k',
          bucketKeyEnabled: true,
          context: { 'aws:s3:arn': 'arn:aws:s3:::b/photos/cat.jpg' },
          wrappedKey: Buffer.from([0, 1, 2, 255]),
        },
        parts: [
          { partNumber: 1, size: 10, etag: 'aa', checksum: { CRC32: 'x' }, blob: { kind: 'file', id: fileId(1), size: 42 } },
          { partNumber: 2, size: 3, blob: { kind: 'inline', data: Buffer.from('xyz') } },
          { partNumber: 3, size: 2, blob: { kind: 'inline', data: Buffer.from('AB') } },
        ],
        size: 15,
        etag: '0123456789abcdef0123456789abcdef-3',
        replicationStatus: 'PENDING',
        replicationDetail: { dest: { status: 'PENDING', ruleId: 'r1' } },
      });
      assert.deepEqual(await s.putObjectVersion(v), {});
      const got = await s.getObjectVersion(B, v.key, 'v1');
      assert.deepEqual(withoutHistory(got), v);
      assert.equal(got!.isLatest, true);
      assert.deepEqual(withoutHistory(await s.getObjectVersion(B, v.key)), v);
      // Read for HEAD (withData: false): the same record; inline bytes, if left unread, load on use.
      assert.deepEqual(withoutHistory(await s.getObjectVersion(B, v.key, 'v1', { withData: false })), v);
      assert.deepEqual(withoutHistory(await s.getObjectVersion(B, v.key, undefined, { withData: false })), v);
    });
  });

  it('an SSE-C record keeps its key MD5 and, for a replica, the wrap label of its source', async () => {
    await withBucket(make, async (s) => {
      const v: ObjectVersion = objectVersion(B, 'secret', 'v1', {
        encryption: { algorithm: 'AES256', wrappedKey: Buffer.from([9, 8, 7]), customerKeyMd5: 'bWQ1', customerWrapLabel: 'sse-c:src/secret' },
        replicationStatus: 'REPLICA',
      });
      await s.putObjectVersion(v);
      assert.deepEqual(withoutHistory(await s.getObjectVersion(B, 'secret', 'v1')), v);
    });
  });

  it('latest is the version put last; older versions stay readable and not latest', async () => {
    await withBucket(make, async (s) => {
      await s.putObjectVersion(objectVersion(B, 'k', 'v1'));
      await s.putObjectVersion(objectVersion(B, 'k', 'v2'));
      const latest = await s.getObjectVersion(B, 'k');
      assert.equal(latest?.versionId, 'v2');
      assert.equal(latest?.isLatest, true);
      const old = await s.getObjectVersion(B, 'k', 'v1');
      assert.equal(old?.isLatest, false);
      assert.ok(old!.seq < latest!.seq);
      assert.equal(await s.getObjectVersion(B, 'k', 'nope'), undefined);
      assert.equal(await s.getObjectVersion(B, 'other'), undefined);
    });
  });

  it("a 'null' version replaces the previous null version, which comes back displaced", async () => {
    await withBucket(make, async (s) => {
      await s.putObjectVersion(objectVersion(B, 'k', 'null', { userMetadata: { n: '1' } }));
      await s.putObjectVersion(objectVersion(B, 'k', 'v1'));
      const { displaced } = await s.putObjectVersion(objectVersion(B, 'k', 'null', { userMetadata: { n: '2' } }));
      assert.equal(displaced?.versionId, 'null');
      assert.deepEqual(displaced?.userMetadata, { n: '1' });
      assert.equal(displaced?.parts[0]?.blob.kind, 'inline');
      const all = await s.listVersions(B, { limit: 10 });
      assert.deepEqual(ids(all), ['k#null', 'k#v1']);
      assert.deepEqual(all.map((v) => v.isLatest), [true, false]);
      assert.deepEqual((await s.getObjectVersion(B, 'k'))?.userMetadata, { n: '2' });
    });
  });

  it('a version id written again (replication retry) is replaced in place and keeps its place in history', async () => {
    await withBucket(make, async (s) => {
      await s.putObjectVersion(objectVersion(B, 'k', 'v1', { etag: 'first' }));
      await s.putObjectVersion(objectVersion(B, 'k', 'v2'));
      const { displaced } = await s.putObjectVersion(objectVersion(B, 'k', 'v1', { etag: 'second' }));
      assert.equal(displaced?.etag, 'first');
      assert.equal((await s.getObjectVersion(B, 'k'))?.versionId, 'v2', 'the newer version stays latest');
      assert.equal((await s.getObjectVersion(B, 'k', 'v1'))?.etag, 'second');
      assert.deepEqual(ids(await s.listVersions(B, { limit: 10 })), ['k#v2', 'k#v1']);
    });
  });

  it('a delete marker becomes latest, hides the key from listLatest, and removing it restores the object', async () => {
    await withBucket(make, async (s) => {
      await s.putObjectVersion(objectVersion(B, 'a', 'v1'));
      await s.putObjectVersion(objectVersion(B, 'k', 'v1'));
      await s.putObjectVersion(deleteMarker(B, 'k', 'dm1'));
      const latest = await s.getObjectVersion(B, 'k');
      assert.equal(latest?.isDeleteMarker, true);
      assert.equal(latest?.versionId, 'dm1');
      assert.deepEqual(ids(await s.listLatest(B, { limit: 10 })), ['a#v1']);
      await s.putObjectVersion(deleteMarker(B, 'k', 'dm2'));
      assert.deepEqual(ids(await s.listVersions(B, { limit: 10 })), ['a#v1', 'k#dm2', 'k#dm1', 'k#v1']);
      await s.deleteObjectVersion(B, 'k', 'dm2');
      await s.deleteObjectVersion(B, 'k', 'dm1');
      assert.equal((await s.getObjectVersion(B, 'k'))?.versionId, 'v1');
      assert.deepEqual(ids(await s.listLatest(B, { limit: 10 })), ['a#v1', 'k#v1']);
    });
  });

  it('deleteObjectVersion returns the removed version; the previous one becomes latest', async () => {
    await withBucket(make, async (s) => {
      await s.putObjectVersion(objectVersion(B, 'k', 'v1'));
      await s.putObjectVersion(objectVersion(B, 'k', 'v2'));
      const removed = await s.deleteObjectVersion(B, 'k', 'v2');
      assert.equal(removed?.versionId, 'v2');
      assert.equal(removed?.isLatest, true);
      assert.equal(removed?.parts[0]?.blob.kind === 'inline' && removed.parts[0].blob.data.toString(), 'k@v2');
      assert.equal(await s.deleteObjectVersion(B, 'k', 'v2'), undefined);
      assert.equal((await s.getObjectVersion(B, 'k'))?.versionId, 'v1');
      assert.equal((await s.getObjectVersion(B, 'k'))?.isLatest, true);
      await s.deleteObjectVersion(B, 'k', 'v1');
      assert.equal(await s.getObjectVersion(B, 'k'), undefined);
      assert.deepEqual(await s.listLatest(B, { limit: 10 }), []);
    });
  });

  it('listLatest orders keys by UTF-8 bytes and applies prefix and startAfter (exclusive)', async () => {
    await withBucket(make, async (s) => {
      // UTF-16 order would put U+1F600 before U+FF21; UTF-8 order puts it after.
      const keys = ['b', 'a', '\u{1F600}', 'é', '中', '\uFF21', 'p/é', 'p/a', 'p/\u{1F600}', 'p/\uFF21', 'p', 'q'];
      for (const k of keys) await s.putObjectVersion(objectVersion(B, k, 'v'));
      const sorted = [...keys].sort(byUtf8);
      assert.deepEqual((await s.listLatest(B, { limit: 100 })).map((v) => v.key), sorted);
      assert.deepEqual((await s.listLatest(B, { prefix: 'p/', limit: 100 })).map((v) => v.key), ['p/a', 'p/é', 'p/\uFF21', 'p/\u{1F600}']);
      assert.deepEqual((await s.listLatest(B, { prefix: 'p/', startAfter: 'p/é', limit: 100 })).map((v) => v.key), ['p/\uFF21', 'p/\u{1F600}']);
      assert.deepEqual((await s.listLatest(B, { startAfter: 'é', limit: 2 })).map((v) => v.key), ['中', '\uFF21']);
      assert.deepEqual((await s.listLatest(B, { startAfter: '\u{1F600}', limit: 100 })).map((v) => v.key), []);
      // startAfter before the prefix range, and a prefix that matches nothing
      assert.deepEqual((await s.listLatest(B, { prefix: 'p/', startAfter: 'a', limit: 1 })).map((v) => v.key), ['p/a']);
      assert.deepEqual(await s.listLatest(B, { prefix: 'zz', limit: 10 }), []);
      // every listed version is latest and its inline bytes are readable
      for (const v of await s.listLatest(B, { limit: 100 })) {
        assert.equal(v.isLatest, true);
        const blob = v.parts[0]!.blob;
        assert.equal(blob.kind === 'inline' && blob.data.toString(), `${v.key}@v`);
      }
    });
  });

  it('listLatest pages with startAfter visit each live key once', async () => {
    await withBucket(make, async (s) => {
      const keys = Array.from({ length: 25 }, (_, i) => `k${String(i).padStart(2, '0')}`);
      for (const k of keys) await s.putObjectVersion(objectVersion(B, k, 'v1'));
      for (const k of keys.filter((_, i) => i % 3 === 0)) await s.putObjectVersion(deleteMarker(B, k, 'dm'));
      const seen: string[] = [];
      let startAfter: string | undefined;
      for (;;) {
        const page = await s.listLatest(B, { limit: 4, ...(startAfter ? { startAfter } : {}) });
        seen.push(...page.map((v) => v.key));
        if (page.length < 4) break;
        startAfter = page[page.length - 1]!.key;
      }
      assert.deepEqual(seen, keys.filter((_, i) => i % 3 !== 0));
    });
  });

  it('listLatest with a delimiter returns the first key of each common prefix and skips the rest', async () => {
    await withBucket(make, async (s) => {
      for (const k of ['a/1', 'a/2', 'a/b/3', 'b', 'c/1', 'c/2', 'd', 'p/x/1', 'p/x/2', 'p/y', 'p/z/1']) await s.putObjectVersion(objectVersion(B, k, 'v'));
      await s.putObjectVersion(deleteMarker(B, 'd', 'dm'));
      const keys = async (o: { prefix?: string; startAfter?: string; limit?: number; delimiter: string }) =>
        (await s.listLatest(B, { limit: 100, ...o })).map((v) => v.key);
      assert.deepEqual(await keys({ delimiter: '/' }), ['a/1', 'b', 'c/1', 'p/x/1']);
      assert.deepEqual(await keys({ delimiter: '/', limit: 2 }), ['a/1', 'b']);
      assert.deepEqual(await keys({ delimiter: '/', prefix: 'p/' }), ['p/x/1', 'p/y', 'p/z/1']);
      assert.deepEqual(await keys({ delimiter: '/', startAfter: 'a/1' }), ['a/2', 'b', 'c/1', 'p/x/1'], 'a start inside a common prefix stands for it again');
      assert.deepEqual(await keys({ delimiter: '/', startAfter: 'a/\u{10FFFF}' }), ['b', 'c/1', 'p/x/1']);
      assert.deepEqual(await keys({ delimiter: 'x/' }), ['a/1', 'a/2', 'a/b/3', 'b', 'c/1', 'c/2', 'p/x/1', 'p/y', 'p/z/1'], 'multi-character delimiter');
    });
  });

  it('listLatest with a delimiter agrees with rolling up the plain listing (property)', async () => {
    await withBucket(make, async (s) => {
      const alphabet = ['a', '/', 'b', 'é', '\u{1F600}', '\uFF21'];
      const keyArb = fc.array(fc.constantFrom(...alphabet), { minLength: 1, maxLength: 4 }).map((cs) => cs.join(''));
      const keys = [...new Set(fc.sample(keyArb, { numRuns: 120, seed: 7 }))];
      for (const k of keys) await s.putObjectVersion(objectVersion(B, k, 'v'));
      const live = [...keys].sort(byUtf8);
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('/', 'é', '\u{1F600}', 'a/', '\uFF21'),
          fc.constantFrom('', 'a', 'a/', 'é', '\u{1F600}'),
          fc.option(keyArb, { nil: undefined }),
          fc.integer({ min: 1, max: 6 }),
          async (delimiter, prefix, startAfter, limit) => {
            const expected: string[] = [];
            let lastCommon: string | undefined;
            for (const k of live) {
              if (!k.startsWith(prefix) || (startAfter !== undefined && byUtf8(k, startAfter) <= 0)) continue;
              const at = k.indexOf(delimiter, prefix.length);
              const common = at >= 0 ? k.slice(0, at + delimiter.length) : undefined;
              if (common !== undefined && common === lastCommon) continue;
              lastCommon = common;
              expected.push(k);
            }
            const got = await s.listLatest(B, { prefix, delimiter, limit, ...(startAfter !== undefined ? { startAfter } : {}) });
            assert.deepEqual(got.map((v) => v.key), expected.slice(0, limit));
          },
        ),
        { numRuns: 80 },
      );
    });
  });

  it('listVersions: keys ascending, newest first, and both exclusive marker forms', async () => {
    await withBucket(make, async (s) => {
      for (const [k, v] of [['a', 'a1'], ['b', 'b1'], ['a', 'a2'], ['b', 'b2'], ['c', 'c1'], ['b', 'b3']] as const) {
        await s.putObjectVersion(objectVersion(B, k, v));
      }
      await s.putObjectVersion(deleteMarker(B, 'a', 'a3'));
      const all = await s.listVersions(B, { limit: 100 });
      assert.deepEqual(ids(all), ['a#a3', 'a#a2', 'a#a1', 'b#b3', 'b#b2', 'b#b1', 'c#c1']);
      assert.deepEqual(all.map((v) => v.isLatest), [true, false, false, true, false, false, true]);
      assert.deepEqual(all.map((v) => v.isDeleteMarker), [true, false, false, false, false, false, false]);
      // key marker alone: after every version of that key
      assert.deepEqual(ids(await s.listVersions(B, { keyMarker: 'a', limit: 100 })), ['b#b3', 'b#b2', 'b#b1', 'c#c1']);
      // key + version marker: after that version
      assert.deepEqual(ids(await s.listVersions(B, { keyMarker: 'b', versionIdMarker: 'b3', limit: 3 })), ['b#b2', 'b#b1', 'c#c1']);
      assert.deepEqual(ids(await s.listVersions(B, { keyMarker: 'b', versionIdMarker: 'b1', limit: 3 })), ['c#c1']);
      assert.deepEqual(ids(await s.listVersions(B, { keyMarker: 'a', versionIdMarker: 'a3', limit: 2 })), ['a#a2', 'a#a1']);
      // an empty key marker is no marker
      assert.deepEqual(ids(await s.listVersions(B, { keyMarker: '', limit: 1 })), ['a#a3']);
      // prefix
      assert.deepEqual(ids(await s.listVersions(B, { prefix: 'b', limit: 100 })), ['b#b3', 'b#b2', 'b#b1']);
      assert.deepEqual(ids(await s.listVersions(B, { prefix: 'b', keyMarker: 'b', versionIdMarker: 'b2', limit: 100 })), ['b#b1']);
      // a page starting mid-key reports isLatest correctly
      assert.deepEqual((await s.listVersions(B, { keyMarker: 'b', versionIdMarker: 'b3', limit: 1 })).map((v) => v.isLatest), [false]);
    });
  });

  it('listVersions and listLatest are per bucket', async () => {
    await withBucket(make, async (s) => {
      await s.createBucket(bucketRecord('other'));
      await s.putObjectVersion(objectVersion(B, 'k', 'v1'));
      await s.putObjectVersion(objectVersion('other', 'k', 'v9'));
      assert.deepEqual(ids(await s.listVersions(B, { limit: 10 })), ['k#v1']);
      assert.deepEqual(ids(await s.listLatest('other', { limit: 10 })), ['k#v9']);
    });
  });

  it('putObjectTags replaces and removes the tags of one version', async () => {
    await withBucket(make, async (s) => {
      await s.putObjectVersion(objectVersion(B, 'k', 'v1', { tags: { a: '1' } }));
      await s.putObjectVersion(objectVersion(B, 'k', 'v2'));
      await s.putObjectTags(B, 'k', 'v1', { b: '2', c: '3' });
      assert.deepEqual((await s.getObjectVersion(B, 'k', 'v1'))?.tags, { b: '2', c: '3' });
      assert.equal((await s.getObjectVersion(B, 'k', 'v2'))?.tags, undefined);
      await s.putObjectTags(B, 'k', 'v1', undefined);
      assert.equal((await s.getObjectVersion(B, 'k', 'v1'))?.tags, undefined);
    });
  });

  it('putObjectAcl stores a version’s ACL; it goes with the version', async () => {
    await withBucket(make, async (s) => {
      await s.putObjectVersion(objectVersion(B, 'k', 'v1'));
      await s.putObjectVersion(objectVersion(B, 'k', 'v2'));
      assert.equal(await s.getObjectAcl(B, 'k', 'v1'), undefined);
      await s.putObjectAcl(B, 'k', 'v1', { grants: ['a'] });
      await s.putObjectAcl(B, 'k', 'v1', { grants: ['b'] });
      assert.deepEqual(await s.getObjectAcl(B, 'k', 'v1'), { grants: ['b'] });
      assert.equal(await s.getObjectAcl(B, 'k', 'v2'), undefined);
      await s.putObjectAcl(B, 'missing', 'v1', { grants: [] });
      await s.deleteObjectVersion(B, 'k', 'v1');
      await s.putObjectVersion(objectVersion(B, 'k', 'v1'));
      assert.equal(await s.getObjectAcl(B, 'k', 'v1'), undefined, 'a new version with the same id starts without the old ACL');
      await s.putObjectAcl(B, 'k', 'v2', { grants: ['c'] });
      await s.putObjectAcl(B, 'k', 'v2', undefined);
      assert.equal(await s.getObjectAcl(B, 'k', 'v2'), undefined);
    });
  });

  it('isBlobReferenced knows the files of versions', async () => {
    await withBucket(make, async (s) => {
      const v = objectVersion(B, 'k', 'v1', { parts: [{ partNumber: 0, size: 9, blob: { kind: 'file', id: fileId(7), size: 9 } }] });
      await s.putObjectVersion(v);
      assert.equal(await s.isBlobReferenced(fileId(7)), true);
      assert.equal(await s.isBlobReferenced(fileId(8)), false);
      await s.deleteObjectVersion(B, 'k', 'v1');
      assert.equal(await s.isBlobReferenced(fileId(7)), false);
    });
  });
}
