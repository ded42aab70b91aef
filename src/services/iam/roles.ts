/** IAM roles: trust policies, session duration, permissions boundaries (reference §2.4). */
import { ServiceError } from '../../common/errors.js';
import { newIamId } from '../../common/ids.js';
import type { RoleRecord } from '../../storage/types.js';
import { memberStructs, required, type QueryParams } from '../protocol/aws-query.js';
import type { XmlObject } from '../protocol/xml.js';
import { roleArn } from './arns.js';
import {
  account,
  authorize,
  encodePolicy,
  getRoleOrThrow,
  iso,
  memberList,
  noSuchEntity,
  page,
  pathParam,
  permissionsBoundaryXml,
  requestTagContext,
  resourceTagContext,
  tagsParam,
  validateName,
  validatePolicy,
  validationError,
  type Handler,
} from './iam-common.js';
import { boundaryParam } from './users.js';

export function roleXml(r: RoleRecord, withBoundary = false): XmlObject {
  const x: XmlObject = {
    Path: r.path,
    RoleName: r.roleName,
    RoleId: r.roleId,
    Arn: r.arn,
    CreateDate: iso(r.createdAt),
    AssumeRolePolicyDocument: encodePolicy(r.assumeRolePolicyDocument),
  };
  if (r.description !== undefined) x.Description = r.description;
  x.MaxSessionDuration = r.maxSessionDuration;
  if (withBoundary) x.PermissionsBoundary = permissionsBoundaryXml(r.permissionsBoundary);
  if (r.tags.length > 0) x.Tags = memberList(r.tags.map((t) => ({ Key: t.Key, Value: t.Value })));
  return x;
}

function maxSessionDuration(params: QueryParams): number | undefined {
  if (!params.has('MaxSessionDuration')) return undefined;
  const max = Number(params.get('MaxSessionDuration'));
  if (!Number.isInteger(max) || max < 3600 || max > 43200) {
    throw validationError(
      `1 validation error detected: Value '${params.get('MaxSessionDuration')}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value between 3600 and 43200`,
    );
  }
  return max;
}

function description(params: QueryParams): string | undefined {
  const d = params.get('Description');
  if (d !== undefined && d.length > 1000) {
    throw validationError("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000");
  }
  return d;
}

export const ROLE_OPERATIONS: Record<string, Handler> = {
  async CreateRole(deps, caller, params) {
    const acct = account(caller);
    const roleName = validateName(required(params, 'RoleName'), 'roleName');
    const path = pathParam(params);
    const arn = roleArn(acct, path, roleName);
    const tags = tagsParam(params, memberStructs);
    await authorize(deps, caller, 'CreateRole', arn, { ...requestTagContext(tags), 'iam:PermissionsBoundary': params.get('PermissionsBoundary') });
    const doc = required(params, 'AssumeRolePolicyDocument');
    await validatePolicy(deps, doc, 'trust');
    const role: RoleRecord = {
      accountId: acct,
      roleName,
      roleId: newIamId('AROA'),
      path,
      arn,
      createdAt: deps.clock.now(),
      assumeRolePolicyDocument: doc,
      maxSessionDuration: maxSessionDuration(params) ?? 3600,
      tags,
    };
    const desc = description(params);
    if (desc !== undefined) role.description = desc;
    const boundary = await boundaryParam(deps, params);
    if (boundary) role.permissionsBoundary = boundary;
    if (!(await deps.store.createRole(role))) throw new ServiceError('EntityAlreadyExists', 409, `Role with name ${roleName} already exists.`);
    return { Role: roleXml(role, true) };
  },

  async GetRole(deps, caller, params) {
    const acct = account(caller);
    const role = await getRoleOrThrow(deps, acct, required(params, 'RoleName'));
    await authorize(deps, caller, 'GetRole', role.arn, resourceTagContext(role.tags));
    return { Role: roleXml(role, true) };
  },

  async ListRoles(deps, caller, params) {
    const acct = account(caller);
    await authorize(deps, caller, 'ListRoles', `arn:aws:iam::${acct}:role/`);
    const prefix = pathParam(params, 'PathPrefix');
    const roles = (await deps.store.listRoles(acct)).filter((r) => r.path.startsWith(prefix));
    const p = page(roles, params);
    return { Roles: memberList(p.items.map((r) => roleXml(r))), ...p.truncated };
  },

  async UpdateRole(deps, caller, params) {
    const acct = account(caller);
    const role = await getRoleOrThrow(deps, acct, required(params, 'RoleName'));
    await authorize(deps, caller, 'UpdateRole', role.arn, resourceTagContext(role.tags));
    const patch: Parameters<typeof deps.store.updateRole>[2] = {};
    const desc = description(params);
    if (desc !== undefined) patch.description = desc;
    const max = maxSessionDuration(params);
    if (max !== undefined) patch.maxSessionDuration = max;
    await deps.store.updateRole(acct, role.roleName, patch);
    return undefined;
  },

  async UpdateRoleDescription(deps, caller, params) {
    const acct = account(caller);
    const role = await getRoleOrThrow(deps, acct, required(params, 'RoleName'));
    await authorize(deps, caller, 'UpdateRoleDescription', role.arn, resourceTagContext(role.tags));
    const desc = description(params) ?? required(params, 'Description');
    await deps.store.updateRole(acct, role.roleName, { description: desc });
    return { Role: roleXml({ ...role, description: desc }, true) };
  },

  async DeleteRole(deps, caller, params) {
    const acct = account(caller);
    const role = await getRoleOrThrow(deps, acct, required(params, 'RoleName'));
    await authorize(deps, caller, 'DeleteRole', role.arn, resourceTagContext(role.tags));
    const inline = await deps.store.listInlinePolicies(acct, 'role', role.roleName);
    const attached = await deps.store.listAttachedPolicies(acct, 'role', role.roleName);
    if (inline.length > 0 || attached.length > 0) {
      throw new ServiceError('DeleteConflict', 409, 'Cannot delete entity, must delete policies first.');
    }
    await deps.store.deleteRole(acct, role.roleName);
    return undefined;
  },

  async UpdateAssumeRolePolicy(deps, caller, params) {
    const acct = account(caller);
    const role = await getRoleOrThrow(deps, acct, required(params, 'RoleName'));
    await authorize(deps, caller, 'UpdateAssumeRolePolicy', role.arn, resourceTagContext(role.tags));
    const doc = required(params, 'PolicyDocument');
    await validatePolicy(deps, doc, 'trust');
    await deps.store.updateRole(acct, role.roleName, { assumeRolePolicyDocument: doc });
    return undefined;
  },

  async PutRolePermissionsBoundary(deps, caller, params) {
    const acct = account(caller);
    const role = await getRoleOrThrow(deps, acct, required(params, 'RoleName'));
    const arn = required(params, 'PermissionsBoundary');
    await authorize(deps, caller, 'PutRolePermissionsBoundary', role.arn, { ...resourceTagContext(role.tags), 'iam:PermissionsBoundary': arn });
    const checked = (await boundaryParam(deps, params))!;
    await deps.store.updateRole(acct, role.roleName, { permissionsBoundary: checked });
    return undefined;
  },

  async DeleteRolePermissionsBoundary(deps, caller, params) {
    const acct = account(caller);
    const role = await getRoleOrThrow(deps, acct, required(params, 'RoleName'));
    await authorize(deps, caller, 'DeleteRolePermissionsBoundary', role.arn, {
      ...resourceTagContext(role.tags),
      'iam:PermissionsBoundary': role.permissionsBoundary,
    });
    if (role.permissionsBoundary === undefined) throw noSuchEntity(`The role with name ${role.roleName} has no permissions boundary.`);
    await deps.store.updateRole(acct, role.roleName, { permissionsBoundary: undefined });
    return undefined;
  },
};
