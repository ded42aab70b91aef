/**
 * Customer managed policies with versions (at most 5, one default), AWS managed policies (read
 * only), and their attachment to users, roles and groups (reference §2.4).
 */
import { ServiceError } from '../../common/errors.js';
import { newIamId } from '../../common/ids.js';
import type { ManagedPolicyRecord, PrincipalKind } from '../../storage/types.js';
import { required, type QueryParams } from '../protocol/aws-query.js';
import type { XmlObject } from '../protocol/xml.js';
import type { Caller } from '../caller.js';
import { awsManagedPolicies, findManagedPolicy, isAwsManagedArn } from './aws-managed-policies.js';
import {
  account,
  authorize,
  encodePolicy,
  iso,
  memberList,
  noSuchEntity,
  page,
  pathParam,
  POLICY_NAME,
  validateName,
  validatePolicy,
  validationError,
  type Handler,
  type IamDeps,
} from './iam-common.js';
import { ownerOf } from './inline-policies.js';

const MAX_VERSIONS = 5;
const MAX_ATTACHED = 10;
const MANAGED_POLICY_CHARS = 6144;
const KIND_NAME: Record<PrincipalKind, string> = { role: 'Role', user: 'User', group: 'Group' };

async function policyXml(deps: IamDeps, p: ManagedPolicyRecord): Promise<XmlObject> {
  const attachments = isAwsManagedArn(p.arn) ? [] : await deps.store.listPolicyAttachments(p.arn);
  const x: XmlObject = {
    PolicyName: p.policyName,
    PolicyId: p.policyId,
    Arn: p.arn,
    Path: p.path,
    DefaultVersionId: p.defaultVersionId,
    AttachmentCount: attachments.length,
    PermissionsBoundaryUsageCount: 0,
    IsAttachable: true,
  };
  if (p.description !== undefined) x.Description = p.description;
  x.CreateDate = iso(p.createdAt);
  x.UpdateDate = iso(p.updatedAt);
  return x;
}

function versionXml(p: ManagedPolicyRecord, v: ManagedPolicyRecord['versions'][number], withDocument: boolean): XmlObject {
  const x: XmlObject = {};
  if (withDocument) x.Document = encodePolicy(v.document);
  x.VersionId = v.versionId;
  x.IsDefaultVersion = v.versionId === p.defaultVersionId;
  x.CreateDate = iso(v.createdAt);
  return x;
}

function checkSize(doc: string): void {
  if (doc.replace(/\s/g, '').length > MANAGED_POLICY_CHARS) {
    throw new ServiceError('LimitExceeded', 409, `Cannot exceed quota for PolicySize: ${MANAGED_POLICY_CHARS}`);
  }
}

/** The policy a PolicyArn names, visible to the caller's account (its own or AWS's). */
async function policyOrThrow(deps: IamDeps, caller: Caller, params: QueryParams): Promise<ManagedPolicyRecord> {
  const acct = account(caller);
  const arn = required(params, 'PolicyArn');
  if (!/^arn:aws:iam::(\d{12}|aws):policy\/.+/.test(arn)) throw new ServiceError('InvalidInput', 400, `ARN ${arn} is not valid.`);
  const p = await findManagedPolicy(deps.store, arn);
  if (!p || (p.accountId !== acct && p.accountId !== 'aws')) throw noSuchEntity(`Policy ${arn} does not exist or is not attachable.`);
  return p;
}

function customerOnly(p: ManagedPolicyRecord): void {
  if (p.accountId === 'aws') throw new ServiceError('UnmodifiableEntity', 400, `Cannot modify an AWS managed policy: ${p.arn}.`);
}

function versionParam(p: ManagedPolicyRecord, params: QueryParams): ManagedPolicyRecord['versions'][number] {
  const id = required(params, 'VersionId');
  const v = p.versions.find((x) => x.versionId === id);
  if (!v) throw noSuchEntity(`Policy ${p.arn} version ${id} does not exist or is not attachable.`);
  return v;
}

function attachmentOperations(kind: PrincipalKind): Record<string, Handler> {
  const Kind = KIND_NAME[kind];
  return {
    async [`Attach${Kind}Policy`](deps, caller, params) {
      const o = await ownerOf(kind, deps, caller, params);
      const p = await policyOrThrow(deps, caller, params);
      await authorize(deps, caller, `Attach${Kind}Policy`, o.arn, { 'iam:PolicyARN': p.arn });
      const attached = await deps.store.listAttachedPolicies(o.acct, kind, o.name);
      if (!attached.includes(p.arn) && attached.length >= MAX_ATTACHED) {
        throw new ServiceError('LimitExceeded', 409, `Cannot exceed quota for PoliciesPer${Kind}: ${MAX_ATTACHED}`);
      }
      await deps.store.attachPolicy(o.acct, kind, o.name, p.arn);
      return undefined;
    },
    async [`Detach${Kind}Policy`](deps, caller, params) {
      const o = await ownerOf(kind, deps, caller, params);
      const arn = required(params, 'PolicyArn');
      await authorize(deps, caller, `Detach${Kind}Policy`, o.arn, { 'iam:PolicyARN': arn });
      if (!(await deps.store.detachPolicy(o.acct, kind, o.name, arn))) throw noSuchEntity(`Policy ${arn} was not found.`);
      return undefined;
    },
    async [`ListAttached${Kind}Policies`](deps, caller, params) {
      const o = await ownerOf(kind, deps, caller, params);
      await authorize(deps, caller, `ListAttached${Kind}Policies`, o.arn);
      const prefix = pathParam(params, 'PathPrefix');
      const attached: XmlObject[] = [];
      for (const arn of await deps.store.listAttachedPolicies(o.acct, kind, o.name)) {
        const p = await findManagedPolicy(deps.store, arn);
        if (p && p.path.startsWith(prefix)) attached.push({ PolicyName: p.policyName, PolicyArn: p.arn });
      }
      const pg = page(attached, params);
      return { AttachedPolicies: memberList(pg.items), ...pg.truncated };
    },
  };
}

export const MANAGED_POLICY_OPERATIONS: Record<string, Handler> = {
  ...attachmentOperations('user'),
  ...attachmentOperations('role'),
  ...attachmentOperations('group'),

  async CreatePolicy(deps, caller, params) {
    const acct = account(caller);
    const policyName = validateName(required(params, 'PolicyName'), 'policyName', POLICY_NAME);
    const path = pathParam(params);
    const arn = `arn:aws:iam::${acct}:policy${path}${policyName}`;
    await authorize(deps, caller, 'CreatePolicy', arn);
    const doc = required(params, 'PolicyDocument');
    await validatePolicy(deps, doc, 'identity');
    checkSize(doc);
    const now = deps.clock.now();
    const p: ManagedPolicyRecord = {
      accountId: acct,
      policyName,
      policyId: newIamId('ANPA'),
      arn,
      path,
      defaultVersionId: 'v1',
      versions: [{ versionId: 'v1', document: doc, createdAt: now }],
      createdAt: now,
      updatedAt: now,
    };
    const description = params.get('Description');
    if (description !== undefined) p.description = description;
    if (!(await deps.store.createManagedPolicy(p))) {
      throw new ServiceError('EntityAlreadyExists', 409, `A policy called ${policyName} already exists. Duplicate names are not allowed.`);
    }
    return { Policy: await policyXml(deps, p) };
  },

  async GetPolicy(deps, caller, params) {
    const p = await policyOrThrow(deps, caller, params);
    await authorize(deps, caller, 'GetPolicy', p.arn);
    return { Policy: await policyXml(deps, p) };
  },

  async ListPolicies(deps, caller, params) {
    const acct = account(caller);
    await authorize(deps, caller, 'ListPolicies', `arn:aws:iam::${acct}:policy/`);
    const scope = params.get('Scope') ?? 'All';
    if (!['All', 'AWS', 'Local'].includes(scope)) {
      throw validationError(`1 validation error detected: Value '${scope}' at 'scope' failed to satisfy constraint: Member must satisfy enum value set: [All, AWS, Local]`);
    }
    const prefix = pathParam(params, 'PathPrefix');
    const onlyAttached = params.get('OnlyAttached') === 'true';
    const candidates = [...(scope !== 'Local' ? awsManagedPolicies() : []), ...(scope !== 'AWS' ? await deps.store.listManagedPolicies(acct) : [])];
    const out: XmlObject[] = [];
    for (const p of candidates) {
      if (!p.path.startsWith(prefix)) continue;
      const x = await policyXml(deps, p);
      if (onlyAttached && x.AttachmentCount === 0) continue;
      out.push(x);
    }
    const pg = page(out, params);
    return { Policies: memberList(pg.items), ...pg.truncated };
  },

  async DeletePolicy(deps, caller, params) {
    const p = await policyOrThrow(deps, caller, params);
    customerOnly(p);
    await authorize(deps, caller, 'DeletePolicy', p.arn);
    if ((await deps.store.listPolicyAttachments(p.arn)).length > 0) {
      throw new ServiceError('DeleteConflict', 409, 'Cannot delete a policy attached to entities.');
    }
    if (p.versions.length > 1) {
      throw new ServiceError('DeleteConflict', 409, "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.");
    }
    await deps.store.deleteManagedPolicy(p.arn);
    return undefined;
  },

  async ListEntitiesForPolicy(deps, caller, params) {
    const p = await policyOrThrow(deps, caller, params);
    await authorize(deps, caller, 'ListEntitiesForPolicy', p.arn);
    const acct = account(caller);
    const groups: XmlObject[] = [];
    const users: XmlObject[] = [];
    const roles: XmlObject[] = [];
    for (const a of await deps.store.listPolicyAttachments(p.arn)) {
      if (a.accountId !== acct) continue;
      if (a.kind === 'user') {
        const u = await deps.store.getUser(acct, a.principalName);
        if (u) users.push({ UserName: u.userName, UserId: u.userId });
      } else if (a.kind === 'role') {
        const r = await deps.store.getRole(acct, a.principalName);
        if (r) roles.push({ RoleName: r.roleName, RoleId: r.roleId });
      } else {
        const g = await deps.store.getGroup(acct, a.principalName);
        if (g) groups.push({ GroupName: g.groupName, GroupId: g.groupId });
      }
    }
    return { PolicyGroups: memberList(groups), PolicyUsers: memberList(users), PolicyRoles: memberList(roles), IsTruncated: false };
  },

  async CreatePolicyVersion(deps, caller, params) {
    const p = await policyOrThrow(deps, caller, params);
    customerOnly(p);
    await authorize(deps, caller, 'CreatePolicyVersion', p.arn);
    const doc = required(params, 'PolicyDocument');
    await validatePolicy(deps, doc, 'identity');
    checkSize(doc);
    if (p.versions.length >= MAX_VERSIONS) {
      throw new ServiceError('LimitExceeded', 409, 'A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.');
    }
    const next = Math.max(...p.versions.map((v) => Number(v.versionId.slice(1)))) + 1;
    const now = deps.clock.now();
    const version = { versionId: `v${next}`, document: doc, createdAt: now };
    const setDefault = params.get('SetAsDefault') === 'true';
    const updated = { ...p, versions: [...p.versions, version], updatedAt: now, defaultVersionId: setDefault ? version.versionId : p.defaultVersionId };
    await deps.store.updateManagedPolicy(p.arn, { versions: updated.versions, defaultVersionId: updated.defaultVersionId, updatedAt: now });
    return { PolicyVersion: versionXml(updated, version, false) };
  },

  async GetPolicyVersion(deps, caller, params) {
    const p = await policyOrThrow(deps, caller, params);
    await authorize(deps, caller, 'GetPolicyVersion', p.arn);
    return { PolicyVersion: versionXml(p, versionParam(p, params), true) };
  },

  async ListPolicyVersions(deps, caller, params) {
    const p = await policyOrThrow(deps, caller, params);
    await authorize(deps, caller, 'ListPolicyVersions', p.arn);
    // Newest first, as IAM lists them.
    const versions = [...p.versions].reverse().map((v) => versionXml(p, v, false));
    const pg = page(versions, params);
    return { Versions: memberList(pg.items), ...pg.truncated };
  },

  async DeletePolicyVersion(deps, caller, params) {
    const p = await policyOrThrow(deps, caller, params);
    customerOnly(p);
    await authorize(deps, caller, 'DeletePolicyVersion', p.arn);
    const v = versionParam(p, params);
    if (v.versionId === p.defaultVersionId) throw new ServiceError('DeleteConflict', 409, 'Cannot delete the default version of a policy.');
    await deps.store.updateManagedPolicy(p.arn, { versions: p.versions.filter((x) => x !== v), updatedAt: deps.clock.now() });
    return undefined;
  },

  async SetDefaultPolicyVersion(deps, caller, params) {
    const p = await policyOrThrow(deps, caller, params);
    customerOnly(p);
    await authorize(deps, caller, 'SetDefaultPolicyVersion', p.arn);
    const v = versionParam(p, params);
    await deps.store.updateManagedPolicy(p.arn, { defaultVersionId: v.versionId, updatedAt: deps.clock.now() });
    return undefined;
  },
};
