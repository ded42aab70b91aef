/** Listing: ListObjects (v1), ListObjectsV2, ListObjectVersions — UTF-8 byte order, delimiters, markers. */
import type { ListLatestOptions, ListVersionsOptions, RegionMetadataStore, VersionSummary } from '../../../storage/types.js';
import { invalidArgument } from '../s3-errors.js';
import { AFTER_PREFIX, afterMarker, encoder, encodingType, maxItems } from '../listing-params.js';
import { ListingXml } from '../listing-xml.js';
import type { S3Handler } from '../s3-context.js';
import type { S3Request } from '../s3-request.js';

/** Rows read per query at most (a page is at most 1,000 entries, plus one to know it is truncated). */
const BATCH = 1001;
/**
 * Rows read right after folding a common prefix: the next query seeks past the prefix, and the keys
 * after it may well fold too (one query per prefix), so it starts small and doubles while it does not.
 */
const AFTER_FOLD = 16;

const maxKeys = (req: S3Request) => maxItems(req, 'max-keys');

/** Summaries where the store has them (no metadata decoded), else full records. */
function latestPage(meta: RegionMetadataStore, bucket: string, o: ListLatestOptions): Promise<VersionSummary[]> {
  return meta.listLatestSummaries ? meta.listLatestSummaries(bucket, o) : meta.listLatest(bucket, o);
}
function versionsPage(meta: RegionMetadataStore, bucket: string, o: ListVersionsOptions): Promise<VersionSummary[]> {
  return meta.listVersionSummaries ? meta.listVersionSummaries(bucket, o) : meta.listVersions(bucket, o);
}

type Entry = { kind: 'object'; version: VersionSummary } | { kind: 'prefix'; prefix: string };

/**
 * Walk latest versions in key order, folding keys that share a delimiter-terminated prefix into one
 * CommonPrefixes entry. Returns up to `limit` entries and the marker to continue after. The stores
 * roll keys up by the delimiter themselves (one row per common prefix, seeking past the rest), so a
 * batch is about one entry per row; rows of an already folded prefix are skipped all the same.
 */
export async function collectLatest(
  list: (startAfter: string | undefined, limit: number, delimiter: string | undefined) => Promise<VersionSummary[]>,
  prefix: string,
  delimiter: string | undefined,
  startAfter: string | undefined,
  limit: number,
): Promise<{ entries: Entry[]; truncated: boolean; next?: string }> {
  const entries: Entry[] = [];
  // max-keys=0 is an empty page that is not truncated, whatever the bucket holds (AWS; s3-tests'
  // test_bucket_list_maxkeys_zero): there is nothing to continue from.
  if (limit === 0) return { entries, truncated: false };
  let cursor = startAfter;
  let folded: string | undefined;
  for (;;) {
    // One more than needed: a row after the last entry means the page is truncated.
    const want = Math.min(BATCH, limit - entries.length + 1);
    const batch = await list(cursor, want, delimiter);
    for (const v of batch) {
      if (folded !== undefined && v.key.startsWith(folded)) continue;
      if (entries.length === limit) return { entries, truncated: true, next: cursor! };
      const at = delimiter ? v.key.indexOf(delimiter, prefix.length) : -1;
      if (at >= 0) {
        const cp = v.key.slice(0, at + delimiter!.length);
        entries.push({ kind: 'prefix', prefix: cp });
        cursor = cp + AFTER_PREFIX;
        folded = cp;
        continue;
      }
      entries.push({ kind: 'object', version: v });
      cursor = v.key;
    }
    if (batch.length < want) return { entries, truncated: false };
  }
}

function writeEntries(doc: ListingXml, entries: Entry[], enc: (s: string) => string, withOwner: boolean): void {
  // AWS puts every Contents before the CommonPrefixes.
  for (const e of entries) if (e.kind === 'object') doc.contents(e.version, enc(e.version.key), withOwner);
  for (const e of entries) if (e.kind === 'prefix') doc.commonPrefix(enc(e.prefix));
}

function xml(doc: ListingXml) {
  return { status: 200, headers: { 'content-type': 'application/xml' }, body: doc.end() };
}

export const listObjectsV2: S3Handler = async (ctx, req, bucket) => {
  const prefix = req.query.get('prefix') ?? '';
  const delimiter = req.query.get('delimiter') || undefined;
  const limit = maxKeys(req);
  const encType = encodingType(req);
  const enc = encoder(encType);
  const token = req.query.get('continuation-token');
  const startAfter = req.query.get('start-after') ?? undefined;
  let after = startAfter;
  // An empty token is no token (AWS lists from the start, or from start-after, and echoes it).
  if (token !== null && token !== '') {
    // Tokens are the base64url of the last key: anything that does not round-trip was not issued here.
    after = Buffer.from(token, 'base64url').toString('utf8');
    if (!token || Buffer.from(after).toString('base64url') !== token) throw invalidArgument('The continuation token provided is incorrect', 'continuation-token', token);
  }
  const list = (s: string | undefined, n: number, d: string | undefined) => {
    const o: ListLatestOptions = { prefix, limit: n };
    if (s !== undefined) o.startAfter = s;
    if (d !== undefined) o.delimiter = d;
    return latestPage(ctx.meta, bucket!.name, o);
  };
  const { entries, truncated, next } = await collectLatest(list, prefix, delimiter, afterMarker(after, prefix, delimiter), limit);
  const doc = new ListingXml('ListBucketResult').head([
    ['Name', bucket!.name],
    ['Prefix', enc(prefix)],
    ['Delimiter', delimiter ? enc(delimiter) : undefined],
    ['MaxKeys', limit],
    ['EncodingType', encType],
    ['IsTruncated', truncated],
    ['ContinuationToken', token ?? undefined],
    ['NextContinuationToken', truncated && next !== undefined ? Buffer.from(next).toString('base64url') : undefined],
    ['StartAfter', startAfter !== undefined ? enc(startAfter) : undefined],
    ['KeyCount', entries.length],
  ]);
  writeEntries(doc, entries, enc, req.query.get('fetch-owner') === 'true');
  return xml(doc);
};

export const listObjects: S3Handler = async (ctx, req, bucket) => {
  const prefix = req.query.get('prefix') ?? '';
  const delimiter = req.query.get('delimiter') || undefined;
  const limit = maxKeys(req);
  const encType = encodingType(req);
  const enc = encoder(encType);
  const marker = req.query.get('marker') ?? '';
  const list = (s: string | undefined, n: number, d: string | undefined) => {
    const o: ListLatestOptions = { prefix, limit: n };
    if (s !== undefined && s !== '') o.startAfter = s;
    if (d !== undefined) o.delimiter = d;
    return latestPage(ctx.meta, bucket!.name, o);
  };
  const { entries, truncated } = await collectLatest(list, prefix, delimiter, afterMarker(marker || undefined, prefix, delimiter), limit);
  const last = entries[entries.length - 1];
  const doc = new ListingXml('ListBucketResult').head([
    ['Name', bucket!.name],
    ['Prefix', enc(prefix)],
    ['Marker', enc(marker)],
    ['NextMarker', truncated && delimiter && last ? enc(last.kind === 'prefix' ? last.prefix : last.version.key) : undefined],
    ['MaxKeys', limit],
    ['Delimiter', delimiter ? enc(delimiter) : undefined],
    ['EncodingType', encType],
    ['IsTruncated', truncated],
  ]);
  writeEntries(doc, entries, enc, true);
  return xml(doc);
};

export const listObjectVersions: S3Handler = async (ctx, req, bucket) => {
  const prefix = req.query.get('prefix') ?? '';
  const delimiter = req.query.get('delimiter') || undefined;
  const limit = maxKeys(req);
  const encType = encodingType(req);
  const enc = encoder(encType);
  const keyMarker = req.query.get('key-marker') ?? '';
  const versionIdMarker = req.query.get('version-id-marker') ?? '';
  if (versionIdMarker && !keyMarker) {
    throw invalidArgument('A version-id marker cannot be specified without a key marker.', 'version-id-marker', versionIdMarker);
  }
  const items: VersionSummary[] = [];
  const prefixes: string[] = [];
  let cursorKey: string | undefined = afterMarker(keyMarker || undefined, prefix, delimiter);
  let cursorVersion: string | undefined = versionIdMarker || undefined;
  let count = 0;
  let truncated = false;
  let nextKey: string | undefined;
  let nextVersion: string | undefined;
  let size = BATCH;
  // max-keys=0: an empty page, not truncated (as ListObjects answers).
  outer: for (; limit > 0; ) {
    const want = Math.min(size, limit - count + 1);
    const o: ListVersionsOptions = { prefix, limit: want };
    if (cursorKey !== undefined) o.keyMarker = cursorKey;
    if (cursorVersion !== undefined) o.versionIdMarker = cursorVersion;
    const batch = await versionsPage(ctx.meta, bucket!.name, o);
    size = Math.min(BATCH, size * 2);
    for (const v of batch) {
      if (count === limit) {
        truncated = true;
        break outer;
      }
      const at = delimiter ? v.key.indexOf(delimiter, prefix.length) : -1;
      if (at >= 0) {
        const cp = v.key.slice(0, at + delimiter!.length);
        prefixes.push(cp);
        count++;
        nextKey = cp;
        nextVersion = undefined;
        cursorKey = cp + AFTER_PREFIX;
        cursorVersion = undefined;
        size = AFTER_FOLD;
        continue outer; // re-query from after the common prefix
      }
      items.push(v);
      count++;
      nextKey = v.key;
      nextVersion = v.versionId;
      cursorKey = v.key;
      cursorVersion = v.versionId;
    }
    if (batch.length < want) break;
  }
  const doc = new ListingXml('ListVersionsResult').head([
    ['Name', bucket!.name],
    ['Prefix', enc(prefix)],
    ['KeyMarker', enc(keyMarker)],
    ['VersionIdMarker', versionIdMarker],
  ]);
  if (truncated) doc.head([['NextKeyMarker', nextKey !== undefined ? enc(nextKey) : undefined], ['NextVersionIdMarker', nextVersion]]);
  doc.head([['MaxKeys', limit], ['Delimiter', delimiter ? enc(delimiter) : undefined], ['EncodingType', encType], ['IsTruncated', truncated]]);
  for (const v of items) doc.version(v, enc(v.key));
  for (const p of prefixes) doc.commonPrefix(enc(p));
  return xml(doc);
};
