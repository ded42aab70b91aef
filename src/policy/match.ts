/**
 * Matching of the Action, Resource and Principal elements (reference §3.2).
 */
import { globMatcher } from './glob.js';
import type { Principal, PrincipalSpec } from './types.js';

/** Case-insensitive glob (`*`, `?`): `s3:Get*` matches `S3:GetObject`. */
export function matchAction(pattern: string, action: string): boolean {
  return globMatcher(pattern, 'action')(action);
}

/**
 * Case-sensitive, component-wise ARN glob: `*` alone matches everything; in the first five parts a
 * wildcard stays inside its part; in the resource part it spans '/' and ':'.
 */
export function matchResource(pattern: string, arn: string): boolean {
  return pattern === '*' || globMatcher(pattern, 'arn')(arn);
}

/**
 * How a Principal element matched:
 *  - 'direct': names the caller itself (user ARN, session ARN, '*', service, root for the root user);
 *  - 'role': names the role of an assumed-role session (boundary and session policy still apply);
 *  - 'account': names only the caller's account (delegation to the caller's identity policies).
 */
export type PrincipalMatch = 'direct' | 'role' | 'account';

const RANK: Record<PrincipalMatch, number> = { direct: 3, role: 2, account: 1 };
const ROOT_ARN = /^arn:[^:]+:iam::(\d{12}):root$/;

/** The account an AWS principal value names as a whole ('123456789012' or its root ARN), if it does. */
export function accountOf(value: string): string | undefined {
  if (/^\d{12}$/.test(value)) return value;
  return ROOT_ARN.exec(value)?.[1];
}

function awsValueMatch(value: string, p: Principal): PrincipalMatch | undefined {
  if (value === '*') return 'direct';
  if (p.type === 'Service' || p.type === 'Anonymous') return undefined;
  const account = accountOf(value);
  if (account !== undefined) {
    if (account !== p.accountId) return undefined;
    return p.type === 'Account' ? 'direct' : 'account';
  }
  if (p.arn !== undefined && value === p.arn) return 'direct';
  if (p.type === 'AssumedRole' && p.roleArn !== undefined && value === p.roleArn) return 'role';
  return undefined;
}

function serviceName(p: Principal): string | undefined {
  return p.type === 'Service' ? (p.service ?? p.arn) : undefined;
}

function stronger(a: PrincipalMatch | undefined, b: PrincipalMatch | undefined): PrincipalMatch | undefined {
  if (!a) return b;
  if (!b) return a;
  return RANK[b] > RANK[a] ? b : a;
}

/** The strongest way `spec` names `p`, or undefined if it does not. */
export function principalMatchKind(spec: PrincipalSpec, p: Principal): PrincipalMatch | undefined {
  let best: PrincipalMatch | undefined;
  if (spec.AWS) for (const v of spec.AWS) best = stronger(best, awsValueMatch(v, p));
  const service = serviceName(p);
  if (service !== undefined && spec.Service?.some((s) => s.toLowerCase() === service.toLowerCase())) best = 'direct';
  if (p.federatedProvider !== undefined && spec.Federated?.includes(p.federatedProvider)) best = 'direct';
  // CanonicalUser: S3 ACL-era identities; Meridian principals never carry one.
  return best;
}

export function principalMatches(spec: PrincipalSpec, principal: Principal): boolean {
  return principalMatchKind(spec, principal) !== undefined;
}

/**
 * NotPrincipal: AWS evaluates a caller as each of its identities (session, role, account; user,
 * account) and the statement applies unless EVERY one of them is listed — which is why AWS's docs tell
 * you to list the account and role ARN alongside a user or session ARN.
 */
export function notPrincipalApplies(spec: PrincipalSpec, p: Principal): boolean {
  const aws = spec.AWS ?? [];
  if (aws.includes('*')) return false;
  const identities: boolean[] = [];
  switch (p.type) {
    case 'Service': {
      const service = serviceName(p);
      identities.push(service !== undefined && (spec.Service ?? []).some((s) => s.toLowerCase() === service.toLowerCase()));
      break;
    }
    case 'Anonymous':
      identities.push(false);
      break;
    default:
      identities.push(p.accountId !== undefined && aws.some((v) => accountOf(v) === p.accountId));
      if (p.type !== 'Account') identities.push(p.arn !== undefined && aws.includes(p.arn));
      if (p.type === 'AssumedRole') identities.push(p.roleArn !== undefined && aws.includes(p.roleArn));
  }
  if (p.federatedProvider !== undefined) identities.push((spec.Federated ?? []).includes(p.federatedProvider));
  return identities.some((listed) => !listed);
}
