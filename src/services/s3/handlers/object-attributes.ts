/** GetObjectAttributes: ETag, checksum, parts, storage class and size of a version, without its bytes. */
import type { StoredObjectVersion } from '../../../storage/types.js';
import { toXml, type XmlObject } from '../../protocol/xml.js';
import { httpDate } from '../object-headers.js';
import { S3_XMLNS } from '../request-body.js';
import { invalidArgument } from '../s3-errors.js';
import type { S3Handler } from '../s3-context.js';
import type { S3Request } from '../s3-request.js';
import { checkVersionId, readableVersion } from '../versions.js';

const ATTRIBUTES = new Set(['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize']);

function requestedAttributes(req: S3Request): Set<string> {
  const header = req.headers['x-amz-object-attributes'];
  const names = (header ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0 || names.some((n) => !ATTRIBUTES.has(n))) {
    throw invalidArgument('Invalid attribute name specified.', 'x-amz-object-attributes', header ?? '');
  }
  return new Set(names);
}

function nonNegativeInt(req: S3Request, header: string, fallback: number): number {
  const v = req.headers[header];
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v.trim())) throw invalidArgument(`Invalid ${header} header value.`, header, v);
  return Number(v.trim());
}

/** A multipart object's parts page (parts are numbered by their position in the object). */
function objectParts(req: S3Request, v: StoredObjectVersion): XmlObject {
  const maxParts = Math.min(nonNegativeInt(req, 'x-amz-max-parts', 1000), 1000);
  const marker = nonNegativeInt(req, 'x-amz-part-number-marker', 0);
  const all = v.parts.map((p, i) => ({ number: i + 1, part: p }));
  const after = all.filter((p) => p.number > marker);
  const page = after.slice(0, maxParts);
  const truncated = after.length > page.length;
  const algorithm = v.checksum?.type === 'COMPOSITE' || v.checksum?.type === 'FULL_OBJECT' ? v.checksum.algorithm : undefined;
  return {
    PartsCount: v.parts.length,
    PartNumberMarker: marker,
    NextPartNumberMarker: page.length ? page[page.length - 1]!.number : undefined,
    MaxParts: maxParts,
    IsTruncated: truncated,
    Part: page.map(({ number, part }) => {
      const p: XmlObject = { PartNumber: number, Size: part.size };
      const sum = algorithm ? part.checksum?.[algorithm] : undefined;
      if (sum) p[`Checksum${algorithm}`] = sum;
      return p;
    }),
  };
}

export const getObjectAttributes: S3Handler = async (ctx, req, bucket) => {
  const wanted = requestedAttributes(req);
  const versionId = checkVersionId(bucket!, req.query.get('versionId'));
  const v = await readableVersion(ctx, bucket!, req.key!, versionId, req.method);
  const multipart = v.parts.length > 1 || (v.parts[0]?.partNumber ?? 0) > 0;
  const body: XmlObject = {};
  if (wanted.has('ETag')) body.ETag = v.etag; // unquoted here, unlike the ETag header
  if (wanted.has('Checksum') && v.checksum) {
    // The composite value is reported without its -N suffix (the part count is in ObjectParts).
    body.Checksum = { [`Checksum${v.checksum.algorithm}`]: v.checksum.value.replace(/-\d+$/, ''), ChecksumType: v.checksum.type };
  }
  if (wanted.has('ObjectParts') && multipart) body.ObjectParts = objectParts(req, v);
  if (wanted.has('StorageClass')) body.StorageClass = v.storageClass;
  if (wanted.has('ObjectSize')) body.ObjectSize = v.size;
  const headers: Record<string, string> = { 'content-type': 'application/xml', 'last-modified': httpDate(v.lastModified) };
  if (bucket!.versioning !== 'Unversioned' || v.versionId !== 'null') headers['x-amz-version-id'] = v.versionId;
  return { status: 200, headers, body: toXml('GetObjectAttributesResponse', body, S3_XMLNS) };
};
