/**
 * Key ranges in S3's order: UTF-8 byte order, which is also code point order (and SQLite's BINARY
 * collation on TEXT). JavaScript's `<` compares UTF-16 code units, which disagrees for characters
 * above U+FFFF versus U+E000..U+FFFF, so never use it on keys.
 */

export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * The smallest string greater than every string that starts with `prefix`, or undefined if there
 * is none (prefix made only of U+10FFFF). Strings in [prefix, bound) are exactly those with the prefix.
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const cps = Array.from(prefix);
  while (cps.length > 0) {
    let next = cps.pop()!.codePointAt(0)! + 1;
    if (next >= 0xd800 && next <= 0xdfff) next = 0xe000; // surrogates are not characters in UTF-8
    if (next <= 0x10ffff) return cps.join('') + String.fromCodePoint(next);
  }
  return undefined;
}

export interface KeyRange {
  /** Lower bound and whether it is included. */
  lower?: { key: string; inclusive: boolean };
  /** Exclusive upper bound. */
  upper?: string;
}

/** The range of keys that have `prefix` and come strictly after `after`. */
export function keyRange(prefix: string | undefined, after: string | undefined): KeyRange {
  const range: KeyRange = {};
  if (prefix) {
    range.lower = { key: prefix, inclusive: true };
    const upper = prefixUpperBound(prefix);
    if (upper !== undefined) range.upper = upper;
  }
  if (after && (!range.lower || compareUtf8(after, range.lower.key) >= 0)) {
    range.lower = { key: after, inclusive: false };
  }
  return range;
}

/** SQL conditions and parameters for `range` on column `col`. */
export function rangeSql(col: string, range: KeyRange): { sql: string; params: string[] } {
  const parts: string[] = [];
  const params: string[] = [];
  if (range.lower) {
    parts.push(`${col} ${range.lower.inclusive ? '>=' : '>'} ?`);
    params.push(range.lower.key);
  }
  if (range.upper !== undefined) {
    parts.push(`${col} < ?`);
    params.push(range.upper);
  }
  return { sql: parts.map((p) => ` AND ${p}`).join(''), params };
}
