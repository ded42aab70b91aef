/** IAM users, their access keys and permissions boundaries (reference §2.4). */
import { ServiceError } from '../../common/errors.js';
import { newIamId, newSecretAccessKey } from '../../common/ids.js';
import type { AccessKeyRecord, UserRecord } from '../../storage/types.js';
import { memberStructs, required, type QueryParams } from '../protocol/aws-query.js';
import type { XmlObject } from '../protocol/xml.js';
import { userArn } from './arns.js';
import { findManagedPolicy } from './aws-managed-policies.js';
import {
  account,
  authorize,
  getUserOrThrow,
  iso,
  memberList,
  noSuchEntity,
  page,
  pathParam,
  permissionsBoundaryXml,
  requestTagContext,
  resourceTagContext,
  tagsParam,
  userNameOrCaller,
  validateName,
  validationError,
  type Handler,
  type IamDeps,
} from './iam-common.js';

export function userXml(u: UserRecord, withBoundary = false): XmlObject {
  const x: XmlObject = { Path: u.path, UserName: u.userName, UserId: u.userId, Arn: u.arn, CreateDate: iso(u.createdAt) };
  // GetUser shows the boundary; list operations do not (as IAM answers).
  if (withBoundary) x.PermissionsBoundary = permissionsBoundaryXml(u.permissionsBoundary);
  if (u.tags.length > 0) x.Tags = memberList(u.tags.map((t) => ({ Key: t.Key, Value: t.Value })));
  return x;
}

/** A PermissionsBoundary parameter must name an existing managed policy (NoSuchEntity otherwise). */
export async function boundaryParam(deps: IamDeps, params: QueryParams, name = 'PermissionsBoundary'): Promise<string | undefined> {
  const arn = params.get(name);
  if (arn === undefined) return undefined;
  if (!/^arn:aws:iam::(\d{12}|aws):policy\//.test(arn)) throw new ServiceError('InvalidInput', 400, `ARN ${arn} is not valid.`);
  if (!(await findManagedPolicy(deps.store, arn))) throw noSuchEntity(`Scope ARN: ${arn} does not exist or is not attachable.`);
  return arn;
}

function accessKeyXml(userName: string, k: AccessKeyRecord): XmlObject {
  return { UserName: userName, AccessKeyId: k.accessKeyId, Status: k.status, CreateDate: iso(k.createdAt) };
}

/** The key named by AccessKeyId, if it is one of the user's long-term keys. */
async function userKey(deps: IamDeps, acct: string, user: UserRecord, id: string): Promise<AccessKeyRecord> {
  const key = await deps.store.getAccessKey(id);
  const owned =
    key !== undefined &&
    key.sessionToken === undefined &&
    key.owner.type === 'user' &&
    key.owner.accountId === acct &&
    key.owner.userName.toLowerCase() === user.userName.toLowerCase();
  if (!owned) throw noSuchEntity(`The Access Key with id ${id} cannot be found.`);
  return key!;
}

export const USER_OPERATIONS: Record<string, Handler> = {
  async CreateUser(deps, caller, params) {
    const acct = account(caller);
    const userName = validateName(required(params, 'UserName'), 'userName');
    const path = pathParam(params);
    const arn = userArn(acct, path, userName);
    const tags = tagsParam(params, memberStructs);
    const boundary = params.get('PermissionsBoundary');
    await authorize(deps, caller, 'CreateUser', arn, { ...requestTagContext(tags), 'iam:PermissionsBoundary': boundary });
    const user: UserRecord = { accountId: acct, userName, userId: newIamId('AIDA'), path, arn, createdAt: deps.clock.now(), tags };
    const checkedBoundary = await boundaryParam(deps, params);
    if (checkedBoundary) user.permissionsBoundary = checkedBoundary;
    if (!(await deps.store.createUser(user))) throw new ServiceError('EntityAlreadyExists', 409, `User with name ${userName} already exists.`);
    return { User: userXml(user, true) };
  },

  async GetUser(deps, caller, params) {
    const acct = account(caller);
    const name = params.get('UserName');
    if (name === undefined) {
      // Without a name: the caller itself (no permission needed to look at yourself).
      const p = caller.principal;
      if (p.type === 'User' && p.username) return { User: userXml(await getUserOrThrow(deps, acct, p.username), true) };
      if (p.type === 'Account') return { User: { UserId: acct, Arn: p.arn ?? '', CreateDate: iso(0) } };
      throw validationError('Must specify userName when calling with non-User credentials');
    }
    const user = await getUserOrThrow(deps, acct, name);
    await authorize(deps, caller, 'GetUser', user.arn, resourceTagContext(user.tags));
    return { User: userXml(user, true) };
  },

  async ListUsers(deps, caller, params) {
    const acct = account(caller);
    await authorize(deps, caller, 'ListUsers', `arn:aws:iam::${acct}:user/`);
    const prefix = pathParam(params, 'PathPrefix');
    const users = (await deps.store.listUsers(acct)).filter((u) => u.path.startsWith(prefix));
    const p = page(users, params);
    return { Users: memberList(p.items.map((u) => userXml(u))), ...p.truncated };
  },

  async UpdateUser(deps, caller, params) {
    const acct = account(caller);
    const user = await getUserOrThrow(deps, acct, required(params, 'UserName'));
    await authorize(deps, caller, 'UpdateUser', user.arn, resourceTagContext(user.tags));
    const newName = params.get('NewUserName');
    const newPath = params.has('NewPath') ? pathParam(params, 'NewPath') : user.path;
    if (newName !== undefined) validateName(newName, 'newUserName');
    const userName = newName ?? user.userName;
    if (userName === user.userName && newPath === user.path) return undefined;
    const renamed = await deps.store.updateUser(acct, user.userName, { userName, path: newPath, arn: userArn(acct, newPath, userName) });
    if (!renamed) throw new ServiceError('EntityAlreadyExists', 409, `User with name ${userName} already exists.`);
    return undefined;
  },

  async DeleteUser(deps, caller, params) {
    const acct = account(caller);
    const user = await getUserOrThrow(deps, acct, required(params, 'UserName'));
    await authorize(deps, caller, 'DeleteUser', user.arn, resourceTagContext(user.tags));
    const keys = await deps.store.listAccessKeys({ accountId: acct, userName: user.userName });
    const inline = await deps.store.listInlinePolicies(acct, 'user', user.userName);
    const attached = await deps.store.listAttachedPolicies(acct, 'user', user.userName);
    const groups = await deps.store.listGroupsForUser(acct, user.userName);
    if (keys.length + inline.length + attached.length + groups.length > 0) {
      throw new ServiceError('DeleteConflict', 409, 'Cannot delete entity, must remove access keys, policies and group memberships first.');
    }
    await deps.store.deleteUser(acct, user.userName);
    return undefined;
  },

  async PutUserPermissionsBoundary(deps, caller, params) {
    const acct = account(caller);
    const user = await getUserOrThrow(deps, acct, required(params, 'UserName'));
    const arn = required(params, 'PermissionsBoundary');
    await authorize(deps, caller, 'PutUserPermissionsBoundary', user.arn, { ...resourceTagContext(user.tags), 'iam:PermissionsBoundary': arn });
    const checked = (await boundaryParam(deps, params))!;
    await deps.store.updateUser(acct, user.userName, { permissionsBoundary: checked });
    return undefined;
  },

  async DeleteUserPermissionsBoundary(deps, caller, params) {
    const acct = account(caller);
    const user = await getUserOrThrow(deps, acct, required(params, 'UserName'));
    await authorize(deps, caller, 'DeleteUserPermissionsBoundary', user.arn, {
      ...resourceTagContext(user.tags),
      'iam:PermissionsBoundary': user.permissionsBoundary,
    });
    if (user.permissionsBoundary === undefined) throw noSuchEntity(`The user with name ${user.userName} has no permissions boundary.`);
    await deps.store.updateUser(acct, user.userName, { permissionsBoundary: undefined });
    return undefined;
  },

  // ------------------------------------------------------------------------------ access keys
  async CreateAccessKey(deps, caller, params) {
    const acct = account(caller);
    const user = await getUserOrThrow(deps, acct, userNameOrCaller(caller, params));
    await authorize(deps, caller, 'CreateAccessKey', user.arn);
    const existing = await deps.store.listAccessKeys({ accountId: acct, userName: user.userName });
    if (existing.length >= 2) throw new ServiceError('LimitExceeded', 409, 'Cannot exceed quota for AccessKeysPerUser: 2');
    const key: AccessKeyRecord = {
      accessKeyId: newIamId('AKIA', 20),
      secretAccessKey: newSecretAccessKey(),
      owner: { type: 'user', accountId: acct, userName: user.userName },
      status: 'Active',
      createdAt: deps.clock.now(),
    };
    await deps.store.putAccessKey(key);
    return { AccessKey: { ...accessKeyXml(user.userName, key), SecretAccessKey: key.secretAccessKey } };
  },

  async ListAccessKeys(deps, caller, params) {
    const acct = account(caller);
    const user = await getUserOrThrow(deps, acct, userNameOrCaller(caller, params));
    await authorize(deps, caller, 'ListAccessKeys', user.arn);
    const keys = await deps.store.listAccessKeys({ accountId: acct, userName: user.userName });
    const p = page(keys, params);
    return { AccessKeyMetadata: memberList(p.items.map((k) => accessKeyXml(user.userName, k))), ...p.truncated };
  },

  async UpdateAccessKey(deps, caller, params) {
    const acct = account(caller);
    const user = await getUserOrThrow(deps, acct, userNameOrCaller(caller, params));
    await authorize(deps, caller, 'UpdateAccessKey', user.arn);
    const status = required(params, 'Status');
    if (status !== 'Active' && status !== 'Inactive') {
      throw validationError(`1 validation error detected: Value '${status}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]`);
    }
    const key = await userKey(deps, acct, user, required(params, 'AccessKeyId'));
    await deps.store.updateAccessKeyStatus(key.accessKeyId, status);
    return undefined;
  },

  async DeleteAccessKey(deps, caller, params) {
    const acct = account(caller);
    const user = await getUserOrThrow(deps, acct, userNameOrCaller(caller, params));
    await authorize(deps, caller, 'DeleteAccessKey', user.arn);
    const key = await userKey(deps, acct, user, required(params, 'AccessKeyId'));
    await deps.store.deleteAccessKey(key.accessKeyId);
    return undefined;
  },
};
