/** Object operations: PutObject, GetObject, HeadObject (deletes live in deletes.ts). */
import { secureRandomBytes as randomBytes } from '../../../common/random.js';
import type { Readable } from 'node:stream';
import { ServiceError } from '../../../common/errors.js';
import type { BucketRecord, ObjectEncryption, ObjectVersion, StoredObjectVersion } from '../../../storage/types.js';
import { blobsOf, inlineObjectData, openObjectData, writeEncryptedBlob, type ByteRange } from '../object-data.js';
import { objectAclForWrite, objectOwnerFor } from './acl.js';
import { checksumHeaders, metadataFromHeaders, objectHeaders, quoteEtag } from '../object-headers.js';
import type { S3Context, S3Handler } from '../s3-context.js';
import type { S3Request } from '../s3-request.js';
import { resolveWriteEncryption } from '../bucket-encryption.js';
import { encryptionHeaders } from '../sse.js';
import { checkCustomerKey, customerKeyFromHeaders } from '../sse-customer.js';
import { invalidArgument, invalidRequest } from '../s3-errors.js';
import { conditionalWriteError, conditionalWriteOf, preconditionFailed } from '../conditional-writes.js';
import { checkVersionId, planVersionReplication, readableVersion, versionIdForWrite } from '../versions.js';

const MAX_KEY_BYTES = 1024;
const MAX_PUT_SIZE = 5 * 1024 ** 3;

export function validateKey(key: string): void {
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new ServiceError('KeyTooLongError', 400, 'Your key is too long', { Key: key });
}

/**
 * Whether an object written with this encryption has the MD5 of its data as ETag: plaintext and SSE-S3
 * objects do; SSE-KMS, DSSE-KMS and SSE-C objects do not (reference §5.5), so their writes need not
 * hash the body at all (MD5 is the costliest step of a large PUT after the disk).
 */
export function etagIsMd5(encryption: Pick<ObjectEncryption, 'algorithm' | 'customerKeyMd5'>): boolean {
  return !(encryption.algorithm === 'aws:kms' || encryption.algorithm === 'aws:kms:dsse' || encryption.customerKeyMd5);
}

/**
 * The ETag of a single-part write: the data's MD5, or, where that is not the rule (etagIsMd5), 32 hex
 * digits drawn at random when the version is written. Like AWS's, it then changes with every write
 * and reveals nothing about the plaintext.
 */
export function etagFor(encryption: Pick<ObjectEncryption, 'algorithm' | 'customerKeyMd5'>, md5: string | undefined): string {
  if (!etagIsMd5(encryption)) return randomBytes(16).toString('hex');
  if (md5 === undefined) throw new Error('the MD5 of an object whose ETag is its MD5 was not computed');
  return md5;
}

function declaredLength(req: S3Request): number | undefined {
  const v = req.headers['x-amz-decoded-content-length'] ?? req.headers['content-length'];
  return v === undefined ? undefined : Number(v);
}

/** After a commit: free the blobs of a version the write displaced, and wake replication. */
export async function afterCommit(ctx: S3Context, displaced: StoredObjectVersion | undefined, queued: boolean): Promise<void> {
  if (displaced) await ctx.blobs.delete(blobsOf(displaced.parts)).catch(() => undefined);
  if (queued) ctx.replicationQueued();
}

export const putObject: S3Handler = async (ctx, req, bucket) => {
  const key = req.key!;
  validateKey(key);
  const length = declaredLength(req);
  if (length !== undefined && length > MAX_PUT_SIZE) {
    throw new ServiceError('EntityTooLarge', 400, 'Your proposed upload exceeds the maximum allowed size', { ProposedSize: String(length), MaxSizeAllowed: String(MAX_PUT_SIZE) });
  }
  const meta = metadataFromHeaders(req.headers);
  const encRequest = await resolveWriteEncryption(ctx.meta, bucket!.name, req.headers);
  const acl = objectAclForWrite(bucket!, req);
  const conditional = await conditionalWriteOf(ctx, req, bucket!.name, key);
  let dataKey: Buffer;
  let encryption: ObjectEncryption;
  try {
    ({ dataKey, encryption } = await ctx.sse.newDataKey(req.caller, bucket!.name, key, encRequest));
  } finally {
    encRequest.customer?.key.fill(0);
  }
  // Before the body is read on: its MD5 is needed only when the ETag is the MD5.
  if (!etagIsMd5(encryption)) req.withoutMd5?.();
  try {
    const blob = await writeEncryptedBlob(ctx.blobs, req.body, dataKey, length);
    const payload = req.payload();
    const version: ObjectVersion = {
      bucket: bucket!.name,
      key,
      versionId: versionIdForWrite(bucket!),
      isDeleteMarker: false,
      lastModified: ctx.clock.now(),
      size: payload.decodedLength,
      etag: etagFor(encryption, payload.md5),
      ownerAccountId: objectOwnerFor(bucket!, req),
      storageClass: meta.storageClass,
      systemMetadata: meta.systemMetadata,
      userMetadata: meta.userMetadata,
      encryption,
      parts: [{ partNumber: 0, size: payload.decodedLength, blob }],
    };
    if (meta.contentType !== undefined) version.contentType = meta.contentType;
    if (meta.tags) version.tags = meta.tags;
    if (payload.checksum) version.checksum = { algorithm: payload.checksum.algorithm, value: payload.checksum.value, type: 'FULL_OBJECT' };
    const outbox = await planVersionReplication(ctx, version);
    let displaced;
    try {
      ({ displaced } = await ctx.meta.putObjectVersion(version, outbox, conditional?.condition));
    } catch (e) {
      await ctx.blobs.delete([blob]).catch(() => undefined);
      throw conditionalWriteError(e, conditional, key);
    }
    // A crash between the two commits leaves the default (owner-only) ACL: it fails closed.
    if (acl) await ctx.meta.putObjectAcl(version.bucket, key, version.versionId, acl);
    await afterCommit(ctx, displaced, outbox.length > 0);
    const headers: Record<string, string> = { etag: quoteEtag(version.etag), ...encryptionHeaders(encryption) };
    if (bucket!.versioning === 'Enabled') headers['x-amz-version-id'] = version.versionId;
    if (version.checksum) {
      headers[`x-amz-checksum-${version.checksum.algorithm.toLowerCase()}`] = version.checksum.value;
      headers['x-amz-checksum-type'] = 'FULL_OBJECT';
    }
    if (encRequest.extraContext) {
      headers['x-amz-server-side-encryption-context'] = Buffer.from(JSON.stringify(encryption.context)).toString('base64');
    }
    return { status: 200, headers };
  } finally {
    dataKey.fill(0);
  }
};

// ------------------------------------------------------------------------------------ reads

function etagMatches(header: string, etag: string): boolean {
  return header.split(',').some((t) => {
    const v = t.trim().replace(/^W\//, '');
    return v === '*' || v === `"${etag}"` || v === etag;
  });
}

function parseHttpDate(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

/** RFC 7232 evaluation order, as S3 applies it: If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since. */
function checkReadPreconditions(req: S3Request, v: StoredObjectVersion): { notModified: boolean } {
  const h = req.headers;
  const lastModified = Math.floor(v.lastModified / 1000) * 1000;
  const ifMatch = h['if-match'];
  if (ifMatch !== undefined && !etagMatches(ifMatch, v.etag)) throw preconditionFailed('If-Match');
  const ifUnmodified = parseHttpDate(h['if-unmodified-since']);
  if (ifMatch === undefined && ifUnmodified !== undefined && lastModified > ifUnmodified) throw preconditionFailed('If-Unmodified-Since');
  const ifNoneMatch = h['if-none-match'];
  if (ifNoneMatch !== undefined) return { notModified: etagMatches(ifNoneMatch, v.etag) };
  const ifModified = parseHttpDate(h['if-modified-since']);
  if (ifModified !== undefined && lastModified <= ifModified) return { notModified: true };
  return { notModified: false };
}

/** Parse a single Range header against a size; undefined = whole object (unsupported forms are ignored, as S3 does). */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) throw invalidRange(size);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return undefined;
  }
  if (start >= size) throw invalidRange(size);
  return { start, end };
}

function invalidRange(size: number): ServiceError {
  return new ServiceError('InvalidRange', 416, 'The requested range is not satisfiable', { ActualObjectSize: String(size) }, { 'content-range': `bytes */${size}` });
}

/**
 * ?partNumber=N on GET/HEAD: the bytes of the object's Nth part (by position) with
 * x-amz-mp-parts-count; a single-PUT object has exactly one part. Not together with Range.
 */
function partOf(req: S3Request, v: StoredObjectVersion): { range?: ByteRange; index: number; count: number } | undefined {
  const param = req.query.get('partNumber');
  if (param === null) return undefined;
  const n = Number(param);
  if (!/^\d+$/.test(param) || n < 1 || n > 10000) throw invalidArgument('Part number must be an integer between 1 and 10000, inclusive', 'partNumber', param);
  if (req.headers.range !== undefined) throw invalidRequest('Cannot specify both Range header and partNumber query parameter');
  const multipart = v.parts.length > 1 || (v.parts[0]?.partNumber ?? 0) > 0;
  const count = multipart ? v.parts.length : 1;
  // Past the last part: 400 InvalidPart, as S3 answers (s3-tests' test_multipart_get_part and
  // test_non_multipart_get_part), although its error list also documents 416 InvalidPartNumber.
  if (n > count) {
    throw new ServiceError(
      'InvalidPart',
      400,
      "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
      { PartNumber: param },
    );
  }
  const start = v.parts.slice(0, n - 1).reduce((sum, p) => sum + p.size, 0);
  const size = multipart ? v.parts[n - 1]!.size : v.size;
  const out: { range?: ByteRange; index: number; count: number } = { index: n - 1, count: multipart ? count : 0 };
  if (size > 0) out.range = { start, end: start + size - 1 };
  return out;
}

const RESPONSE_OVERRIDES: Record<string, string> = {
  'response-content-type': 'content-type',
  'response-content-language': 'content-language',
  'response-expires': 'expires',
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
};

async function readObject(ctx: S3Context, req: S3Request, bucket: BucketRecord, head: boolean): Promise<{ status: number; headers: Record<string, string>; body?: Readable | Buffer }> {
  const versionId = checkVersionId(bucket, req.query.get('versionId'));
  const sseHeader = req.headers['x-amz-server-side-encryption'];
  if (sseHeader !== undefined) {
    // The encryption of a stored object is not the reader's to choose (reference §5.1).
    throw invalidArgument('x-amz-server-side-encryption header is not supported for this operation.', 'x-amz-server-side-encryption', sseHeader);
  }
  const customer = customerKeyFromHeaders(req.headers);
  try {
    return await readVersion(ctx, req, bucket, head, versionId, customer);
  } finally {
    customer?.key.fill(0);
  }
}

async function readVersion(
  ctx: S3Context,
  req: S3Request,
  bucket: BucketRecord,
  head: boolean,
  versionId: string | undefined,
  customer: ReturnType<typeof customerKeyFromHeaders>,
): Promise<{ status: number; headers: Record<string, string>; body?: Readable | Buffer }> {
  // HEAD answers from metadata: a small object's inline bytes stay unread.
  const v = await readableVersion(ctx, bucket, req.key!, versionId, req.method, { withData: !head });
  // SSE-C objects answer only to their key, HEAD included (reference §5.7).
  checkCustomerKey(v.encryption?.customerKeyMd5, customer);
  const headers = objectHeaders(v, { versioned: bucket.versioning !== 'Unversioned' });
  for (const [param, header] of Object.entries(RESPONSE_OVERRIDES)) {
    const value = req.query.get(param);
    if (value === null) continue;
    // A value that cannot be a header (CR/LF, other controls, characters outside ISO-8859-1) would
    // split or break the response: refused before any object byte is opened.
    if (/[^\t\x20-\x7e\x80-\xff]/.test(value)) throw invalidArgument('Header value cannot be represented using ISO-8859-1.', param, value);
    headers[header] = value;
  }
  const { notModified } = checkReadPreconditions(req, v);
  if (notModified) {
    const h: Record<string, string> = { etag: headers.etag!, 'last-modified': headers['last-modified']! };
    if (headers['x-amz-version-id']) h['x-amz-version-id'] = headers['x-amz-version-id'];
    return { status: 304, headers: h };
  }
  const part = partOf(req, v);
  const range = part ? part.range : parseRange(req.headers.range, v.size);
  const checksumMode = req.headers['x-amz-checksum-mode']?.toUpperCase() === 'ENABLED';
  if (part) {
    if (part.count > 0) headers['x-amz-mp-parts-count'] = String(part.count);
    const sum = v.checksum ? v.parts[part.index]?.checksum?.[v.checksum.algorithm] : undefined;
    if (checksumMode && sum) Object.assign(headers, { [`x-amz-checksum-${v.checksum!.algorithm.toLowerCase()}`]: sum, 'x-amz-checksum-type': v.checksum!.type });
  } else if (!range && checksumMode) {
    Object.assign(headers, checksumHeaders(v));
  }
  if (range) {
    headers['content-range'] = `bytes ${range.start}-${range.end}/${v.size}`;
    headers['content-length'] = String(range.end - range.start + 1);
  } else {
    headers['content-length'] = String(v.size);
  }
  const status = range ? 206 : 200;
  if (head) return { status, headers };
  // Every stored object is encrypted (SSE-S3 at least); a version without encryption is corrupt metadata.
  if (!v.encryption) throw new Error(`object ${bucket.name}/${v.key} version ${v.versionId} has no encryption record`);
  const dataKey = await ctx.sse.dataKeyOf(req.caller, bucket.name, v.key, v.encryption, customer);
  // Small (inline) objects: one Buffer, no stream (see inlineObjectData).
  let inline: Buffer | undefined;
  try {
    inline = inlineObjectData(v.parts, dataKey, range);
  } catch (e) {
    dataKey.fill(0);
    throw e;
  }
  if (inline) {
    dataKey.fill(0);
    return { status, headers, body: inline };
  }
  let body: Readable;
  try {
    body = await openObjectData(ctx.blobs, v.parts, dataKey, range);
  } catch (e) {
    dataKey.fill(0);
    throw e;
  }
  // The key stays referenced by the stream until it ends; clear it then.
  body.once('close', () => dataKey.fill(0));
  return { status, headers, body };
}

export const getObject: S3Handler = (ctx, req, bucket) => readObject(ctx, req, bucket!, false);
export const headObject: S3Handler = (ctx, req, bucket) => readObject(ctx, req, bucket!, true);
