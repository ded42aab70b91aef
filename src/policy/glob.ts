/**
 * Glob patterns (`*`, `?`) compiled once into matchers. Three dialects:
 *  - 'action': case-insensitive, `*` spans everything (Action/NotAction);
 *  - 'string': case-sensitive, `*` spans everything (StringLike);
 *  - 'arn': case-sensitive, component-wise: in the first five colon-separated parts (arn, partition,
 *    service, region, account) `*`/`?` never match ':'; in the resource part they match anything.
 *    A pattern with fewer than five colons is not an ARN and falls back to the 'string' dialect.
 * Compiled matchers are memoised in a bounded map, so patterns that only become known per request
 * (after policy-variable substitution) are not recompiled on every call either.
 */

export type GlobMode = 'action' | 'string' | 'arn';

/** A piece of a pattern; literal pieces (from `${*}` escapes or variable values) are never wildcards. */
export interface Segment {
  text: string;
  literal: boolean;
}

export type Matcher = (value: string) => boolean;

const CACHE_LIMIT = 5000;
const cache = new Map<string, Matcher>();

function remember(key: string, build: () => Matcher): Matcher {
  let m = cache.get(key);
  if (!m) {
    m = build();
    // Crude bound: policies are few, so clearing is rare and cheap to recover from.
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, m);
  }
  return m;
}

/** Matcher for a plain pattern (every `*` and `?` is a wildcard). */
export function globMatcher(pattern: string, mode: GlobMode): Matcher {
  return remember(`${mode}\u0000${pattern}`, () => build([{ text: pattern, literal: false }], mode));
}

/** Matcher for a pattern assembled from pieces, some of which must match literally. */
export function segmentsMatcher(segments: readonly Segment[], mode: GlobMode): Matcher {
  if (segments.length === 1 && !segments[0]!.literal) return globMatcher(segments[0]!.text, mode);
  return remember(`${mode}\u0001${JSON.stringify(segments)}`, () => build(segments, mode));
}

function hasWildcard(segments: readonly Segment[]): boolean {
  return segments.some((s) => !s.literal && /[*?]/.test(s.text));
}

function build(segments: readonly Segment[], mode: GlobMode): Matcher {
  if (!hasWildcard(segments)) {
    const exact = segments.map((s) => s.text).join('');
    if (mode === 'action') {
      const lower = exact.toLowerCase();
      return (v) => v.length === lower.length && v.toLowerCase() === lower;
    }
    return (v) => v === exact;
  }
  const colons = segments.reduce((n, s) => n + (s.text.split(':').length - 1), 0);
  const componentWise = mode === 'arn' && colons >= 5;
  let source = '';
  let part = 0;
  for (const seg of segments) {
    for (const ch of seg.text) {
      const bounded = componentWise && part < 5;
      if (!seg.literal && ch === '*') source += bounded ? '[^:]*' : '[\\s\\S]*';
      else if (!seg.literal && ch === '?') source += bounded ? '[^:]' : '[\\s\\S]';
      else source += escapeRegExp(ch);
      if (ch === ':') part++;
    }
  }
  const re = new RegExp(`^${source}$`, mode === 'action' ? 'iu' : 'u');
  return (v) => re.test(v);
}

function escapeRegExp(ch: string): string {
  // Only syntax characters: the 'u' flag rejects needless escapes such as \-.
  return /[\\^$.*+?()[\]{}|]/.test(ch) ? `\\${ch}` : ch;
}
