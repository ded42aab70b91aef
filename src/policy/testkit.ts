/**
 * Builders shared by the policy tests: principals, named policies, requests. Test support only.
 */
import { evaluate } from './evaluate.js';
import { parsePolicy } from './parse.js';
import type {
  AuthorizationRequest,
  ConditionValue,
  Decision,
  EvaluationInput,
  NamedPolicy,
  PolicyKind,
  Principal,
} from './types.js';

export const ACCOUNT = '000000000000';
export const OTHER = '111122223333';

export function rootOf(accountId: string): Principal {
  return { type: 'Account', accountId, arn: `arn:aws:iam::${accountId}:root`, userId: accountId };
}

export function userOf(name: string, accountId = ACCOUNT, path = '/', tags?: Record<string, string>): Principal {
  const p: Principal = {
    type: 'User',
    accountId,
    arn: `arn:aws:iam::${accountId}:user${path}${name}`,
    userId: `AIDA${name.toUpperCase().padEnd(17, 'X')}`,
    username: name,
  };
  if (tags) p.tags = tags;
  return p;
}

export function sessionOf(role: string, session: string, accountId = ACCOUNT, path = '/'): Principal {
  return {
    type: 'AssumedRole',
    accountId,
    arn: `arn:aws:sts::${accountId}:assumed-role/${role}/${session}`,
    roleArn: `arn:aws:iam::${accountId}:role${path}${role}`,
    userId: `AROA${role.toUpperCase().padEnd(17, 'X')}:${session}`,
  };
}

export function serviceOf(service: string): Principal {
  return { type: 'Service', service, arn: service };
}

export const ANONYMOUS: Principal = { type: 'Anonymous' };

/** Parses `doc` (an object, serialised first) as a policy of `kind`, named `name`. */
export function named(name: string, kind: PolicyKind, doc: object): NamedPolicy {
  return { name, policy: parsePolicy(JSON.stringify(doc), kind) };
}

export function request(
  principal: Principal,
  action: string,
  resource: string,
  context: Record<string, ConditionValue | undefined> = {},
  resourceAccount?: string,
): AuthorizationRequest {
  const r: AuthorizationRequest = { principal, action, resource, context };
  if (resourceAccount !== undefined) r.resourceAccount = resourceAccount;
  return r;
}

/** evaluate() with empty identity policies unless given. */
export function decide(input: Partial<EvaluationInput> & { request: AuthorizationRequest }): Decision {
  return evaluate({ identityPolicies: [], ...input });
}

/** One-statement identity policy allowing `action` on `resource`. */
export function allowPolicy(name: string, action: string | string[], resource: string | string[], extra: object = {}): NamedPolicy {
  return named(name, 'identity', {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: action, Resource: resource, ...extra }],
  });
}
