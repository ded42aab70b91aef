/**
 * Policy variables (`${aws:username}`, `${aws:PrincipalTag/team, 'default'}`, escapes `${*}` `${?}`
 * `${$}`). Only policies with Version 2012-10-17 use them; callers decide that. A template is parsed
 * once per statement; resolution per request yields Segments whose substituted parts are literal, so a
 * user name containing '*' can never act as a wildcard.
 */
import { segmentsMatcher, type GlobMode, type Matcher, type Segment } from './glob.js';
import type { RequestContext } from './context.js';

type Part =
  | { kind: 'text'; text: string }
  | { kind: 'escape'; text: string }
  | { kind: 'var'; name: string; key: string; fallback?: string };

export interface Template {
  readonly parts: readonly Part[];
}

const PLACEHOLDER = /\$\{([^}]*)\}/g;
const VARIABLE = /^\s*([^,\s]+)\s*(?:,\s*'([^']*)'\s*)?$/;

/** Parses `text`; returns undefined when it holds no `${...}` at all (the common, fast case). */
export function parseTemplate(text: string): Template | undefined {
  if (!text.includes('${')) return undefined;
  const parts: Part[] = [];
  let last = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    const start = m.index ?? 0;
    if (start > last) parts.push({ kind: 'text', text: text.slice(last, start) });
    last = start + m[0].length;
    const inner = m[1] ?? '';
    if (inner === '*' || inner === '?' || inner === '$') {
      parts.push({ kind: 'escape', text: inner });
      continue;
    }
    const v = VARIABLE.exec(inner);
    if (!v) {
      // Not a variable we understand: keep the text as written.
      parts.push({ kind: 'text', text: m[0] });
      continue;
    }
    const name = v[1]!;
    const part: Part = { kind: 'var', name, key: name.toLowerCase() };
    if (v[2] !== undefined) part.fallback = v[2];
    parts.push(part);
  }
  if (last < text.length) parts.push({ kind: 'text', text: text.slice(last) });
  return { parts };
}

/** A single-valued context value, or undefined (absent, or multivalued: no single substitution). */
function lookup(ctx: RequestContext, key: string): string | undefined {
  const v = ctx.get(key);
  return v && v.length === 1 ? v[0] : undefined;
}

/** Substitutes variables; undefined when one cannot be resolved (then the comparison does not match). */
export function resolveSegments(t: Template, ctx: RequestContext): Segment[] | undefined {
  const out: Segment[] = [];
  for (const p of t.parts) {
    if (p.kind === 'text') out.push({ text: p.text, literal: false });
    else if (p.kind === 'escape') out.push({ text: p.text, literal: true });
    else {
      const value = lookup(ctx, p.key) ?? p.fallback;
      if (value === undefined) return undefined;
      out.push({ text: value, literal: true });
    }
  }
  return out;
}

/** Substitutes variables into a plain string (for Equals-style comparisons, where nothing is a wildcard). */
export function resolveString(t: Template, ctx: RequestContext): string | undefined {
  const segs = resolveSegments(t, ctx);
  return segs?.map((s) => s.text).join('');
}

const MATCHERS_PER_TEMPLATE = 256;
const templateMatchers = new WeakMap<Template, Map<string, Matcher>>();

/**
 * The matcher for a template once its variables are resolved; undefined when one cannot be. Cached
 * per template by the resolved values, so a request pays a lookup, not a regex compilation.
 */
export function templateMatcher(t: Template, ctx: RequestContext, mode: GlobMode): Matcher | undefined {
  let key = mode;
  for (const p of t.parts) {
    if (p.kind !== 'var') continue;
    const value = lookup(ctx, p.key) ?? p.fallback;
    if (value === undefined) return undefined;
    key += '\u0000' + value;
  }
  let byValues = templateMatchers.get(t);
  if (!byValues) {
    byValues = new Map();
    templateMatchers.set(t, byValues);
  }
  let m = byValues.get(key);
  if (!m) {
    m = segmentsMatcher(resolveSegments(t, ctx)!, mode);
    if (byValues.size >= MATCHERS_PER_TEMPLATE) byValues.clear();
    byValues.set(key, m);
  }
  return m;
}
