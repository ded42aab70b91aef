/**
 * CRC-64/NVME (reflected polynomial 0x9a6c9329ac4bc9b5, init and xorout all ones), synchronous.
 * @aws-sdk/crc64-nvme only offers an async digest, which cannot back the synchronous checksum API,
 * so this is a slice-by-8 table implementation on two 32-bit halves (tests cross-check the SDK).
 */

const POLY = 0x9a6c9329ac4bc9b5n;
const SLICES = 8;
// TABLE_HI[s][b] / TABLE_LO[s][b]: high and low 32 bits of the CRC of byte b followed by s zero bytes.
const TABLE_HI: Uint32Array[] = [];
const TABLE_LO: Uint32Array[] = [];

function buildTables(): void {
  for (let s = 0; s < SLICES; s++) {
    TABLE_HI.push(new Uint32Array(256));
    TABLE_LO.push(new Uint32Array(256));
  }
  const base: bigint[] = [];
  for (let b = 0; b < 256; b++) {
    let crc = BigInt(b);
    for (let k = 0; k < 8; k++) crc = crc & 1n ? (crc >> 1n) ^ POLY : crc >> 1n;
    base.push(crc);
  }
  for (let b = 0; b < 256; b++) {
    let crc = base[b]!;
    for (let s = 0; s < SLICES; s++) {
      TABLE_HI[s]![b] = Number(crc >> 32n);
      TABLE_LO[s]![b] = Number(crc & 0xffffffffn);
      crc = (crc >> 8n) ^ base[Number(crc & 0xffn)]!;
    }
  }
}
buildTables();

const [H0, H1, H2, H3, H4, H5, H6, H7] = TABLE_HI as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];
const [L0, L1, L2, L3, L4, L5, L6, L7] = TABLE_LO as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];

export class Crc64Nvme {
  // Running (pre-xorout) state as high/low 32-bit halves.
  private hi = 0xffffffff;
  private lo = 0xffffffff;

  update(data: Uint8Array): void {
    let hi = this.hi;
    let lo = this.lo;
    const len = data.length;
    let i = 0;
    for (; i + 8 <= len; i += 8) {
      // XOR the next 8 bytes (little-endian) into the state, then fold each byte through its slice.
      const a = lo ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
      const b = hi ^ (data[i + 4]! | (data[i + 5]! << 8) | (data[i + 6]! << 16) | (data[i + 7]! << 24));
      const a0 = a & 255, a1 = (a >>> 8) & 255, a2 = (a >>> 16) & 255, a3 = a >>> 24;
      const b0 = b & 255, b1 = (b >>> 8) & 255, b2 = (b >>> 16) & 255, b3 = b >>> 24;
      hi = H7[a0]! ^ H6[a1]! ^ H5[a2]! ^ H4[a3]! ^ H3[b0]! ^ H2[b1]! ^ H1[b2]! ^ H0[b3]!;
      lo = L7[a0]! ^ L6[a1]! ^ L5[a2]! ^ L4[a3]! ^ L3[b0]! ^ L2[b1]! ^ L1[b2]! ^ L0[b3]!;
    }
    for (; i < len; i++) {
      const idx = (lo ^ data[i]!) & 255;
      lo = ((lo >>> 8) | (hi << 24)) ^ L0[idx]!;
      hi = (hi >>> 8) ^ H0[idx]!;
    }
    this.hi = hi >>> 0;
    this.lo = lo >>> 0;
  }

  /** Big-endian 8-byte digest. */
  digest(): Buffer {
    const out = Buffer.alloc(8);
    out.writeUInt32BE((this.hi ^ 0xffffffff) >>> 0, 0);
    out.writeUInt32BE((this.lo ^ 0xffffffff) >>> 0, 4);
    return out;
  }
}
