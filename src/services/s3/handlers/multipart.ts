/** Multipart uploads: Create, UploadPart, Complete, Abort, ListParts, ListMultipartUploads. */
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream';
import { ServiceError } from '../../../common/errors.js';
import { newUploadId } from '../../../common/ids.js';
import { combineCrcs, computeChecksum, isCombinable, type ChecksumAlgorithm } from '../../../crypto/index.js';
import { DigestingStream } from '../copy-source.js';
import type { BucketRecord, MultipartUpload, ObjectVersion, UploadedPart } from '../../../storage/types.js';
import { UploadNotFound, UploadPartChanged } from '../../../storage/errors.js';
import { children, malformedXml, parseXml, text, token, toXml, type XmlObject } from '../../protocol/xml.js';
import { blobsOf, writeEncryptedBlob } from '../object-data.js';
import { metadataFromHeaders, quoteEtag } from '../object-headers.js';
import { readSmallBody, S3_XMLNS } from '../request-body.js';
import { invalidArgument, invalidRequest, noSuchUpload } from '../s3-errors.js';
import type { S3Context, S3Handler } from '../s3-context.js';
import type { S3Request } from '../s3-request.js';
import { resolveWriteEncryption } from '../bucket-encryption.js';
import { encryptionHeaders } from '../sse.js';
import { customerKeyFromHeaders } from '../sse-customer.js';
import { planVersionReplication, versionIdForWrite } from '../versions.js';
import { objectAclForWrite, objectOwnerFor } from './acl.js';
import { afterCommit, validateKey } from './objects.js';
import { conditionalWriteError, conditionalWriteOf } from '../conditional-writes.js';

const MIN_PART_SIZE = 5 * 1024 * 1024;
const MAX_PART_SIZE = 5 * 1024 ** 3;
const CHECKSUM_ALGORITHMS = new Set(['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256']);

function xml(root: string, body: XmlObject, headers: Record<string, string> = {}) {
  return { status: 200, headers: { 'content-type': 'application/xml', ...headers }, body: toXml(root, body, S3_XMLNS) };
}

export async function uploadFor(ctx: S3Context, req: S3Request): Promise<MultipartUpload> {
  const uploadId = req.query.get('uploadId') ?? '';
  const upload = await ctx.meta.getUpload(uploadId);
  if (!upload || upload.bucket !== req.bucket || upload.key !== req.key) throw noSuchUpload(uploadId);
  return upload;
}

function checksumHeadersOf(algorithm: string | undefined, value: string | undefined): Record<string, string> {
  return algorithm && value ? { [`x-amz-checksum-${algorithm.toLowerCase()}`]: value } : {};
}

export const createMultipartUpload: S3Handler = async (ctx, req, bucket) => {
  const key = req.key!;
  validateKey(key);
  const meta = metadataFromHeaders(req.headers);
  const encRequest = await resolveWriteEncryption(ctx.meta, bucket!.name, req.headers);
  const { algorithm, type } = uploadChecksumMode(req);
  const acl = objectAclForWrite(bucket!, req);
  let encryption;
  try {
    const fresh = await ctx.sse.newDataKey(req.caller, bucket!.name, key, encRequest);
    fresh.dataKey.fill(0);
    encryption = fresh.encryption;
  } finally {
    encRequest.customer?.key.fill(0);
  }
  const upload: MultipartUpload = {
    uploadId: newUploadId(),
    bucket: bucket!.name,
    key,
    initiated: ctx.clock.now(),
    ownerAccountId: objectOwnerFor(bucket!, req),
    storageClass: meta.storageClass,
    systemMetadata: meta.systemMetadata,
    userMetadata: meta.userMetadata,
    encryption,
  };
  if (acl) upload.acl = acl;
  if (meta.contentType !== undefined) upload.contentType = meta.contentType;
  if (meta.tags) upload.tags = meta.tags;
  if (algorithm) {
    upload.checksumAlgorithm = algorithm;
    upload.checksumType = type;
  }
  await ctx.meta.createUpload(upload);
  const headers: Record<string, string> = encryptionHeaders(encryption);
  if (algorithm) {
    headers['x-amz-checksum-algorithm'] = algorithm;
    headers['x-amz-checksum-type'] = type!;
  }
  return xml('InitiateMultipartUploadResult', { Bucket: bucket!.name, Key: key, UploadId: upload.uploadId }, headers);
};

/**
 * x-amz-checksum-algorithm and x-amz-checksum-type of CreateMultipartUpload: CRC32/CRC32C may be
 * COMPOSITE (the default) or FULL_OBJECT, SHA1/SHA256 only COMPOSITE, CRC64NVME only FULL_OBJECT.
 */
function uploadChecksumMode(req: S3Request): { algorithm?: ChecksumAlgorithm; type?: 'COMPOSITE' | 'FULL_OBJECT' } {
  const algorithm = req.headers['x-amz-checksum-algorithm']?.toUpperCase();
  const typeHeader = req.headers['x-amz-checksum-type']?.toUpperCase();
  if (algorithm === undefined) {
    if (typeHeader !== undefined) throw invalidRequest('The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.');
    return {};
  }
  if (!CHECKSUM_ALGORITHMS.has(algorithm)) {
    throw invalidRequest('Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]');
  }
  const type = typeHeader ?? (algorithm === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE');
  if (type !== 'COMPOSITE' && type !== 'FULL_OBJECT') throw invalidRequest(`Value for x-amz-checksum-type header is invalid.`);
  if (type === 'FULL_OBJECT' && !isCombinable(algorithm)) {
    throw invalidRequest(`The FULL_OBJECT checksum type cannot be used with the ${algorithm.toLowerCase()} checksum algorithm.`);
  }
  if (type === 'COMPOSITE' && algorithm === 'CRC64NVME') {
    throw invalidRequest('The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.');
  }
  return { algorithm: algorithm as ChecksumAlgorithm, type };
}

/** True when the request carries its own flexible checksum (header or trailer) for the payload verifier to check. */
function declaresChecksum(req: S3Request): boolean {
  return req.headers['x-amz-trailer'] !== undefined || Object.keys(req.headers).some((h) => /^x-amz-checksum-(crc32|crc32c|crc64nvme|sha1|sha256)$/.test(h));
}

export function partNumberOf(req: S3Request): number {
  const v = req.query.get('partNumber') ?? '';
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > 10000) {
    throw invalidArgument('Part number must be an integer between 1 and 10000, inclusive', 'partNumber', v);
  }
  return n;
}

export const uploadPart: S3Handler = async (ctx, req, bucket) => {
  const partNumber = partNumberOf(req);
  const upload = await uploadFor(ctx, req);
  const length = Number(req.headers['x-amz-decoded-content-length'] ?? req.headers['content-length'] ?? 0);
  if (length > MAX_PART_SIZE) {
    throw new ServiceError('EntityTooLarge', 400, 'Your proposed upload exceeds the maximum allowed size', { ProposedSize: String(length), MaxSizeAllowed: String(MAX_PART_SIZE) });
  }
  // SSE-KMS uploads need kms:Decrypt for every part, as on AWS (the part is sealed under the upload's
  // data key); SSE-C uploads need the customer's key again on every part.
  const customer = customerKeyFromHeaders(req.headers);
  let dataKey: Buffer;
  try {
    dataKey = await ctx.sse.dataKeyOf(req.caller, bucket!.name, upload.key, upload.encryption!, customer);
  } finally {
    customer?.key.fill(0);
  }
  // A part sent without a checksum still gets the upload's, so the upload can complete (FULL_OBJECT needs every part's CRC).
  const digest = upload.checksumAlgorithm && !declaresChecksum(req) ? new DigestingStream(upload.checksumAlgorithm as ChecksumAlgorithm, false) : undefined;
  let blob;
  try {
    blob = await writeEncryptedBlob(ctx.blobs, digest ? pipeline(req.body, digest, () => undefined) : req.body, dataKey);
  } finally {
    dataKey.fill(0);
  }
  const payload = { ...req.payload() };
  if (digest) payload.checksum = { algorithm: upload.checksumAlgorithm as ChecksumAlgorithm, value: digest.digests().checksum! };
  if (upload.checksumAlgorithm && payload.checksum && payload.checksum.algorithm !== upload.checksumAlgorithm) {
    await ctx.blobs.delete([blob]);
    throw invalidRequest(`Checksum Type mismatch occurred, expected checksum Type: ${upload.checksumAlgorithm.toLowerCase()}, actual checksum Type: ${payload.checksum.algorithm.toLowerCase()}`);
  }
  // A part's ETag is its MD5 (this handler never drops it).
  const part: UploadedPart = { partNumber, size: payload.decodedLength, etag: payload.md5!, lastModified: ctx.clock.now(), blob };
  if (payload.checksum) part.checksum = { [payload.checksum.algorithm]: payload.checksum.value };
  let replaced;
  try {
    ({ replaced } = await ctx.meta.putPart(upload.uploadId, part));
  } catch (e) {
    await ctx.blobs.delete([blob]).catch(() => undefined);
    if (!(await ctx.meta.getUpload(upload.uploadId))) throw noSuchUpload(upload.uploadId);
    throw e;
  }
  if (replaced) await ctx.blobs.delete([replaced.blob]).catch(() => undefined);
  return {
    status: 200,
    headers: {
      etag: quoteEtag(part.etag),
      ...encryptionHeaders(upload.encryption),
      ...checksumHeadersOf(payload.checksum?.algorithm, payload.checksum?.value),
    },
  };
};

interface RequestedPart {
  partNumber: number;
  etag: string;
  checksums: Record<string, string>;
}

function parseCompleteBody(body: string): RequestedPart[] {
  const { root, value } = parseXml(body);
  if (root !== 'CompleteMultipartUpload') throw malformedXml();
  const parts = children(value, 'Part').map((p) => {
    const n = token(p, 'PartNumber');
    const etag = text(p, 'ETag');
    if (n === undefined || etag === undefined || !/^\d+$/.test(n)) throw malformedXml();
    const checksums: Record<string, string> = {};
    for (const alg of CHECKSUM_ALGORITHMS) {
      const v = text(p, `Checksum${alg}`);
      if (v !== undefined) checksums[alg] = v;
    }
    // Clients echo ETags with quotes, raw or XML-escaped (reference §6.4).
    return { partNumber: Number(n), etag: etag.replace(/"/g, ''), checksums };
  });
  if (parts.length === 0) throw malformedXml();
  return parts;
}

/** How often CompleteMultipartUpload re-reads the parts when an UploadPart replaced one under it. */
const COMPLETE_ATTEMPTS = 5;

export const completeMultipartUpload: S3Handler = async (ctx, req, bucket) => {
  const uploadId = req.query.get('uploadId') ?? '';
  const found = await ctx.meta.getUpload(uploadId);
  const upload = found && found.bucket === req.bucket && found.key === req.key ? found : undefined;
  const requested = parseCompleteBody(await readSmallBody(req, 4 * 1024 * 1024));
  if (!upload) {
    const again = await repeatedCompletion(ctx, req, bucket!, uploadId, requested);
    if (again) return again;
    throw noSuchUpload(uploadId);
  }
  for (let i = 1; i < requested.length; i++) {
    if (requested[i]!.partNumber <= requested[i - 1]!.partNumber) {
      throw new ServiceError('InvalidPartOrder', 400, 'The list of parts was not in ascending order. Parts must be ordered by part number.', { UploadId: upload.uploadId });
    }
  }
  // Conditional writes (If-None-Match: *, If-Match: <etag>) are checked by the store at commit.
  const conditional = await conditionalWriteOf(ctx, req, bucket!.name, upload.key);
  let kmsChecked = false;
  for (let attempt = 1; ; attempt++) {
    const used = await partsToComplete(ctx, upload, requested);
    // Completing an SSE-KMS upload needs kms:Decrypt, as on AWS (SSE-C: the key is checked on each part).
    if (!kmsChecked && !upload.encryption!.customerKeyMd5) (await ctx.sse.dataKeyOf(req.caller, bucket!.name, upload.key, upload.encryption!)).fill(0);
    kmsChecked = true;
    const version = completedVersion(ctx, req, bucket!, upload, used, requested);
    const outbox = await planVersionReplication(ctx, version);
    let result;
    try {
      result = await ctx.meta.completeUpload(upload.uploadId, version, outbox, conditional?.condition);
    } catch (e) {
      // Completed (or aborted) by a concurrent request, maybe this one's own retry.
      if (e instanceof UploadNotFound) {
        const again = await repeatedCompletion(ctx, req, bucket!, upload.uploadId, requested);
        if (again) return again;
        throw noSuchUpload(upload.uploadId);
      }
      // An UploadPart of a part we chose replaced it meanwhile: choose again from the parts as they are now.
      if (e instanceof UploadPartChanged) {
        if (attempt < COMPLETE_ATTEMPTS) continue;
        throw new ServiceError('OperationAborted', 409, 'A conflicting conditional operation is currently in progress against this resource. Try again.');
      }
      throw conditionalWriteError(e, conditional, upload.key);
    }
    if (upload.acl) await ctx.meta.putObjectAcl(version.bucket, version.key, version.versionId, upload.acl);
    await ctx.blobs.delete(result.unusedParts.map((p) => p.blob)).catch(() => undefined);
    await afterCommit(ctx, result.displaced, outbox.length > 0);
    return completeResult(bucket!, version);
  }
};

/**
 * A CompleteMultipartUpload repeated after it succeeded (a client retrying after a lost response):
 * the same answer again, as AWS gives for a while after completion, if it names the same upload of
 * the same key and the same parts (same multipart ETag). Otherwise undefined (NoSuchUpload).
 */
async function repeatedCompletion(ctx: S3Context, req: S3Request, bucket: BucketRecord, uploadId: string, requested: RequestedPart[]) {
  const done = await ctx.meta.getCompletedUpload(uploadId);
  if (!done || done.bucket !== req.bucket || done.key !== req.key) return undefined;
  if (multipartEtag(requested.map((r) => r.etag)) !== done.etag) return undefined;
  return completeResult(bucket, done);
}

/** The uploaded parts the request names, checked against what was uploaded (InvalidPart, EntityTooSmall). */
async function partsToComplete(ctx: S3Context, upload: MultipartUpload, requested: RequestedPart[]): Promise<UploadedPart[]> {
  const uploaded = new Map((await ctx.meta.listParts(upload.uploadId, { limit: 10000 })).map((p) => [p.partNumber, p]));
  const used: UploadedPart[] = [];
  for (const [i, r] of requested.entries()) {
    const part = uploaded.get(r.partNumber);
    if (!part || part.etag !== r.etag) {
      throw new ServiceError(
        'InvalidPart',
        400,
        "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
        { UploadId: upload.uploadId, PartNumber: String(r.partNumber), ETag: r.etag },
      );
    }
    const minPartSize = ctx.minPartSize ?? MIN_PART_SIZE;
    if (i < requested.length - 1 && part.size < minPartSize) {
      throw new ServiceError('EntityTooSmall', 400, 'Your proposed upload is smaller than the minimum allowed object size.', {
        ProposedSize: String(part.size),
        MinSizeAllowed: String(minPartSize),
        PartNumber: String(r.partNumber),
        ETag: r.etag,
      });
    }
    used.push(part);
  }
  return used;
}

/** The multipart ETag: MD5 of the parts' binary MD5s, "-N". */
function multipartEtag(partEtags: string[]): string {
  const md5s = Buffer.concat(partEtags.map((e) => Buffer.from(e, 'hex')));
  return `${createHash('md5').update(md5s).digest('hex')}-${partEtags.length}`;
}

function completedVersion(ctx: S3Context, req: S3Request, bucket: BucketRecord, upload: MultipartUpload, used: UploadedPart[], requested: RequestedPart[]): ObjectVersion {
  const version: ObjectVersion = {
    bucket: bucket.name,
    key: upload.key,
    versionId: versionIdForWrite(bucket),
    isDeleteMarker: false,
    lastModified: ctx.clock.now(),
    size: used.reduce((n, p) => n + p.size, 0),
    etag: multipartEtag(used.map((p) => p.etag)),
    ownerAccountId: upload.ownerAccountId,
    storageClass: upload.storageClass,
    systemMetadata: upload.systemMetadata,
    userMetadata: upload.userMetadata,
    encryption: upload.encryption!,
    parts: used.map((p) => {
      const part: ObjectVersion['parts'][number] = { partNumber: p.partNumber, size: p.size, etag: p.etag, blob: p.blob };
      if (p.checksum) part.checksum = p.checksum;
      return part;
    }),
  };
  if (upload.contentType !== undefined) version.contentType = upload.contentType;
  if (upload.tags) version.tags = upload.tags;
  const checksum = objectChecksumOf(req, upload, used, requested);
  if (checksum) version.checksum = checksum;
  return version;
}

function completeResult(bucket: BucketRecord, version: Pick<ObjectVersion, 'key' | 'versionId' | 'etag' | 'checksum'> & { encryption?: Parameters<typeof encryptionHeaders>[0] }) {
  const headers: Record<string, string> = encryptionHeaders(version.encryption);
  if (bucket.versioning === 'Enabled') headers['x-amz-version-id'] = version.versionId;
  const body: XmlObject = {
    Location: `/${bucket.name}/${encodeURIComponent(version.key)}`,
    Bucket: bucket.name,
    Key: version.key,
    ETag: quoteEtag(version.etag),
  };
  if (version.checksum) {
    body[`Checksum${version.checksum.algorithm}`] = version.checksum.value;
    body.ChecksumType = version.checksum.type;
  }
  return xml('CompleteMultipartUploadResult', body, headers);
}

function invalidPart(upload: MultipartUpload, p: UploadedPart): ServiceError {
  return new ServiceError(
    'InvalidPart',
    400,
    "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
    { UploadId: upload.uploadId, PartNumber: String(p.partNumber), ETag: p.etag },
  );
}

/**
 * The completed object's checksum. COMPOSITE: the checksum of the parts' checksums, "-N"; the
 * request must repeat each part's checksum. FULL_OBJECT: the parts' CRCs combined into the CRC of
 * the whole object; repeating part checksums is optional. A checksum header on the request (the
 * client's own expectation of the object's) must match what was computed.
 */
function objectChecksumOf(req: S3Request, upload: MultipartUpload, used: UploadedPart[], requested: RequestedPart[]): ObjectVersion['checksum'] {
  const algorithm = upload.checksumAlgorithm as ChecksumAlgorithm | undefined;
  if (!algorithm) return undefined;
  const type = upload.checksumType ?? 'COMPOSITE';
  const typeHeader = req.headers['x-amz-checksum-type']?.toUpperCase();
  if (typeHeader !== undefined && typeHeader !== type) {
    throw invalidRequest(`The upload was created using the ${type} checksum mode. The complete request must use the same checksum mode.`);
  }
  for (const [i, p] of used.entries()) {
    const sent = requested[i]!.checksums[algorithm];
    if (!sent && type === 'COMPOSITE') {
      throw invalidRequest(`The upload was created using a ${algorithm.toLowerCase()} checksum. The complete request must include the checksum for each part. It was missing for part ${p.partNumber} in the request.`);
    }
    if (!p.checksum?.[algorithm] || (sent !== undefined && p.checksum[algorithm] !== sent)) throw invalidPart(upload, p);
  }
  let value: string;
  if (type === 'FULL_OBJECT' && isCombinable(algorithm)) {
    value = combineCrcs(algorithm, used.map((p) => ({ checksum: p.checksum![algorithm]!, length: p.size })));
  } else {
    value = `${computeChecksum(algorithm, used.map((p) => Buffer.from(p.checksum![algorithm]!, 'base64')))}-${used.length}`;
  }
  const expected = req.headers[`x-amz-checksum-${algorithm.toLowerCase()}`];
  if (expected !== undefined && expected !== value && `${expected}-${used.length}` !== value) {
    throw new ServiceError('BadDigest', 400, `The ${algorithm.toLowerCase()} you specified did not match the calculated checksum.`);
  }
  return { algorithm, value, type };
}

export const abortMultipartUpload: S3Handler = async (ctx, req) => {
  const uploadId = req.query.get('uploadId') ?? '';
  const upload = await ctx.meta.getUpload(uploadId);
  if (!upload || upload.bucket !== req.bucket || upload.key !== req.key) throw noSuchUpload(uploadId);
  const parts = await ctx.meta.abortUpload(uploadId);
  if (!parts) throw noSuchUpload(uploadId);
  await ctx.blobs.delete(parts.map((p) => p.blob)).catch(() => undefined);
  return { status: 204, headers: {} };
};

export { blobsOf };
