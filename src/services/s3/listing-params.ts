/** Query parameters and key arithmetic shared by every S3 listing (objects, versions, uploads). */
import { invalidArgument } from './s3-errors.js';
import type { S3Request } from './s3-request.js';

/** Sorts after every key that starts with the prefix it is appended to (in UTF-8 byte order). */
export const AFTER_PREFIX = '\u{10FFFF}';

/** max-keys / max-uploads / max-parts: a non-negative integer, capped at 1000. */
export function maxItems(req: S3Request, name: string): number {
  const v = req.query.get(name);
  if (v === null) return 1000;
  if (!/^\d+$/.test(v)) throw invalidArgument(`Provided ${name} not an integer or within integer range`, name, v);
  return Math.min(Number(v), 1000);
}

export function encodingType(req: S3Request): 'url' | undefined {
  const v = req.query.get('encoding-type');
  if (v === null) return undefined;
  if (v !== 'url') throw invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', v);
  return 'url';
}

/**
 * encoding-type=url: percent-encoding of the UTF-8 bytes, all but unreserved characters and '/'
 * (AWS: `quux ab/` → `quux%20ab/`, `a+b` → `a%2Bb`, `test_file(3).png` → `test_file%283%29.png`;
 * s3-tests' test_bucket_list_encoding_basic). Every SDK's decoder reads %20 as a space.
 */
export function encoder(type: 'url' | undefined): (s: string) => string {
  if (!type) return (s) => s;
  return (s) =>
    encodeURIComponent(s)
      .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
      .replace(/%2F/g, '/');
}

/** The CommonPrefixes entry a key folds into, or undefined when it has no delimiter after the prefix. */
export function commonPrefixOf(key: string, prefix: string, delimiter: string | undefined): string | undefined {
  if (!delimiter) return undefined;
  const at = key.slice(prefix.length).indexOf(delimiter);
  return at < 0 ? undefined : prefix + key.slice(prefix.length, prefix.length + at + delimiter.length);
}

/**
 * A marker that is itself a common prefix (what NextMarker/NextKeyMarker return after a
 * CommonPrefixes entry) means "after everything under that prefix".
 */
export function afterMarker(marker: string | undefined, prefix: string, delimiter: string | undefined): string | undefined {
  if (marker === undefined || !delimiter) return marker;
  return commonPrefixOf(marker, prefix, delimiter) === marker ? marker + AFTER_PREFIX : marker;
}
