/**
 * Bucket CORS: the configuration document (validated as S3 does), rule matching, the answer to a
 * preflight (OPTIONS) request, and the Access-Control-* headers S3 adds to actual requests that
 * carry an Origin.
 */
import { ServiceError } from '../../common/errors.js';
import { children, malformedXml, parseXml, text, token, toXml, type XmlObject } from '../protocol/xml.js';
import type { ServiceResponse } from '../protocol/response.js';
import { S3_XMLNS } from './request-body.js';

export interface CorsRule {
  id?: string;
  allowedMethods: string[];
  allowedOrigins: string[];
  allowedHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
}

const METHODS = new Set(['GET', 'PUT', 'HEAD', 'POST', 'DELETE']);
const MAX_RULES = 100;

function invalidRequest(message: string): ServiceError {
  return new ServiceError('InvalidRequest', 400, message);
}

/** Parse and validate a CORSConfiguration document. */
export function parseCorsXml(body: string): CorsRule[] {
  const { root, value } = parseXml(body);
  if (root !== 'CORSConfiguration') throw malformedXml();
  const rules = children(value, 'CORSRule');
  if (rules.length === 0) throw malformedXml();
  if (rules.length > MAX_RULES) throw invalidRequest(`The number of CORS rules should not exceed allowed limit of ${MAX_RULES} rules.`);
  return rules.map((r) => {
    const list = (name: string) => {
      const v = r[name];
      if (v === undefined) return [];
      return (Array.isArray(v) ? v : [v]).map((x) => {
        if (typeof x !== 'string') throw malformedXml();
        return x;
      });
    };
    const rule: CorsRule = {
      allowedMethods: list('AllowedMethod'),
      allowedOrigins: list('AllowedOrigin'),
      allowedHeaders: list('AllowedHeader'),
      exposeHeaders: list('ExposeHeader'),
    };
    if (rule.allowedMethods.length === 0 || rule.allowedOrigins.length === 0) throw malformedXml();
    for (const m of rule.allowedMethods) {
      if (!METHODS.has(m)) throw invalidRequest(`Found unsupported HTTP method in CORS config. Unsupported method is ${m}`);
    }
    for (const o of rule.allowedOrigins) {
      if (o.split('*').length > 2) throw invalidRequest(`AllowedOrigin "${o}" can not have more than one wildcard.`);
    }
    for (const h of rule.allowedHeaders) {
      if (h.split('*').length > 2) throw invalidRequest(`AllowedHeader "${h}" can not have more than one wildcard.`);
    }
    const id = text(r, 'ID');
    if (id !== undefined) {
      if (id.length > 255) throw invalidRequest('The ID of a CORS rule must be at most 255 characters.');
      rule.id = id;
    }
    const maxAge = token(r, 'MaxAgeSeconds');
    if (maxAge !== undefined) {
      if (!/^-?\d+$/.test(maxAge)) throw malformedXml();
      rule.maxAgeSeconds = Number(maxAge);
    }
    return rule;
  });
}

export function corsXml(rules: CorsRule[]): string {
  const body: XmlObject = {
    CORSRule: rules.map((r) => ({
      ID: r.id,
      AllowedHeader: r.allowedHeaders,
      AllowedMethod: r.allowedMethods,
      AllowedOrigin: r.allowedOrigins,
      ExposeHeader: r.exposeHeaders,
      MaxAgeSeconds: r.maxAgeSeconds,
    })),
  };
  return toXml('CORSConfiguration', body, S3_XMLNS);
}

/** One '*' wildcard at most, matching any run of characters; case-sensitive for origins. */
function wildcard(pattern: string, value: string, caseInsensitive = false): boolean {
  const p = caseInsensitive ? pattern.toLowerCase() : pattern;
  const v = caseInsensitive ? value.toLowerCase() : value;
  const star = p.indexOf('*');
  if (star < 0) return p === v;
  const head = p.slice(0, star);
  const tail = p.slice(star + 1);
  return v.length >= head.length + tail.length && v.startsWith(head) && v.endsWith(tail);
}

/** The first rule allowing this origin, method and every requested header (S3 uses the first match). */
export function matchCorsRule(rules: CorsRule[], origin: string, method: string, requestHeaders: string[]): CorsRule | undefined {
  return rules.find(
    (r) =>
      r.allowedOrigins.some((o) => wildcard(o, origin)) &&
      r.allowedMethods.includes(method) &&
      requestHeaders.every((h) => r.allowedHeaders.some((a) => wildcard(a, h, true))),
  );
}

function allowHeaders(rule: CorsRule, origin: string): Record<string, string> {
  const anyOrigin = rule.allowedOrigins.includes('*');
  const h: Record<string, string> = {
    'access-control-allow-origin': anyOrigin ? '*' : origin,
    'access-control-allow-methods': rule.allowedMethods.join(', '),
    vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
  };
  if (!anyOrigin) h['access-control-allow-credentials'] = 'true';
  if (rule.exposeHeaders.length > 0) h['access-control-expose-headers'] = rule.exposeHeaders.join(', ');
  if (rule.maxAgeSeconds !== undefined) h['access-control-max-age'] = String(rule.maxAgeSeconds);
  return h;
}

function forbidden(message: string): ServiceError {
  return new ServiceError('AccessForbidden', 403, message);
}

/** The answer to an OPTIONS preflight against a bucket's CORS rules (undefined rules: CORS not enabled). */
export function preflight(rules: CorsRule[] | undefined, headers: Record<string, string | undefined>, resourceType: 'BUCKET' | 'OBJECT'): ServiceResponse {
  const origin = headers.origin;
  if (!origin) throw new ServiceError('BadRequest', 400, 'Insufficient information. Origin request header needed.');
  const method = headers['access-control-request-method'];
  if (!method || !METHODS.has(method)) throw new ServiceError('BadRequest', 400, `Invalid Access-Control-Request-Method: ${method ?? ''}`);
  if (!rules) throw forbidden('CORSResponse: CORS is not enabled for this bucket.');
  const requested = (headers['access-control-request-headers'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const rule = matchCorsRule(rules, origin, method, requested);
  if (!rule) {
    const e = forbidden(
      "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
    );
    throw new ServiceError(e.code, e.status, e.message, { Method: method, ResourceType: resourceType });
  }
  const out = allowHeaders(rule, origin);
  if (requested.length > 0) out['access-control-allow-headers'] = requested.join(', ');
  return { status: 200, headers: out };
}

/** Headers for an actual (non-preflight) request with an Origin, when a rule allows it. */
export function corsResponseHeaders(rules: CorsRule[] | undefined, origin: string | undefined, method: string): Record<string, string> {
  if (!rules || !origin) return {};
  const rule = matchCorsRule(rules, origin, method, []);
  return rule ? allowHeaders(rule, origin) : {};
}
