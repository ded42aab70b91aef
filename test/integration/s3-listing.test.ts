/**
 * Listing through the SDK v3 against a real server: ListObjectsV2 (prefix, delimiter,
 * CommonPrefixes, max-keys, continuation tokens, start-after), ListObjects v1 markers, and
 * ListObjectVersions paging with key-marker/version-id-marker over interleaved versions and delete
 * markers (reference s3-replication-sse-versioning.md §6.4). Keys are listed in UTF-8 byte order,
 * which differs from JavaScript's UTF-16 string order for characters beyond U+FFFF.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { s3Client } from '../support/clients.js';
import { bucketName, rejects } from './helpers.js';
import { signedFetch } from './signed-fetch.js';

let m: MeridianProcess;
let s3: S3Client;
const bucket = bucketName('listing');

/** UTF-8 byte order, what S3 lists in. */
const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

const KEYS: string[] = [
  ...Array.from({ length: 20 }, (_, i) => `flat-${String(i).padStart(2, '0')}`),
  ...Array.from({ length: 16 }, (_, i) => `dir${i % 4}/file-${i}.txt`),
  ...Array.from({ length: 6 }, (_, i) => `dir1/sub/deep-${i}`),
  'photos/2024/jan/1.jpg',
  'photos/2024/feb/2.jpg',
  'photos/2025/mar/3.jpg',
  'docs/readme',
  'docs/ünïcode',
  'docs/日本語',
  'docs/😀 emoji', // U+1F600: after U+FF21 in UTF-8, before it in UTF-16
  'docs/Ａ fullwidth', // U+FF21
  'docs/e\u0301 combining',
  'docs/é precomposed',
  'a b',
  'a+b',
  'a%b',
  'a/b',
  'a/b/c',
  'Z-upper',
  '0-digit',
  '~tilde',
];

before(async () => {
  m = await startMeridianProcess();
  s3 = s3Client(m);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  for (let i = 0; i < KEYS.length; i += 8) {
    await Promise.all(KEYS.slice(i, i + 8).map((Key) => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: Key }))));
  }
});
after(async () => {
  await m?.stop();
});

/** What a delimiter listing should return: keys and folded common prefixes, in byte order. */
function expectedListing(prefix: string, delimiter?: string): { keys: string[]; prefixes: string[]; all: string[] } {
  const keys: string[] = [];
  const prefixes = new Set<string>();
  for (const k of KEYS) {
    if (!k.startsWith(prefix)) continue;
    const at = delimiter ? k.indexOf(delimiter, prefix.length) : -1;
    if (at >= 0) prefixes.add(k.slice(0, at + delimiter!.length));
    else keys.push(k);
  }
  const p = [...prefixes].sort(byteOrder);
  keys.sort(byteOrder);
  return { keys, prefixes: p, all: [...keys, ...p].sort(byteOrder) };
}

describe('ListObjectsV2', () => {
  test('the test keys need UTF-8 byte order: JavaScript string order would differ', () => {
    assert.notDeepEqual([...KEYS].sort(), [...KEYS].sort(byteOrder));
  });

  test('one page lists every key in UTF-8 byte order with sizes and ETags', async () => {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    assert.equal(out.IsTruncated, false);
    assert.equal(out.KeyCount, KEYS.length);
    assert.deepEqual(out.Contents!.map((c) => c.Key), [...KEYS].sort(byteOrder));
    for (const c of out.Contents!) {
      assert.equal(c.Size, Buffer.byteLength(c.Key!));
      assert.match(c.ETag!, /^"[0-9a-f]{32}"$/);
      assert.equal(c.StorageClass, 'STANDARD');
    }
  });

  for (const maxKeys of [1, 7, 50]) {
    test(`continuation tokens with max-keys=${maxKeys} visit every key exactly once, in order`, async () => {
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: maxKeys, ...(token ? { ContinuationToken: token } : {}) }));
        const page = (out.Contents ?? []).map((c) => c.Key!);
        assert.ok(page.length <= maxKeys);
        assert.equal(out.KeyCount, page.length);
        assert.equal(out.MaxKeys, maxKeys);
        if (token) assert.equal(out.ContinuationToken, token);
        seen.push(...page);
        token = out.IsTruncated ? out.NextContinuationToken : undefined;
        if (out.IsTruncated) assert.ok(token, 'a truncated page carries NextContinuationToken');
        else assert.equal(out.NextContinuationToken, undefined);
        pages++;
      } while (token);
      assert.deepEqual(seen, [...KEYS].sort(byteOrder));
      assert.equal(pages, Math.ceil(KEYS.length / maxKeys));
    });
  }

  test('delimiter "/" folds keys into CommonPrefixes; paging by 3 never repeats a prefix', async () => {
    const want = expectedListing('', '/');
    const seenKeys: string[] = [];
    const seenPrefixes: string[] = [];
    const seenAll: string[] = [];
    let token: string | undefined;
    do {
      const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/', MaxKeys: 3, ...(token ? { ContinuationToken: token } : {}) }));
      const keys = (out.Contents ?? []).map((c) => c.Key!);
      const prefixes = (out.CommonPrefixes ?? []).map((p) => p.Prefix!);
      assert.equal(out.KeyCount, keys.length + prefixes.length, 'KeyCount counts keys and common prefixes');
      assert.ok(keys.length + prefixes.length <= 3);
      assert.equal(out.Delimiter, '/');
      seenKeys.push(...keys);
      seenPrefixes.push(...prefixes);
      seenAll.push(...[...keys, ...prefixes].sort(byteOrder));
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    assert.deepEqual(seenKeys, want.keys);
    assert.deepEqual(seenPrefixes, want.prefixes);
    assert.deepEqual(seenAll, want.all);
    assert.deepEqual(want.prefixes, ['a/', 'dir0/', 'dir1/', 'dir2/', 'dir3/', 'docs/', 'photos/']);
  });

  test('prefix with delimiter lists one level: dir1/ has files and the sub/ prefix; photos/ has year prefixes', async () => {
    const dir1 = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'dir1/', Delimiter: '/' }));
    assert.equal(dir1.Prefix, 'dir1/');
    assert.deepEqual(dir1.Contents!.map((c) => c.Key), expectedListing('dir1/', '/').keys);
    assert.deepEqual(dir1.CommonPrefixes!.map((p) => p.Prefix), ['dir1/sub/']);
    const photos = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'photos/', Delimiter: '/' }));
    assert.equal(photos.Contents, undefined);
    assert.deepEqual(photos.CommonPrefixes!.map((p) => p.Prefix), ['photos/2024/', 'photos/2025/']);
    const docs = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'docs/' }));
    assert.deepEqual(docs.Contents!.map((c) => c.Key), expectedListing('docs/').keys);
    const none = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'nothing-here/' }));
    assert.equal(none.KeyCount, 0);
    assert.equal(none.Contents, undefined);
  });

  test('start-after lists strictly after its key (which need not exist); a continuation token takes precedence', async () => {
    const sorted = [...KEYS].sort(byteOrder);
    const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, StartAfter: 'flat-10' }));
    assert.equal(out.StartAfter, 'flat-10');
    assert.deepEqual(out.Contents!.map((c) => c.Key), sorted.filter((k) => byteOrder(k, 'flat-10') > 0));
    const between = await s3.send(new ListObjectsV2Command({ Bucket: bucket, StartAfter: 'docs/z' }));
    assert.deepEqual(between.Contents!.map((c) => c.Key), sorted.filter((k) => byteOrder(k, 'docs/z') > 0));

    const first = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 5 }));
    const next = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 5, StartAfter: 'flat-19', ContinuationToken: first.NextContinuationToken! }));
    assert.deepEqual(next.Contents!.map((c) => c.Key), sorted.slice(5, 10));
  });

  test('a continuation token the server did not issue: 400 InvalidArgument; a missing bucket: 404 NoSuchBucket', async () => {
    const err = await rejects(s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: 'not a token!' })), 'InvalidArgument', 400);
    assert.equal(err.message, 'The continuation token provided is incorrect');
    await rejects(s3.send(new ListObjectsV2Command({ Bucket: bucketName('missing') })), 'NoSuchBucket', 404);
  });
});

describe('ListObjects (v1)', () => {
  test('without a delimiter: no NextMarker; paging with Marker = last key visits every key once', async () => {
    const seen: string[] = [];
    let marker: string | undefined;
    for (;;) {
      const out = await s3.send(new ListObjectsCommand({ Bucket: bucket, MaxKeys: 9, ...(marker !== undefined ? { Marker: marker } : {}) }));
      const page = (out.Contents ?? []).map((c) => c.Key!);
      assert.equal(out.NextMarker, undefined, 'NextMarker is returned only with a delimiter');
      assert.equal(out.Marker ?? '', marker ?? '');
      seen.push(...page);
      if (!out.IsTruncated) break;
      marker = page[page.length - 1];
    }
    assert.deepEqual(seen, [...KEYS].sort(byteOrder));
  });

  test('with a delimiter: NextMarker (a key or a common prefix) continues the listing', async () => {
    const want = expectedListing('', '/');
    const seenAll: string[] = [];
    let marker: string | undefined;
    for (;;) {
      const out = await s3.send(new ListObjectsCommand({ Bucket: bucket, Delimiter: '/', MaxKeys: 4, ...(marker !== undefined ? { Marker: marker } : {}) }));
      const entries = [...(out.Contents ?? []).map((c) => c.Key!), ...(out.CommonPrefixes ?? []).map((p) => p.Prefix!)].sort(byteOrder);
      seenAll.push(...entries);
      if (!out.IsTruncated) break;
      assert.equal(out.NextMarker, entries[entries.length - 1]);
      marker = out.NextMarker;
    }
    assert.deepEqual(seenAll, want.all);
  });

  test('owners are included in v1 Contents', async () => {
    const out = await s3.send(new ListObjectsCommand({ Bucket: bucket, MaxKeys: 1 }));
    assert.ok(out.Contents![0]!.Owner?.ID);
  });
});

describe('ListObjectVersions', () => {
  const vb = bucketName('versions-list');
  /** Expected entries, keys ascending and newest first within a key. */
  const expected: { key: string; versionId: string; marker: boolean; latest: boolean }[] = [];

  before(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: vb }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: vb, VersioningConfiguration: { Status: 'Enabled' } }));
    const history: Record<string, { versionId: string; marker: boolean }[]> = {};
    const put = async (key: string) => {
      const out = await s3.send(new PutObjectCommand({ Bucket: vb, Key: key, Body: `${key}@${Date.now()}` }));
      (history[key] ??= []).push({ versionId: out.VersionId!, marker: false });
    };
    const del = async (key: string) => {
      const out = await s3.send(new DeleteObjectCommand({ Bucket: vb, Key: key }));
      (history[key] ??= []).push({ versionId: out.VersionId!, marker: true });
    };
    // Interleave writes across keys so versions of one key are not adjacent in time.
    await put('k1');
    await put('k2');
    await put('k1');
    await del('k2');
    await put('k3');
    await put('k1');
    await put('k2');
    await del('k3');
    await put('ü-key');
    await del('k4-never-existed');
    await put('k5');
    await del('k5');
    await del('k5');
    for (const key of Object.keys(history).sort(byteOrder)) {
      const versions = [...history[key]!].reverse();
      versions.forEach((v, i) => expected.push({ key, ...v, latest: i === 0 }));
    }
  });

  type Entry = { key: string; versionId: string; marker: boolean; latest: boolean };
  const entriesOf = (out: ListObjectVersionsCommandOutput): Entry[] => [
    ...(out.Versions ?? []).map((v) => ({ key: v.Key!, versionId: v.VersionId!, marker: false, latest: v.IsLatest! })),
    ...(out.DeleteMarkers ?? []).map((d) => ({ key: d.Key!, versionId: d.VersionId!, marker: true, latest: d.IsLatest! })),
  ];

  test('one page: every version and delete marker, keys ascending, newest first, IsLatest on the current one', async () => {
    const out = await s3.send(new ListObjectVersionsCommand({ Bucket: vb }));
    assert.equal(out.IsTruncated, false);
    const got = entriesOf(out);
    const order = new Map(expected.map((e, i) => [e.versionId, i]));
    got.sort((a, b) => order.get(a.versionId)! - order.get(b.versionId)!);
    assert.deepEqual(got, expected);
    for (const v of out.Versions ?? []) assert.match(v.ETag!, /^"[0-9a-f]{32}"$/);
  });

  for (const maxKeys of [1, 3]) {
    test(`paging with max-keys=${maxKeys} and NextKeyMarker/NextVersionIdMarker visits each entry once, in order`, async () => {
      const seen: Entry[] = [];
      let keyMarker: string | undefined;
      let versionIdMarker: string | undefined;
      for (;;) {
        const out = await s3.send(
          new ListObjectVersionsCommand({ Bucket: vb, MaxKeys: maxKeys, ...(keyMarker !== undefined ? { KeyMarker: keyMarker, VersionIdMarker: versionIdMarker } : {}) }),
        );
        const page = entriesOf(out);
        assert.ok(page.length <= maxKeys);
        // Within a page the SDK splits versions and markers; restore the wire order from the expected list.
        const order = new Map(expected.map((e, i) => [e.versionId, i]));
        page.sort((a, b) => order.get(a.versionId)! - order.get(b.versionId)!);
        seen.push(...page);
        if (!out.IsTruncated) {
          assert.equal(out.NextKeyMarker, undefined);
          break;
        }
        const last = page[page.length - 1]!;
        assert.equal(out.NextKeyMarker, last.key, 'NextKeyMarker names the last entry returned');
        assert.equal(out.NextVersionIdMarker, last.versionId);
        keyMarker = out.NextKeyMarker;
        versionIdMarker = out.NextVersionIdMarker;
      }
      assert.deepEqual(seen, expected);
    });
  }

  test('key-marker alone starts after every version of that key', async () => {
    const out = await s3.send(new ListObjectVersionsCommand({ Bucket: vb, KeyMarker: 'k1' }));
    const got = entriesOf(out).map((e) => e.versionId).sort();
    assert.deepEqual(got, expected.filter((e) => byteOrder(e.key, 'k1') > 0).map((e) => e.versionId).sort());
  });

  test('version-id-marker without key-marker: 400 InvalidArgument', async () => {
    const err = await rejects(s3.send(new ListObjectVersionsCommand({ Bucket: vb, VersionIdMarker: expected[0]!.versionId })), 'InvalidArgument', 400);
    assert.equal(err.message, 'A version-id marker cannot be specified without a key marker.');
    assert.equal(err.ArgumentName, 'version-id-marker');
  });

  test('delimiter paging over versions folds common prefixes once and continues after them', async () => {
    const seen: string[] = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (;;) {
      const out = await s3.send(
        new ListObjectVersionsCommand({ Bucket: bucket, Delimiter: '/', MaxKeys: 2, ...(keyMarker !== undefined ? { KeyMarker: keyMarker, ...(versionIdMarker ? { VersionIdMarker: versionIdMarker } : {}) } : {}) }),
      );
      seen.push(...[...(out.Versions ?? []).map((v) => v.Key!), ...(out.CommonPrefixes ?? []).map((p) => p.Prefix!)].sort(byteOrder));
      if (!out.IsTruncated) break;
      keyMarker = out.NextKeyMarker;
      versionIdMarker = out.NextVersionIdMarker;
    }
    assert.deepEqual(seen, expectedListing('', '/').all);
  });

  test('prefix and delimiter apply to versions too', async () => {
    const out = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Delimiter: '/', Prefix: 'dir1/' }));
    assert.deepEqual(out.CommonPrefixes!.map((p) => p.Prefix), ['dir1/sub/']);
    assert.deepEqual(out.Versions!.map((v) => [v.Key, v.VersionId, v.IsLatest]), expectedListing('dir1/', '/').keys.map((k) => [k, 'null', true]));
  });
});

describe('listing wire details (raw requests)', () => {
  const values = (xml: string, element: string) => [...xml.matchAll(new RegExp(`<${element}>([^<]*)</${element}>`, 'g'))].map((x) => x[1]!);

  test('encoding-type=url percent-encodes keys and prefixes, a space as %20 (not +), "/" kept', async () => {
    const v2 = await signedFetch(m, 'GET', `/${bucket}`, { query: 'list-type=2&prefix=a&encoding-type=url' });
    assert.equal(v2.status, 200);
    assert.match(v2.text, /<EncodingType>url<\/EncodingType>/);
    assert.deepEqual(values(v2.text, 'Key'), ['a%20b', 'a%25b', 'a%2Bb', 'a/b', 'a/b/c']);
    const v1 = await signedFetch(m, 'GET', `/${bucket}`, { query: 'prefix=docs/&delimiter=%20&encoding-type=url' });
    assert.deepEqual(values(v1.text, 'Delimiter'), ['%20']);
    assert.ok(values(v1.text, 'Prefix').includes('docs/%F0%9F%98%80%20'), v1.text);
    const versions = await signedFetch(m, 'GET', `/${bucket}`, { query: 'versions&prefix=a%20&encoding-type=url' });
    assert.deepEqual(values(versions.text, 'Key'), ['a%20b']);
  });

  test('max-keys=0 answers an empty page that is not truncated (v1, v2 and versions)', async () => {
    for (const query of ['list-type=2&max-keys=0', 'max-keys=0', 'versions&max-keys=0']) {
      const r = await signedFetch(m, 'GET', `/${bucket}`, { query });
      assert.equal(r.status, 200, r.text);
      assert.match(r.text, /<IsTruncated>false<\/IsTruncated>/, query);
      assert.doesNotMatch(r.text, /<Contents>|<Version>|<NextContinuationToken>|<NextMarker>|<NextKeyMarker>/, query);
    }
  });

  test('an empty continuation-token lists from the start and is echoed', async () => {
    const r = await signedFetch(m, 'GET', `/${bucket}`, { query: 'list-type=2&continuation-token=&max-keys=2' });
    assert.equal(r.status, 200, r.text);
    assert.match(r.text, /<ContinuationToken><\/ContinuationToken>/);
    assert.deepEqual(values(r.text, 'Key'), [...KEYS].sort(byteOrder).slice(0, 2));
    const sdk = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: '', StartAfter: 'flat-18' }));
    assert.deepEqual(sdk.Contents?.map((c) => c.Key), [...KEYS].sort(byteOrder).filter((k) => byteOrder(k, 'flat-18') > 0));
  });

  test('a prefix or delimiter with control characters comes back as sent when no encoding is asked', async () => {
    const r = await signedFetch(m, 'GET', `/${bucket}`, { query: 'list-type=2&prefix=%0A&delimiter=%09' });
    assert.equal(r.status, 200, r.text);
    assert.match(r.text, /<Prefix>\n<\/Prefix>/);
    assert.match(r.text, /<Delimiter>\t<\/Delimiter>/);
    const encoded = await signedFetch(m, 'GET', `/${bucket}`, { query: 'list-type=2&prefix=%0A&delimiter=%09&encoding-type=url' });
    assert.match(encoded.text, /<Prefix>%0A<\/Prefix>/);
    assert.match(encoded.text, /<Delimiter>%09<\/Delimiter>/);
  });
});
