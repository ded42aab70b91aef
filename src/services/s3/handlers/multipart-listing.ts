/** ListParts and ListMultipartUploads (markers, prefix, delimiter with CommonPrefixes, encoding-type). */
import type { MultipartUpload } from '../../../storage/types.js';
import { toXml, xmlDate, type XmlObject, type XmlValue } from '../../protocol/xml.js';
import { AFTER_PREFIX, afterMarker, commonPrefixOf, encoder, encodingType, maxItems } from '../listing-params.js';
import { quoteEtag } from '../object-headers.js';
import { S3_XMLNS } from '../request-body.js';
import { invalidArgument } from '../s3-errors.js';
import type { S3Handler } from '../s3-context.js';
import { encryptionHeaders } from '../sse.js';
import { canonicalUserId } from './buckets.js';
import { uploadFor } from './multipart.js';

const BATCH = 1000;

function xml(root: string, body: XmlObject, headers: Record<string, string> = {}) {
  return { status: 200, headers: { 'content-type': 'application/xml', ...headers }, body: toXml(root, body, S3_XMLNS) };
}

export const listParts: S3Handler = async (ctx, req, bucket) => {
  const upload = await uploadFor(ctx, req);
  const markerText = req.query.get('part-number-marker') ?? '0';
  if (!/^\d+$/.test(markerText)) throw invalidArgument('Invalid part number marker', 'part-number-marker', markerText);
  const marker = Number(markerText);
  const maxParts = maxItems(req, 'max-parts');
  const parts = await ctx.meta.listParts(upload.uploadId, { partNumberMarker: marker, limit: maxParts + 1 });
  const page = parts.slice(0, maxParts);
  const truncated = parts.length > maxParts;
  const owner = { ID: canonicalUserId(upload.ownerAccountId) };
  return xml(
    'ListPartsResult',
    {
      Bucket: bucket!.name,
      Key: upload.key,
      UploadId: upload.uploadId,
      PartNumberMarker: marker,
      NextPartNumberMarker: page.length ? page[page.length - 1]!.partNumber : undefined,
      MaxParts: maxParts,
      IsTruncated: truncated,
      Part: page.map((p) => ({
        PartNumber: p.partNumber,
        LastModified: xmlDate(p.lastModified),
        ETag: quoteEtag(p.etag),
        ...Object.fromEntries(Object.entries(p.checksum ?? {}).map(([a, v]) => [`Checksum${a}`, v])),
        Size: p.size,
      })),
      Initiator: owner,
      Owner: owner,
      StorageClass: upload.storageClass,
      ChecksumAlgorithm: upload.checksumAlgorithm,
      ChecksumType: upload.checksumType,
    },
    encryptionHeaders(upload.encryption),
  );
};

export const listMultipartUploads: S3Handler = async (ctx, req, bucket) => {
  const prefix = req.query.get('prefix') ?? '';
  const delimiter = req.query.get('delimiter') || undefined;
  const keyMarker = req.query.get('key-marker') ?? '';
  const uploadIdMarker = req.query.get('upload-id-marker') ?? '';
  const maxUploads = maxItems(req, 'max-uploads');
  const encType = encodingType(req);
  const enc = encoder(encType);

  // Walk uploads in key order; keys sharing a delimiter-terminated prefix fold into one CommonPrefixes entry.
  const uploads: MultipartUpload[] = [];
  const prefixes: XmlValue[] = [];
  let cursorKey = afterMarker(keyMarker || undefined, prefix, delimiter);
  let cursorUpload = uploadIdMarker || undefined;
  let count = 0;
  let truncated = false;
  let nextKey: string | undefined;
  let nextUploadId: string | undefined;
  scan: for (;;) {
    const opts: Parameters<typeof ctx.meta.listUploads>[1] = { limit: BATCH };
    if (prefix) opts.prefix = prefix;
    if (cursorKey !== undefined) opts.keyMarker = cursorKey;
    if (cursorUpload !== undefined) opts.uploadIdMarker = cursorUpload;
    const batch = await ctx.meta.listUploads(bucket!.name, opts);
    if (batch.length === 0) break;
    for (const u of batch) {
      if (count === maxUploads) {
        truncated = true;
        break scan;
      }
      const cp = commonPrefixOf(u.key, prefix, delimiter);
      count++;
      if (cp !== undefined) {
        prefixes.push({ Prefix: enc(cp) });
        nextKey = cp;
        nextUploadId = undefined;
        cursorKey = cp + AFTER_PREFIX;
        cursorUpload = undefined;
        continue scan;
      }
      uploads.push(u);
      nextKey = u.key;
      nextUploadId = u.uploadId;
      cursorKey = u.key;
      cursorUpload = u.uploadId;
    }
    if (batch.length < BATCH) break;
  }
  return xml('ListMultipartUploadsResult', {
    Bucket: bucket!.name,
    KeyMarker: enc(keyMarker),
    UploadIdMarker: uploadIdMarker,
    NextKeyMarker: truncated && nextKey !== undefined ? enc(nextKey) : undefined,
    NextUploadIdMarker: truncated ? nextUploadId : undefined,
    Delimiter: delimiter ? enc(delimiter) : undefined,
    Prefix: enc(prefix),
    MaxUploads: maxUploads,
    EncodingType: encType,
    IsTruncated: truncated,
    Upload: uploads.map((u) => ({
      Key: enc(u.key),
      UploadId: u.uploadId,
      Initiator: { ID: canonicalUserId(u.ownerAccountId) },
      Owner: { ID: canonicalUserId(u.ownerAccountId) },
      StorageClass: u.storageClass,
      Initiated: xmlDate(u.initiated),
      ChecksumAlgorithm: u.checksumAlgorithm,
      ChecksumType: u.checksumType,
    })),
    CommonPrefixes: prefixes,
  });
};
