/**
 * Policy documents: JSON text -> validated, normalised ParsedPolicy (reference §3.1, §2.4). Error
 * messages are the ones IAM puts in MalformedPolicyDocument, so handlers can pass them through.
 */
import { parseOperator } from './operators.js';
import type { ParsedPolicy, PolicyKind, PrincipalSpec, Statement } from './types.js';

export class PolicyValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyValidationError';
  }
}

export const MESSAGES = {
  invalidJson: 'This policy contains invalid Json',
  syntax: 'Syntax errors in policy.',
  legacy: 'The policy failed legacy parsing',
  principalForbidden: 'Policy document should not specify a principal.',
  principalMissing: 'Missing required field Principal',
  actionsMissing: 'Policy statement must contain actions.',
  resourcesMissing: 'Policy statement must contain resources.',
  sidUnique: 'Statement IDs (SID) in a single policy must be unique.',
  sidAlphanumeric:
    'Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*',
  vendorMissing: 'Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.',
  oneColon: 'Actions/Condition can contain only one colon.',
} as const;

const TOP_FIELDS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_FIELDS = new Set([
  'Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition',
]);
const VERSIONS = new Set(['2012-10-17', '2008-10-17']);

/** Policies stored and checked by IAM itself; resource-side documents (bucket, key policies) are laxer. */
const IAM_KINDS = new Set<PolicyKind>(['identity', 'session', 'boundary']);
/** Kinds whose statements name no principal. */
const PRINCIPAL_FORBIDDEN = new Set<PolicyKind>(['identity', 'session', 'boundary']);
/** Kinds whose statements must say which resources they cover (trust: forbidden; key: optional). */
const RESOURCE_REQUIRED = new Set<PolicyKind>(['identity', 'session', 'boundary', 'resource']);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

function fail(message: string): never {
  throw new PolicyValidationError(message);
}

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function has(o: JsonObject, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}

/** A string or an array of strings (a single string becomes a one-element array); undefined if absent. */
function stringList(o: JsonObject, field: string): string[] | undefined {
  if (!has(o, field)) return undefined;
  const v = o[field];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  return fail(MESSAGES.syntax);
}

export function parsePolicy(text: string, kind: PolicyKind): ParsedPolicy {
  let doc: Json;
  try {
    doc = JSON.parse(text) as Json;
  } catch {
    return fail(MESSAGES.invalidJson);
  }
  if (!isObject(doc)) return fail(MESSAGES.syntax);
  for (const k of Object.keys(doc)) if (!TOP_FIELDS.has(k)) fail(MESSAGES.syntax);

  let version: ParsedPolicy['version'] = '2008-10-17';
  if (has(doc, 'Version')) {
    const v = doc['Version'];
    if (typeof v !== 'string' || !VERSIONS.has(v)) fail(MESSAGES.syntax);
    version = v as ParsedPolicy['version'];
  }
  const id = doc['Id'];
  if (id !== undefined && typeof id !== 'string') fail(MESSAGES.syntax);

  const raw = doc['Statement'];
  const rawStatements = isObject(raw) ? [raw] : Array.isArray(raw) ? raw : fail(MESSAGES.syntax);
  if (rawStatements.length === 0) fail(MESSAGES.syntax);

  const statements = rawStatements.map((s, i) => parseStatement(s, i, kind));
  if (IAM_KINDS.has(kind)) {
    const seen = new Set<string>();
    for (const s of statements) {
      if (!s.sid) continue;
      if (seen.has(s.sid)) fail(MESSAGES.sidUnique);
      seen.add(s.sid);
    }
  }
  const policy: ParsedPolicy = { version, statements, kind };
  if (typeof id === 'string') policy.id = id;
  return policy;
}

function parseStatement(raw: Json, index: number, kind: PolicyKind): Statement {
  if (!isObject(raw)) return fail(MESSAGES.syntax);
  const hasPrincipal = has(raw, 'Principal') || has(raw, 'NotPrincipal');
  if (hasPrincipal && PRINCIPAL_FORBIDDEN.has(kind)) fail(MESSAGES.principalForbidden);
  if (kind === 'trust') {
    for (const f of ['Resource', 'NotResource']) if (has(raw, f)) fail(`Has prohibited field ${f}`);
  }
  for (const k of Object.keys(raw)) if (!STATEMENT_FIELDS.has(k)) fail(MESSAGES.syntax);
  for (const [a, b] of [['Action', 'NotAction'], ['Resource', 'NotResource'], ['Principal', 'NotPrincipal']] as const) {
    if (has(raw, a) && has(raw, b)) fail(MESSAGES.syntax);
  }

  const effect = raw['Effect'];
  if (typeof effect !== 'string' || !['allow', 'deny'].includes(effect.toLowerCase())) fail(MESSAGES.syntax);
  // IAM's grammar check is case-insensitive, its later "legacy" parse is not.
  if (effect !== 'Allow' && effect !== 'Deny') fail(MESSAGES.legacy);

  const sid = raw['Sid'];
  if (sid !== undefined && typeof sid !== 'string') fail(MESSAGES.syntax);
  if (typeof sid === 'string' && IAM_KINDS.has(kind) && !/^[0-9A-Za-z]*$/.test(sid)) fail(MESSAGES.sidAlphanumeric);

  const action = stringList(raw, 'Action');
  const notAction = stringList(raw, 'NotAction');
  const resource = stringList(raw, 'Resource');
  const notResource = stringList(raw, 'NotResource');
  const actions = action ?? notAction;
  if (!actions || actions.length === 0) fail(MESSAGES.actionsMissing);
  const resources = resource ?? notResource;
  if (RESOURCE_REQUIRED.has(kind) && (!resources || resources.length === 0)) fail(MESSAGES.resourcesMissing);
  if (!PRINCIPAL_FORBIDDEN.has(kind) && !hasPrincipal) fail(MESSAGES.principalMissing);

  actions.forEach(validateActionPrefix);
  resources?.forEach(validateResource);

  const statement: Statement = { index, effect };
  if (typeof sid === 'string') statement.sid = sid;
  if (has(raw, 'Principal')) statement.principal = parsePrincipal(raw['Principal']);
  if (has(raw, 'NotPrincipal')) statement.notPrincipal = parsePrincipal(raw['NotPrincipal']);
  if (action) statement.action = [...action];
  if (notAction) statement.notAction = [...notAction];
  if (resource) statement.resource = [...resource];
  if (notResource) statement.notResource = [...notResource];
  if (has(raw, 'Condition')) statement.condition = parseCondition(raw['Condition']);
  return statement;
}

const PRINCIPAL_TYPES = ['AWS', 'Service', 'Federated', 'CanonicalUser'] as const;

function parsePrincipal(raw: Json | undefined): PrincipalSpec {
  if (raw === '*') return { AWS: ['*'] };
  if (!isObject(raw) || Object.keys(raw).length === 0) return fail(MESSAGES.syntax);
  const spec: PrincipalSpec = {};
  for (const [type, value] of Object.entries(raw)) {
    const t = PRINCIPAL_TYPES.find((x) => x === type);
    if (!t) fail(`Invalid principal in policy: ${JSON.stringify(type)}:${JSON.stringify(value)}`);
    const values = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(values) || values.length === 0 || !values.every((v) => typeof v === 'string')) {
      return fail(MESSAGES.syntax);
    }
    for (const v of values as string[]) validatePrincipal(t, v);
    spec[t] = [...(values as string[])];
  }
  return spec;
}

function parseCondition(raw: Json | undefined): Record<string, Record<string, string[]>> {
  if (!isObject(raw)) return fail(MESSAGES.syntax);
  const out: Record<string, Record<string, string[]>> = {};
  for (const [operator, block] of Object.entries(raw)) {
    if (!parseOperator(operator)) fail(`${MESSAGES.syntax} Unknown condition operator: ${operator}`);
    if (!isObject(block)) return fail(MESSAGES.syntax);
    const keys: Record<string, string[]> = {};
    for (const [key, value] of Object.entries(block)) {
      if (!key.includes(':')) fail(MESSAGES.vendorMissing);
      keys[key] = conditionValues(value);
    }
    out[operator] = keys;
  }
  return out;
}

/** Strings, numbers and booleans (JSON allows all three) become strings; arrays must be non-empty. */
function conditionValues(value: Json): string[] {
  const one = (v: Json): string => {
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    return fail(MESSAGES.syntax);
  };
  if (Array.isArray(value)) {
    if (value.length === 0) fail(MESSAGES.syntax);
    return value.map(one);
  }
  return [one(value)];
}

function validateActionPrefix(action: string): void {
  if (action === '*') return;
  const parts = action.split(':');
  if (parts.length === 1) fail(MESSAGES.vendorMissing);
  if (parts.length > 2) fail(MESSAGES.oneColon);
  const vendor = parts[0]!;
  if (vendor !== '*' && !/^[a-zA-Z0-9.-]+$/.test(vendor)) fail(`Vendor ${vendor} is not valid`);
}

function validateResource(resource: string): void {
  if (resource !== '*' && !resource.includes(':')) fail(`Resource ${resource} must be in ARN format or "*".`);
}

/** ARNs a Principal may name: no partial wildcards (reference §3.2). */
const AWS_PRINCIPAL = [
  /^\d{12}$/,
  /^arn:aws[a-z-]*:iam::\d{12}:(root|user\/.+|role\/.+)$/,
  /^arn:aws[a-z-]*:sts::\d{12}:(assumed-role\/[^/]+\/.+|federated-user\/.+)$/,
  // Unique ids: IAM shows these in place of a principal that was deleted after the policy was written.
  /^A[A-Z0-9]{15,127}$/,
];

function validatePrincipal(type: keyof PrincipalSpec, value: string): void {
  const ok =
    type === 'AWS'
      ? value === '*' || (!/[*?]/.test(value) && AWS_PRINCIPAL.some((re) => re.test(value)))
      : type === 'Service'
        ? /^[a-zA-Z0-9.-]+$/.test(value)
        : value.length > 0 && !/[*?]/.test(value);
  if (!ok) fail(`Invalid principal in policy: ${JSON.stringify(type)}:${JSON.stringify(value)}`);
}
