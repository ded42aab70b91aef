/**
 * The one place services ask "may this caller do this?". It gathers the caller's identity-based
 * policies (inline and attached, role policies for sessions, the session policy), adds the global
 * condition keys, and hands everything to policy/ — the single engine.
 */
import { ServiceError } from '../../common/errors.js';
import type { Clock } from '../../common/clock.js';
import { denialMessage, evaluate, parsePolicy, policyMentions } from '../../policy/index.js';
import type { AclInput } from '../../policy/acl.js';
import type { ConditionValue, Decision, EvaluationInput, NamedPolicy, ParsedPolicy, PolicyKind, Principal } from '../../policy/types.js';
import type { IamStore, PrincipalKind } from '../../storage/types.js';
import type { Caller } from '../caller.js';
import { defaultDocument, findManagedPolicy } from './aws-managed-policies.js';
import { invalidPrincipal } from './principal-check.js';

export interface CallerPolicies {
  identity: NamedPolicy[];
  session: NamedPolicy[];
  boundary?: NamedPolicy;
}

/** A policy that allows nothing: stands in for a boundary or session policy that no longer exists. */
const NOTHING: ParsedPolicy = { version: '2012-10-17', statements: [], kind: 'boundary' };

export interface AuthorizationQuery {
  action: string;
  resource: string;
  resourceAccount?: string;
  context?: Record<string, ConditionValue | undefined>;
  resourcePolicy?: NamedPolicy;
  resourcePolicyRequired?: boolean;
  /**
   * Condition keys that are costly to compute (e.g. s3:ExistingObjectTag/ needs a metadata read):
   * loaded only when a policy that applies to the request mentions `prefix` (lower-case).
   */
  lazyContext?: { prefix: string; load: () => Promise<Record<string, ConditionValue | undefined>> };
  /**
   * S3: the bucket or object ACL that applies. ACL grants only add allows, so it is read only when
   * the policies alone do not allow (and do not explicitly deny): ordinary requests pay no extra read.
   */
  acl?: () => Promise<AclInput | undefined>;
}

/** How a denial is reported: S3 and IAM say AccessDenied (403), KMS AccessDeniedException (400). */
export type DenialStyle = 'AccessDenied' | 'AccessDeniedException';

/** Called with every decision (debug logging, `meridian explain`). */
export type DecisionListener = (caller: Caller, input: EvaluationInput, decision: Decision) => void;

export class Authorizer {
  /** Parsed documents by kind, then by text (no concatenated keys on the hot path). */
  private readonly parsed = new Map<PolicyKind, Map<string, NamedPolicy['policy']>>();
  /** A principal's own policies and boundary, valid while the store's change token is unchanged. */
  private readonly principalCache = new Map<string, { token: string; identity: NamedPolicy[]; boundary?: NamedPolicy }>();
  listener: DecisionListener | undefined;

  constructor(
    private readonly store: IamStore,
    private readonly clock: Clock,
  ) {}

  /** Parse a stored policy document once; stored documents were validated when they were written. */
  parse(text: string, kind: PolicyKind): NamedPolicy['policy'] {
    let byText = this.parsed.get(kind);
    if (!byText) {
      byText = new Map();
      this.parsed.set(kind, byText);
    }
    let p = byText.get(text);
    if (!p) {
      p = parsePolicy(text, kind);
      if (byText.size > 2000) byText.clear();
      byText.set(text, p);
    }
    return p;
  }

  /** The first principal of a resource-side policy that does not exist (AWS's message), if any. */
  invalidPrincipal(policy: ParsedPolicy): Promise<string | undefined> {
    return invalidPrincipal(policy, this.store);
  }

  /** The document of a managed policy's default version, named by its ARN. */
  private async managed(arn: string): Promise<NamedPolicy | undefined> {
    const p = await findManagedPolicy(this.store, arn);
    const doc = p && defaultDocument(p);
    return doc === undefined ? undefined : { name: arn, policy: this.parse(doc, 'identity') };
  }

  private async principalPolicies(accountId: string, kind: PrincipalKind, name: string, into: NamedPolicy[]): Promise<void> {
    for (const inline of await this.store.listInlinePolicies(accountId, kind, name)) {
      into.push({ name: `inline policy ${inline.policyName} of ${kind} ${name}`, policy: this.parse(inline.document, 'identity') });
    }
    for (const arn of await this.store.listAttachedPolicies(accountId, kind, name)) {
      const m = await this.managed(arn);
      if (m) into.push({ ...m, name: `managed policy ${arn} (attached to ${kind} ${name})` });
    }
  }

  /**
   * The caller's identity-based policies (a user's own and its groups'; a session's role's), its
   * permissions boundary and its session policies, named so explanations can point at them.
   */
  async identityPolicies(caller: Caller): Promise<CallerPolicies> {
    const out: CallerPolicies = { identity: [], session: [] };
    const own = await this.ownPolicies(caller.principal);
    if (own) {
      out.identity = own.identity;
      if (own.boundary) out.boundary = own.boundary;
    }
    if (caller.sessionPolicy) out.session.push({ name: 'inline session policy', policy: this.parse(caller.sessionPolicy, 'session') });
    for (const arn of caller.sessionPolicyArns ?? []) {
      const m = await this.managed(arn);
      out.session.push(m ? { name: `session policy ${arn}`, policy: m.policy } : { name: `session policy ${arn} (deleted)`, policy: NOTHING });
    }
    return out;
  }

  /**
   * A user's policies (its own and its groups') or a role's, and the permissions boundary. Cached per
   * principal until the IAM store changes, so a request normally costs one change-token read.
   */
  private async ownPolicies(p: Principal): Promise<{ identity: NamedPolicy[]; boundary?: NamedPolicy } | undefined> {
    if (!p.accountId) return undefined;
    const name = p.type === 'User' ? p.username : p.type === 'AssumedRole' && p.roleArn ? p.roleArn.slice(p.roleArn.lastIndexOf('/') + 1) : undefined;
    if (!name) return undefined;
    const cacheKey = `${p.type}\u0000${p.accountId}\u0000${name}`;
    const token = await this.store.changeToken();
    const hit = this.principalCache.get(cacheKey);
    if (hit && hit.token === token) return hit;
    const entry: { token: string; identity: NamedPolicy[]; boundary?: NamedPolicy } = { token, identity: [] };
    let boundaryArn: string | undefined;
    if (p.type === 'User') {
      const user = await this.store.getUser(p.accountId, name);
      if (user) {
        await this.principalPolicies(p.accountId, 'user', user.userName, entry.identity);
        for (const g of await this.store.listGroupsForUser(p.accountId, user.userName)) {
          await this.principalPolicies(p.accountId, 'group', g.groupName, entry.identity);
        }
        boundaryArn = user.permissionsBoundary;
      }
    } else {
      const role = await this.store.getRole(p.accountId, name);
      if (role) {
        await this.principalPolicies(p.accountId, 'role', role.roleName, entry.identity);
        boundaryArn = role.permissionsBoundary;
      }
    }
    if (boundaryArn) {
      const b = await this.managed(boundaryArn);
      // A boundary whose policy was deleted allows nothing, as in AWS.
      entry.boundary = b ? { name: `permissions boundary ${boundaryArn}`, policy: b.policy } : { name: `permissions boundary ${boundaryArn} (deleted)`, policy: NOTHING };
    }
    if (this.principalCache.size > 10_000) this.principalCache.clear();
    this.principalCache.set(cacheKey, entry);
    return entry;
  }


  private lastTime: { ms: number; iso: string } = { ms: -1, iso: '' };

  /** aws:CurrentTime: concurrent requests share one formatting per millisecond. */
  private isoTime(ms: number): string {
    if (this.lastTime.ms !== ms) this.lastTime = { ms, iso: new Date(ms).toISOString() };
    return this.lastTime.iso;
  }

  /** Global condition keys every request carries. */
  globalContext(caller: Caller): Record<string, ConditionValue | undefined> {
    const now = this.clock.now();
    const ctx: Record<string, ConditionValue | undefined> = {
      'aws:securetransport': String(caller.secureTransport),
      'aws:currenttime': this.isoTime(now),
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
    const { identity, session, boundary } = await this.identityPolicies(caller);
    // globalContext returns a fresh object: the request's keys are added to it, not to a copy.
    const context = this.globalContext(caller);
    // Keys are lower-cased where the context is built (policy/context.ts), later ones winning as here.
    Object.assign(context, q.context);
    if (q.lazyContext) {
      const { prefix, load } = q.lazyContext;
      const all = [...identity, ...session, ...(boundary ? [boundary] : []), ...(q.resourcePolicy ? [q.resourcePolicy] : [])];
      if (all.some((p) => policyMentions(p.policy, prefix))) {
        Object.assign(context, await load());
      }
    }
    const input: EvaluationInput = {
      request: { principal: caller.principal, action: q.action, resource: q.resource, context },
      identityPolicies: identity,
    };
    if (q.resourceAccount !== undefined) input.request.resourceAccount = q.resourceAccount;
    if (q.resourcePolicy) input.resourcePolicy = q.resourcePolicy;
    if (session.length > 0) input.sessionPolicies = session;
    if (boundary) input.permissionsBoundary = boundary;
    if (q.resourcePolicyRequired) input.resourcePolicyRequired = true;
    let decision = evaluate(input);
    if (decision.outcome === 'ImplicitDeny' && q.acl) {
      const acl = await q.acl();
      if (acl) {
        input.acl = acl;
        decision = evaluate(input);
      }
    }
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
