/**
 * Wrapping of key material under the region's root key, for storage at rest.
 *
 *   version (0x01) | IV (12) | wrapped key | tag (16)       AAD = version | 'meridian/key-wrap/v1' | 0x00 | label
 *
 * The label (e.g. key ARN + material id) is authenticated, so a wrapped key copied onto another
 * key's row fails to unwrap instead of silently becoming that key's material.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { secureRandomBytes as randomBytes } from '../common/random.js';
import { CryptoIntegrityError } from './errors.js';

const VERSION = 0x01;
const IV_SIZE = 12;
const TAG_SIZE = 16;
const ROOT_KEY_SIZE = 32;
const DOMAIN = Buffer.from('meridian/key-wrap/v1\0', 'utf8');

function checkRootKey(rootKey: Buffer): void {
  if (rootKey.length !== ROOT_KEY_SIZE) throw new RangeError(`root key must be ${ROOT_KEY_SIZE} bytes`);
}

function aad(label: string): Buffer {
  return Buffer.concat([Buffer.from([VERSION]), DOMAIN, Buffer.from(label, 'utf8')]);
}

export function wrapKey(rootKey: Buffer, key: Buffer, label: string): Buffer {
  checkRootKey(rootKey);
  if (key.length === 0) throw new RangeError('cannot wrap an empty key');
  const iv = randomBytes(IV_SIZE);
  const cipher = createCipheriv('aes-256-gcm', rootKey, iv, { authTagLength: TAG_SIZE });
  cipher.setAAD(aad(label));
  const body = cipher.update(key);
  cipher.final();
  return Buffer.concat([Buffer.from([VERSION]), iv, body, cipher.getAuthTag()]);
}

/** Throws CryptoIntegrityError for a wrong root key or label, or a damaged wrapped key. */
export function unwrapKey(rootKey: Buffer, wrapped: Buffer, label: string): Buffer {
  checkRootKey(rootKey);
  if (wrapped.length <= 1 + IV_SIZE + TAG_SIZE) throw new CryptoIntegrityError('wrapped key is truncated');
  if (wrapped[0] !== VERSION) throw new CryptoIntegrityError('wrapped key has an unknown format version');
  try {
    const decipher = createDecipheriv('aes-256-gcm', rootKey, wrapped.subarray(1, 1 + IV_SIZE), { authTagLength: TAG_SIZE });
    decipher.setAAD(aad(label));
    decipher.setAuthTag(wrapped.subarray(wrapped.length - TAG_SIZE));
    const key = decipher.update(wrapped.subarray(1 + IV_SIZE, wrapped.length - TAG_SIZE));
    try {
      decipher.final();
    } catch (err) {
      key.fill(0); // do not leave unauthenticated key bytes around
      throw err;
    }
    return key;
  } catch {
    throw new CryptoIntegrityError('wrapped key does not unwrap with this root key and label');
  }
}

/** Fresh KMS key material: a random 256-bit key and a random id (64 hex, as AWS shows material ids). */
export function newKeyMaterial(): { id: string; key: Buffer } {
  return { id: randomBytes(32).toString('hex'), key: randomBytes(32) };
}
