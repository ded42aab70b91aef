/** DeleteObject and DeleteObjects (multi-object delete): versioned, suspended and unversioned buckets. */
import { isServiceError } from '../../../common/errors.js';
import type { BucketRecord, ObjectVersion, WriteCondition } from '../../../storage/types.js';
import { children, malformedXml, parseXml, text, token, toXml, type XmlObject } from '../../protocol/xml.js';
import { blobsOf } from '../object-data.js';
import { readSmallBody, requireChecksumHeader, S3_XMLNS } from '../request-body.js';
import type { S3Context, S3Handler } from '../s3-context.js';
import type { S3Request } from '../s3-request.js';
import { checkVersionId, planVersionReplication, versionIdForWrite } from '../versions.js';
import { afterCommit } from './objects.js';

const MAX_DELETE_KEYS = 1000;

/** What deleting one key (or one version of it) did. */
export interface DeleteOutcome {
  /** The version id addressed (version-specific deletes). */
  versionId?: string;
  /** A delete marker was created, or the version removed was one. */
  deleteMarker?: boolean;
  /** The id of the delete marker created or removed. */
  deleteMarkerVersionId?: string;
}

/**
 * Delete one key as DeleteObject does (reference §6.3): a version id removes that version for good
 * (never replicated); otherwise an unversioned bucket removes the object, and a versioned or
 * suspended one gets a delete marker (suspended: a 'null' marker replacing the null version).
 */
export async function deleteKey(
  ctx: S3Context,
  caller: S3Request['caller'],
  bucket: BucketRecord,
  key: string,
  versionId: string | undefined,
  /** `condition`: the delete marker is written only if it holds at commit (else WriteConditionFailed, nothing written). */
  opts: { replicate?: boolean; condition?: WriteCondition } = {},
): Promise<DeleteOutcome> {
  if (versionId !== undefined) {
    const removed = await ctx.meta.deleteObjectVersion(bucket.name, key, versionId);
    const out: DeleteOutcome = { versionId };
    if (removed) {
      if (removed.isDeleteMarker) {
        out.deleteMarker = true;
        out.deleteMarkerVersionId = versionId;
      }
      await ctx.blobs.delete(blobsOf(removed.parts)).catch(() => undefined);
    }
    return out;
  }
  if (bucket.versioning === 'Unversioned') {
    const removed = await ctx.meta.deleteObjectVersion(bucket.name, key, 'null');
    if (removed) await ctx.blobs.delete(blobsOf(removed.parts)).catch(() => undefined);
    return {};
  }
  const marker: ObjectVersion = {
    bucket: bucket.name,
    key,
    versionId: versionIdForWrite(bucket),
    isDeleteMarker: true,
    lastModified: ctx.clock.now(),
    size: 0,
    etag: '',
    ownerAccountId: caller.principal.accountId ?? bucket.ownerAccountId,
    storageClass: 'STANDARD',
    systemMetadata: {},
    userMetadata: {},
    parts: [],
  };
  // Delete markers made by lifecycle are never replicated (reference §2.1).
  const outbox = opts.replicate === false ? [] : await planVersionReplication(ctx, marker);
  const { displaced } = await ctx.meta.putObjectVersion(marker, outbox, opts.condition);
  await afterCommit(ctx, displaced, outbox.length > 0);
  return { deleteMarker: true, deleteMarkerVersionId: marker.versionId };
}

export const deleteObject: S3Handler = async (ctx, req, bucket) => {
  const versionId = checkVersionId(bucket!, req.query.get('versionId'));
  const out = await deleteKey(ctx, req.caller, bucket!, req.key!, versionId);
  const headers: Record<string, string> = {};
  if (out.deleteMarker) headers['x-amz-delete-marker'] = 'true';
  const id = out.versionId ?? out.deleteMarkerVersionId;
  if (id !== undefined) headers['x-amz-version-id'] = id;
  return { status: 204, headers };
};

interface DeleteRequestEntry {
  key: string;
  versionId?: string;
}

function parseDeleteBody(body: string): { quiet: boolean; entries: DeleteRequestEntry[] } {
  const { root, value } = parseXml(body);
  if (root !== 'Delete') throw malformedXml();
  const quietText = token(value, 'Quiet');
  if (quietText !== undefined && quietText !== 'true' && quietText !== 'false') throw malformedXml();
  const objects = children(value, 'Object');
  if (objects.length === 0 || objects.length > MAX_DELETE_KEYS) throw malformedXml();
  const entries = objects.map((o) => {
    const key = text(o, 'Key');
    if (key === undefined || key === '') throw malformedXml();
    const e: DeleteRequestEntry = { key };
    const versionId = text(o, 'VersionId');
    if (versionId !== undefined && versionId !== '') e.versionId = versionId;
    return e;
  });
  return { quiet: quietText === 'true', entries };
}

/**
 * DeleteObjects: up to 1,000 keys, each authorized (s3:DeleteObject, or s3:DeleteObjectVersion for
 * a version) and deleted independently; failures are per key in <Error>, never the whole request.
 * Quiet mode reports only the errors. The model requires Content-MD5 or a checksum header.
 */
export const deleteObjects: S3Handler = async (ctx, req, bucket, auth) => {
  requireChecksumHeader(req);
  const { quiet, entries } = parseDeleteBody(await readSmallBody(req, 2 * 1024 * 1024));
  const deleted: XmlObject[] = [];
  const errors: XmlObject[] = [];
  for (const entry of entries) {
    const error = (code: string, message: string) => {
      const e: XmlObject = { Key: entry.key };
      if (entry.versionId !== undefined) e.VersionId = entry.versionId;
      e.Code = code;
      e.Message = message;
      errors.push(e);
    };
    if (Buffer.byteLength(entry.key) > 1024) {
      error('KeyTooLongError', 'Your key is too long');
      continue;
    }
    let versionId: string | undefined;
    try {
      versionId = checkVersionId(bucket!, entry.versionId ?? null);
    } catch {
      // AWS reports a malformed version id in a multi-delete as a version that does not exist.
      error('NoSuchVersion', 'The specified version does not exist.');
      continue;
    }
    try {
      await auth.require(versionId === undefined ? 's3:DeleteObject' : 's3:DeleteObjectVersion', bucket!, entry.key);
      const out = await deleteKey(ctx, req.caller, bucket!, entry.key, versionId);
      if (quiet) continue;
      const d: XmlObject = { Key: entry.key };
      if (out.versionId !== undefined) d.VersionId = out.versionId;
      if (out.deleteMarker) {
        d.DeleteMarker = true;
        d.DeleteMarkerVersionId = out.deleteMarkerVersionId;
      }
      deleted.push(d);
    } catch (e) {
      if (!isServiceError(e) || e.status >= 500) throw e;
      error(e.code, e.code === 'AccessDenied' ? 'Access Denied' : e.message);
    }
  }
  return { status: 200, headers: { 'content-type': 'application/xml' }, body: toXml('DeleteResult', { Deleted: deleted, Error: errors }, S3_XMLNS) };
};
