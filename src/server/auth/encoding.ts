/**
 * SigV4 URI encoding: canonical URI and canonical query string (reference §5.2, §5.3).
 * Everything works on bytes so that UTF-8 keys and stray non-ASCII characters round-trip the way
 * botocore and SDK v3 encode them.
 */

const HEX = '0123456789ABCDEF';

/** RFC 3986 unreserved bytes: A-Z a-z 0-9 - . _ ~ */
const UNRESERVED = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const ch = String.fromCharCode(c);
  UNRESERVED[c] = /[A-Za-z0-9\-._~]/.test(ch) ? 1 : 0;
}
const SLASH = 0x2f;

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

/**
 * Percent-decode to raw bytes. Invalid escapes ("%G1", a trailing "%") stay literal rather than
 * failing, because AWS canonicalises what it received and the client signed what it sent. '+' is
 * literal (neither client emits it for a space).
 */
export function percentDecode(s: string): Buffer {
  // Fast path: nothing to decode and pure ASCII.
  if (!s.includes('%') && /^[\x00-\x7f]*$/.test(s)) return Buffer.from(s, 'latin1');
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code === 0x25 && i + 2 < s.length) {
      const hi = hexValue(s.charCodeAt(i + 1));
      const lo = hexValue(s.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        out.push(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    if (code < 0x80) {
      out.push(code);
    } else {
      // Non-ASCII text in a request target: take its UTF-8 bytes, as a client encoder would.
      const cp = s.codePointAt(i)!;
      if (cp > 0xffff) i++;
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) out.push(b);
    }
  }
  return Buffer.from(out);
}

/** Encode bytes: unreserved bytes (and '/' when keepSlash) literal, everything else %XX upper-case. */
export function uriEncodeBytes(bytes: Uint8Array, keepSlash: boolean): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (UNRESERVED[b] === 1 || (keepSlash && b === SLASH)) out += String.fromCharCode(b);
    else out += '%' + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}

/** Encode a JavaScript string (as UTF-8) with the SigV4 rule. */
export function uriEncode(s: string, keepSlash = false): string {
  return uriEncodeBytes(Buffer.from(s, 'utf8'), keepSlash);
}

/**
 * S3: decode then re-encode; no dot-segment removal, no double encoding. Decoding is per '/'-segment
 * so an encoded slash (%2F) inside a key segment stays %2F: a client that sends it signs it that way.
 */
export function canonicalUriS3(rawPath: string): string {
  const path = rawPath === '' ? '/' : rawPath;
  return path
    .split('/')
    .map((seg) => uriEncodeBytes(percentDecode(seg), false))
    .join('/');
}

/**
 * Other services: remove '.'/'..' segments, collapse empty segments, then encode each segment twice
 * (what botocore's remove_dot_segments + quote and smithy's escapeUri of the wire path produce).
 */
export function canonicalUriOther(rawPath: string): string {
  const segments: string[] = [];
  for (const seg of rawPath.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') segments.pop();
    else segments.push(seg);
  }
  if (segments.length === 0) return '/';
  const encoded = segments.map((seg) => uriEncode(uriEncodeBytes(percentDecode(seg), false)));
  return '/' + encoded.join('/') + (rawPath.endsWith('/') ? '/' : '');
}

export interface QueryParam {
  name: string; // decoded
  value: string; // decoded ('' for a bare name)
  rawName: string;
}

/** Split a raw query string into decoded pairs, in wire order. Empty pieces ("a=1&&b") are skipped. */
export function parseQuery(rawQuery: string): QueryParam[] {
  const out: QueryParam[] = [];
  if (rawQuery === '') return out;
  for (const piece of rawQuery.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const rawName = eq < 0 ? piece : piece.slice(0, eq);
    const rawValue = eq < 0 ? '' : piece.slice(eq + 1);
    out.push({
      name: percentDecode(rawName).toString('utf8'),
      value: percentDecode(rawValue).toString('utf8'),
      rawName,
    });
  }
  return out;
}

/**
 * Canonical query: each pair re-encoded from its decoded bytes, sorted by encoded name then value.
 * `exclude` drops the presigned X-Amz-Signature parameter.
 */
export function canonicalQuery(rawQuery: string, exclude?: string): string {
  if (rawQuery === '') return '';
  const pairs: [string, string][] = [];
  for (const piece of rawQuery.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const rawName = eq < 0 ? piece : piece.slice(0, eq);
    const rawValue = eq < 0 ? '' : piece.slice(eq + 1);
    const name = uriEncodeBytes(percentDecode(rawName), false);
    if (exclude !== undefined && name === exclude) continue;
    pairs.push([name, uriEncodeBytes(percentDecode(rawValue), false)]);
  }
  // Encoded strings are ASCII, so plain comparison is byte order.
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([n, v]) => `${n}=${v}`).join('&');
}
