/** Object metadata from request headers, and object response headers from stored versions. */
import { ServiceError } from '../../common/errors.js';
import type { StoredObjectVersion } from '../../storage/types.js';
import { encryptionHeaders } from './sse.js';
import { OBJECT_TAG_LIMIT, validateTags } from './tags.js';
import { metadataHeaderValue, storedMetadataValue } from './user-metadata.js';

const SYSTEM_HEADERS = ['cache-control', 'content-disposition', 'content-encoding', 'content-language', 'expires', 'x-amz-website-redirect-location'];
const USER_METADATA_LIMIT = 2048;
const STORAGE_CLASSES = new Set(['STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER', 'DEEP_ARCHIVE', 'GLACIER_IR', 'OUTPOSTS', 'SNOW', 'EXPRESS_ONEZONE']);

export interface RequestMetadata {
  contentType?: string;
  systemMetadata: Record<string, string>;
  userMetadata: Record<string, string>;
  storageClass: string;
  tags?: Record<string, string>;
}

/** aws-chunked is a transfer detail: S3 strips it from the stored Content-Encoding. */
function storedContentEncoding(value: string): string | undefined {
  const rest = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s && s.toLowerCase() !== 'aws-chunked');
  return rest.length ? rest.join(',') : undefined;
}

export function metadataFromHeaders(headers: Record<string, string | undefined>): RequestMetadata {
  const systemMetadata: Record<string, string> = {};
  for (const h of SYSTEM_HEADERS) {
    const v = headers[h];
    if (v === undefined) continue;
    if (h === 'content-encoding') {
      const enc = storedContentEncoding(v);
      if (enc) systemMetadata[h] = enc;
    } else {
      systemMetadata[h] = v;
    }
  }
  const userMetadata: Record<string, string> = {};
  let size = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue;
    const key = name.slice('x-amz-meta-'.length);
    userMetadata[key] = storedMetadataValue(value);
    // The 2 KB limit counts the bytes sent: header strings arrive decoded as Latin-1, one character per byte.
    size += key.length + value.length;
  }
  if (size > USER_METADATA_LIMIT) {
    throw new ServiceError('MetadataTooLarge', 400, 'Your metadata headers exceed the maximum allowed metadata size', {
      Size: String(size),
      MaxSizeAllowed: String(USER_METADATA_LIMIT),
    });
  }
  const storageClass = headers['x-amz-storage-class'] ?? 'STANDARD';
  if (!STORAGE_CLASSES.has(storageClass)) {
    throw new ServiceError('InvalidStorageClass', 400, 'The storage class you specified is not valid', { StorageClassRequested: storageClass });
  }
  const meta: RequestMetadata = { systemMetadata, userMetadata, storageClass };
  const contentType = headers['content-type'];
  if (contentType !== undefined) meta.contentType = contentType;
  const tagging = headers['x-amz-tagging'];
  if (tagging !== undefined) meta.tags = parseTaggingHeader(tagging);
  return meta;
}

/** x-amz-tagging: URL query form, at most 10 tags, keys ≤128 and values ≤256 characters. */
export function parseTaggingHeader(value: string): Record<string, string> {
  return validateTags([...new URLSearchParams(value)], OBJECT_TAG_LIMIT);
}

export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

export function quoteEtag(etag: string): string {
  return `"${etag}"`;
}

/** Headers GET and HEAD return for a version (without Content-Length/Range, which depend on the request). */
export function objectHeaders(v: StoredObjectVersion, opts: { versioned: boolean }): Record<string, string> {
  const h: Record<string, string> = {
    'last-modified': httpDate(v.lastModified),
    etag: quoteEtag(v.etag),
    'accept-ranges': 'bytes',
    'content-type': v.contentType ?? 'binary/octet-stream',
  };
  for (const [k, val] of Object.entries(v.systemMetadata)) h[k] = val;
  for (const [k, val] of Object.entries(v.userMetadata)) h[`x-amz-meta-${k}`] = metadataHeaderValue(val);
  if (opts.versioned || v.versionId !== 'null') h['x-amz-version-id'] = v.versionId;
  Object.assign(h, encryptionHeaders(v.encryption));
  if (v.storageClass !== 'STANDARD') h['x-amz-storage-class'] = v.storageClass;
  if (v.replicationStatus) h['x-amz-replication-status'] = v.replicationStatus;
  if (v.tags && Object.keys(v.tags).length > 0) h['x-amz-tagging-count'] = String(Object.keys(v.tags).length);
  return h;
}

/** Checksum headers, only when the client asked (x-amz-checksum-mode: ENABLED) and for the whole object. */
export function checksumHeaders(v: StoredObjectVersion): Record<string, string> {
  if (!v.checksum) return {};
  return {
    [`x-amz-checksum-${v.checksum.algorithm.toLowerCase()}`]: v.checksum.value,
    'x-amz-checksum-type': v.checksum.type,
  };
}
