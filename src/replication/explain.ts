/**
 * `meridian replication explain`: the path of one version through replication — rule matching,
 * role assumption, every permission check with the statement that decided it (or the absence of
 * one), the KMS calls, and the outcome — and what to change, in words a person can act on.
 * Pure: the S3 service runs the checks and records the decisions; this file turns them into advice
 * and text.
 */
import { explainDecision } from '../policy/index.js';
import type { Decision, EvaluationInput, StatementRef } from '../policy/types.js';
import type { RuleMatch } from './rules.js';

/** One authorization decision taken while replicating (recorded by the services). */
export interface CheckStep {
  stage: string;
  action: string;
  resource: string;
  outcome: Decision['outcome'];
  /** The deciding statements (allow or deny), named. */
  decidedBy: string[];
  /** policy/'s multi-line explanation of the decision. */
  explanation: string;
  /** What to change, when the check denied. */
  advice?: string;
}

export interface DestinationExplanation {
  destinationBucket: string;
  ruleId: string;
  checks: CheckStep[];
  /** 'replicates' when every check passed, else AWS's failure reason (or 'PENDING' for transient trouble). */
  outcome: string;
  message?: string;
}

export interface ReplicationExplanation {
  bucket: string;
  key: string;
  versionId?: string;
  version?: {
    isDeleteMarker: boolean;
    size: number;
    encryption?: string;
    kmsKeyArn?: string;
    tags?: Record<string, string>;
    replicationStatus?: string;
    detail?: Record<string, { status: string; failureReason?: string; ruleId?: string }>;
  };
  role?: string;
  rules: RuleMatch[];
  pending: { destinationBucket: string; operation: string; attempts: number; lastError?: string; nextAttemptAt: string }[];
  destinations: DestinationExplanation[];
  /** Plain-language conclusions, most important first. */
  summary: string[];
}

/** Which stage of replication an action belongs to, in words. */
export function stageOf(action: string): string {
  switch (action) {
    case 'sts:AssumeRole':
      return 'assume the replication role (trust policy)';
    case 's3:GetObjectVersionForReplication':
      return 'read the source version';
    case 's3:GetObjectVersionTagging':
      return 'read the source tags';
    case 'kms:Decrypt':
      return 'decrypt the data key (source region KMS)';
    case 'kms:Encrypt':
      return 'encrypt the data key under ReplicaKmsKeyID (destination region KMS)';
    case 's3:ReplicateObject':
      return 'write the replica';
    case 's3:ReplicateDelete':
      return 'replicate the delete marker';
    case 's3:ReplicateTags':
      return 'write the replica tags';
    case 's3:ObjectOwnerOverrideToBucketOwner':
      return 'change the replica owner (AccessControlTranslation)';
    default:
      return action;
  }
}

function statementName(s: StatementRef): string {
  return `statement #${s.index}${s.sid ? ` (Sid "${s.sid}")` : ''} of ${s.policyName}`;
}

/** What to change so a denied check is allowed; undefined for an allowed one. */
export function adviceFor(input: EvaluationInput, decision: Decision): string | undefined {
  if (decision.outcome === 'Allow') return undefined;
  const { action, resource, principal } = input.request;
  const who = principal.roleArn ?? principal.arn ?? principal.service ?? 'the caller';
  if (decision.outcome === 'ExplicitDeny') {
    return `Remove or narrow ${decision.statements.map(statementName).join('; ')}: it denies ${action} on ${resource} to ${who}.`;
  }
  const lines: string[] = [];
  for (const f of decision.conditionFailures) {
    const had = f.actual === undefined ? 'the request has no such key' : `this request has ${f.actual.map((v) => JSON.stringify(v)).join(', ')}`;
    lines.push(`${statementName(f.statement)} would allow it, but its condition ${f.operator} limits ${f.key} to ${f.expected.map((v) => JSON.stringify(v)).join(', ')}; ${had}.`);
  }
  const reason = decision.reason ?? '';
  if (reason.includes('identity-based')) {
    const policies = input.identityPolicies.map((p) => p.name).join('; ') || 'none';
    lines.push(`Add ${action} on ${resource} to role ${who} (its policies: ${policies}).`);
  } else if (reason.includes('resource-based')) {
    const bucket = /^arn:aws:s3:::([^/]+)/.exec(resource)?.[1];
    const name = input.resourcePolicy?.name ?? (bucket ? `a bucket policy on ${bucket} (it has none)` : 'the resource policy');
    const account = principal.accountId ? ` (or its account ${principal.accountId}, then also in the role's policies)` : '';
    lines.push(`${name[0]!.toUpperCase()}${name.slice(1)} must allow ${action} on ${resource} to ${who}${account}.`);
  } else if (reason.includes('boundary')) {
    lines.push(`The permissions boundary of ${who} must allow ${action} on ${resource}.`);
  } else if (reason.includes('session')) {
    lines.push(`The session policy must allow ${action} on ${resource}.`);
  }
  return lines.join(' ');
}

/** A recorded decision as an explanation step. */
export function checkStep(input: EvaluationInput, decision: Decision): CheckStep {
  const step: CheckStep = {
    stage: stageOf(input.request.action),
    action: input.request.action,
    resource: input.request.resource,
    outcome: decision.outcome,
    decidedBy: decision.statements.map(statementName),
    explanation: explainDecision(input, decision),
  };
  const advice = adviceFor(input, decision);
  if (advice) step.advice = advice;
  return step;
}

function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((l) => by + l)
    .join('\n');
}

/** The explanation as text for a terminal. */
export function renderExplanation(e: ReplicationExplanation): string {
  const out: string[] = [];
  out.push(`Version ${e.bucket}/${e.key}${e.versionId ? ` (version ${e.versionId})` : ''}`);
  if (e.version) {
    const v = e.version;
    const enc = v.encryption ? `${v.encryption}${v.kmsKeyArn ? ` under ${v.kmsKeyArn}` : ''}` : 'none';
    out.push(`  ${v.isDeleteMarker ? 'delete marker' : `${v.size} bytes, encryption ${enc}`}${v.tags ? `, tags ${JSON.stringify(v.tags)}` : ''}`);
    out.push(`  replication status: ${v.replicationStatus ?? '(none: no rule selected it when it was written)'}`);
    for (const [d, s] of Object.entries(v.detail ?? {})) out.push(`    to ${d}: ${s.status}${s.failureReason ? ` (${s.failureReason})` : ''}${s.ruleId ? ` by rule ${s.ruleId}` : ''}`);
  }
  for (const p of e.pending) {
    out.push(`  queued for ${p.destinationBucket} (${p.operation}): ${p.attempts} failed attempt(s)${p.lastError ? `, last error: ${p.lastError}` : ''}; next attempt ${p.nextAttemptAt}`);
  }
  if (e.role) out.push(`Replication role: ${e.role}`);
  if (e.rules.length) {
    out.push('Rules:');
    for (const r of e.rules) out.push(`  ${r.selected ? '[selected]' : '[skipped] '} ${r.ruleId}${r.priority !== undefined ? ` (priority ${r.priority})` : ''} → ${r.destinationBucket}: ${r.reason}`);
  }
  for (const d of e.destinations) {
    out.push(`To ${d.destinationBucket} (rule ${d.ruleId}): ${d.outcome === 'replicates' ? 'every check passes' : `${d.outcome}${d.message ? ` — ${d.message}` : ''}`}`);
    d.checks.forEach((c, i) => {
      out.push(`  ${i + 1}. ${c.stage}: ${c.action} on ${c.resource} → ${c.outcome === 'Allow' ? 'allowed' : c.outcome === 'ExplicitDeny' ? 'DENIED (explicit)' : 'DENIED'}`);
      if (c.decidedBy.length) out.push(`     ${c.outcome === 'Allow' ? 'allowed by' : 'denied by'} ${c.decidedBy.join('; ')}`);
      if (c.outcome !== 'Allow') out.push(indent(c.explanation, '     | '));
      if (c.advice) out.push(`     → ${c.advice}`);
    });
  }
  if (e.summary.length) {
    out.push('Summary:');
    for (const s of e.summary) out.push(`  - ${s}`);
  }
  return out.join('\n');
}
