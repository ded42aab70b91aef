/**
 * The XML of listing responses (ListObjects, ListObjectsV2, ListObjectVersions), written straight
 * into one string. A page holds up to 1,000 entries: building an object tree per entry for the
 * generic writer (protocol/xml.ts) cost more than reading the page from SQLite. The bytes are the
 * generic writer's, element for element (listing-xml.test.ts checks the two against each other).
 */
import type { VersionSummary } from '../../storage/types.js';
import { escapeXml as esc, xmlDate } from '../protocol/xml.js';
import { canonicalUserId } from './handlers/buckets.js';
import { S3_XMLNS } from './request-body.js';

/** One head element: omitted when undefined or null, as the generic writer does. */
export type HeadValue = string | number | boolean | undefined | null;

// The canonical user id is a SHA-256 of the account id: one hash per account, not per entry.
const ownerIds = new Map<string, string>();
function ownerElement(accountId: string): string {
  let id = ownerIds.get(accountId);
  if (id === undefined) {
    if (ownerIds.size > 10_000) ownerIds.clear();
    id = `<Owner><ID>${esc(canonicalUserId(accountId))}</ID></Owner>`;
    ownerIds.set(accountId, id);
  }
  return id;
}

// Dates: `toISOString` per entry was a tenth of a page's CPU. Entries of a page mostly share their
// minute, so its "YYYY-MM-DDTHH:MM:" is formatted once and only seconds and milliseconds per entry.
const LAST_4_DIGIT_YEAR = 253_402_300_800_000; // 10000-01-01: beyond it toISOString writes ±YYYYYY
let cachedMinute = NaN;
let cachedPrefix = '';
export function listingDate(ms: number): string {
  if (!(ms >= 0 && ms < LAST_4_DIGIT_YEAR && Number.isInteger(ms))) return xmlDate(ms);
  const minute = Math.floor(ms / 60_000);
  if (minute !== cachedMinute) {
    cachedPrefix = new Date(minute * 60_000).toISOString().slice(0, 17);
    cachedMinute = minute;
  }
  const rest = ms - minute * 60_000;
  const sec = Math.floor(rest / 1000);
  const milli = rest - sec * 1000;
  return `${cachedPrefix}${sec < 10 ? '0' : ''}${sec}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

function checksumElements(v: VersionSummary): string {
  if (!v.checksum) return '';
  return `<ChecksumAlgorithm>${esc(v.checksum.algorithm)}</ChecksumAlgorithm><ChecksumType>${esc(v.checksum.type)}</ChecksumType>`;
}

/** Writes a listing document: head elements, then entries, in the order they are added. */
export class ListingXml {
  private out: string;

  constructor(private readonly root: 'ListBucketResult' | 'ListVersionsResult') {
    this.out = `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${S3_XMLNS}">`;
  }

  /** Head elements in order; undefined and null are left out. */
  head(fields: [name: string, value: HeadValue][]): this {
    for (const [name, value] of fields) {
      if (value === undefined || value === null) continue;
      this.out += `<${name}>${esc(String(value))}</${name}>`;
    }
    return this;
  }

  /** A Contents entry of ListObjects / ListObjectsV2 (`key` already encoded as encoding-type asks). */
  contents(v: VersionSummary, key: string, withOwner: boolean): this {
    this.out +=
      `<Contents><Key>${esc(key)}</Key><LastModified>${listingDate(v.lastModified)}</LastModified>` +
      `<ETag>&quot;${esc(v.etag)}&quot;</ETag>${checksumElements(v)}<Size>${v.size}</Size>` +
      `${withOwner ? ownerElement(v.ownerAccountId) : ''}<StorageClass>${esc(v.storageClass)}</StorageClass></Contents>`;
    return this;
  }

  /** A Version or DeleteMarker entry of ListObjectVersions. */
  version(v: VersionSummary, key: string): this {
    const common = `<Key>${esc(key)}</Key><VersionId>${esc(v.versionId)}</VersionId><IsLatest>${v.isLatest}</IsLatest><LastModified>${listingDate(v.lastModified)}</LastModified>`;
    if (v.isDeleteMarker) {
      this.out += `<DeleteMarker>${ownerElement(v.ownerAccountId)}${common}</DeleteMarker>`;
    } else {
      this.out +=
        `<Version>${common}<ETag>&quot;${esc(v.etag)}&quot;</ETag>${checksumElements(v)}<Size>${v.size}</Size>` +
        `<StorageClass>${esc(v.storageClass)}</StorageClass>${ownerElement(v.ownerAccountId)}</Version>`;
    }
    return this;
  }

  /** A CommonPrefixes entry (`prefix` already encoded). */
  commonPrefix(prefix: string): this {
    this.out += `<CommonPrefixes><Prefix>${esc(prefix)}</Prefix></CommonPrefixes>`;
    return this;
  }

  end(): string {
    return `${this.out}</${this.root}>`;
  }
}
