import { randomUUID } from 'node:crypto';
import { secureRandomBytes as randomBytes } from './random.js';

const VERSION_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._';
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function pick(alphabet: string, n: number): string {
  const bytes = randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[bytes[i]! % alphabet.length];
  return s;
}

/** S3 version ids as AWS shapes them: 32 characters of [A-Za-z0-9._]. */
export function newVersionId(): string {
  return pick(VERSION_ALPHABET, 32);
}

/** S3 request ids: 16 upper-case hex characters. */
export function newRequestId(): string {
  return randomBytes(8).toString('hex').toUpperCase();
}

/** The x-amz-id-2 host id: opaque base64. */
export function newHostId(): string {
  return randomBytes(48).toString('base64');
}

/** IAM unique ids: a 4-character prefix (AIDA, AROA, ANPA, AKIA, ASIA, ...) then base32 characters. */
export function newIamId(prefix: string, length = 21): string {
  return prefix + pick(BASE32, length - prefix.length);
}

/** A 40-character secret access key. */
export function newSecretAccessKey(): string {
  return randomBytes(30).toString('base64').replace(/[^A-Za-z0-9+/]/g, 'A').slice(0, 40);
}

export function newUuid(): string {
  return randomUUID();
}

/** Multipart upload ids: opaque, URL-safe. */
export function newUploadId(): string {
  return randomBytes(48).toString('base64url');
}
