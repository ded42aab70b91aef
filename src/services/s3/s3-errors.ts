/** S3 errors that several handlers raise, with AWS's codes, statuses and messages. */
import { ServiceError } from '../../common/errors.js';

export function noSuchBucket(bucket: string): ServiceError {
  return new ServiceError('NoSuchBucket', 404, 'The specified bucket does not exist', { BucketName: bucket });
}

export function noSuchKey(key: string, headers: Record<string, string> = {}): ServiceError {
  return new ServiceError('NoSuchKey', 404, 'The specified key does not exist.', { Key: key }, headers);
}

export function noSuchVersion(key: string, versionId: string): ServiceError {
  return new ServiceError('NoSuchVersion', 404, 'The specified version does not exist.', { Key: key, VersionId: versionId });
}

export function noSuchUpload(uploadId: string): ServiceError {
  return new ServiceError(
    'NoSuchUpload',
    404,
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    { UploadId: uploadId },
  );
}

export function invalidArgument(message: string, name?: string, value?: string): ServiceError {
  const fields: Record<string, string> = {};
  if (name !== undefined) fields.ArgumentName = name;
  if (value !== undefined) fields.ArgumentValue = value;
  return new ServiceError('InvalidArgument', 400, message, fields);
}

export function invalidRequest(message: string): ServiceError {
  return new ServiceError('InvalidRequest', 400, message);
}

export function notImplemented(operation: string): ServiceError {
  return new ServiceError('NotImplemented', 501, `Meridian does not implement ${operation} yet.`, { Operation: operation });
}

/**
 * Split mode: a copy (CopyObject, UploadPartCopy) whose source bucket is in a region another process
 * serves. The source's bytes, keys and KMS stay with that process; copying across is not built.
 */
export function copyAcrossProcesses(bucket: string, region: string): ServiceError {
  return new ServiceError(
    'NotImplemented',
    501,
    `The copy source bucket ${bucket} is in ${region}, which another Meridian process serves (split mode), and copying between processes is not supported. Copy through a client instead: GET the object from ${region} and PUT it here.`,
    { BucketName: bucket },
  );
}

/** Wrong region for the bucket: botocore re-signs for <Region> and retries (reference §7.3). */
export function wrongRegion(signedRegion: string, bucketRegion: string): ServiceError {
  return new ServiceError(
    'AuthorizationHeaderMalformed',
    400,
    `The authorization header is malformed; the region '${signedRegion}' is wrong; expecting '${bucketRegion}'`,
    { Region: bucketRegion },
    { 'x-amz-bucket-region': bucketRegion },
  );
}
