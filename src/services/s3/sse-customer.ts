/**
 * SSE-C: the customer's key arrives in request headers on every write and read (reference §5.1,
 * §5.7). It wraps the object's data key and is then forgotten; only its MD5 is stored, to tell a
 * wrong key (403) from a missing one (400).
 */
import { createHash } from 'node:crypto';
import { ServiceError } from '../../common/errors.js';
import { invalidArgument, invalidRequest } from './s3-errors.js';

export interface CustomerKey {
  key: Buffer;
  /** base64 MD5 of the key, as the headers carry it. */
  md5: string;
}

const TARGET = 'x-amz-server-side-encryption-customer-';
/** The source of CopyObject / UploadPartCopy. */
export const COPY_SOURCE = 'x-amz-copy-source-server-side-encryption-customer-';

/** The customer key of a request, validated as S3 does; undefined when the request has no SSE-C headers. */
export function customerKeyFromHeaders(headers: Record<string, string | undefined>, prefix: string = TARGET): CustomerKey | undefined {
  const algorithm = headers[`${prefix}algorithm`];
  const keyB64 = headers[`${prefix}key`];
  const md5 = headers[`${prefix}key-md5`];
  if (algorithm === undefined && keyB64 === undefined && md5 === undefined) return undefined;
  if (algorithm === undefined) {
    throw invalidArgument('Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.', `${prefix}algorithm`, 'null');
  }
  if (algorithm !== 'AES256') {
    throw new ServiceError('InvalidEncryptionAlgorithmError', 400, 'The Encryption request you specified is not valid. Supported value: AES256.', { ArgumentName: `${prefix}algorithm`, ArgumentValue: algorithm });
  }
  if (keyB64 === undefined) {
    throw invalidArgument('Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.', `${prefix}key`, 'null');
  }
  const key = Buffer.from(keyB64, 'base64');
  if (key.length !== 32) throw invalidArgument('The secret key was invalid for the specified algorithm.', `${prefix}key`, '');
  const actual = createHash('md5').update(key).digest('base64');
  if (md5 !== undefined && md5 !== actual) {
    key.fill(0);
    throw invalidArgument('The calculated MD5 hash of the key did not match the hash that was provided.', `${prefix}key-md5`, md5);
  }
  return { key, md5: actual };
}

/** Reading an object: the customer key must be given for SSE-C objects and must be the one it was written with. */
export function checkCustomerKey(storedMd5: string | undefined, given: CustomerKey | undefined): void {
  if (storedMd5 === undefined) {
    if (given) throw invalidRequest('The encryption parameters are not applicable to this object.');
    return;
  }
  if (!given) {
    throw invalidRequest('The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.');
  }
  if (given.md5 !== storedMd5) {
    throw new ServiceError('AccessDenied', 403, 'Requests specifying Server Side Encryption with Customer provided keys must provide the correct secret key.');
  }
}

/** Response headers of an SSE-C object: algorithm and key MD5, never x-amz-server-side-encryption. */
export function customerKeyHeaders(md5: string): Record<string, string> {
  return { [`${TARGET}algorithm`]: 'AES256', [`${TARGET}key-md5`]: md5 };
}
