/**
 * Cryptographically secure random bytes for the request path, drawn from a buffer the CSPRNG refills
 * 4 KiB at a time. Each `crypto.randomBytes` call costs about 4-5 µs on this VM whatever its size
 * (the per-call price `crypto.randomUUID` avoids with its own cache), and one S3 PUT needs several
 * (request and host ids, version id, data key, IVs). Bytes handed out are wiped from the buffer.
 */
import { randomBytes, randomFillSync } from 'node:crypto';

const POOL_SIZE = 4096;
/** Larger requests go straight to the CSPRNG: pooling only pays for small ones. */
const MAX_POOLED = 256;
const pool = Buffer.allocUnsafeSlow(POOL_SIZE);
let offset = POOL_SIZE;

export function secureRandomBytes(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`secureRandomBytes: invalid size ${n}`);
  if (n > MAX_POOLED) return randomBytes(n);
  if (offset + n > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const out = Buffer.allocUnsafe(n);
  pool.copy(out, 0, offset, offset + n);
  pool.fill(0, offset, offset + n);
  offset += n;
  return out;
}
