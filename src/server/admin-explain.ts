/**
 * GET /_meridian/explain?principal=P&action=A&resource=R[&context=k=v…][&insecure=true]: the policy
 * simulator behind the console's IAM page, the same evaluation `meridian explain` runs on a data
 * directory, over the signed admin API.
 *
 * Who may ask: as for AWS's iam:SimulatePrincipalPolicy, the caller needs that action on the
 * simulated principal (its user or role ARN; the account root ARN for the account itself;
 * `*` for a service principal or anonymous), and only principals of the caller's own account are
 * simulated — the answer shows their policies' statements.
 */
import { ServiceError } from '../common/errors.js';
import { explainDecision } from '../policy/index.js';
import type { ConditionValue, Decision, EvaluationInput } from '../policy/types.js';
import type { Caller } from '../services/caller.js';
import { explain, ExplainError, type ExplainStores } from '../services/iam/explain.js';
import type { Fabric } from './fabric.js';

export interface PolicyExplainResult {
  request: EvaluationInput['request'];
  decision: Decision;
  text: string;
}

const ACCOUNT_OF = /^arn:aws:(?:iam|sts)::(\d{12}):/;

/** The resource iam:SimulatePrincipalPolicy is checked on, and the simulated principal's account. */
function simulatedTarget(principal: string): { resource: string; account?: string } {
  const roleOfSession = /^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\//.exec(principal);
  if (roleOfSession) return { resource: `arn:aws:iam::${roleOfSession[1]}:role/${roleOfSession[2]}`, account: roleOfSession[1]! };
  const account = ACCOUNT_OF.exec(principal)?.[1];
  if (account) return { resource: principal, account };
  if (/^\d{12}$/.test(principal)) return { resource: `arn:aws:iam::${principal}:root`, account: principal };
  if (principal === 'anonymous' || principal === '*' || /^[a-z0-9.-]+\.amazonaws\.com$/.test(principal)) return { resource: '*' };
  throw new ServiceError('InvalidArgument', 400, `principal must be a user, role, assumed-role or root ARN, an account id, a service principal or 'anonymous'; got '${principal}'`);
}

function contextOf(pairs: string[]): Record<string, ConditionValue> {
  const out: Record<string, ConditionValue> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ServiceError('InvalidArgument', 400, `context expects key=value, got '${pair}'`);
    const key = pair.slice(0, eq);
    const prev = out[key];
    const value = pair.slice(eq + 1);
    out[key] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value];
  }
  return out;
}

function required(q: URLSearchParams, name: string): string {
  const v = q.get(name)?.trim();
  if (!v) throw new ServiceError('InvalidArgument', 400, `Missing query parameter '${name}'`);
  return v;
}

export async function explainPolicyRequest(fabric: Fabric, caller: Caller, q: URLSearchParams): Promise<PolicyExplainResult> {
  const principal = required(q, 'principal');
  const action = required(q, 'action');
  const resource = required(q, 'resource');
  const target = simulatedTarget(principal);
  if (target.account !== undefined && target.account !== caller.principal.accountId) {
    throw new ServiceError('AccessDenied', 403, `Only principals of your own account (${caller.principal.accountId ?? 'none'}) can be simulated; ${principal} belongs to ${target.account}.`);
  }
  await fabric.authorizer.require(caller, { action: 'iam:SimulatePrincipalPolicy', resource: target.resource });
  // Only regions this process serves and that hold data: asking never creates a region.
  const open = (region: string) => (fabric.serves(region) && fabric.regionHasData(region) ? fabric.region(region) : undefined);
  const stores: ExplainStores = {
    iam: fabric.global.iam,
    directory: fabric.global.directory,
    regionStore: async (region) => open(region)?.s3ctx.meta,
    kmsKeys: async (region) => open(region)?.kms.store,
  };
  try {
    const { input, decision } = await explain(stores, fabric.clock, {
      principal,
      action,
      resource,
      context: contextOf(q.getAll('context')),
      secureTransport: q.get('insecure') !== 'true',
    });
    return { request: input.request, decision, text: explainDecision(input, decision) };
  } catch (e) {
    if (e instanceof ExplainError) throw new ServiceError('InvalidArgument', 400, e.message);
    throw e;
  }
}
