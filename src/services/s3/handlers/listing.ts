/** Listing: ListObjects (v1), ListObjectsV2, ListObjectVersions — UTF-8 byte order, delimiters, markers. */
import type { StoredObjectVersion } from '../../../storage/types.js';
import { toXml, xmlDate, XmlSequence, type XmlObject, type XmlValue } from '../../protocol/xml.js';
import { S3_XMLNS } from '../request-body.js';
import { invalidArgument } from '../s3-errors.js';
import { AFTER_PREFIX, afterMarker, encoder, encodingType, maxItems } from '../listing-params.js';
import type { S3Handler } from '../s3-context.js';
import type { S3Request } from '../s3-request.js';
import { canonicalUserId } from './buckets.js';

const BATCH = 1000;

const maxKeys = (req: S3Request) => maxItems(req, 'max-keys');

function owner(accountId: string): XmlObject {
  return { ID: canonicalUserId(accountId) };
}

function checksumFields(v: StoredObjectVersion): XmlObject {
  if (!v.checksum) return {};
  return { ChecksumAlgorithm: v.checksum.algorithm, ChecksumType: v.checksum.type };
}

type Entry = { kind: 'object'; version: StoredObjectVersion } | { kind: 'prefix'; prefix: string };

/**
 * Walk latest versions in key order, folding keys that share a delimiter-terminated prefix into one
 * CommonPrefixes entry. Returns up to `limit` entries and the marker to continue after. The store
 * rolls keys up by the delimiter itself (one key per common prefix, seeking past the rest), so each
 * batch is already one entry per row.
 */
async function collectLatest(
  list: (startAfter: string | undefined, limit: number, delimiter: string | undefined) => Promise<StoredObjectVersion[]>,
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
  for (;;) {
    // One more than needed: a row after the last entry means the page is truncated.
    const batch = await list(cursor, Math.min(BATCH, limit - entries.length + 1), delimiter);
    if (batch.length === 0) return { entries, truncated: false };
    for (const v of batch) {
      if (entries.length === limit) return { entries, truncated: true, next: cursor! };
      const rest = v.key.slice(prefix.length);
      const at = delimiter ? rest.indexOf(delimiter) : -1;
      if (at >= 0) {
        const cp = prefix + rest.slice(0, at + delimiter!.length);
        entries.push({ kind: 'prefix', prefix: cp });
        cursor = cp + AFTER_PREFIX;
        continue; // the store already skipped the rest of the common prefix
      }
      entries.push({ kind: 'object', version: v });
      cursor = v.key;
    }
  }
}

function contents(entries: Entry[], enc: (s: string) => string, withOwner: boolean): { Contents: XmlValue[]; CommonPrefixes: XmlValue[] } {
  const Contents: XmlValue[] = [];
  const CommonPrefixes: XmlValue[] = [];
  for (const e of entries) {
    if (e.kind === 'prefix') {
      CommonPrefixes.push({ Prefix: enc(e.prefix) });
      continue;
    }
    const v = e.version;
    const item: XmlObject = { Key: enc(v.key), LastModified: xmlDate(v.lastModified), ETag: `"${v.etag}"`, ...checksumFields(v), Size: v.size };
    if (withOwner) item.Owner = owner(v.ownerAccountId);
    item.StorageClass = v.storageClass;
    Contents.push(item);
  }
  return { Contents, CommonPrefixes };
}

function xml(root: string, body: XmlObject | XmlSequence) {
  return { status: 200, headers: { 'content-type': 'application/xml' }, body: toXml(root, body, S3_XMLNS) };
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
    const o: Parameters<typeof ctx.meta.listLatest>[1] = { prefix, limit: n };
    if (s !== undefined) o.startAfter = s;
    if (d !== undefined) o.delimiter = d;
    return ctx.meta.listLatest(bucket!.name, o);
  };
  const { entries, truncated, next } = await collectLatest(list, prefix, delimiter, afterMarker(after, prefix, delimiter), limit);
  const { Contents, CommonPrefixes } = contents(entries, enc, req.query.get('fetch-owner') === 'true');
  const body: XmlObject = {
    Name: bucket!.name,
    Prefix: enc(prefix),
    Delimiter: delimiter ? enc(delimiter) : undefined,
    MaxKeys: limit,
    EncodingType: encType,
    IsTruncated: truncated,
    ContinuationToken: token ?? undefined,
    NextContinuationToken: truncated && next !== undefined ? Buffer.from(next).toString('base64url') : undefined,
    StartAfter: startAfter !== undefined ? enc(startAfter) : undefined,
    KeyCount: entries.length,
    Contents,
    CommonPrefixes,
  };
  return xml('ListBucketResult', body);
};

export const listObjects: S3Handler = async (ctx, req, bucket) => {
  const prefix = req.query.get('prefix') ?? '';
  const delimiter = req.query.get('delimiter') || undefined;
  const limit = maxKeys(req);
  const encType = encodingType(req);
  const enc = encoder(encType);
  const marker = req.query.get('marker') ?? '';
  const list = (s: string | undefined, n: number, d: string | undefined) => {
    const o: Parameters<typeof ctx.meta.listLatest>[1] = { prefix, limit: n };
    if (s !== undefined && s !== '') o.startAfter = s;
    if (d !== undefined) o.delimiter = d;
    return ctx.meta.listLatest(bucket!.name, o);
  };
  const { entries, truncated } = await collectLatest(list, prefix, delimiter, afterMarker(marker || undefined, prefix, delimiter), limit);
  const { Contents, CommonPrefixes } = contents(entries, enc, true);
  const last = entries[entries.length - 1];
  const body: XmlObject = {
    Name: bucket!.name,
    Prefix: enc(prefix),
    Marker: enc(marker),
    NextMarker: truncated && delimiter && last ? enc(last.kind === 'prefix' ? last.prefix : last.version.key) : undefined,
    MaxKeys: limit,
    Delimiter: delimiter ? enc(delimiter) : undefined,
    EncodingType: encType,
    IsTruncated: truncated,
    Contents,
    CommonPrefixes,
  };
  return xml('ListBucketResult', body);
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
  const items: [string, XmlValue][] = [];
  const prefixes: XmlValue[] = [];
  let cursorKey: string | undefined = afterMarker(keyMarker || undefined, prefix, delimiter);
  let cursorVersion: string | undefined = versionIdMarker || undefined;
  let count = 0;
  let truncated = false;
  let nextKey: string | undefined;
  let nextVersion: string | undefined;
  // max-keys=0: an empty page, not truncated (as ListObjects answers).
  outer: for (; limit > 0; ) {
    const o: Parameters<typeof ctx.meta.listVersions>[1] = { prefix, limit: BATCH };
    if (cursorKey !== undefined) o.keyMarker = cursorKey;
    if (cursorVersion !== undefined) o.versionIdMarker = cursorVersion;
    const batch = await ctx.meta.listVersions(bucket!.name, o);
    if (batch.length === 0) break;
    for (const v of batch) {
      if (count === limit) {
        truncated = true;
        break outer;
      }
      const rest = v.key.slice(prefix.length);
      const at = delimiter ? rest.indexOf(delimiter) : -1;
      if (at >= 0) {
        const cp = prefix + rest.slice(0, at + delimiter!.length);
        prefixes.push({ Prefix: enc(cp) });
        count++;
        nextKey = cp;
        nextVersion = undefined;
        cursorKey = cp + AFTER_PREFIX;
        cursorVersion = undefined;
        continue outer;
      }
      const common = { Key: enc(v.key), VersionId: v.versionId, IsLatest: v.isLatest, LastModified: xmlDate(v.lastModified) };
      if (v.isDeleteMarker) {
        items.push(['DeleteMarker', { Owner: owner(v.ownerAccountId), ...common }]);
      } else {
        items.push(['Version', { ...common, ETag: `"${v.etag}"`, ...checksumFields(v), Size: v.size, StorageClass: v.storageClass, Owner: owner(v.ownerAccountId) }]);
      }
      count++;
      nextKey = v.key;
      nextVersion = v.versionId;
      cursorKey = v.key;
      cursorVersion = v.versionId;
    }
  }
  const head: [string, XmlValue][] = [
    ['Name', bucket!.name],
    ['Prefix', enc(prefix)],
    ['KeyMarker', enc(keyMarker)],
    ['VersionIdMarker', versionIdMarker],
  ];
  if (truncated) {
    head.push(['NextKeyMarker', nextKey !== undefined ? enc(nextKey) : undefined]);
    head.push(['NextVersionIdMarker', nextVersion]);
  }
  head.push(['MaxKeys', limit], ['Delimiter', delimiter ? enc(delimiter) : undefined], ['EncodingType', encType], ['IsTruncated', truncated]);
  return xml('ListVersionsResult', new XmlSequence([...head, ...items, ['CommonPrefixes', prefixes]]));
};
