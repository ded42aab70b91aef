/** SigV4 signing-key derivation (reference §5.1 step 3), HMAC helpers and the key cache. */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export function hmac(key: Buffer | string, data: string | Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

const MAX_CACHED_KEYS = 256;
// Keyed by access key id and scope, so the map never holds secrets in its keys; each entry keeps the
// secret it was derived from and is used only for that same secret, so a key id whose secret changed
// (or a caller that passes no id: then a digest of the inputs is the id) can never get a stale key.
// Insertion order makes this an LRU: a hit is re-inserted at the end, eviction removes the first entry.
const cache = new Map<string, { secret: string; key: Buffer }>();

function deriveUncached(secret: string, date: string, region: string, service: string): Buffer {
  const kDate = hmac('AWS4' + secret, date);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  return hmac(kService, 'aws4_request');
}

/**
 * The SigV4 signing key for a secret and scope (reference §5.1 step 3), cached. `accessKeyId`, when
 * given, names the cache entry (no hashing of the secret per request: verification passes it).
 */
export function signingKey(secret: string, date: string, region: string, service: string, accessKeyId?: string): Buffer {
  const id =
    accessKeyId !== undefined
      ? `${accessKeyId}\0${date}\0${region}\0${service}`
      : createHash('sha256').update(`${secret}\0${date}\0${region}\0${service}`).digest('base64');
  const hit = cache.get(id);
  if (hit && hit.secret === secret) {
    cache.delete(id);
    cache.set(id, hit);
    return hit.key;
  }
  const key = deriveUncached(secret, date, region, service);
  cache.delete(id);
  cache.set(id, { secret, key });
  if (cache.size > MAX_CACHED_KEYS) cache.delete(cache.keys().next().value!);
  return key;
}

/** Number of cached keys (for tests of the bound). */
export function signingKeyCacheSize(): number {
  return cache.size;
}

/** Lower-case hex HMAC of a string to sign. */
export function signString(key: Buffer, stringToSign: string): string {
  return hmac(key, stringToSign).toString('hex');
}

/** Constant-time comparison of a computed hex signature with the one the client sent. */
export function signaturesEqual(computed: string, provided: string): boolean {
  const a = Buffer.from(computed, 'latin1');
  const b = Buffer.from(provided, 'latin1');
  // Lengths are not secret; timingSafeEqual requires equal lengths.
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}
