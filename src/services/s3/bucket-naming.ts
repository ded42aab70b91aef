import { ServiceError } from '../../common/errors.js';

/** S3 general-purpose bucket naming rules. */
export function validateBucketName(name: string): void {
  const invalid = () => new ServiceError('InvalidBucketName', 400, 'The specified bucket is not valid.', { BucketName: name });
  if (name.length < 3 || name.length > 63) throw invalid();
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) throw invalid();
  if (name.includes('..') || name.includes('.-') || name.includes('-.')) throw invalid();
  if (/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)) throw invalid();
  if (/^(xn--|sthree-|amzn-s3-demo-)/.test(name)) throw invalid();
  if (/(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(name)) throw invalid();
}
