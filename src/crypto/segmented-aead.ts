/**
 * Object encryption at rest: plaintext in 64 KiB segments, each sealed with AES-256-GCM under a key
 * derived from the object's data key and the blob's salt (layout in segment-layout.ts).
 *
 * Decryption never releases a segment's plaintext before its tag verifies, and knows from the
 * (trusted, metadata-held) plaintext size exactly how many bytes each segment has and which one is
 * last, so any cut, extension, swap or flipped bit surfaces as a CryptoIntegrityError.
 */
import { createCipheriv, createDecipheriv, type DecipherGCM, type KeyObject } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { CryptoIntegrityError } from './errors.js';
import { handOver, isReleasable, releaseBuffer } from '../common/buffer-release.js';
import {
  HEADER_SIZE,
  MAX_SEGMENTS,
  SEGMENT_SIZE,
  TAG_SIZE,
  newHeader,
  parseHeader,
  plainSizeFor,
  segmentCount,
  segmentKey,
  segmentKeyBytes,
  segmentKeyBytesForSealing,
  segmentKeyForSealing,
  segmentNonce,
  segmentPlainLength,
} from './segment-layout.js';

const ALGORITHM = 'aes-256-gcm';
const EMPTY = Buffer.alloc(0);

function segmentCipher(key: KeyObject | Buffer, prefix: Buffer, index: number, last: boolean, aad: Buffer) {
  const cipher = createCipheriv(ALGORITHM, key, segmentNonce(prefix, index, last), { authTagLength: TAG_SIZE });
  if (aad.length > 0) cipher.setAAD(aad);
  return cipher;
}

function segmentDecipher(key: KeyObject | Buffer, prefix: Buffer, index: number, last: boolean, aad: Buffer): DecipherGCM {
  const decipher = createDecipheriv(ALGORITHM, key, segmentNonce(prefix, index, last), { authTagLength: TAG_SIZE });
  if (aad.length > 0) decipher.setAAD(aad);
  return decipher;
}

function authFailure(index: number): CryptoIntegrityError {
  return new CryptoIntegrityError(
    `segment ${index} failed authentication (wrong key or context, or the data was modified, cut or reordered)`,
  );
}

/**
 * Plaintext in, header + sealed segments out. It must hold back one segment because a segment's
 * nonce says whether it is last, which is known only once more input arrives or the input ends.
 * Input chunks are fed to the cipher by reference (subarray), never concatenated.
 */
class EncryptStream extends Transform {
  readonly #key: KeyObject;
  readonly #prefix: Buffer;
  readonly #aad: Buffer;
  #pending: Buffer[] = [];
  /**
   * For each pending piece, the input chunk it is the rest of, when that chunk was handed over
   * (common/buffer-release.ts): this stream is its last reader, and frees it once all of it is sealed
   * rather than leaving it to the collector.
   */
  #owners: (Buffer | undefined)[] = [];
  #pendingLength = 0;
  #index = 0;

  constructor(dataKey: Buffer, aad: Buffer) {
    super();
    const header = newHeader();
    const { salt, prefix } = parseHeader(header);
    this.#key = segmentKeyForSealing(dataKey, salt);
    this.#prefix = prefix;
    this.#aad = aad;
    this.push(header);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (chunk.length > 0) {
      this.#pending.push(chunk);
      this.#owners.push(isReleasable(chunk) ? chunk : undefined);
      this.#pendingLength += chunk.length;
    }
    try {
      // Strictly more than a segment buffered: the first SEGMENT_SIZE bytes are certainly not last.
      while (this.#pendingLength > SEGMENT_SIZE) this.#seal(SEGMENT_SIZE, false);
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.#seal(this.#pendingLength, true);
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  #seal(length: number, last: boolean): void {
    if (this.#index >= MAX_SEGMENTS) throw new RangeError('plaintext exceeds the segment limit');
    const cipher = segmentCipher(this.#key, this.#prefix, this.#index, last, this.#aad);
    let need = length;
    while (need > 0) {
      const head = this.#pending[0]!;
      if (head.length <= need) {
        this.#pending.shift();
        const owner = this.#owners.shift();
        this.push(handOver(cipher.update(head)));
        need -= head.length;
        // The chunk's last bytes are sealed: its memory can go now (see _transform).
        if (owner) releaseBuffer(owner);
      } else {
        this.push(handOver(cipher.update(head.subarray(0, need))));
        this.#pending[0] = head.subarray(need);
        need = 0;
      }
    }
    this.#pendingLength -= length;
    cipher.final(); // GCM emits nothing here
    this.push(cipher.getAuthTag());
    this.#index++;
  }
}

export function createEncryptStream(dataKey: Buffer, aad?: Buffer): Transform {
  return new EncryptStream(dataKey, aad ? Buffer.from(aad) : EMPTY);
}

export interface DecryptOptions {
  /** Plaintext size of the whole object (from metadata): fixes the segment count and the last segment. */
  plainSize: number;
  /** Segment the input starts at (default 0). */
  firstSegment?: number;
  /** Plaintext bytes to drop from the first decrypted segment (default 0). */
  skip?: number;
  /** Plaintext bytes to emit (default: everything from firstSegment + skip to the end). */
  length?: number;
  aad?: Buffer;
}

/**
 * Ciphertext in (starting at `firstSegment`), plaintext out, synchronously: the core of the decrypting
 * stream, also used directly by readers that feed it from a file without a Transform in between.
 * Reads exactly the segments the range touches (at least one, so even an empty range authenticates
 * something); input before the last of them ends is truncation, input after it is an error too.
 * A segment whose ciphertext arrives in one piece is decrypted with one cipher call.
 */
export class SegmentDecryptor {
  readonly #key: KeyObject;
  readonly #header: { prefix: Buffer } | CryptoIntegrityError;
  readonly #aad: Buffer;
  readonly #plainSize: number;
  readonly #segments: number;
  readonly #lastNeeded: number;
  #segment: number;
  #segmentLength: number;
  #bodyFed = 0;
  readonly #tag = Buffer.alloc(TAG_SIZE);
  #tagFill = 0;
  #decipher: DecipherGCM | null = null;
  #plain: Buffer[] = [];
  #skip: number;
  #remaining: number;
  #done = false;

  constructor(dataKey: Buffer, header: Buffer, opts: DecryptOptions) {
    const { plainSize } = opts;
    const segments = segmentCount(plainSize);
    const first = opts.firstSegment ?? 0;
    if (!Number.isSafeInteger(first) || first < 0 || first >= segments) {
      throw new RangeError(`firstSegment ${first} is outside 0..${segments - 1}`);
    }
    const available = plainSize - first * SEGMENT_SIZE;
    const skip = opts.skip ?? 0;
    const length = opts.length ?? available - skip;
    const firstLength = segmentPlainLength(plainSize, first);
    const badSkip = !Number.isSafeInteger(skip) || skip < 0 || skip > firstLength || (length > 0 && skip === firstLength);
    if (badSkip || !Number.isSafeInteger(length) || length < 0 || skip + length > available) {
      throw new RangeError(`skip ${skip} / length ${length} do not fit segment ${first} of a ${plainSize}-byte plaintext`);
    }
    let salt: Buffer = EMPTY;
    try {
      const parsed = parseHeader(header);
      salt = parsed.salt;
      this.#header = { prefix: parsed.prefix };
    } catch (err) {
      if (!(err instanceof CryptoIntegrityError)) throw err;
      // Reported like every other integrity failure, on the first update or on end.
      this.#header = err;
    }
    this.#key = segmentKey(dataKey, salt);
    this.#aad = opts.aad ? Buffer.from(opts.aad) : EMPTY;
    this.#plainSize = plainSize;
    this.#segments = segments;
    this.#segment = first;
    this.#segmentLength = firstLength;
    this.#lastNeeded = length === 0 ? first : Math.floor((first * SEGMENT_SIZE + skip + length - 1) / SEGMENT_SIZE);
    this.#skip = skip;
    this.#remaining = length;
  }

  /**
   * Feed ciphertext; `emit` receives the plaintext of each segment whose tag verified, trimmed to the
   * range. Throws CryptoIntegrityError on a failed tag, a bad header or bytes past the range's end.
   */
  update(chunk: Buffer, emit: (plain: Buffer) => void): void {
    if (this.#header instanceof CryptoIntegrityError) throw this.#header;
    const prefix = this.#header.prefix;
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#done) throw new CryptoIntegrityError(`unexpected bytes after segment ${this.#lastNeeded}`);
      const last = this.#segment === this.#segments - 1;
      const decipher = (this.#decipher ??= segmentDecipher(this.#key, prefix, this.#segment, last, this.#aad));
      const bodyLeft = this.#segmentLength - this.#bodyFed;
      if (bodyLeft > 0) {
        const n = Math.min(bodyLeft, chunk.length - offset);
        // Decrypted now, released only after the tag verifies.
        this.#plain.push(decipher.update(chunk.subarray(offset, offset + n)));
        this.#bodyFed += n;
        offset += n;
        continue;
      }
      const n = Math.min(TAG_SIZE - this.#tagFill, chunk.length - offset);
      // The whole tag in this chunk (the usual case): used in place, no copy.
      const tag = this.#tagFill === 0 && n === TAG_SIZE ? chunk.subarray(offset, offset + n) : undefined;
      if (!tag) chunk.copy(this.#tag, this.#tagFill, offset, offset + n);
      this.#tagFill += n;
      offset += n;
      if (this.#tagFill === TAG_SIZE) {
        try {
          decipher.setAuthTag(tag ?? this.#tag);
          decipher.final();
        } catch {
          throw authFailure(this.#segment);
        }
        this.#release(emit);
      }
    }
  }

  /** The input ended: throws CryptoIntegrityError unless every needed segment arrived and verified. */
  end(): void {
    if (this.#header instanceof CryptoIntegrityError) throw this.#header;
    if (!this.#done) throw new CryptoIntegrityError(`encrypted data ends inside segment ${this.#segment} (truncated)`);
  }

  /** Emits the verified segment's plaintext, trimmed to the requested range, and moves on. */
  #release(emit: (plain: Buffer) => void): void {
    for (const piece of this.#plain) {
      let p = piece;
      if (this.#skip > 0) {
        if (p.length <= this.#skip) {
          this.#skip -= p.length;
          continue;
        }
        p = p.subarray(this.#skip);
        this.#skip = 0;
      }
      if (this.#remaining === 0) break;
      if (p.length > this.#remaining) p = p.subarray(0, this.#remaining);
      this.#remaining -= p.length;
      if (p.length > 0) emit(p);
    }
    this.#plain = [];
    this.#decipher = null;
    this.#bodyFed = 0;
    this.#tagFill = 0;
    if (this.#segment === this.#lastNeeded) {
      this.#done = true;
    } else {
      this.#segment++;
      this.#segmentLength = segmentPlainLength(this.#plainSize, this.#segment);
    }
  }
}

/** The streaming form of SegmentDecryptor. Authentication failure → stream error of class CryptoIntegrityError. */
class DecryptStream extends Transform {
  readonly #core: SegmentDecryptor;
  readonly #emit = (plain: Buffer): void => {
    this.push(plain);
  };

  constructor(dataKey: Buffer, header: Buffer, opts: DecryptOptions) {
    super();
    this.#core = new SegmentDecryptor(dataKey, header, opts);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.#core.update(chunk, this.#emit);
    } catch (err) {
      return callback(err as Error);
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.#core.end();
    } catch (err) {
      return callback(err as Error);
    }
    callback();
  }
}

/**
 * Decrypts segments starting at `firstSegment` (the input must start at that segment's first
 * ciphertext byte), emitting `length` plaintext bytes after dropping `skip`. The header (24 bytes) is
 * passed separately so ranged reads need only read the header plus the touched segments.
 * Authentication failure → stream error of class CryptoIntegrityError.
 */
export function createDecryptStream(
  dataKey: Buffer,
  header: Buffer,
  opts: { plainSize: number; firstSegment?: number; skip?: number; length?: number; aad?: Buffer },
): Transform {
  return new DecryptStream(dataKey, header, opts);
}

/** Whole-buffer encryption for small objects; same format as createEncryptStream. */
export function encryptBuffer(dataKey: Buffer, plaintext: Buffer, aad: Buffer = EMPTY): Buffer {
  const header = newHeader();
  const { salt, prefix } = parseHeader(header);
  const key = segmentKeyBytesForSealing(dataKey, salt);
  try {
    const segments = segmentCount(plaintext.length);
    const parts: Buffer[] = [header];
    for (let i = 0; i < segments; i++) {
      const cipher = segmentCipher(key, prefix, i, i === segments - 1, aad);
      parts.push(cipher.update(plaintext.subarray(i * SEGMENT_SIZE, (i + 1) * SEGMENT_SIZE)));
      cipher.final();
      parts.push(cipher.getAuthTag());
    }
    return Buffer.concat(parts, HEADER_SIZE + plaintext.length + segments * TAG_SIZE);
  } finally {
    key.fill(0);
  }
}

/** Whole-buffer decryption; the plaintext size follows from the blob size. Throws CryptoIntegrityError. */
export function decryptBuffer(dataKey: Buffer, blob: Buffer, aad: Buffer = EMPTY): Buffer {
  const plainSize = plainSizeFor(blob.length);
  const { salt, prefix } = parseHeader(blob.subarray(0, HEADER_SIZE));
  // Used here and now, synchronously: the key's bytes, not a KeyObject (segmentKeyBytes).
  const key = segmentKeyBytes(dataKey, salt);
  try {
    const segments = segmentCount(plainSize);
    const parts: Buffer[] = [];
    let offset = HEADER_SIZE;
    for (let i = 0; i < segments; i++) {
      const length = segmentPlainLength(plainSize, i);
      const decipher = segmentDecipher(key.bytes, prefix, i, i === segments - 1, aad);
      parts.push(decipher.update(blob.subarray(offset, offset + length)));
      try {
        decipher.setAuthTag(blob.subarray(offset + length, offset + length + TAG_SIZE));
        decipher.final();
      } catch {
        throw authFailure(i);
      }
      offset += length + TAG_SIZE;
    }
    return Buffer.concat(parts, plainSize);
  } finally {
    if (key.owned) key.bytes.fill(0);
  }
}
