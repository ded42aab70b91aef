/**
 * IAM API operations (awsQuery), keyed by AWS operation name. IAM is global: every region's
 * endpoint serves the same account directory.
 */
import { ServiceError } from '../../common/errors.js';
import type { Clock } from '../../common/clock.js';
import { newIamId, newSecretAccessKey } from '../../common/ids.js';
import { parsePolicy, PolicyValidationError } from '../../policy/index.js';
import type { PolicyKind } from '../../policy/types.js';
import type { IamStore, RoleRecord, UserRecord } from '../../storage/types.js';
import { memberStructs, required, type QueryParams } from '../protocol/aws-query.js';
import type { XmlObject } from '../protocol/xml.js';
import type { Caller } from '../caller.js';
import type { Authorizer } from './authorizer.js';
import { roleArn, userArn } from './arns.js';

export const IAM_XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';

export interface IamDeps {
  store: IamStore;
  authorizer: Authorizer;
  clock: Clock;
}

type Handler = (deps: IamDeps, caller: Caller, params: QueryParams) => Promise<XmlObject | undefined>;

const NAME = /^[\w+=,.@-]{1,64}$/;
const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;
const PATH = /^\/(?:[\x21-\x7E]*\/)?$/;

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** IAM returns policy documents URL-encoded (RFC 3986) inside the XML (reference §2.2). */
function encodePolicy(doc: string): string {
  return encodeURIComponent(doc);
}

function noSuchEntity(message: string): ServiceError {
  return new ServiceError('NoSuchEntity', 404, message);
}

function validateName(value: string, member: string, pattern = NAME): string {
  if (!pattern.test(value)) {
    throw new ServiceError(
      'ValidationError',
      400,
      `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${pattern.source}`,
    );
  }
  return value;
}

function validatePolicy(doc: string, kind: PolicyKind): void {
  try {
    parsePolicy(doc, kind);
  } catch (e) {
    if (e instanceof PolicyValidationError) throw new ServiceError('MalformedPolicyDocument', 400, e.message);
    throw e;
  }
}

/** IAM actions are authorized against the principal's identity policies; the account root is always allowed. */
async function authorize(deps: IamDeps, caller: Caller, action: string, resource: string): Promise<void> {
  await deps.authorizer.require(caller, { action: `iam:${action}`, resource, resourceAccount: caller.principal.accountId });
}

function account(caller: Caller): string {
  const a = caller.principal.accountId;
  if (!a) throw new ServiceError('AccessDenied', 403, 'IAM requires signed requests from an account principal.');
  return a;
}

export function roleXml(r: RoleRecord): XmlObject {
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
  if (r.tags.length > 0) x.Tags = { member: r.tags.map((t) => ({ Key: t.Key, Value: t.Value })) };
  return x;
}

function userXml(u: UserRecord): XmlObject {
  const x: XmlObject = { Path: u.path, UserName: u.userName, UserId: u.userId, Arn: u.arn, CreateDate: iso(u.createdAt) };
  if (u.tags.length > 0) x.Tags = { member: u.tags.map((t) => ({ Key: t.Key, Value: t.Value })) };
  return x;
}

async function getRoleOrThrow(deps: IamDeps, acct: string, roleName: string): Promise<RoleRecord> {
  const role = await deps.store.getRole(acct, roleName);
  if (!role) throw noSuchEntity(`The role with name ${roleName} cannot be found.`);
  return role;
}

async function getUserOrThrow(deps: IamDeps, acct: string, userName: string): Promise<UserRecord> {
  const user = await deps.store.getUser(acct, userName);
  if (!user) throw noSuchEntity(`The user with name ${userName} cannot be found.`);
  return user;
}

function pathParam(params: QueryParams): string {
  const path = params.get('Path') ?? '/';
  if (!PATH.test(path) || path.length > 512) {
    throw new ServiceError('ValidationError', 400, `1 validation error detected: Value '${path}' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)`);
  }
  return path;
}

/**
 * Inline policies work the same for roles and users (Put/Get/Delete/List<Role|User>Policy): one
 * family of handlers, parameterised by the kind of principal.
 */
function inlinePolicyOperations(kind: 'role' | 'user'): Record<string, Handler> {
  const Kind = kind === 'role' ? 'Role' : 'User';
  const nameParam = `${Kind}Name`;
  const owner = async (deps: IamDeps, caller: Caller, params: QueryParams) => {
    const acct = account(caller);
    const name = required(params, nameParam);
    const entity = kind === 'role' ? await getRoleOrThrow(deps, acct, name) : await getUserOrThrow(deps, acct, name);
    return { acct, name: kind === 'role' ? (entity as RoleRecord).roleName : (entity as UserRecord).userName, arn: entity.arn };
  };
  const notFound = (policyName: string) => noSuchEntity(`The ${kind} policy with name ${policyName} cannot be found.`);
  return {
    async [`Put${Kind}Policy`](deps, caller, params) {
      const o = await owner(deps, caller, params);
      await authorize(deps, caller, `Put${Kind}Policy`, o.arn);
      const policyName = validateName(required(params, 'PolicyName'), 'policyName', POLICY_NAME);
      const doc = required(params, 'PolicyDocument');
      validatePolicy(doc, 'identity');
      await deps.store.putInlinePolicy(o.acct, kind, o.name, policyName, doc);
      return undefined;
    },
    async [`Get${Kind}Policy`](deps, caller, params) {
      const o = await owner(deps, caller, params);
      await authorize(deps, caller, `Get${Kind}Policy`, o.arn);
      const policyName = required(params, 'PolicyName');
      const doc = await deps.store.getInlinePolicy(o.acct, kind, o.name, policyName);
      if (doc === undefined) throw notFound(policyName);
      return { [nameParam]: o.name, PolicyName: policyName, PolicyDocument: encodePolicy(doc) };
    },
    async [`Delete${Kind}Policy`](deps, caller, params) {
      const o = await owner(deps, caller, params);
      await authorize(deps, caller, `Delete${Kind}Policy`, o.arn);
      const policyName = required(params, 'PolicyName');
      if (!(await deps.store.deleteInlinePolicy(o.acct, kind, o.name, policyName))) throw notFound(policyName);
      return undefined;
    },
    async [`List${Kind}Policies`](deps, caller, params) {
      const o = await owner(deps, caller, params);
      await authorize(deps, caller, `List${Kind}Policies`, o.arn);
      const names = (await deps.store.listInlinePolicies(o.acct, kind, o.name)).map((p) => p.policyName);
      return { PolicyNames: { member: names }, IsTruncated: false };
    },
  };
}

export const IAM_OPERATIONS: Record<string, Handler> = {
  ...inlinePolicyOperations('role'),
  ...inlinePolicyOperations('user'),

  // ------------------------------------------------------------------------------------ roles
  async CreateRole(deps, caller, params) {
    const acct = account(caller);
    const roleName = validateName(required(params, 'RoleName'), 'roleName');
    const path = pathParam(params);
    const arn = roleArn(acct, path, roleName);
    await authorize(deps, caller, 'CreateRole', arn);
    const doc = required(params, 'AssumeRolePolicyDocument');
    validatePolicy(doc, 'trust');
    const max = params.has('MaxSessionDuration') ? Number(params.get('MaxSessionDuration')) : 3600;
    if (!Number.isInteger(max) || max < 3600 || max > 43200) {
      throw new ServiceError('ValidationError', 400, `1 validation error detected: Value '${params.get('MaxSessionDuration')}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value between 3600 and 43200`);
    }
    const role: RoleRecord = {
      accountId: acct,
      roleName,
      roleId: newIamId('AROA'),
      path,
      arn,
      createdAt: deps.clock.now(),
      assumeRolePolicyDocument: doc,
      maxSessionDuration: max,
      tags: memberStructs(params, 'Tags', ['Key', 'Value']).map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' })),
    };
    const description = params.get('Description');
    if (description !== undefined) role.description = description;
    if (!(await deps.store.createRole(role))) {
      throw new ServiceError('EntityAlreadyExists', 409, `Role with name ${roleName} already exists.`);
    }
    return { Role: roleXml(role) };
  },

  async GetRole(deps, caller, params) {
    const acct = account(caller);
    const role = await getRoleOrThrow(deps, acct, required(params, 'RoleName'));
    await authorize(deps, caller, 'GetRole', role.arn);
    return { Role: roleXml(role) };
  },

  async ListRoles(deps, caller, params) {
    const acct = account(caller);
    await authorize(deps, caller, 'ListRoles', `arn:aws:iam::${acct}:role/`);
    const prefix = params.get('PathPrefix') ?? '/';
    const roles = (await deps.store.listRoles(acct)).filter((r) => r.path.startsWith(prefix));
    return { Roles: { member: roles.map(roleXml) }, IsTruncated: false };
  },

  async DeleteRole(deps, caller, params) {
    const acct = account(caller);
    const role = await getRoleOrThrow(deps, acct, required(params, 'RoleName'));
    await authorize(deps, caller, 'DeleteRole', role.arn);
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
    await authorize(deps, caller, 'UpdateAssumeRolePolicy', role.arn);
    const doc = required(params, 'PolicyDocument');
    validatePolicy(doc, 'trust');
    await deps.store.updateRole(acct, role.roleName, { assumeRolePolicyDocument: doc });
    return undefined;
  },

  // ------------------------------------------------------------------------------------ users
  async CreateUser(deps, caller, params) {
    const acct = account(caller);
    const userName = validateName(required(params, 'UserName'), 'userName');
    const path = pathParam(params);
    const arn = userArn(acct, path, userName);
    await authorize(deps, caller, 'CreateUser', arn);
    const user: UserRecord = {
      accountId: acct,
      userName,
      userId: newIamId('AIDA'),
      path,
      arn,
      createdAt: deps.clock.now(),
      tags: memberStructs(params, 'Tags', ['Key', 'Value']).map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' })),
    };
    if (!(await deps.store.createUser(user))) throw new ServiceError('EntityAlreadyExists', 409, `User with name ${userName} already exists.`);
    return { User: userXml(user) };
  },

  async GetUser(deps, caller, params) {
    const acct = account(caller);
    const name = params.get('UserName');
    if (name === undefined) {
      const p = caller.principal;
      if (p.type === 'User' && p.username) return { User: userXml(await getUserOrThrow(deps, acct, p.username)) };
      if (p.type === 'Account') return { User: { UserId: acct, Arn: p.arn ?? '', CreateDate: iso(0) } };
      throw new ServiceError('ValidationError', 400, 'Must specify userName when calling with non-User credentials');
    }
    const user = await getUserOrThrow(deps, acct, name);
    await authorize(deps, caller, 'GetUser', user.arn);
    return { User: userXml(user) };
  },

  async ListUsers(deps, caller, params) {
    const acct = account(caller);
    await authorize(deps, caller, 'ListUsers', `arn:aws:iam::${acct}:user/`);
    const prefix = params.get('PathPrefix') ?? '/';
    const users = (await deps.store.listUsers(acct)).filter((u) => u.path.startsWith(prefix));
    return { Users: { member: users.map(userXml) }, IsTruncated: false };
  },

  async DeleteUser(deps, caller, params) {
    const acct = account(caller);
    const user = await getUserOrThrow(deps, acct, required(params, 'UserName'));
    await authorize(deps, caller, 'DeleteUser', user.arn);
    const keys = await deps.store.listAccessKeys({ accountId: acct, userName: user.userName });
    const inline = await deps.store.listInlinePolicies(acct, 'user', user.userName);
    const attached = await deps.store.listAttachedPolicies(acct, 'user', user.userName);
    if (keys.length + inline.length + attached.length > 0) {
      throw new ServiceError('DeleteConflict', 409, 'Cannot delete entity, must delete access keys and policies first.');
    }
    await deps.store.deleteUser(acct, user.userName);
    return undefined;
  },

  async CreateAccessKey(deps, caller, params) {
    const acct = account(caller);
    const userName = params.get('UserName') ?? caller.principal.username;
    if (!userName) throw new ServiceError('ValidationError', 400, 'Must specify userName when calling with non-User credentials');
    const user = await getUserOrThrow(deps, acct, userName);
    await authorize(deps, caller, 'CreateAccessKey', user.arn);
    const existing = await deps.store.listAccessKeys({ accountId: acct, userName: user.userName });
    if (existing.length >= 2) throw new ServiceError('LimitExceeded', 409, 'Cannot exceed quota for AccessKeysPerUser: 2');
    const key = {
      accessKeyId: newIamId('AKIA', 20),
      secretAccessKey: newSecretAccessKey(),
      owner: { type: 'user' as const, accountId: acct, userName: user.userName },
      status: 'Active' as const,
      createdAt: deps.clock.now(),
    };
    await deps.store.putAccessKey(key);
    return {
      AccessKey: { UserName: user.userName, AccessKeyId: key.accessKeyId, Status: key.status, SecretAccessKey: key.secretAccessKey, CreateDate: iso(key.createdAt) },
    };
  },

  async ListAccessKeys(deps, caller, params) {
    const acct = account(caller);
    const userName = params.get('UserName') ?? caller.principal.username;
    if (!userName) throw new ServiceError('ValidationError', 400, 'Must specify userName when calling with non-User credentials');
    const user = await getUserOrThrow(deps, acct, userName);
    await authorize(deps, caller, 'ListAccessKeys', user.arn);
    const keys = await deps.store.listAccessKeys({ accountId: acct, userName: user.userName });
    return {
      AccessKeyMetadata: { member: keys.map((k) => ({ UserName: user.userName, AccessKeyId: k.accessKeyId, Status: k.status, CreateDate: iso(k.createdAt) })) },
      IsTruncated: false,
    };
  },

  async DeleteAccessKey(deps, caller, params) {
    const acct = account(caller);
    const userName = params.get('UserName') ?? caller.principal.username;
    if (!userName) throw new ServiceError('ValidationError', 400, 'Must specify userName when calling with non-User credentials');
    const user = await getUserOrThrow(deps, acct, userName);
    await authorize(deps, caller, 'DeleteAccessKey', user.arn);
    const id = required(params, 'AccessKeyId');
    const key = await deps.store.getAccessKey(id);
    if (!key || key.owner.type !== 'user' || key.owner.accountId !== acct || key.owner.userName.toLowerCase() !== user.userName.toLowerCase()) {
      throw noSuchEntity(`The Access Key with id ${id} cannot be found.`);
    }
    await deps.store.deleteAccessKey(id);
    return undefined;
  },
};
