/** Flexible-checksum algorithms against standard check values and independent bitwise oracles. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Crc64Nvme as SdkCrc64Nvme } from '@aws-sdk/crc64-nvme';
import {
  CHECKSUM_ALGORITHMS,
  checksumAlgorithmFromName,
  computeChecksum,
  createChecksum,
  isValidChecksumValue,
  type ChecksumAlgorithm,
} from './checksums.js';
import { splitAt } from './test-streams.js';

const CHECK = Buffer.from('123456789');
const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');

test('check values of "123456789" (CRC catalogue) and digests of the empty string', () => {
  assert.equal(computeChecksum('CRC32', CHECK), b64('cbf43926'));
  assert.equal(computeChecksum('CRC32C', CHECK), b64('e3069283'));
  assert.equal(computeChecksum('CRC64NVME', CHECK), b64('ae8b14860a799888'));
  assert.equal(computeChecksum('SHA1', CHECK), b64('f7c3bc1d808e04732adf679965ccc34ca7ae3441'));
  assert.equal(computeChecksum('SHA256', CHECK), b64('15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225'));

  assert.equal(computeChecksum('CRC32', Buffer.alloc(0)), 'AAAAAA==');
  assert.equal(computeChecksum('CRC32C', Buffer.alloc(0)), 'AAAAAA==');
  assert.equal(computeChecksum('CRC64NVME', Buffer.alloc(0)), 'AAAAAAAAAAA=');
  assert.equal(computeChecksum('SHA1', Buffer.alloc(0)), '2jmj7l5rSw0yVb/vlWAYkK/YBwk=');
  assert.equal(computeChecksum('SHA256', Buffer.alloc(0)), '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
});

// Bitwise reference implementations: slow, obviously correct.
function crcBits32(poly: number, data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of data) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ poly : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
function crcBits64(data: Uint8Array): bigint {
  let crc = 0xffffffffffffffffn;
  for (const b of data) {
    crc ^= BigInt(b);
    for (let k = 0; k < 8; k++) crc = crc & 1n ? (crc >> 1n) ^ 0x9a6c9329ac4bc9b5n : crc >> 1n;
  }
  return crc ^ 0xffffffffffffffffn;
}
const be32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b.toString('base64');
};
const be64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b.toString('base64');
};

test('CRCs match bitwise references for random data fed in random pieces', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.array(fc.nat(), { maxLength: 5 }), (data, cuts) => {
      const pieces = splitAt(Buffer.from(data), cuts);
      assert.equal(computeChecksum('CRC32', pieces), be32(crcBits32(0xedb88320, data)));
      assert.equal(computeChecksum('CRC32C', pieces), be32(crcBits32(0x82f63b78, data)));
      assert.equal(computeChecksum('CRC64NVME', pieces), be64(crcBits64(data)));
    }),
    { numRuns: 300 },
  );
});

test('CRC64NVME matches @aws-sdk/crc64-nvme on larger inputs', async () => {
  const data = Buffer.alloc(100_003);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  const sdk = new SdkCrc64Nvme();
  sdk.update(data);
  assert.equal(computeChecksum('CRC64NVME', [data.subarray(0, 77), data.subarray(77)]), Buffer.from(await sdk.digest()).toString('base64'));
});

test('1000 bytes of "a": every algorithm is the same whole or incremental', () => {
  const data = Buffer.alloc(1000, 'a');
  for (const alg of CHECKSUM_ALGORITHMS) {
    const c = createChecksum(alg);
    for (let i = 0; i < 1000; i += 64) c.update(data.subarray(i, i + 64));
    assert.equal(c.digest().toString('base64'), computeChecksum(alg, data), alg);
  }
  assert.equal(computeChecksum('CRC32', data), be32(crcBits32(0xedb88320, data)));
});

test('digest sizes and base64 validation', () => {
  const sizes: Record<ChecksumAlgorithm, number> = { CRC32: 4, CRC32C: 4, CRC64NVME: 8, SHA1: 20, SHA256: 32 };
  for (const alg of CHECKSUM_ALGORITHMS) {
    const v = computeChecksum(alg, CHECK);
    assert.equal(Buffer.from(v, 'base64').length, sizes[alg]);
    assert.ok(isValidChecksumValue(alg, v));
  }
  assert.ok(!isValidChecksumValue('CRC32', 'AAAAAAAAAAA='));
  assert.ok(!isValidChecksumValue('CRC32', 'AAAA'));
  assert.ok(!isValidChecksumValue('CRC32', 'not base64!'));
  assert.ok(!isValidChecksumValue('SHA1', ''));
});

test('algorithm names from headers and trailer names', () => {
  assert.equal(checksumAlgorithmFromName('crc32'), 'CRC32');
  assert.equal(checksumAlgorithmFromName('x-amz-checksum-crc64nvme'), 'CRC64NVME');
  assert.equal(checksumAlgorithmFromName('SHA256'), 'SHA256');
  assert.equal(checksumAlgorithmFromName('sha512'), undefined);
  assert.equal(checksumAlgorithmFromName('md5'), undefined);
});
