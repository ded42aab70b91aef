/** Canonical headers, canonical request and string to sign (reference §5.1, §5.4). */
import { sha256Hex } from './signing-key.js';

export type HeaderBag = Record<string, string | string[] | undefined>;

export const ALGORITHM = 'AWS4-HMAC-SHA256';

/** All values of a header (names are lower-case, as node:http gives them). */
export function headerValues(headers: HeaderBag, name: string): string[] {
  const v = headers[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** A single-valued header; repeats are joined with ',' (what SigV4 canonicalisation does too). */
export function headerValue(headers: HeaderBag, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? (v.length === 0 ? undefined : v.join(',')) : v;
}

// Only SP/HTAB count as whitespace: String#trim would also eat U+00A0, which is how node:http
// presents a 0xA0 byte (e.g. the last byte of UTF-8 'à').
function canonicalValue(v: string): string {
  return v.replace(/[\t ]+/g, ' ').replace(/^ | $/g, '');
}

/** `name:value\n` lines for the signed headers, in the order given (clients send them sorted). */
export function canonicalHeaderBlock(headers: HeaderBag, signedHeaders: string[]): string {
  let out = '';
  for (const name of signedHeaders) {
    const values = headerValues(headers, name).map(canonicalValue);
    out += `${name}:${values.join(',')}\n`;
  }
  return out;
}

export interface CanonicalParts {
  method: string;
  uri: string;
  query: string;
  headers: string; // canonical header block, each line ending in \n
  signedHeaders: string[];
  payloadHash: string;
}

export function canonicalRequest(p: CanonicalParts): string {
  return [p.method, p.uri, p.query, p.headers, p.signedHeaders.join(';'), p.payloadHash].join('\n');
}

/**
 * The bytes the client hashed. node:http hands header values over as latin1 (one char per byte), so
 * latin1 reproduces the wire bytes; strings holding characters above U+00FF can only have come from
 * JavaScript callers, which sign UTF-8.
 */
export function canonicalBytes(text: string): Buffer {
  return /[^\x00-\xff]/.test(text) ? Buffer.from(text, 'utf8') : Buffer.from(text, 'latin1');
}

export function stringToSign(amzDate: string, scope: string, canonicalRequestBytes: Buffer): string {
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequestBytes)}`;
}
