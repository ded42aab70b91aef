/**
 * The source of CopyObject and UploadPartCopy: parse x-amz-copy-source, find the source bucket in
 * any region this Meridian serves (cross-region copy), authorize the read as the caller, apply the
 * x-amz-copy-source-if-* conditions, and stream the (decrypted) source bytes.
 */
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { CustomerKey } from './sse-customer.js';
import { createHash, type Hash } from 'node:crypto';
import { ServiceError } from '../../common/errors.js';
import { createChecksum, type ChecksumAlgorithm, type IncrementalChecksum } from '../../crypto/index.js';
import type { BucketRecord, StoredObjectVersion } from '../../storage/types.js';
import { inlineObjectData, readObjectData, type ByteRange } from './object-data.js';
import { copyAcrossProcesses, invalidArgument, invalidRequest, noSuchBucket, noSuchKey, noSuchVersion } from './s3-errors.js';
import type { RequestAuthorizer, S3Context } from './s3-context.js';
import type { S3Request } from './s3-request.js';
import { checkVersionId } from './versions.js';

export interface CopySourceRef {
  bucket: string;
  key: string;
  versionId?: string;
}

/** x-amz-copy-source: `[/]bucket/key[?versionId=id]`, URL-encoded (reference: CopyObject). */
export function parseCopySource(header: string): CopySourceRef {
  const bad = () => invalidArgument('Invalid copy source object key', 'x-amz-copy-source', header);
  let value = header.trim();
  let versionId: string | undefined;
  const q = value.indexOf('?');
  if (q >= 0) {
    const params = new URLSearchParams(value.slice(q + 1));
    value = value.slice(0, q);
    const v = params.get('versionId');
    if (v !== null) versionId = v;
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    throw bad();
  }
  if (decoded.startsWith('/')) decoded = decoded.slice(1);
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) throw bad();
  const ref: CopySourceRef = { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1) };
  if (versionId !== undefined) ref.versionId = versionId;
  return ref;
}

/** A resolved, authorized copy source: its bucket, version and the region context that holds its bytes. */
export interface CopySource {
  ctx: S3Context;
  bucket: BucketRecord;
  version: StoredObjectVersion;
  /** The version id was given in x-amz-copy-source. */
  versionAddressed: boolean;
}

async function sourceContext(ctx: S3Context, bucketName: string): Promise<{ ctx: S3Context; bucket: BucketRecord }> {
  const local = await ctx.meta.getBucket(bucketName);
  if (local) return { ctx, bucket: local };
  const entry = await ctx.directory.lookup(bucketName);
  if (!entry || entry.region === ctx.region) throw noSuchBucket(bucketName);
  // Cross-region copy: the source's bytes, keys and metadata stay with its own region.
  const remote = await ctx.peers.region?.(entry.region);
  if (!remote) throw copyAcrossProcesses(bucketName, entry.region);
  const bucket = await remote.meta.getBucket(bucketName);
  if (!bucket) throw noSuchBucket(bucketName);
  return { ctx: remote, bucket };
}

function preconditionFailed(condition: string): ServiceError {
  return new ServiceError('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold', { Condition: condition });
}

function etagListMatches(header: string, etag: string): boolean {
  return header.split(',').some((t) => {
    const v = t.trim();
    return v === '*' || v === `"${etag}"` || v === etag;
  });
}

function httpDateOf(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * x-amz-copy-source-if-*: as S3 documents, If-Match true with If-Unmodified-Since false still
 * copies, and If-None-Match false with If-Modified-Since true is a 412.
 */
export function checkCopyConditions(headers: S3Request['headers'], v: StoredObjectVersion): void {
  const lastModified = Math.floor(v.lastModified / 1000) * 1000;
  const ifMatch = headers['x-amz-copy-source-if-match'];
  const ifNoneMatch = headers['x-amz-copy-source-if-none-match'];
  const ifUnmodified = httpDateOf(headers['x-amz-copy-source-if-unmodified-since']);
  const ifModified = httpDateOf(headers['x-amz-copy-source-if-modified-since']);
  if (ifMatch !== undefined) {
    if (!etagListMatches(ifMatch, v.etag)) throw preconditionFailed('x-amz-copy-source-If-Match');
  } else if (ifUnmodified !== undefined && lastModified > ifUnmodified) {
    throw preconditionFailed('x-amz-copy-source-If-Unmodified-Since');
  }
  if (ifNoneMatch !== undefined) {
    if (etagListMatches(ifNoneMatch, v.etag)) throw preconditionFailed('x-amz-copy-source-If-None-Match');
  } else if (ifModified !== undefined && lastModified <= ifModified) {
    throw preconditionFailed('x-amz-copy-source-If-Modified-Since');
  }
}

/** Find, authorize and check the copy source named by the request. */
export async function resolveCopySource(ctx: S3Context, req: S3Request, auth: RequestAuthorizer): Promise<CopySource> {
  const ref = parseCopySource(req.headers['x-amz-copy-source']!);
  const src = await sourceContext(ctx, ref.bucket);
  const versionId = checkVersionId(src.bucket, ref.versionId ?? null);
  await auth.require(versionId === undefined ? 's3:GetObject' : 's3:GetObjectVersion', src.bucket, ref.key, src.ctx.meta);
  const v = await src.ctx.meta.getObjectVersion(src.bucket.name, ref.key, versionId);
  if (!v) throw versionId === undefined ? noSuchKey(ref.key) : noSuchVersion(ref.key, versionId);
  if (v.isDeleteMarker) {
    if (versionId === undefined) throw noSuchKey(ref.key);
    throw invalidRequest('The source of a copy request may not specifically refer to a delete marker by version id.');
  }
  checkCopyConditions(req.headers, v);
  return { ctx: src.ctx, bucket: src.bucket, version: v, versionAddressed: versionId !== undefined };
}

/** x-amz-copy-source-range: `bytes=first-last`, both given, inside the source (UploadPartCopy). */
export function parseCopySourceRange(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d+)-(\d+)$/.exec(header.trim());
  if (!m || Number(m[2]) < Number(m[1])) {
    throw invalidArgument(
      'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
      'x-amz-copy-source-range',
      header,
    );
  }
  const range = { start: Number(m[1]), end: Number(m[2]) };
  if (range.end >= size) throw invalidArgument(`Range specified is not valid for source object of size: ${size}`, 'x-amz-copy-source-range', header);
  return range;
}

/**
 * The plaintext of the source (or a range of it), decrypted with the source's data key as the
 * caller (SSE-KMS sources need kms:Decrypt). The key is cleared when the stream closes.
 */
export async function openCopySource(src: CopySource, caller: S3Request['caller'], range?: ByteRange, customer?: CustomerKey): Promise<Readable | Buffer> {
  const v = src.version;
  if (!v.encryption) throw new Error(`object ${src.bucket.name}/${v.key} version ${v.versionId} has no encryption record`);
  // An SSE-C source needs its key in x-amz-copy-source-server-side-encryption-customer-* headers.
  const dataKey = await src.ctx.sse.dataKeyOf(caller, src.bucket.name, v.key, v.encryption, customer);
  try {
    const inline = inlineObjectData(v.parts, dataKey, range);
    if (inline) {
      dataKey.fill(0);
      return inline;
    }
  } catch (e) {
    dataKey.fill(0);
    throw e;
  }
  const body = readObjectData(src.ctx.blobs, v.parts, dataKey, range);
  body.once('close', () => dataKey.fill(0));
  return body;
}

/** A pass-through that measures what flows: length, MD5 (unless `withMd5` is false) and optionally one flexible checksum. */
export class DigestingStream extends Transform {
  length = 0;
  private readonly md5: Hash | undefined;
  private readonly checksum: IncrementalChecksum | undefined;

  constructor(
    readonly algorithm?: ChecksumAlgorithm,
    withMd5 = true,
  ) {
    super();
    if (withMd5) this.md5 = createHash('md5');
    if (algorithm) this.checksum = createChecksum(algorithm);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.length += chunk.length;
    this.md5?.update(chunk);
    this.checksum?.update(chunk);
    cb(null, chunk);
  }

  /** Hex MD5 (when computed) and base64 checksum; valid after the stream ended. */
  digests(): { md5?: string; checksum?: string } {
    const out: { md5?: string; checksum?: string } = {};
    if (this.md5) out.md5 = this.md5.digest('hex');
    if (this.checksum) out.checksum = this.checksum.digest().toString('base64');
    return out;
  }
}
