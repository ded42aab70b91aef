/**
 * The listing writer (listing-xml.ts) produces, byte for byte, what the generic XML writer
 * (protocol/xml.ts toXml) produces for the same listing, and escapes what XML cannot carry as is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { VersionSummary } from '../../storage/types.js';
import { parseXml, text, toXml, xmlDate, XmlSequence, type XmlObject, type XmlValue } from '../protocol/xml.js';
import { canonicalUserId } from './handlers/buckets.js';
import { encoder } from './listing-params.js';
import { ListingXml, listingDate } from './listing-xml.js';
import { S3_XMLNS } from './request-body.js';

// Keys mixing plain text with everything that needs escaping: XML's five, C0 controls (TAB, LF, CR
// among them), non-BMP characters, '%' and '+' (encoding-type=url).
const tricky = fc.constantFrom('&', '<', '>', '"', "'", '\t', '\n', '\r', '\u0001', '\u001f', '\u0000', '%', '+', ' ', '/', 'é', '😀', 'a', 'Z', '0');
const key = fc.array(fc.oneof(tricky, fc.string({ maxLength: 3 })), { minLength: 1, maxLength: 12 }).map((xs) => xs.join(''));

const hex = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });

const summary: fc.Arbitrary<VersionSummary> = fc
  .record({
    key,
    versionId: fc.oneof(fc.constant('null'), hex(16)),
    isDeleteMarker: fc.boolean(),
    isLatest: fc.boolean(),
    lastModified: fc.integer({ min: 0, max: 4_102_444_800_000 }),
    size: fc.nat(),
    etag: fc.oneof(hex(32), hex(32).map((h) => `${h}-3`)),
    ownerAccountId: fc.constantFrom('111122223333', '444455556666'),
    storageClass: fc.constantFrom('STANDARD', 'STANDARD_IA', 'GLACIER'),
    checksum: fc.option(fc.record({ algorithm: fc.constantFrom('CRC32', 'CRC64NVME', 'SHA256'), value: fc.base64String(), type: fc.constantFrom('FULL_OBJECT' as const, 'COMPOSITE' as const) }), { nil: undefined }),
  })
  .map((r) => {
    const v: VersionSummary = { bucket: 'b', ...r };
    if (r.checksum === undefined) delete v.checksum;
    return v;
  });

// The generic writer's shapes, as the listing handlers built them before listing-xml.ts.
const owner = (v: VersionSummary): XmlObject => ({ ID: canonicalUserId(v.ownerAccountId) });
const checksum = (v: VersionSummary): XmlObject => (v.checksum ? { ChecksumAlgorithm: v.checksum.algorithm, ChecksumType: v.checksum.type } : {});

test('ListBucketResult (v1 and v2) is what the generic writer writes, with and without encoding-type=url', () => {
  fc.assert(
    fc.property(fc.array(summary, { maxLength: 8 }), fc.array(key, { maxLength: 4 }), fc.boolean(), fc.boolean(), key, (vs, prefixes, url, withOwner, prefix) => {
      const enc = encoder(url ? 'url' : undefined);
      const expected = toXml(
        'ListBucketResult',
        {
          Name: 'b',
          Prefix: enc(prefix),
          Delimiter: enc('/'),
          MaxKeys: 1000,
          EncodingType: url ? 'url' : undefined,
          IsTruncated: false,
          ContinuationToken: '',
          KeyCount: vs.length + prefixes.length,
          Contents: vs.map((v) => {
            const item: XmlObject = { Key: enc(v.key), LastModified: xmlDate(v.lastModified), ETag: `"${v.etag}"`, ...checksum(v), Size: v.size };
            if (withOwner) item.Owner = owner(v);
            item.StorageClass = v.storageClass;
            return item;
          }),
          CommonPrefixes: prefixes.map((p) => ({ Prefix: enc(p) })),
        },
        S3_XMLNS,
      );
      const doc = new ListingXml('ListBucketResult').head([
        ['Name', 'b'],
        ['Prefix', enc(prefix)],
        ['Delimiter', enc('/')],
        ['MaxKeys', 1000],
        ['EncodingType', url ? 'url' : undefined],
        ['IsTruncated', false],
        ['ContinuationToken', ''],
        ['NextContinuationToken', undefined],
        ['KeyCount', vs.length + prefixes.length],
      ]);
      for (const v of vs) doc.contents(v, enc(v.key), withOwner);
      for (const p of prefixes) doc.commonPrefix(enc(p));
      assert.equal(doc.end(), expected);
    }),
  );
});

test('ListVersionsResult (Version and DeleteMarker interleaved) is what the generic writer writes', () => {
  fc.assert(
    fc.property(fc.array(summary, { maxLength: 8 }), fc.array(key, { maxLength: 3 }), fc.boolean(), (vs, prefixes, url) => {
      const enc = encoder(url ? 'url' : undefined);
      const items: [string, XmlValue][] = vs.map((v) => {
        const common = { Key: enc(v.key), VersionId: v.versionId, IsLatest: v.isLatest, LastModified: xmlDate(v.lastModified) };
        return v.isDeleteMarker
          ? ['DeleteMarker', { Owner: owner(v), ...common }]
          : ['Version', { ...common, ETag: `"${v.etag}"`, ...checksum(v), Size: v.size, StorageClass: v.storageClass, Owner: owner(v) }];
      });
      const head: [string, XmlValue][] = [['Name', 'b'], ['Prefix', ''], ['KeyMarker', 'k&'], ['VersionIdMarker', ''], ['NextKeyMarker', enc('n<')], ['NextVersionIdMarker', 'v1'], ['MaxKeys', 7], ['EncodingType', url ? 'url' : undefined], ['IsTruncated', true]];
      const expected = toXml('ListVersionsResult', new XmlSequence([...head, ...items, ['CommonPrefixes', prefixes.map((p) => ({ Prefix: enc(p) }))]]), S3_XMLNS);
      const doc = new ListingXml('ListVersionsResult').head([['Name', 'b'], ['Prefix', ''], ['KeyMarker', 'k&'], ['VersionIdMarker', '']]);
      doc.head([['NextKeyMarker', enc('n<')], ['NextVersionIdMarker', 'v1']]).head([['MaxKeys', 7], ['Delimiter', undefined], ['EncodingType', url ? 'url' : undefined], ['IsTruncated', true]]);
      for (const v of vs) doc.version(v, enc(v.key));
      for (const p of prefixes) doc.commonPrefix(enc(p));
      assert.equal(doc.end(), expected);
    }),
  );
});

const v = (k: string): VersionSummary => ({ bucket: 'b', key: k, versionId: 'null', isDeleteMarker: false, isLatest: true, lastModified: 0, size: 1, etag: 'e', ownerAccountId: '1', storageClass: 'STANDARD' });
const listed = (k: string) => new ListingXml('ListBucketResult').contents(v(k), k, false).end();

test('keys are escaped: XML’s five as entities, C0 controls but TAB and LF as character references', () => {
  assert.match(listed(`a&b<c>d"e'f`), /<Key>a&amp;b&lt;c&gt;d&quot;e&apos;f<\/Key>/);
  assert.match(listed('x\u0001y\u001fz\u0000'), /<Key>x&#x1;y&#x1F;z&#x0;<\/Key>/);
  assert.match(listed('cr\rlf\ntab\t'), /<Key>cr&#xD;lf\ntab\t<\/Key>/);
});

test('every key XML 1.0 can carry (CR included) reads back as the key that was stored', () => {
  // Other C0 controls have no XML 1.0 form at all: S3 writes them as references anyway (as here),
  // and clients that need them ask for encoding-type=url.
  fc.assert(
    fc.property(key.filter((k) => !/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/.test(k)), (k) => {
      const { value } = parseXml(listed(k));
      assert.equal(text(value.Contents as never, 'Key'), k);
    }),
  );
});

test('encoding-type=url: control characters and XML’s five are percent-encoded, so nothing is left to escape', () => {
  const enc = encoder('url');
  assert.match(listed(enc('a\u0001b\r&<>"\' +/')), /<Key>a%01b%0D%26%3C%3E%22%27%20%2B\/<\/Key>/);
});

test('listing dates are toISOString’s, whatever the instant (the cached minute included)', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 253_402_300_799_999 }), { minLength: 1, maxLength: 5 }), fc.integer({ min: 0, max: 59_999 }), (instants, delta) => {
      // Instants in the same minute as the previous one take the cached path.
      for (const ms of instants.flatMap((t) => [t, Math.floor(t / 60_000) * 60_000 + delta])) assert.equal(listingDate(ms), new Date(ms).toISOString());
    }),
  );
  for (const ms of [0, 999, 1000, 59_999, 60_000, 253_402_300_799_999, 253_402_300_800_000, 8.64e15]) assert.equal(listingDate(ms), new Date(ms).toISOString());
});
