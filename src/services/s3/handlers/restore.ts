/**
 * RestoreObject, answered clearly: Meridian keeps every storage class online (the class is a label
 * it stores and returns), so an archived object needs no restore and the request succeeds as AWS
 * answers for an object whose restored copy is already available (200). Objects in classes that
 * are never archived get AWS's 403 InvalidObjectState (docs/decisions.md).
 */
import { ServiceError } from '../../../common/errors.js';
import { readSmallBody } from '../request-body.js';
import type { S3Handler } from '../s3-context.js';
import { malformedXml, parseXml } from '../../protocol/xml.js';
import { checkVersionId, readableVersion } from '../versions.js';

const ARCHIVED = new Set(['GLACIER', 'DEEP_ARCHIVE']);

export const restoreObject: S3Handler = async (ctx, req, bucket) => {
  const body = await readSmallBody(req, 64 * 1024);
  if (body.trim() !== '' && parseXml(body).root !== 'RestoreRequest') throw malformedXml();
  const v = await readableVersion(ctx, bucket!, req.key!, checkVersionId(bucket!, req.query.get('versionId')), req.method);
  if (!ARCHIVED.has(v.storageClass)) {
    throw new ServiceError('InvalidObjectState', 403, "Restore is not allowed for the object's current storage class", { StorageClass: v.storageClass });
  }
  return { status: 200, headers: {} };
};
