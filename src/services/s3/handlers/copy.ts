/**
 * CopyObject and UploadPartCopy: the source is read (decrypted as the caller) from whichever region
 * holds it and written as a new version or part under the destination's own fresh data key.
 */
import { pipeline, Readable } from 'node:stream';
import { ServiceError } from '../../../common/errors.js';
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm } from '../../../crypto/index.js';
import type { BucketRecord, ObjectVersion, UploadedPart } from '../../../storage/types.js';
import { toXml, xmlDate, type XmlObject } from '../../protocol/xml.js';
import { DigestingStream, openCopySource, parseCopySourceRange, resolveCopySource, type CopySource } from '../copy-source.js';
import { writeEncryptedBlob, type ByteRange } from '../object-data.js';
import { metadataFromHeaders, parseTaggingHeader, quoteEtag } from '../object-headers.js';
import { S3_XMLNS } from '../request-body.js';
import { invalidArgument, invalidRequest, noSuchUpload } from '../s3-errors.js';
import type { S3Context, S3Handler } from '../s3-context.js';
import type { S3Request } from '../s3-request.js';
import { resolveWriteEncryption } from '../bucket-encryption.js';
import { encryptionHeaders } from '../sse.js';
import { COPY_SOURCE, customerKeyFromHeaders } from '../sse-customer.js';
import { planVersionReplication, versionIdForWrite } from '../versions.js';
import { objectAclForWrite, objectOwnerFor } from './acl.js';
import { partNumberOf, uploadFor } from './multipart.js';
import { afterCommit, etagFor, etagIsMd5, validateKey } from './objects.js';
import { conditionalWriteError, conditionalWriteOf } from '../conditional-writes.js';

const MAX_COPY_SIZE = 5 * 1024 ** 3;
const SSE_REQUEST_HEADERS = [
  'x-amz-server-side-encryption',
  'x-amz-server-side-encryption-aws-kms-key-id',
  'x-amz-server-side-encryption-customer-algorithm',
  'x-amz-server-side-encryption-bucket-key-enabled',
];

function directive(req: S3Request, header: string): 'COPY' | 'REPLACE' {
  const v = req.headers[header];
  if (v === undefined) return 'COPY';
  if (v !== 'COPY' && v !== 'REPLACE') {
    throw invalidArgument(header === 'x-amz-metadata-directive' ? 'Unknown metadata directive.' : 'Unknown tagging directive.', header, v);
  }
  return v;
}

function checksumAlgorithmOf(req: S3Request, fallback: string | undefined): ChecksumAlgorithm | undefined {
  const v = req.headers['x-amz-checksum-algorithm']?.toUpperCase() ?? fallback;
  if (v === undefined) return undefined;
  if (!(CHECKSUM_ALGORITHMS as readonly string[]).includes(v)) {
    throw invalidRequest('Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]');
  }
  return v as ChecksumAlgorithm;
}

function asStream(data: Readable | Buffer): Readable {
  return Buffer.isBuffer(data) ? Readable.from([data], { objectMode: false }) : data;
}

/** Copy plaintext from the source into a new blob sealed under `dataKey`, measuring it on the way. */
async function copyBytes(ctx: S3Context, src: CopySource, req: S3Request, dataKey: Buffer, algorithm: ChecksumAlgorithm | undefined, withMd5: boolean, range?: ByteRange) {
  const sourceKey = customerKeyFromHeaders(req.headers, COPY_SOURCE);
  let opened;
  try {
    opened = await openCopySource(src, req.caller, range, sourceKey);
  } finally {
    sourceKey?.key.fill(0);
  }
  const input = asStream(opened);
  // Joined with pipeline: a failed write destroys the source read too (its descriptor closes).
  const digest = pipeline(input, new DigestingStream(algorithm, withMd5), () => undefined);
  const blob = await writeEncryptedBlob(ctx.blobs, digest, dataKey);
  return { blob, size: digest.length, ...digest.digests() };
}

/**
 * Copying an object onto itself must change something (reference §5.1): metadata (REPLACE), the
 * storage class, the website redirect or the encryption. Naming a source version id counts as a
 * change too: it restores that version as the current one (Meridian's choice, docs/decisions.md).
 */
function checkNotANoOp(req: S3Request, src: CopySource, bucket: BucketRecord, key: string, metadataDirective: string): void {
  if (src.bucket.name !== bucket.name || src.version.key !== key || src.versionAddressed) return;
  const h = req.headers;
  const storageClassChanged = h['x-amz-storage-class'] !== undefined && h['x-amz-storage-class'] !== src.version.storageClass;
  if (metadataDirective === 'REPLACE' || storageClassChanged || h['x-amz-website-redirect-location'] !== undefined || SSE_REQUEST_HEADERS.some((n) => h[n] !== undefined)) {
    return;
  }
  throw invalidRequest(
    "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
  );
}

function checksumXml(algorithm: string | undefined, value: string | undefined): XmlObject {
  return algorithm && value ? { [`Checksum${algorithm}`]: value } : {};
}

export const copyObject: S3Handler = async (ctx, req, bucket, auth) => {
  const key = req.key!;
  validateKey(key);
  const metadataDirective = directive(req, 'x-amz-metadata-directive');
  const taggingDirective = directive(req, 'x-amz-tagging-directive');
  const src = await resolveCopySource(ctx, req, auth);
  const source = src.version;
  if (source.size > MAX_COPY_SIZE) {
    throw invalidRequest(`The specified copy source is larger than the maximum allowable size for a copy source: ${MAX_COPY_SIZE}`);
  }
  checkNotANoOp(req, src, bucket!, key, metadataDirective);
  const meta = metadataFromHeaders(req.headers);
  // The target's encryption comes from the request or the bucket default, never from the source (reference §5.1).
  const encRequest = await resolveWriteEncryption(ctx.meta, bucket!.name, req.headers);
  const algorithm = checksumAlgorithmOf(req, source.checksum?.algorithm);
  const acl = objectAclForWrite(bucket!, req);
  const conditional = await conditionalWriteOf(ctx, req, bucket!.name, key);

  let fresh;
  try {
    fresh = await ctx.sse.newDataKey(req.caller, bucket!.name, key, encRequest);
  } finally {
    encRequest.customer?.key.fill(0);
  }
  const { dataKey, encryption } = fresh;
  try {
    const copied = await copyBytes(ctx, src, req, dataKey, algorithm, etagIsMd5(encryption));
    const version: ObjectVersion = {
      bucket: bucket!.name,
      key,
      versionId: versionIdForWrite(bucket!),
      isDeleteMarker: false,
      lastModified: ctx.clock.now(),
      size: copied.size,
      etag: etagFor(encryption, copied.md5),
      ownerAccountId: objectOwnerFor(bucket!, req),
      // The storage class is not copied: it is the request's, or STANDARD.
      storageClass: meta.storageClass,
      systemMetadata: metadataDirective === 'COPY' ? { ...source.systemMetadata } : meta.systemMetadata,
      userMetadata: metadataDirective === 'COPY' ? { ...source.userMetadata } : meta.userMetadata,
      encryption,
      parts: [{ partNumber: 0, size: copied.size, blob: copied.blob }],
    };
    const redirect = req.headers['x-amz-website-redirect-location'];
    if (redirect !== undefined) version.systemMetadata['x-amz-website-redirect-location'] = redirect;
    const contentType = metadataDirective === 'COPY' ? source.contentType : meta.contentType;
    if (contentType !== undefined) version.contentType = contentType;
    const tags = taggingDirective === 'COPY' ? source.tags : req.headers['x-amz-tagging'] !== undefined ? parseTaggingHeader(req.headers['x-amz-tagging']) : undefined;
    if (tags && Object.keys(tags).length > 0) version.tags = tags;
    if (algorithm && copied.checksum) version.checksum = { algorithm, value: copied.checksum, type: 'FULL_OBJECT' };

    const outbox = await planVersionReplication(ctx, version);
    let displaced;
    try {
      ({ displaced } = await ctx.meta.putObjectVersion(version, outbox, conditional?.condition));
    } catch (e) {
      await ctx.blobs.delete([copied.blob]).catch(() => undefined);
      throw conditionalWriteError(e, conditional, key);
    }
    if (acl) await ctx.meta.putObjectAcl(version.bucket, key, version.versionId, acl);
    await afterCommit(ctx, displaced, outbox.length > 0);

    const headers: Record<string, string> = { 'content-type': 'application/xml', ...encryptionHeaders(encryption) };
    if (bucket!.versioning === 'Enabled') headers['x-amz-version-id'] = version.versionId;
    if (src.bucket.versioning !== 'Unversioned') headers['x-amz-copy-source-version-id'] = source.versionId;
    const body: XmlObject = {
      ETag: quoteEtag(version.etag),
      LastModified: xmlDate(version.lastModified),
      ...(version.checksum ? { ChecksumType: version.checksum.type } : {}),
      ...checksumXml(version.checksum?.algorithm, version.checksum?.value),
    };
    return { status: 200, headers, body: toXml('CopyObjectResult', body, S3_XMLNS) };
  } finally {
    dataKey.fill(0);
  }
};

export const uploadPartCopy: S3Handler = async (ctx, req, bucket, auth) => {
  const partNumber = partNumberOf(req);
  const upload = await uploadFor(ctx, req);
  const src = await resolveCopySource(ctx, req, auth);
  const range = parseCopySourceRange(req.headers['x-amz-copy-source-range'], src.version.size);
  const length = range ? range.end - range.start + 1 : src.version.size;
  if (length > MAX_COPY_SIZE) {
    throw new ServiceError('EntityTooLarge', 400, 'Your proposed upload exceeds the maximum allowed size', { ProposedSize: String(length), MaxSizeAllowed: String(MAX_COPY_SIZE) });
  }
  const algorithm = upload.checksumAlgorithm as ChecksumAlgorithm | undefined;
  const targetKey = customerKeyFromHeaders(req.headers);
  let dataKey: Buffer;
  try {
    dataKey = await ctx.sse.dataKeyOf(req.caller, bucket!.name, upload.key, upload.encryption!, targetKey);
  } finally {
    targetKey?.key.fill(0);
  }
  let copied;
  try {
    copied = await copyBytes(ctx, src, req, dataKey, algorithm, true, range);
  } finally {
    dataKey.fill(0);
  }
  // A part's ETag is its MD5 (computed: copyBytes was asked for it).
  const part: UploadedPart = { partNumber, size: copied.size, etag: copied.md5!, lastModified: ctx.clock.now(), blob: copied.blob };
  if (algorithm && copied.checksum) part.checksum = { [algorithm]: copied.checksum };
  let replaced;
  try {
    ({ replaced } = await ctx.meta.putPart(upload.uploadId, part));
  } catch (e) {
    await ctx.blobs.delete([copied.blob]).catch(() => undefined);
    if (!(await ctx.meta.getUpload(upload.uploadId))) throw noSuchUpload(upload.uploadId);
    throw e;
  }
  if (replaced) await ctx.blobs.delete([replaced.blob]).catch(() => undefined);
  const headers: Record<string, string> = { 'content-type': 'application/xml', ...encryptionHeaders(upload.encryption) };
  if (src.bucket.versioning !== 'Unversioned') headers['x-amz-copy-source-version-id'] = src.version.versionId;
  const body: XmlObject = { ETag: quoteEtag(part.etag), LastModified: xmlDate(part.lastModified), ...checksumXml(algorithm, copied.checksum) };
  return { status: 200, headers, body: toXml('CopyPartResult', body, S3_XMLNS) };
};
