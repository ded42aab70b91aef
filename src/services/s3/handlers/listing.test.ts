/**
 * collectLatest (the walk behind ListObjects and ListObjectsV2) against a plain model: over random
 * key sets, prefixes, delimiters, start points and page sizes it returns the model's entries, the same
 * truncation and a continuation point that resumes exactly where the page ended. The store is a
 * sorted array answering the same range queries, counting the rows it hands out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { VersionSummary } from '../../../storage/types.js';
import { compareUtf8 } from '../../../storage/sqlite/key-range.js';
import { AFTER_PREFIX } from '../listing-params.js';
import { collectLatest } from './listing.js';

const summary = (key: string): VersionSummary => ({ bucket: 'b', key, versionId: 'null', isDeleteMarker: false, isLatest: true, lastModified: 0, size: 0, etag: 'e', ownerAccountId: '1', storageClass: 'STANDARD' });

function store(keys: string[]) {
  const sorted = [...new Set(keys)].sort(compareUtf8);
  let rows = 0;
  return {
    rows: () => rows,
    // As the stores answer: with a delimiter, one row per common prefix (its first key), the rest skipped.
    list: (prefix: string) => async (startAfter: string | undefined, limit: number, delimiter: string | undefined) => {
      const out: string[] = [];
      let folded: string | undefined;
      for (const k of sorted) {
        if (out.length === limit) break;
        if (!k.startsWith(prefix) || (startAfter !== undefined && compareUtf8(k, startAfter) <= 0)) continue;
        if (folded !== undefined && k.startsWith(folded)) continue;
        const at = delimiter ? k.indexOf(delimiter, prefix.length) : -1;
        if (at >= 0) folded = k.slice(0, at + delimiter!.length);
        out.push(k);
      }
      rows += out.length;
      return out.map(summary);
    },
    model(prefix: string, delimiter: string | undefined, startAfter: string | undefined): string[] {
      const entries: string[] = [];
      for (const k of sorted) {
        if (!k.startsWith(prefix) || (startAfter !== undefined && compareUtf8(k, startAfter) <= 0)) continue;
        const at = delimiter ? k.indexOf(delimiter, prefix.length) : -1;
        const e = at >= 0 ? `P:${k.slice(0, at + delimiter!.length)}` : `K:${k}`;
        if (entries[entries.length - 1] !== e) entries.push(e);
      }
      return entries;
    },
  };
}

const keyArb = fc.array(fc.constantFrom('a', 'b', '/', '-', 'é', '😀'), { minLength: 1, maxLength: 6 }).map((cs) => cs.join(''));

test('pages are the model’s entries, truncated exactly when more follow, and resume where they ended (property)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(keyArb, { maxLength: 60 }),
      fc.constantFrom('', 'a', 'a/', 'b'),
      fc.option(fc.constantFrom('/', '-', 'é'), { nil: undefined }),
      fc.integer({ min: 0, max: 12 }),
      async (keys, prefix, delimiter, limit) => {
        const s = store(keys);
        const all = s.model(prefix, delimiter, undefined);
        const got: string[] = [];
        let after: string | undefined;
        for (let pages = 0; pages <= all.length + 1; pages++) {
          const page = await collectLatest(s.list(prefix), prefix, delimiter, after, limit);
          const entries = page.entries.map((e) => (e.kind === 'prefix' ? `P:${e.prefix}` : `K:${e.version.key}`));
          assert.ok(entries.length <= limit);
          got.push(...entries);
          if (limit === 0) {
            assert.equal(page.truncated, false);
            return;
          }
          assert.equal(page.truncated, got.length < all.length, `truncated after ${got.length} of ${all.length}`);
          if (!page.truncated) break;
          const last = page.entries[page.entries.length - 1]!;
          assert.equal(page.next, last.kind === 'prefix' ? last.prefix + AFTER_PREFIX : last.version.key);
          after = page.next;
        }
        assert.deepEqual(got, all);
      },
    ),
    { numRuns: 300 },
  );
});

test('a delimiter listing asks the store to roll keys up, so it reads one row per common prefix', async () => {
  // 50 prefixes of 1,000 keys each: the page of all 50 prefixes reads 50 rows, not the 50,000 keys.
  const keys = Array.from({ length: 50 }, (_, p) => Array.from({ length: 1000 }, (_, i) => `p${String(p).padStart(2, '0')}/k${i}`)).flat();
  const s = store(keys);
  const page = await collectLatest(s.list(''), '', '/', undefined, 1000);
  assert.equal(page.entries.length, 50);
  assert.equal(page.truncated, false);
  assert.equal(s.rows(), 50);
});
