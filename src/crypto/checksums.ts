/** S3 flexible checksums (reference §6.3): incremental digests, base64 of the big-endian value. */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { crc32c } from '@node-rs/crc32';
import { Crc64Nvme } from './crc64nvme.js';

export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';

export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];

/** Digest sizes in bytes, for validating header values. */
export const CHECKSUM_LENGTHS: Record<ChecksumAlgorithm, number> = {
  CRC32: 4,
  CRC32C: 4,
  CRC64NVME: 8,
  SHA1: 20,
  SHA256: 32,
};

export interface IncrementalChecksum {
  update(b: Buffer): void;
  digest(): Buffer;
}

class Crc32Family implements IncrementalChecksum {
  private state = 0;
  constructor(private readonly fn: (data: Buffer, initial: number) => number) {}
  update(b: Buffer): void {
    this.state = this.fn(b, this.state);
  }
  digest(): Buffer {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(this.state >>> 0, 0);
    return out;
  }
}

export function createChecksum(algorithm: ChecksumAlgorithm): IncrementalChecksum {
  switch (algorithm) {
    case 'CRC32':
      return new Crc32Family((d, s) => crc32(d, s));
    case 'CRC32C':
      return new Crc32Family((d, s) => crc32c(d, s));
    case 'CRC64NVME':
      return new Crc64Nvme();
    case 'SHA1':
    case 'SHA256': {
      const h = createHash(algorithm === 'SHA1' ? 'sha1' : 'sha256');
      return { update: (b) => void h.update(b), digest: () => h.digest() };
    }
  }
}

/** Base64 of the big-endian digest of `data` (a buffer or the buffers of a payload in order). */
export function computeChecksum(algorithm: ChecksumAlgorithm, data: Buffer | Buffer[]): string {
  const c = createChecksum(algorithm);
  for (const b of Array.isArray(data) ? data : [data]) c.update(b);
  return c.digest().toString('base64');
}

/** 'crc32' / 'x-amz-checksum-crc32' → 'CRC32'; undefined for names we do not compute. */
export function checksumAlgorithmFromName(name: string): ChecksumAlgorithm | undefined {
  const n = name.trim().toUpperCase().replace(/^X-AMZ-CHECKSUM-/, '');
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(n) ? (n as ChecksumAlgorithm) : undefined;
}

/** True when `value` is canonical base64 of exactly the digest length of `algorithm`. */
export function isValidChecksumValue(algorithm: ChecksumAlgorithm, value: string): boolean {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) return false;
  const bytes = Buffer.from(value, 'base64');
  return bytes.length === CHECKSUM_LENGTHS[algorithm] && bytes.toString('base64') === value;
}
