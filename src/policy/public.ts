/**
 * "Public" as S3 Block Public Access defines it for bucket policies: a policy is public if an Allow
 * statement grants to a wildcard principal without a condition that pins the caller to fixed values
 * of certain keys (S3 User Guide, "The meaning of public"). Used by GetBucketPolicyStatus,
 * BlockPublicPolicy and RestrictPublicBuckets.
 */
import { parseCidr } from './ip.js';
import type { ParsedPolicy, PrincipalSpec, Statement } from './types.js';

/** Keys whose fixed values make a wildcard grant non-public. */
const PINNING_KEYS = new Set(
  [
    'aws:SourceIp',
    'aws:SourceArn',
    'aws:SourceVpc',
    'aws:SourceVpce',
    'aws:SourceOwner',
    'aws:SourceAccount',
    'aws:SourceOrgID',
    'aws:PrincipalAccount',
    'aws:PrincipalArn',
    'aws:PrincipalOrgID',
    'aws:userid',
    's3:DataAccessPointArn',
    's3:DataAccessPointAccount',
    's3:x-amz-server-side-encryption-aws-kms-key-id',
  ].map((k) => k.toLowerCase()),
);

/** Operators whose values are fixed (no pattern matching, no negation). */
const FIXING_OPERATORS = new Set(['stringequals', 'stringequalsignorecase', 'arnequals', 'arnlike', 'stringlike', 'ipaddress']);

function wildcardPrincipal(spec: PrincipalSpec | undefined): boolean {
  return spec?.AWS?.includes('*') === true || spec?.CanonicalUser?.includes('*') === true;
}

/** A CIDR wider than /8 (IPv4) or /32 (IPv6) is "the internet" for this purpose. */
function fixedIpRange(value: string): boolean {
  const cidr = parseCidr(value);
  if (!cidr) return false;
  return cidr.family === 4 ? cidr.prefix >= 8 : cidr.prefix >= 32;
}

function fixedValue(operator: string, key: string, value: string): boolean {
  if (/[*?]/.test(value) || value.includes('${')) return false;
  if (key === 'aws:sourceip') return operator === 'ipaddress' && fixedIpRange(value);
  return operator !== 'ipaddress';
}

/** Does the statement's condition pin the caller (one fixing key, every value fixed)? */
function pinned(s: Statement): boolean {
  for (const [operator, keys] of Object.entries(s.condition ?? {})) {
    const op = operator.toLowerCase();
    if (op.startsWith('forallvalues:') || op.endsWith('ifexists')) continue;
    const base = op.replace(/^foranyvalue:/, '');
    if (!FIXING_OPERATORS.has(base)) continue;
    for (const [key, values] of Object.entries(keys)) {
      const k = key.toLowerCase();
      if (PINNING_KEYS.has(k) && values.every((v) => fixedValue(base, k, v))) return true;
    }
  }
  return false;
}

/** An Allow statement that grants to everyone (wildcard principal or NotPrincipal) without pinning. */
export function isPublicStatement(s: Statement): boolean {
  if (s.effect !== 'Allow') return false;
  const everyone = wildcardPrincipal(s.principal) || s.notPrincipal !== undefined;
  return everyone && !pinned(s);
}

export function isPublicPolicy(policy: ParsedPolicy): boolean {
  return policy.statements.some(isPublicStatement);
}

const restricted = new WeakMap<ParsedPolicy, ParsedPolicy>();

/**
 * The policy without its public grants (RestrictPublicBuckets: public statements then only apply
 * to the bucket owner's account and AWS services). Cached per policy, which is immutable.
 */
export function withoutPublicGrants(policy: ParsedPolicy): ParsedPolicy {
  let p = restricted.get(policy);
  if (!p) {
    p = { ...policy, statements: policy.statements.filter((s) => !isPublicStatement(s)) };
    restricted.set(policy, p);
  }
  return p;
}
