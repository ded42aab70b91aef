/**
 * The one place services ask "may this caller do this?". It gathers the caller's identity-based
 * policies (inline and attached, role policies for sessions, the session policy), adds the global
 * condition keys, and hands everything to policy/ — the single engine.
 */
import { ServiceError } from '../../common/errors.js';
import type { Clock } from '../../common/clock.js';
import { denialMessage, evaluate, parsePolicy } from '../../policy/index.js';
import type { ConditionValue, Decision, EvaluationInput, NamedPolicy, PolicyKind } from '../../policy/types.js';
import type { IamStore } from '../../storage/types.js';
import type { Caller } from '../caller.js';

export interface AuthorizationQuery {
  action: string;
  resource: string;
  resourceAccount?: string;
  context?: Record<string, ConditionValue | undefined>;
  resourcePolicy?: NamedPolicy;
  resourcePolicyRequired?: boolean;
}

/** How a denial is reported: S3 and IAM say AccessDenied (403), KMS AccessDeniedException (400). */
export type DenialStyle = 'AccessDenied' | 'AccessDeniedException';

/** Called with every decision (debug logging, `meridian explain`). */
export type DecisionListener = (caller: Caller, input: EvaluationInput, decision: Decision) => void;

export class Authorizer {
  private readonly parsed = new Map<string, NamedPolicy['policy']>();
  listener: DecisionListener | undefined;

  constructor(
    private readonly store: IamStore,
    private readonly clock: Clock,
  ) {}

  /** Parse a stored policy document once; stored documents were validated when they were written. */
  parse(text: string, kind: PolicyKind): NamedPolicy['policy'] {
    const cacheKey = kind + '\0' + text;
    let p = this.parsed.get(cacheKey);
    if (!p) {
      p = parsePolicy(text, kind);
      if (this.parsed.size > 2000) this.parsed.clear();
      this.parsed.set(cacheKey, p);
    }
    return p;
  }

  /** The caller's identity-based policies, named so explanations can point at them. */
  async identityPolicies(caller: Caller): Promise<{ identity: NamedPolicy[]; session: NamedPolicy[] }> {
    const p = caller.principal;
    const identity: NamedPolicy[] = [];
    const session: NamedPolicy[] = [];
    if (!p.accountId) return { identity, session };
    let kind: 'user' | 'role' | undefined;
    let name: string | undefined;
    if (p.type === 'User' && p.username) {
      kind = 'user';
      name = p.username;
    } else if (p.type === 'AssumedRole' && p.roleArn) {
      kind = 'role';
      name = p.roleArn.slice(p.roleArn.lastIndexOf('/') + 1);
    }
    if (kind && name) {
      for (const inline of await this.store.listInlinePolicies(p.accountId, kind, name)) {
        identity.push({ name: `inline policy ${inline.policyName} of ${kind} ${name}`, policy: this.parse(inline.document, 'identity') });
      }
      for (const arn of await this.store.listAttachedPolicies(p.accountId, kind, name)) {
        const managed = await this.store.getManagedPolicy(arn);
        const version = managed?.versions.find((v) => v.versionId === managed.defaultVersionId);
        if (version) identity.push({ name: arn, policy: this.parse(version.document, 'identity') });
      }
    }
    if (caller.sessionPolicy) session.push({ name: 'session policy', policy: this.parse(caller.sessionPolicy, 'session') });
    return { identity, session };
  }

  /** Global condition keys every request carries. */
  globalContext(caller: Caller): Record<string, ConditionValue | undefined> {
    const now = this.clock.now();
    const ctx: Record<string, ConditionValue | undefined> = {
      'aws:securetransport': String(caller.secureTransport),
      'aws:currenttime': new Date(now).toISOString(),
      'aws:epochtime': String(Math.floor(now / 1000)),
      'aws:sourceip': caller.sourceIp,
    };
    if (caller.tokenIssueTime !== undefined) ctx['aws:tokenissuetime'] = new Date(caller.tokenIssueTime).toISOString();
    if (caller.viaService) {
      ctx['aws:viaawsservice'] = 'true';
      ctx['aws:calledvia'] = [caller.viaService.replace(/^s3\.[^.]+\./, 's3.')];
    } else {
      ctx['aws:viaawsservice'] = 'false';
    }
    return ctx;
  }

  async decide(caller: Caller, q: AuthorizationQuery): Promise<{ input: EvaluationInput; decision: Decision }> {
    const { identity, session } = await this.identityPolicies(caller);
    const context: Record<string, ConditionValue | undefined> = { ...this.globalContext(caller) };
    for (const [k, v] of Object.entries(q.context ?? {})) context[k.toLowerCase()] = v;
    const input: EvaluationInput = {
      request: { principal: caller.principal, action: q.action, resource: q.resource, context },
      identityPolicies: identity,
    };
    if (q.resourceAccount !== undefined) input.request.resourceAccount = q.resourceAccount;
    if (q.resourcePolicy) input.resourcePolicy = q.resourcePolicy;
    if (session.length > 0) input.sessionPolicies = session;
    if (q.resourcePolicyRequired) input.resourcePolicyRequired = true;
    const decision = evaluate(input);
    this.listener?.(caller, input, decision);
    return { input, decision };
  }

  /** Throws AccessDenied (AWS's message naming principal, action, resource and reason) unless allowed. */
  async require(caller: Caller, q: AuthorizationQuery, style: DenialStyle = 'AccessDenied'): Promise<void> {
    const { input, decision } = await this.decide(caller, q);
    if (decision.outcome === 'Allow') return;
    const message = denialMessage(input.request, decision);
    if (style === 'AccessDeniedException') throw new ServiceError('AccessDeniedException', 400, message);
    throw new ServiceError('AccessDenied', 403, message);
  }
}
