/**
 * User metadata (x-amz-meta-*) values as S3 treats them. HTTP header values are bytes; Node hands
 * them over as Latin-1, one character per byte, but SDKs that allow non-ASCII metadata send UTF-8.
 * S3 stores such values as Unicode and returns them as an RFC 2047 encoded word (`=?UTF-8?B?…?=`),
 * "mail-safe", so a response header never carries raw non-ASCII bytes; ASCII values go both ways
 * unchanged. RFC 2047 is done by libmime (nodemailer's MIME library).
 */
import { createRequire } from 'node:module';
import type Libmime from 'libmime';

// Loaded on the first non-ASCII value: with its character-set tables it costs about 12 MB of memory
// per process, and most deployments never send a non-ASCII metadata value.
let libmime: typeof Libmime | undefined;
const load = (): typeof Libmime => (libmime ??= createRequire(import.meta.url)('libmime') as typeof Libmime);

const NON_ASCII = /[^\x00-\x7f]/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A received value as stored: its bytes read as UTF-8 when they are UTF-8, else kept as Latin-1. */
export function storedMetadataValue(received: string): string {
  if (!NON_ASCII.test(received)) return received;
  try {
    return utf8.decode(Buffer.from(received, 'latin1'));
  } catch {
    return received;
  }
}

/** A stored value as a response header: ASCII as is, anything else one RFC 2047 B-encoded word. */
export function metadataHeaderValue(stored: string): string {
  return NON_ASCII.test(stored) ? load().encodeWord(stored, 'B', 0) : stored;
}
