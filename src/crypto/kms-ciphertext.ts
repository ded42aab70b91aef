/**
 * The CiphertextBlob our KMS returns from Encrypt/GenerateDataKey and accepts in Decrypt/ReEncrypt.
 *
 *   version (0x01) | arnLength (uint16be) | key ARN (ASCII) | material id (32) | IV (12) | ciphertext | tag (16)
 *
 * The blob names its key (so Decrypt needs no KeyId, and the ARN's region/account let a KMS spot a
 * blob from elsewhere) and its key material (so rotated keys still open old blobs). The AAD is
 * everything before the IV plus the canonical encryption context: a blob relabelled to another key
 * or material, or opened with a different context, fails authentication.
 */
import { isWellFormedText } from '../common/unicode.js';
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { secureRandomBytes as randomBytes } from '../common/random.js';
import { InvalidCiphertextError } from './errors.js';

export interface KmsCiphertextHeader {
  keyArn: string;
  /** 64 lower-case hex characters, as AWS shows key material ids. */
  materialId: string;
}

const VERSION = 0x01;
const MATERIAL_ID_SIZE = 32;
const IV_SIZE = 12;
const TAG_SIZE = 16;
const KEY_SIZE = 32;
/** AWS's limits: CiphertextBlob at most 6144 bytes, Encrypt plaintext at most 4096 bytes. */
export const MAX_CIPHERTEXT_BLOB_SIZE = 6144;
export const MAX_KMS_PLAINTEXT_SIZE = 4096;
/** Keeps 4096-byte plaintexts well inside 6144 bytes; real key ARNs are under 130 bytes. */
const MAX_ARN_SIZE = 1024;
const MIN_BLOB_SIZE = 1 + 2 + 1 + MATERIAL_ID_SIZE + IV_SIZE + TAG_SIZE;

const KEY_ARN = /^arn:[^:]+:kms:[^:]*:[^:]*:key\/.+$/;
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;
const MATERIAL_ID = /^[0-9a-f]{64}$/;

/** ARNs already seen valid: every SSE-KMS GET parses a blob naming one of a few keys. */
const validArns = new Set<string>();
function isKeyArn(s: string): boolean {
  if (validArns.has(s)) return true;
  const ok = s.length <= MAX_ARN_SIZE && PRINTABLE_ASCII.test(s) && KEY_ARN.test(s);
  if (ok) {
    if (validArns.size >= 1000) validArns.clear();
    validArns.add(s);
  }
  return ok;
}

function utf8(s: unknown, what: string): Buffer {
  if (typeof s !== 'string') throw new TypeError(`encryption context ${what} must be a string`);
  if (!isWellFormedText(s)) throw new TypeError(`encryption context ${what} is not well-formed Unicode`);
  return Buffer.from(s, 'utf8');
}

/**
 * Canonical bytes of an encryption context: uint32be(pair count), then for each pair in order of
 * the key's UTF-8 bytes: uint32be(key length) key uint32be(value length) value. Length prefixes make
 * it injective ({"a":"bc"} and {"ab":"c"} differ); undefined and {} both encode zero pairs.
 */
export function canonicalContext(context: Record<string, string> | undefined): Buffer {
  const pairs = Object.entries(context ?? {}).map(([k, v]) => [utf8(k, 'key'), utf8(v, `value of "${k}"`)] as const);
  pairs.sort((a, b) => Buffer.compare(a[0], b[0]));
  const parts: Buffer[] = [u32(pairs.length)];
  for (const [k, v] of pairs) parts.push(u32(k.length), k, u32(v.length), v);
  return Buffer.concat(parts);
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n, 0);
  return b;
}

function aadFor(header: Buffer, context: Record<string, string> | undefined): Buffer {
  return Buffer.concat([header, canonicalContext(context)]);
}

/**
 * The blob header of a key's material, validated and encoded once: every SSE-KMS object written
 * seals a data key under the same few key materials.
 */
const headers = new Map<string, Buffer>();
function headerFor(keyArn: string, materialIdIn: string): Buffer {
  const cacheKey = `${keyArn}\n${materialIdIn}`;
  let header = headers.get(cacheKey);
  if (header) return header;
  if (!isKeyArn(keyArn)) throw new TypeError(`not a KMS key ARN: ${JSON.stringify(keyArn)}`);
  const materialId = materialIdIn.toLowerCase();
  if (!MATERIAL_ID.test(materialId)) throw new TypeError('materialId must be 64 hex characters');
  const arn = Buffer.from(keyArn, 'ascii');
  header = Buffer.concat([Buffer.from([VERSION, arn.length >> 8, arn.length & 0xff]), arn, Buffer.from(materialId, 'hex')]);
  if (headers.size >= 1000) headers.clear();
  headers.set(cacheKey, header);
  return header;
}

export function sealKmsCiphertext(p: {
  keyArn: string;
  materialId: string;
  materialKey: Buffer;
  plaintext: Buffer;
  context?: Record<string, string>;
}): Buffer {
  if (p.materialKey.length !== KEY_SIZE) throw new RangeError(`materialKey must be ${KEY_SIZE} bytes`);
  if (p.plaintext.length > MAX_KMS_PLAINTEXT_SIZE) {
    throw new RangeError(`plaintext of ${p.plaintext.length} bytes exceeds ${MAX_KMS_PLAINTEXT_SIZE}`);
  }
  const header = headerFor(p.keyArn, p.materialId);
  const iv = randomBytes(IV_SIZE);
  const cipher = createCipheriv('aes-256-gcm', p.materialKey, iv, { authTagLength: TAG_SIZE });
  cipher.setAAD(aadFor(header, p.context));
  const body = cipher.update(p.plaintext);
  cipher.final();
  return Buffer.concat([header, iv, body, cipher.getAuthTag()]);
}

interface DecodedBlob extends KmsCiphertextHeader {
  header: Buffer;
  iv: Buffer;
  body: Buffer;
  tag: Buffer;
}

function decode(blob: Buffer): DecodedBlob {
  if (!Buffer.isBuffer(blob)) throw new InvalidCiphertextError('ciphertext must be bytes');
  if (blob.length < MIN_BLOB_SIZE) throw new InvalidCiphertextError('ciphertext is too short');
  if (blob.length > MAX_CIPHERTEXT_BLOB_SIZE) throw new InvalidCiphertextError('ciphertext is too long');
  if (blob[0] !== VERSION) throw new InvalidCiphertextError('ciphertext has an unknown format version');
  const arnLength = blob.readUInt16BE(1);
  const headerEnd = 3 + arnLength + MATERIAL_ID_SIZE;
  if (arnLength === 0 || headerEnd + IV_SIZE + TAG_SIZE > blob.length) {
    throw new InvalidCiphertextError('ciphertext is truncated');
  }
  const keyArn = blob.toString('latin1', 3, 3 + arnLength);
  if (!isKeyArn(keyArn)) throw new InvalidCiphertextError('ciphertext does not name a KMS key');
  return {
    keyArn,
    materialId: blob.toString('hex', 3 + arnLength, headerEnd),
    header: blob.subarray(0, headerEnd),
    iv: blob.subarray(headerEnd, headerEnd + IV_SIZE),
    body: blob.subarray(headerEnd + IV_SIZE, blob.length - TAG_SIZE),
    tag: blob.subarray(blob.length - TAG_SIZE),
  };
}

/** Reads which key and material a blob needs, without opening it. */
export function parseKmsCiphertext(blob: Buffer): KmsCiphertextHeader {
  const { keyArn, materialId } = decode(blob);
  return { keyArn, materialId };
}

/** Opens a blob with the material its header names; the context must equal the one it was sealed with. */
export function openKmsCiphertext(blob: Buffer, materialKey: Buffer, context?: Record<string, string>): Buffer {
  if (materialKey.length !== KEY_SIZE) throw new RangeError(`materialKey must be ${KEY_SIZE} bytes`);
  const { header, iv, body, tag } = decode(blob);
  let aad: Buffer;
  try {
    aad = aadFor(header, context);
  } catch {
    // A context that cannot be canonicalised cannot equal the one the blob was sealed with.
    throw new InvalidCiphertextError('encryption context does not match');
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', materialKey, iv, { authTagLength: TAG_SIZE });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    const plaintext = decipher.update(body);
    decipher.final();
    return plaintext;
  } catch {
    throw new InvalidCiphertextError('ciphertext does not open with this key material and encryption context');
  }
}
