/**
 * One statement against one request. Statements are compiled once per parsed policy (glob patterns to
 * matchers, condition values pre-parsed) and cached in a WeakMap keyed by the ParsedPolicy, so the
 * per-request work is matching only. A ParsedPolicy is therefore treated as immutable once evaluated.
 */
import { compileConditions, failedConditions, type CompiledCondition, type FailedCondition } from './conditions.js';
import type { RequestContext } from './context.js';
import { globMatcher, type Matcher } from './glob.js';
import { notPrincipalApplies, principalMatchKind, type PrincipalMatch } from './match.js';
import type { AuthorizationRequest, ParsedPolicy, Statement } from './types.js';
import { parseTemplate, templateMatcher, type Template } from './variables.js';

/** A Resource/NotResource entry: a fixed matcher, or a template resolved per request. */
type ResourcePattern = { matcher: Matcher } | { template: Template };

export interface CompiledStatement {
  statement: Statement;
  actions?: Matcher[];
  notActions?: Matcher[];
  resources?: ResourcePattern[];
  notResources?: ResourcePattern[];
  /** What a statement without Resource/NotResource means: all (trust policies) or nothing (key policies). */
  resourceless: boolean;
  conditions: CompiledCondition[];
}

export type StatementResult =
  | { applies: true; principalMatch?: PrincipalMatch }
  /** failures is set when principal, action and resource matched but a condition failed. */
  | { applies: false; failures?: FailedCondition[] };

const compiledPolicies = new WeakMap<ParsedPolicy, CompiledStatement[]>();

export function compilePolicy(policy: ParsedPolicy): CompiledStatement[] {
  let compiled = compiledPolicies.get(policy);
  if (!compiled) {
    compiled = policy.statements.map((s) => compileStatement(s, policy));
    compiledPolicies.set(policy, compiled);
  }
  return compiled;
}

const MATCH_ALL: Matcher = () => true;

function compileResource(pattern: string, variables: boolean): ResourcePattern {
  if (pattern === '*') return { matcher: MATCH_ALL };
  const template = variables ? parseTemplate(pattern) : undefined;
  return template ? { template } : { matcher: globMatcher(pattern, 'arn') };
}

function compileStatement(s: Statement, policy: ParsedPolicy): CompiledStatement {
  const variables = policy.version === '2012-10-17';
  const c: CompiledStatement = {
    statement: s,
    resourceless: policy.kind !== 'key',
    conditions: compileConditions(s.condition, policy.version),
  };
  if (s.action) c.actions = s.action.map((a) => globMatcher(a, 'action'));
  if (s.notAction) c.notActions = s.notAction.map((a) => globMatcher(a, 'action'));
  if (s.resource) c.resources = s.resource.map((r) => compileResource(r, variables));
  if (s.notResource) c.notResources = s.notResource.map((r) => compileResource(r, variables));
  return c;
}

/** true / false, or undefined when a variable in the pattern cannot be resolved. */
function resourceMatches(p: ResourcePattern, arn: string, ctx: RequestContext): boolean | undefined {
  if ('matcher' in p) return p.matcher(arn);
  const m = templateMatcher(p.template, ctx, 'arn');
  return m ? m(arn) : undefined;
}

function actionApplies(c: CompiledStatement, action: string): boolean {
  if (c.actions) return c.actions.some((m) => m(action));
  if (c.notActions) return !c.notActions.some((m) => m(action));
  return false;
}

function resourceApplies(c: CompiledStatement, arn: string, ctx: RequestContext): boolean {
  if (c.resources) return c.resources.some((p) => resourceMatches(p, arn, ctx) === true);
  if (c.notResources) {
    // An unresolvable NotResource entry makes the statement not apply (it cannot tell what is excluded).
    return c.notResources.every((p) => resourceMatches(p, arn, ctx) === false);
  }
  return c.resourceless;
}

export function evaluateStatement(c: CompiledStatement, request: AuthorizationRequest, ctx: RequestContext): StatementResult {
  const s = c.statement;
  let principalMatch: PrincipalMatch | undefined;
  if (s.principal) {
    principalMatch = principalMatchKind(s.principal, request.principal);
    if (!principalMatch) return { applies: false };
  } else if (s.notPrincipal) {
    if (!notPrincipalApplies(s.notPrincipal, request.principal)) return { applies: false };
    principalMatch = 'direct';
  }
  if (!actionApplies(c, request.action)) return { applies: false };
  if (!resourceApplies(c, request.resource, ctx)) return { applies: false };
  if (c.conditions.length > 0) {
    const failures = failedConditions(c.conditions, ctx);
    if (failures.length > 0) return { applies: false, failures };
  }
  return principalMatch ? { applies: true, principalMatch } : { applies: true };
}
