/**
 * Combining CRCs of consecutive pieces into the CRC of the whole, without the data (S3's
 * FULL_OBJECT multipart checksums): crc(A‖B) = crc(A)·x^(8·|B|) mod P ⊕ crc(B), zlib's
 * crc32_combine generalised to the three reflected CRCs S3 offers (all with init = xorout = ~0).
 */
import type { ChecksumAlgorithm } from './checksums.js';

export type CombinableAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME';

/** Reflected polynomials and widths. */
const CRCS: Record<CombinableAlgorithm, { poly: bigint; width: number }> = {
  CRC32: { poly: 0xedb88320n, width: 32 },
  CRC32C: { poly: 0x82f63b78n, width: 32 },
  CRC64NVME: { poly: 0x9a6c9329ac4bc9b5n, width: 64 },
};

export function isCombinable(algorithm: ChecksumAlgorithm | string): algorithm is CombinableAlgorithm {
  return algorithm in CRCS;
}

/** a·b mod P, both reflected (the top bit is x^0). */
function multModP(a: bigint, b: bigint, poly: bigint, width: number): bigint {
  let m = 1n << BigInt(width - 1);
  let p = 0n;
  while (m !== 0n) {
    if (a & m) p ^= b;
    m >>= 1n;
    b = b & 1n ? (b >> 1n) ^ poly : b >> 1n;
  }
  return p;
}

/** x^(8·bytes) mod P by square-and-multiply. */
function xPow8n(bytes: number, poly: bigint, width: number): bigint {
  let result = 1n << BigInt(width - 1); // x^0
  let power = 1n << BigInt(width - 2); // x^1
  let e = BigInt(bytes) * 8n;
  while (e > 0n) {
    if (e & 1n) result = multModP(power, result, poly, width);
    power = multModP(power, power, poly, width);
    e >>= 1n;
  }
  return result;
}

function toBig(b64: string): bigint {
  const bytes = Buffer.from(b64, 'base64');
  return BigInt(`0x${bytes.toString('hex') || '0'}`);
}

function fromBig(v: bigint, width: number): string {
  return Buffer.from(v.toString(16).padStart(width / 4, '0'), 'hex').toString('base64');
}

/**
 * The CRC of the concatenation of pieces, from each piece's CRC (base64, big-endian, as S3 sends
 * them) and length. An empty list is the CRC of nothing.
 */
export function combineCrcs(algorithm: CombinableAlgorithm, pieces: { checksum: string; length: number }[]): string {
  const { poly, width } = CRCS[algorithm];
  let crc = 0n;
  for (const piece of pieces) {
    crc = multModP(xPow8n(piece.length, poly, width), crc, poly, width) ^ toBig(piece.checksum);
  }
  return fromBig(crc, width);
}
