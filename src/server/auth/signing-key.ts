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
// Keyed by a digest of the inputs, so the map never holds secrets in its keys. Insertion order makes
// this an LRU: a hit is re-inserted at the end, eviction removes the first entry.
const cache = new Map<string, Buffer>();

function deriveUncached(secret: string, date: string, region: string, service: string): Buffer {
  const kDate = hmac('AWS4' + secret, date);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  return hmac(kService, 'aws4_request');
}

export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const id = createHash('sha256').update(`${secret}\0${date}\0${region}\0${service}`).digest('base64');
  const hit = cache.get(id);
  if (hit) {
    cache.delete(id);
    cache.set(id, hit);
    return hit;
  }
  const key = deriveUncached(secret, date, region, service);
  cache.set(id, key);
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
