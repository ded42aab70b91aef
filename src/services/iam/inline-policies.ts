/**
 * Inline policies work the same for roles, users and groups (Put/Get/Delete/List<Kind>Policy /
 * Policies): one family of handlers, parameterised by the kind of principal.
 */
import { ServiceError } from '../../common/errors.js';
import type { PrincipalKind } from '../../storage/types.js';
import { required, type QueryParams } from '../protocol/aws-query.js';
import type { Caller } from '../caller.js';
import {
  account,
  authorize,
  encodePolicy,
  getGroupOrThrow,
  getRoleOrThrow,
  getUserOrThrow,
  memberList,
  noSuchEntity,
  page,
  POLICY_NAME,
  validateName,
  validatePolicy,
  type Handler,
  type IamDeps,
} from './iam-common.js';

const KIND_NAME: Record<PrincipalKind, string> = { role: 'Role', user: 'User', group: 'Group' };
/** Aggregate size of a principal's inline policies, whitespace not counted (reference §2.5). */
const QUOTA: Record<PrincipalKind, number> = { user: 2048, role: 10240, group: 5120 };
const size = (doc: string) => doc.replace(/\s/g, '').length;

/** The principal a request names: its account, stored name and ARN. */
export async function ownerOf(
  kind: PrincipalKind,
  deps: IamDeps,
  caller: Caller,
  params: QueryParams,
): Promise<{ acct: string; name: string; arn: string }> {
  const acct = account(caller);
  const name = required(params, `${KIND_NAME[kind]}Name`);
  if (kind === 'role') {
    const r = await getRoleOrThrow(deps, acct, name);
    return { acct, name: r.roleName, arn: r.arn };
  }
  if (kind === 'user') {
    const u = await getUserOrThrow(deps, acct, name);
    return { acct, name: u.userName, arn: u.arn };
  }
  const g = await getGroupOrThrow(deps, acct, name);
  return { acct, name: g.groupName, arn: g.arn };
}

export function inlinePolicyOperations(kind: PrincipalKind): Record<string, Handler> {
  const Kind = KIND_NAME[kind];
  const notFound = (policyName: string) => noSuchEntity(`The ${kind} policy with name ${policyName} cannot be found.`);
  return {
    async [`Put${Kind}Policy`](deps, caller, params) {
      const o = await ownerOf(kind, deps, caller, params);
      await authorize(deps, caller, `Put${Kind}Policy`, o.arn);
      const policyName = validateName(required(params, 'PolicyName'), 'policyName', POLICY_NAME);
      const doc = required(params, 'PolicyDocument');
      await validatePolicy(deps, doc, 'identity');
      const others = (await deps.store.listInlinePolicies(o.acct, kind, o.name)).filter((p) => p.policyName.toLowerCase() !== policyName.toLowerCase());
      if (others.reduce((n, p) => n + size(p.document), size(doc)) > QUOTA[kind]) {
        throw new ServiceError('LimitExceeded', 409, `Maximum policy size of ${QUOTA[kind]} bytes exceeded for ${kind} ${o.name}`);
      }
      await deps.store.putInlinePolicy(o.acct, kind, o.name, policyName, doc);
      return undefined;
    },
    async [`Get${Kind}Policy`](deps, caller, params) {
      const o = await ownerOf(kind, deps, caller, params);
      await authorize(deps, caller, `Get${Kind}Policy`, o.arn);
      const policyName = required(params, 'PolicyName');
      const doc = await deps.store.getInlinePolicy(o.acct, kind, o.name, policyName);
      if (doc === undefined) throw notFound(policyName);
      return { [`${Kind}Name`]: o.name, PolicyName: policyName, PolicyDocument: encodePolicy(doc) };
    },
    async [`Delete${Kind}Policy`](deps, caller, params) {
      const o = await ownerOf(kind, deps, caller, params);
      await authorize(deps, caller, `Delete${Kind}Policy`, o.arn);
      const policyName = required(params, 'PolicyName');
      if (!(await deps.store.deleteInlinePolicy(o.acct, kind, o.name, policyName))) throw notFound(policyName);
      return undefined;
    },
    async [`List${Kind}Policies`](deps, caller, params) {
      const o = await ownerOf(kind, deps, caller, params);
      await authorize(deps, caller, `List${Kind}Policies`, o.arn);
      const names = (await deps.store.listInlinePolicies(o.acct, kind, o.name)).map((p) => p.policyName);
      const p = page(names, params);
      return { PolicyNames: memberList(p.items), ...p.truncated };
    },
  };
}
