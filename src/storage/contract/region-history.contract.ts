/**
 * Contract, property-based: over random histories of puts, null puts, delete markers and version
 * deletions, paging through listVersions with the markers of the last entry returned visits every
 * version exactly once in S3 order, and listLatest pages list exactly the live keys; where a store
 * has the summary forms, they return the same pages as summaries.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import type { ListVersionsOptions, RegionMetadataStore, StoredObjectVersion, VersionSummary } from '../types.js';
import { bucketRecord, byUtf8, deleteMarker, objectVersion, withStore, type StoreFactory } from './fixtures.js';

const KEYS = ['a', 'a/b', 'b', 'é', '中', '\uFF21', '\u{1F600}', '\u{1F600}x'];

type Op =
  | { type: 'put'; key: number; nullVersion: boolean }
  | { type: 'marker'; key: number; nullVersion: boolean }
  | { type: 'delete'; key: number; pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ type: fc.constant('put' as const), key: fc.nat(KEYS.length - 1), nullVersion: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('marker' as const), key: fc.nat(KEYS.length - 1), nullVersion: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('delete' as const), key: fc.nat(KEYS.length - 1), pick: fc.nat(20) }) },
);

interface ModelVersion {
  key: string;
  versionId: string;
  order: number;
  isDeleteMarker: boolean;
}

/** Apply ops to the store and to a plain model; returns the model in S3 listing order. */
async function replay(s: RegionMetadataStore, bucket: string, ops: Op[]): Promise<ModelVersion[]> {
  let model: ModelVersion[] = [];
  let n = 0;
  for (const op of ops) {
    const key = KEYS[op.key]!;
    if (op.type === 'delete') {
      const mine = model.filter((m) => m.key === key);
      if (mine.length === 0) continue;
      const victim = mine[op.pick % mine.length]!;
      await s.deleteObjectVersion(bucket, key, victim.versionId);
      model = model.filter((m) => m !== victim);
      continue;
    }
    const versionId = op.nullVersion ? 'null' : `v${++n}`;
    const v = op.type === 'marker' ? deleteMarker(bucket, key, versionId) : objectVersion(bucket, key, versionId);
    await s.putObjectVersion(v);
    if (op.nullVersion) model = model.filter((m) => !(m.key === key && m.versionId === 'null'));
    model.push({ key, versionId, order: ++n, isDeleteMarker: op.type === 'marker' });
  }
  return model.sort((a, b) => byUtf8(a.key, b.key) || b.order - a.order);
}

const label = (v: { key: string; versionId: string }): string => `${v.key}#${v.versionId}`;

export function historyPropertyCases(make: StoreFactory<RegionMetadataStore>): void {
  it('paging listVersions with markers visits every version exactly once, in order (property)', async () => {
    await withStore(make, async (s) => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { maxLength: 40 }), fc.integer({ min: 1, max: 5 }), async (ops, pageSize) => {
          const bucket = `history-${++run}`;
          await s.createBucket(bucketRecord(bucket));
          const model = await replay(s, bucket, ops);

          const seen: StoredObjectVersion[] = [];
          let marker: { keyMarker: string; versionIdMarker: string } | undefined;
          for (let pages = 0; ; pages++) {
            assert.ok(pages <= model.length + 1, 'paging does not terminate');
            const page = await s.listVersions(bucket, { limit: pageSize, ...marker });
            seen.push(...page);
            if (page.length < pageSize) break;
            const last = page[page.length - 1]!;
            marker = { keyMarker: last.key, versionIdMarker: last.versionId };
          }
          assert.deepEqual(seen.map(label), model.map(label));
          const latestKeys = new Set<string>();
          const expectLatest = model.map((m) => !latestKeys.has(m.key) && latestKeys.add(m.key) !== undefined);
          assert.deepEqual(seen.map((v) => v.isLatest), expectLatest);
          assert.deepEqual(seen.map((v) => v.isDeleteMarker), model.map((m) => m.isDeleteMarker));

          // Key marker alone skips every version of that key.
          for (const key of new Set(model.map((m) => m.key))) {
            const after = await s.listVersions(bucket, { keyMarker: key, limit: 1000 });
            assert.deepEqual(after.map(label), model.filter((m) => byUtf8(m.key, key) > 0).map(label));
          }

          // listLatest pages: the keys whose newest version is not a delete marker.
          const live = model.filter((m, i) => expectLatest[i] && !m.isDeleteMarker).map(label);
          const listed: string[] = [];
          let startAfter: string | undefined;
          for (;;) {
            const page = await s.listLatest(bucket, { limit: pageSize, ...(startAfter !== undefined ? { startAfter } : {}) });
            listed.push(...page.map(label));
            if (page.length < pageSize) break;
            startAfter = page[page.length - 1]!.key;
          }
          assert.deepEqual(listed, live);
        }),
        { numRuns: 60 },
      );
    });
  });

  it('listLatestSummaries / listVersionSummaries return the pages of listLatest / listVersions, summarised (property)', async (t) => {
    await withStore(make, async (s) => {
      if (!s.listLatestSummaries || !s.listVersionSummaries) return t.skip('this store lists through listLatest / listVersions');
      const summarise = (v: VersionSummary): VersionSummary => {
        const out: VersionSummary = { bucket: v.bucket, key: v.key, versionId: v.versionId, isDeleteMarker: v.isDeleteMarker, lastModified: v.lastModified, size: v.size, etag: v.etag, ownerAccountId: v.ownerAccountId, storageClass: v.storageClass, isLatest: v.isLatest };
        if (v.checksum) out.checksum = v.checksum;
        return out;
      };
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(opArb, { maxLength: 30 }),
          fc.integer({ min: 1, max: 6 }),
          fc.option(fc.constantFrom('a', '\u{1F600}', 'z'), { nil: undefined }),
          fc.nat(40),
          async (ops, limit, prefix, pick) => {
            const bucket = `summaries-${++run}`;
            await s.createBucket(bucketRecord(bucket));
            const model = await replay(s, bucket, ops);
            const options: ListVersionsOptions[] = [{ limit }, { limit, keyMarker: KEYS[pick % KEYS.length]! }];
            const m = model[pick % Math.max(1, model.length)];
            // A marker version that exists, and one that does not (deleted between pages).
            if (m) options.push({ limit, keyMarker: m.key, versionIdMarker: m.versionId }, { limit, keyMarker: m.key, versionIdMarker: 'gone' });
            for (const o of options) {
              if (prefix !== undefined) o.prefix = prefix;
              assert.deepEqual(await s.listVersionSummaries!(bucket, o), (await s.listVersions(bucket, o)).map(summarise), JSON.stringify(o));
            }
            const latest = { limit, ...(prefix !== undefined ? { prefix } : {}), ...(m ? { startAfter: m.key } : {}) };
            assert.deepEqual(await s.listLatestSummaries!(bucket, latest), (await s.listLatest(bucket, latest)).map(summarise));
            // Rolled up by a delimiter ('/' folds 'a/b'; '\u{1F600}' folds the emoji keys).
            for (const delimiter of ['/', '\u{1F600}']) {
              const rolled = { ...latest, delimiter };
              assert.deepEqual(await s.listLatestSummaries!(bucket, rolled), (await s.listLatest(bucket, rolled)).map(summarise), JSON.stringify(rolled));
            }
            assert.deepEqual(await s.listLatestSummaries!(bucket, { limit }), (await s.listLatest(bucket, { limit })).map(summarise));
          },
        ),
        { numRuns: 60 },
      );
    });
  });
}
