/**
 * Test helpers (not a test file): a node:crypto hash for @smithy/signature-v4, an independent
 * aws-chunked encoder written from the spec, and stream plumbing. Only *.test.ts files import it.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { ServiceError } from '../../common/errors.js';
import type { Transform } from 'node:stream';
import type { PayloadResult } from './payload.js';

type SourceData = string | ArrayBuffer | ArrayBufferView;

function toBuffer(d: SourceData): Buffer {
  if (typeof d === 'string') return Buffer.from(d, 'utf8');
  if (ArrayBuffer.isView(d)) return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  return Buffer.from(d);
}

/** The smithy Checksum interface over node:crypto (sha256, or HMAC-SHA256 when given a secret). */
export class NodeSha256 {
  private h: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.h = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(this.secret));
  }
  update(data: Uint8Array): void {
    this.h.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
  reset(): void {
    this.h = this.fresh();
  }
}

export const CREDS = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

export const lookupFor =
  (entries: Record<string, { secretAccessKey: string; sessionToken?: string }>) =>
  async (id: string) =>
    entries[id];

export const defaultLookup = lookupFor({ [CREDS.accessKeyId]: { secretAccessKey: CREDS.secretAccessKey } });

export function smithySigner(service: string, region = 'us-east-1', creds: typeof CREDS & { sessionToken?: string } = CREDS) {
  return new SignatureV4({ service, region, credentials: creds, sha256: NodeSha256, uriEscapePath: service !== 's3' });
}

/** Independent signing-key derivation (does not reuse signing-key.ts). */
export function deriveKey(secret: string, date: string, region: string, service: string): Buffer {
  const h = (k: Buffer | string, d: string) => createHmac('sha256', k).update(d).digest();
  return h(h(h(h('AWS4' + secret, date), region), service), 'aws4_request');
}

const EMPTY = createHash('sha256').digest('hex');
const sha = (d: Buffer | string) => createHash('sha256').update(d).digest('hex');
const hmacHex = (k: Buffer, d: string) => createHmac('sha256', k).update(d).digest('hex');

export interface EncodeOptions {
  chunkSize: number;
  signing?: { key: Buffer; amzDate: string; scope: string; seed: string };
  trailers?: [string, string][];
  /** Upper-case hex chunk sizes (botocore writes lower case; both are valid). */
  upperHex?: boolean;
}

/** aws-chunked encoding per the S3 streaming docs (reference §5.10). */
export function encodeAwsChunked(payload: Buffer, o: EncodeOptions): Buffer {
  const parts: Buffer[] = [];
  let prev = o.signing?.seed ?? '';
  const header = (size: number, data: Buffer) => {
    let line = o.upperHex ? size.toString(16).toUpperCase() : size.toString(16);
    if (o.signing) {
      const s = o.signing;
      prev = hmacHex(s.key, ['AWS4-HMAC-SHA256-PAYLOAD', s.amzDate, s.scope, prev, EMPTY, sha(data)].join('\n'));
      line += `;chunk-signature=${prev}`;
    }
    return Buffer.from(line + '\r\n');
  };
  for (let off = 0; off < payload.length; off += o.chunkSize) {
    const data = payload.subarray(off, Math.min(payload.length, off + o.chunkSize));
    parts.push(header(data.length, data), data, Buffer.from('\r\n'));
  }
  parts.push(header(0, Buffer.alloc(0)));
  if (o.trailers) {
    for (const [n, v] of o.trailers) parts.push(Buffer.from(`${n}:${v}\r\n`));
    if (o.signing) {
      const s = o.signing;
      const canonical = [...o.trailers]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([n, v]) => `${n}:${v}\n`)
        .join('');
      const sig = hmacHex(s.key, ['AWS4-HMAC-SHA256-TRAILER', s.amzDate, s.scope, prev, sha(canonical)].join('\n'));
      parts.push(Buffer.from(`x-amz-trailer-signature:${sig}\r\n`));
    }
  }
  parts.push(Buffer.from('\r\n'));
  return Buffer.concat(parts);
}

export { splitAt } from '../../crypto/test-streams.js';

/** Write pieces through a verifier stream; resolves with its output and result, rejects with its error. */
export function runStream(
  v: { stream: Transform; result: () => PayloadResult },
  pieces: Buffer[],
): Promise<{ output: Buffer; result: PayloadResult }> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    v.stream.on('data', (b: Buffer) => out.push(b));
    v.stream.on('error', reject);
    v.stream.on('end', () => {
      try {
        resolve({ output: Buffer.concat(out), result: v.result() });
      } catch (e) {
        reject(e);
      }
    });
    for (const p of pieces) {
      if (v.stream.destroyed) break;
      v.stream.write(p);
    }
    v.stream.end();
  });
}

/** assert.rejects / assert.throws matcher for a ServiceError code (and optionally status, message). */
export function serviceError(code: string, extra: { status?: number; message?: string | RegExp } = {}) {
  return (e: unknown): boolean => {
    if (!(e instanceof ServiceError)) throw new Error(`expected ServiceError ${code}, got ${String(e)}`);
    if (e.code !== code) throw new Error(`expected ${code}, got ${e.code}: ${e.message}`);
    if (extra.status !== undefined && e.status !== extra.status) throw new Error(`expected status ${extra.status}, got ${e.status}`);
    const m = extra.message;
    if (m !== undefined && !(typeof m === 'string' ? e.message === m : m.test(e.message))) {
      throw new Error(`unexpected message for ${code}: ${e.message}`);
    }
    return true;
  };
}
