/**
 * Human-facing renderings of a Decision: AWS's one-line AccessDenied message, and a multi-line
 * explanation naming the deciding statements and every condition that failed.
 */
import { rootArn } from './context.js';
import type { AuthorizationRequest, ConditionFailure, Decision, EvaluationInput, Principal, StatementRef } from './types.js';

/** How AWS names the caller in denial messages: the session ARN for roles, 'anonymous' for unsigned requests. */
function callerName(p: Principal): string {
  if (p.type === 'Anonymous') return 'anonymous';
  if (p.type === 'Service') return p.service ?? p.arn ?? 'anonymous';
  return p.arn ?? (p.accountId ? rootArn(p.accountId) : 'anonymous');
}

/**
 * 'User: <arn> is not authorized to perform: <action> on resource: <resource> because <reason>'.
 * As AWS writes it, explicit denials read '... on resource: R with an explicit deny in ...' (no
 * 'because'). For an Allow decision the sentence says the caller is authorized.
 */
export function denialMessage(request: AuthorizationRequest, decision: Decision): string {
  const head = `User: ${callerName(request.principal)}`;
  const tail = `perform: ${request.action} on resource: ${request.resource}`;
  if (decision.outcome === 'Allow') return `${head} is authorized to ${tail}`;
  const reason = decision.reason ?? `no identity-based policy allows the ${request.action} action`;
  const joiner = reason.startsWith('with ') ? ' ' : ' because ';
  return `${head} is not authorized to ${tail}${joiner}${reason}`;
}

function statementName(ref: StatementRef): string {
  if (ref.grant !== undefined) return `grant #${ref.index} (${ref.grant}) of ${ref.policyName}`;
  const sid = ref.sid !== undefined && ref.sid !== '' ? ` (Sid "${ref.sid}")` : '';
  const source = ref.source ? ` [${ref.source}]` : '';
  return `statement #${ref.index}${sid} of ${ref.policyName}${source}`;
}

function quoteList(values: readonly string[]): string {
  return values.map((v) => JSON.stringify(v)).join(', ');
}

function failureLine(f: ConditionFailure): string {
  const had = f.actual === undefined ? 'missing' : f.actual.length === 0 ? '(empty set)' : quoteList(f.actual);
  return `${f.statement.effect} ${statementName(f.statement)}: ${f.operator} ${f.key} expected ${quoteList(f.expected)}; request value: ${had}`;
}

function principalLine(p: Principal): string {
  const parts: string[] = [p.type];
  if (p.accountId) parts.push(`account ${p.accountId}`);
  if (p.roleArn) parts.push(`role ${p.roleArn}`);
  return `${callerName(p)} (${parts.join(', ')})`;
}

export function explainDecision(input: EvaluationInput, decision: Decision): string {
  const { request } = input;
  const p = request.principal;
  const lines: string[] = [];
  const verdict =
    decision.outcome === 'Allow' ? 'ALLOW' : decision.outcome === 'ExplicitDeny' ? 'DENY (explicit)' : 'DENY (implicit)';
  lines.push(`${verdict}: ${denialMessage(request, decision)}`);

  lines.push('Request:');
  lines.push(`  principal: ${principalLine(p)}`);
  lines.push(`  action:    ${request.action}`);
  lines.push(`  resource:  ${request.resource}`);
  if (request.resourceAccount !== undefined) {
    const scope = p.accountId === undefined || p.accountId === request.resourceAccount ? 'same account' : 'cross-account';
    lines.push(`  owner:     account ${request.resourceAccount} (${scope})`);
  }

  lines.push('Policies considered:');
  const names = (xs: readonly { name: string }[] | undefined): string =>
    xs && xs.length > 0 ? xs.map((x) => x.name).join('; ') : '(none)';
  lines.push(`  identity-based: ${names(input.identityPolicies)}`);
  const required = input.resourcePolicyRequired ? ' (must allow the caller or its account)' : '';
  lines.push(`  resource-based: ${names(input.resourcePolicy ? [input.resourcePolicy] : [])}${required}`);
  if (input.permissionsBoundary) lines.push(`  permissions boundary: ${input.permissionsBoundary.name}`);
  if (input.sessionPolicies && input.sessionPolicies.length > 0) lines.push(`  session policies: ${names(input.sessionPolicies)}`);
  if (input.acl) lines.push(`  access control list: ${input.acl.name} (${input.acl.grants.length} grant${input.acl.grants.length === 1 ? '' : 's'})`);

  if (decision.statements.length > 0) {
    lines.push(decision.outcome === 'Allow' ? 'Allowed by:' : 'Denied by:');
    for (const s of decision.statements) lines.push(`  - ${s.effect} ${statementName(s)}`);
  } else if (decision.outcome === 'ImplicitDeny') {
    lines.push(`No statement allowed the request (${decision.reason ?? 'no policy allows it'}).`);
  }

  if (decision.conditionFailures.length > 0) {
    lines.push('Statements that matched action and resource but whose conditions failed:');
    for (const f of decision.conditionFailures) lines.push(`  - ${failureLine(f)}`);
  }
  return lines.join('\n');
}

/** A compact, structured form of an explanation for logs: one line per deciding statement and failed condition. */
export function decisionSummary(input: EvaluationInput, decision: Decision): {
  outcome: Decision['outcome'];
  message: string;
  decidedBy: string[];
  conditionFailures: string[];
  policies: string[];
} {
  const policies = [
    ...input.identityPolicies.map((p) => p.name),
    ...(input.resourcePolicy ? [input.resourcePolicy.name] : []),
    ...(input.permissionsBoundary ? [input.permissionsBoundary.name] : []),
    ...(input.sessionPolicies ?? []).map((p) => p.name),
    ...(input.acl ? [input.acl.name] : []),
  ];
  return {
    outcome: decision.outcome,
    message: denialMessage(input.request, decision),
    decidedBy: decision.statements.map((s) => `${s.effect} ${statementName(s)}`),
    conditionFailures: decision.conditionFailures.map(failureLine),
    policies,
  };
}
