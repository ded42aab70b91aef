import type { Readable } from 'node:stream';
import type { Caller } from '../caller.js';

/** What the payload verifier learned while the body streamed through (server/auth computes it). */
export interface VerifiedPayload {
  decodedLength: number;
  /** Hex MD5 of the decoded payload; undefined after withoutMd5(). */
  md5?: string;
  /** The checksum the client sent (header or trailer), already verified against the payload. */
  checksum?: { algorithm: 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256'; value: string };
}

/** An S3 REST request after routing and SigV4 verification: what handlers see (never the raw HTTP objects). */
export interface S3Request {
  method: string;
  bucket?: string;
  key?: string;
  query: URLSearchParams;
  /** Lower-case header names; repeated headers joined with ','. */
  headers: Record<string, string | undefined>;
  /** The verified payload: bytes come out only as they pass signature/checksum verification. */
  body: Readable;
  /** Valid after `body` has ended without error. */
  payload(): VerifiedPayload;
  /**
   * Tells the verifier this handler has no use for the body's MD5 (it is still computed, and checked,
   * when the request sends Content-MD5). Call before reading `body`; bytes already read are fine.
   */
  withoutMd5?(): void;
  caller: Caller;
  /** The region of the SigV4 scope (the region the client addressed). */
  region: string;
  requestId: string;
}
