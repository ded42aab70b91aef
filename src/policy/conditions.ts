/**
 * Condition blocks (reference §3.3): compiled once per statement, evaluated per request.
 *
 * Semantics, per (operator, key):
 *  - Several policy values: OR for positive operators; for negated ones the request value must match
 *    none of them.
 *  - Missing key (absent or empty): IfExists -> true (also with a set qualifier: "if it exists" wins);
 *    ForAnyValue -> false; ForAllValues -> true; negated -> true; otherwise false.
 *  - Multivalued request value without a qualifier: a positive operator holds if ANY element matches;
 *    a negated operator holds if NO element matches (so single-valued and multivalued agree).
 *  - A comparison that cannot be made (unresolvable variable, value that is not a number/date/IP)
 *    does not match, in the operator's own sense: it never satisfies a positive operator and it makes a
 *    negated one false.
 */
import { Buffer } from 'node:buffer';
import type { RequestContext } from './context.js';
import { globMatcher, type Matcher } from './glob.js';
import { cidrContains, parseCidr, parseIp, type Cidr } from './ip.js';
import { familyAllowsVariables, parseOperator, type OperatorInfo } from './operators.js';
import type { ParsedPolicy } from './types.js';
import { parseTemplate, resolveString, templateMatcher, type Template } from './variables.js';

interface CompiledValue {
  raw: string;
  /** Present when the value holds policy variables (resolved per request). */
  template?: Template;
  matcher?: Matcher;
  text?: string;
  num?: number;
  bytes?: Buffer;
  cidr?: Cidr;
}

export interface CompiledCondition {
  /** As written in the policy. */
  operator: string;
  key: string;
  lowerKey: string;
  /** Undefined for an operator parsePolicy would have rejected (hand-built statement): never holds. */
  info: OperatorInfo | undefined;
  values: CompiledValue[];
}

/** A condition that did not hold, with what the request had (undefined = key missing). */
export interface FailedCondition {
  operator: string;
  key: string;
  expected: string[];
  actual: string[] | undefined;
}

export function compileConditions(
  block: Record<string, Record<string, string[]>> | undefined,
  version: ParsedPolicy['version'],
): CompiledCondition[] {
  const out: CompiledCondition[] = [];
  for (const [operator, keys] of Object.entries(block ?? {})) {
    const info = parseOperator(operator);
    const variables = info !== undefined && version === '2012-10-17' && familyAllowsVariables(info.family);
    for (const [key, values] of Object.entries(keys)) {
      out.push({
        operator,
        key,
        lowerKey: key.toLowerCase(),
        info,
        values: values.map((raw) => (info ? compileValue(raw, info, variables) : { raw })),
      });
    }
  }
  return out;
}

function compileValue(raw: string, info: OperatorInfo, variables: boolean): CompiledValue {
  const v: CompiledValue = { raw };
  const template = variables ? parseTemplate(raw) : undefined;
  if (template) {
    v.template = template;
    return v;
  }
  switch (info.family) {
    case 'String':
      if (info.comparison === 'like') v.matcher = globMatcher(raw, 'string');
      else v.text = info.comparison === 'equalsIgnoreCase' ? raw.toLowerCase() : raw;
      break;
    case 'Arn':
      v.matcher = globMatcher(raw, 'arn');
      break;
    case 'Bool':
      v.text = raw.toLowerCase();
      break;
    case 'Numeric':
      v.num = parseNumber(raw);
      break;
    case 'Date':
      v.num = parseDate(raw);
      break;
    case 'Binary':
      v.bytes = parseBase64(raw);
      break;
    case 'Ip':
      v.cidr = parseCidr(raw);
      break;
    case 'Null':
      v.text = raw.toLowerCase();
      break;
  }
  return v;
}

/** Evaluates every condition and returns those that failed (empty = the block holds). */
export function failedConditions(conditions: readonly CompiledCondition[], ctx: RequestContext): FailedCondition[] {
  const failed: FailedCondition[] = [];
  for (const c of conditions) {
    if (!conditionHolds(c, ctx)) {
      const actual = ctx.get(c.lowerKey);
      failed.push({ operator: c.operator, key: c.key, expected: c.values.map((v) => v.raw), actual: actual ? [...actual] : undefined });
    }
  }
  return failed;
}

export function conditionHolds(c: CompiledCondition, ctx: RequestContext): boolean {
  const { info } = c;
  if (!info) return false;
  const actual = ctx.get(c.lowerKey);
  const present = actual !== undefined && actual.length > 0;
  if (info.family === 'Null') {
    return c.values.some((v) => (v.text === 'true' && !present) || (v.text === 'false' && present));
  }
  if (!present) {
    if (info.ifExists) return true;
    if (info.qualifier === 'ForAnyValue') return false;
    if (info.qualifier === 'ForAllValues') return true;
    return info.negated;
  }
  // Without a qualifier: positive -> any element matches; negated -> every element matches none.
  const all = info.qualifier === 'ForAllValues' || (info.qualifier === undefined && info.negated);
  for (const a of actual) {
    const ok = singleHolds(info, c.values, a, ctx);
    if (all && !ok) return false;
    if (!all && ok) return true;
  }
  return all;
}

/** The operator applied to one request value: OR over policy values, or for negated operators NONE of them. */
function singleHolds(info: OperatorInfo, values: readonly CompiledValue[], actual: string, ctx: RequestContext): boolean {
  for (const v of values) {
    const r = compare(info, v, actual, ctx);
    if (info.negated && r !== false) return false;
    if (!info.negated && r === true) return true;
  }
  return info.negated;
}

/** The positive comparison of one request value with one policy value; undefined if it cannot be made. */
function compare(info: OperatorInfo, v: CompiledValue, actual: string, ctx: RequestContext): boolean | undefined {
  switch (info.family) {
    case 'String':
    case 'Arn': {
      if (info.family === 'Arn' || info.comparison === 'like') {
        const m = v.template ? templateMatcher(v.template, ctx, info.family === 'Arn' ? 'arn' : 'string') : v.matcher;
        return m ? m(actual) : undefined;
      }
      const expected = v.template ? resolveString(v.template, ctx) : v.text;
      if (expected === undefined) return undefined;
      return info.comparison === 'equalsIgnoreCase'
        ? actual.toLowerCase() === expected.toLowerCase()
        : actual === expected;
    }
    case 'Bool': {
      const expected = v.template ? resolveString(v.template, ctx) : v.text;
      return expected === undefined ? undefined : actual.toLowerCase() === expected.toLowerCase();
    }
    case 'Numeric':
      return order(info, v.num, parseNumber(actual));
    case 'Date':
      return order(info, v.num, parseDate(actual));
    case 'Binary': {
      const a = parseBase64(actual);
      return v.bytes && a ? v.bytes.equals(a) : undefined;
    }
    case 'Ip': {
      const ip = parseIpMemo(actual);
      return v.cidr && ip ? cidrContains(v.cidr, ip) : undefined;
    }
    case 'Null':
      return undefined;
  }
}


/** `actual <op> expected` for numbers and dates. */
function order(info: OperatorInfo, expected: number | undefined, actual: number | undefined): boolean | undefined {
  if (expected === undefined || actual === undefined) return undefined;
  switch (info.comparison) {
    case 'equals':
      return actual === expected;
    case 'lessThan':
      return actual < expected;
    case 'lessThanEquals':
      return actual <= expected;
    case 'greaterThan':
      return actual > expected;
    case 'greaterThanEquals':
      return actual >= expected;
    default:
      return undefined;
  }
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;

export function parseNumber(s: string): number | undefined {
  const t = s.trim();
  return NUMBER.test(t) ? Number(t) : undefined;
}

const EPOCH = /^-?\d+(?:\.\d+)?$/;
const ISO = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})?)?$/i;

/** Milliseconds since the epoch from ISO 8601 (UTC unless an offset is given) or epoch seconds. */
export function parseDate(s: string): number | undefined {
  const t = s.trim();
  if (EPOCH.test(t)) return Number(t) * 1000;
  const m = ISO.exec(t);
  if (!m) return undefined;
  let zone = m[3] ?? 'Z';
  if (/^[+-]\d{4}$/.test(zone)) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const ms = Date.parse(m[2] ? `${m[1]}T${m[2]}${zone.toUpperCase()}` : `${m[1]}T00:00:00Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function parseBase64(s: string): Buffer | undefined {
  const t = s.trim();
  return BASE64.test(t) && t.length % 4 === 0 ? Buffer.from(t, 'base64') : undefined;
}

/** The request's address is compared with every CIDR of a condition: parse it once. */
let lastIpText: string | undefined;
let lastIp: ReturnType<typeof parseIp>;
function parseIpMemo(text: string): ReturnType<typeof parseIp> {
  if (text !== lastIpText) {
    lastIp = parseIp(text);
    lastIpText = text;
  }
  return lastIp;
}
