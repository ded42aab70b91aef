/**
 * Layout of a segmented AES-256-GCM blob (a STREAM construction, like Tink's streaming AEAD):
 *
 *   header   = version (0x01) | salt (16) | nonce prefix (7)                       24 bytes
 *   segments = seal(segment 0) | seal(segment 1) | ... | seal(segment n-1)         each plaintext + 16-byte tag
 *
 * Every segment but the last holds exactly SEGMENT_SIZE plaintext bytes; the last holds 0..SEGMENT_SIZE
 * (0 only when the whole plaintext is empty). Segment i uses nonce = prefix | uint32be(i) | lastFlag,
 * so reordering, truncation at a segment boundary and appending all fail authentication.
 * This file holds the pure arithmetic and key/nonce derivation; the streams live in segmented-aead.ts.
 */
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { secureRandomBytes as randomBytes } from '../common/random.js';
import { CryptoIntegrityError } from './errors.js';
import { KeyCache } from './key-cache.js';

export const SEGMENT_SIZE = 65536;
export const HEADER_SIZE = 24;
export const TAG_SIZE = 16;

const VERSION = 0x01;
const SALT_SIZE = 16;
const PREFIX_SIZE = 7;
const DATA_KEY_SIZE = 32;
const SEALED_SEGMENT_SIZE = SEGMENT_SIZE + TAG_SIZE;
/** The segment index is a uint32 in the nonce: 2^32 segments of 64 KiB = 256 TiB, far above S3's 5 TiB. */
export const MAX_SEGMENTS = 2 ** 32;
/** HKDF's expand input for the one 32-byte block we need: info | 0x01 (RFC 5869 §2.3). */
const HKDF_INFO_BLOCK_1 = Buffer.from('meridian/segment/v1\x01', 'utf8');

function checkSize(name: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${name} must be a non-negative integer, got ${n}`);
}

/** Number of sealed segments for a plaintext size (an empty plaintext is one empty final segment). */
export function segmentCount(plainSize: number): number {
  checkSize('plainSize', plainSize);
  const n = plainSize === 0 ? 1 : Math.ceil(plainSize / SEGMENT_SIZE);
  if (n > MAX_SEGMENTS) throw new RangeError(`plaintext of ${plainSize} bytes exceeds the segment limit`);
  return n;
}

/** Plaintext bytes in segment `index` of a plaintext of `plainSize` bytes. */
export function segmentPlainLength(plainSize: number, index: number): number {
  const last = segmentCount(plainSize) - 1;
  return index < last ? SEGMENT_SIZE : plainSize - last * SEGMENT_SIZE;
}

/** Size of the blob (header + sealed segments) for a plaintext of `plainSize` bytes. */
export function encryptedSize(plainSize: number): number {
  return HEADER_SIZE + plainSize + segmentCount(plainSize) * TAG_SIZE;
}

/**
 * Inverse of encryptedSize. Throws CryptoIntegrityError for sizes no plaintext encrypts to (a cut in
 * the middle of a tag, or a trailing empty segment after a full one), so a damaged blob is reported
 * as such instead of as a mismatched tag somewhere later.
 */
export function plainSizeFor(cipherSize: number): number {
  checkSize('cipherSize', cipherSize);
  const body = cipherSize - HEADER_SIZE;
  if (body < TAG_SIZE) throw new CryptoIntegrityError(`encrypted blob of ${cipherSize} bytes is truncated`);
  const n = Math.ceil(body / SEALED_SEGMENT_SIZE);
  const lastSealed = body - (n - 1) * SEALED_SEGMENT_SIZE;
  if (lastSealed < TAG_SIZE || (lastSealed === TAG_SIZE && n > 1)) {
    throw new CryptoIntegrityError(`encrypted blob of ${cipherSize} bytes has no valid segment layout (truncated or extended)`);
  }
  return body - n * TAG_SIZE;
}

/** Which blob bytes a plaintext range needs. */
export function cipherRangeFor(
  plainSize: number,
  start: number,
  endInclusive: number,
): { headerEnd: number; cipherStart: number; cipherEndInclusive: number; firstSegment: number; skip: number; length: number } {
  checkSize('plainSize', plainSize);
  checkSize('start', start);
  checkSize('endInclusive', endInclusive);
  if (start > endInclusive || endInclusive >= plainSize) {
    throw new RangeError(`range ${start}-${endInclusive} is not inside a plaintext of ${plainSize} bytes`);
  }
  const firstSegment = Math.floor(start / SEGMENT_SIZE);
  const lastSegment = Math.floor(endInclusive / SEGMENT_SIZE);
  const lastStart = HEADER_SIZE + lastSegment * SEALED_SEGMENT_SIZE;
  return {
    headerEnd: HEADER_SIZE,
    cipherStart: HEADER_SIZE + firstSegment * SEALED_SEGMENT_SIZE,
    cipherEndInclusive: lastStart + segmentPlainLength(plainSize, lastSegment) + TAG_SIZE - 1,
    firstSegment,
    skip: start - firstSegment * SEGMENT_SIZE,
    length: endInclusive - start + 1,
  };
}

export interface SegmentHeader {
  salt: Buffer;
  prefix: Buffer;
}

/** A fresh header: random salt (so one data key can seal many blobs) and random nonce prefix. */
export function newHeader(): Buffer {
  const header = randomBytes(HEADER_SIZE);
  header[0] = VERSION;
  return header;
}

/** Splits a header; a wrong length or unknown version is an integrity failure (the header is not sealed). */
export function parseHeader(header: Buffer): SegmentHeader {
  if (header.length !== HEADER_SIZE) {
    throw new CryptoIntegrityError(`encryption header must be ${HEADER_SIZE} bytes, got ${header.length}`);
  }
  if (header[0] !== VERSION) throw new CryptoIntegrityError(`unknown encryption header version ${header[0]}`);
  return {
    salt: Buffer.from(header.subarray(1, 1 + SALT_SIZE)),
    prefix: Buffer.from(header.subarray(1 + SALT_SIZE, HEADER_SIZE)),
  };
}

/**
 * Segment key = HKDF-SHA256(data key, header salt, 'meridian/segment/v1'), for opening a blob: cached
 * when the data key was marked with reuseDerivedKeys.
 */
export function segmentKey(dataKey: Buffer, salt: Buffer): KeyObject {
  const { bytes, owned } = segmentKeyBytes(dataKey, salt);
  const key = createSecretKey(bytes); // KeyObject keeps its own copy
  if (owned) bytes.fill(0);
  return key;
}

/**
 * The same segment key as bytes, for a caller that uses them at once, before it yields (whole-buffer
 * reads): no KeyObject, whose creation cost about as much as the AES-GCM of a 4 KiB body. `owned`
 * bytes are the caller's to zero when done; others are a cache entry's, which a later eviction zeroes
 * (so they must not be kept).
 */
export function segmentKeyBytes(dataKey: Buffer, salt: Buffer): { bytes: Buffer; owned: boolean } {
  if (dataKey.length !== DATA_KEY_SIZE) throw new RangeError(`data key must be ${DATA_KEY_SIZE} bytes, got ${dataKey.length}`);
  if (!reusable.has(dataKey)) return { bytes: deriveSegmentKeyBytes(dataKey, salt), owned: true };
  // Keyed by the salt (random per blob, stored in its header); a hit counts only for the very data key
  // it was derived from, so another key that meets the same salt derives its own.
  const id = salt.toString('latin1');
  const hit = derivedKeys.get(id);
  if (hit && timingSafeEqual(hit.subarray(0, DATA_KEY_SIZE), dataKey)) return { bytes: hit.subarray(DATA_KEY_SIZE), owned: false };
  const bytes = deriveSegmentKeyBytes(dataKey, salt);
  // One buffer of its own per entry (data key, then segment key): a single allocation to free.
  const entry = Buffer.allocUnsafeSlow(2 * DATA_KEY_SIZE);
  dataKey.copy(entry, 0);
  bytes.copy(entry, DATA_KEY_SIZE);
  derivedKeys.set(id, entry);
  return { bytes, owned: true };
}

/** The segment key for sealing a new blob (a fresh salt: never cached). */
export function segmentKeyForSealing(dataKey: Buffer, salt: Buffer): KeyObject {
  if (dataKey.length !== DATA_KEY_SIZE) throw new RangeError(`data key must be ${DATA_KEY_SIZE} bytes, got ${dataKey.length}`);
  return deriveSegmentKey(dataKey, salt);
}

/**
 * The segment key's bytes for sealing a blob sealed in one call (encryptBuffer): no KeyObject, whose
 * creation cost about as much as the AES-GCM of a 4 KiB body. The caller zeroes the bytes when done.
 */
export function segmentKeyBytesForSealing(dataKey: Buffer, salt: Buffer): Buffer {
  if (dataKey.length !== DATA_KEY_SIZE) throw new RangeError(`data key must be ${DATA_KEY_SIZE} bytes, got ${dataKey.length}`);
  return deriveSegmentKeyBytes(dataKey, salt);
}

function deriveSegmentKeyBytes(dataKey: Buffer, salt: Buffer): Buffer {
  // HKDF-SHA256 (RFC 5869) written out as its two HMACs: identical output, but a third of the cost
  // of hkdfSync, which builds KeyObjects and a job for every call (once per object read or written).
  // An empty salt is HashLen zero bytes, which is what HMAC makes of an empty key.
  const prk = createHmac('sha256', salt).update(dataKey).digest();
  const derived = createHmac('sha256', prk).update(HKDF_INFO_BLOCK_1).digest();
  prk.fill(0);
  return derived;
}

function deriveSegmentKey(dataKey: Buffer, salt: Buffer): KeyObject {
  const derived = deriveSegmentKeyBytes(dataKey, salt);
  const key = createSecretKey(derived); // KeyObject keeps its own copy
  derived.fill(0);
  return key;
}

/**
 * Segment keys of recently read blobs (see reuseDerivedKeys), each entry the data key it came from and
 * the key derived, in one buffer; evicted entries are zeroed.
 */
const derivedKeys = new KeyCache<Buffer>(4096, (e) => e.fill(0));
const reusable = new WeakSet<Buffer>();

/**
 * Lets the segment keys derived from this data key Buffer stay cached after use, so the next read of
 * the same blob skips the derivation. For the keys of SSE-S3 and SSE-KMS objects being read; never for
 * SSE-C (nothing derived from a customer's key outlives its request) nor for keys that seal new blobs
 * (sealing derives with segmentKeyForSealing, which never caches: a fresh salt is never met again).
 */
export function reuseDerivedKeys(dataKey: Buffer): Buffer {
  reusable.add(dataKey);
  return dataKey;
}

/** How many derived keys are cached (tests). */
export function derivedKeyCacheSize(): number {
  return derivedKeys.size;
}

/** Nonce of segment `index`: prefix (7) | uint32be(index) | 0x01 if last else 0x00. */
export function segmentNonce(prefix: Buffer, index: number, last: boolean): Buffer {
  const nonce = Buffer.allocUnsafe(PREFIX_SIZE + 5);
  prefix.copy(nonce, 0, 0, PREFIX_SIZE);
  nonce.writeUInt32BE(index, PREFIX_SIZE);
  nonce[PREFIX_SIZE + 4] = last ? 1 : 0;
  return nonce;
}
