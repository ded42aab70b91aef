/** IAM groups and membership; a user's permissions include its groups' policies. */
import { ServiceError } from '../../common/errors.js';
import { newIamId } from '../../common/ids.js';
import type { GroupRecord } from '../../storage/types.js';
import { required } from '../protocol/aws-query.js';
import type { XmlObject } from '../protocol/xml.js';
import {
  account,
  authorize,
  getGroupOrThrow,
  getUserOrThrow,
  GROUP_NAME,
  iso,
  memberList,
  noSuchEntity,
  page,
  pathParam,
  validateName,
  type Handler,
} from './iam-common.js';
import { userXml } from './users.js';

function groupXml(g: GroupRecord): XmlObject {
  return { Path: g.path, GroupName: g.groupName, GroupId: g.groupId, Arn: g.arn, CreateDate: iso(g.createdAt) };
}

export function groupArn(accountId: string, path: string, groupName: string): string {
  return `arn:aws:iam::${accountId}:group${path}${groupName}`;
}

export const GROUP_OPERATIONS: Record<string, Handler> = {
  async CreateGroup(deps, caller, params) {
    const acct = account(caller);
    const groupName = validateName(required(params, 'GroupName'), 'groupName', GROUP_NAME);
    const path = pathParam(params);
    const arn = groupArn(acct, path, groupName);
    await authorize(deps, caller, 'CreateGroup', arn);
    const group: GroupRecord = { accountId: acct, groupName, groupId: newIamId('AGPA'), path, arn, createdAt: deps.clock.now() };
    if (!(await deps.store.createGroup(group))) throw new ServiceError('EntityAlreadyExists', 409, `Group with name ${groupName} already exists.`);
    return { Group: groupXml(group) };
  },

  async GetGroup(deps, caller, params) {
    const acct = account(caller);
    const group = await getGroupOrThrow(deps, acct, required(params, 'GroupName'));
    await authorize(deps, caller, 'GetGroup', group.arn);
    const p = page(await deps.store.listGroupMembers(acct, group.groupName), params);
    return { Group: groupXml(group), Users: memberList(p.items.map((u) => userXml(u))), ...p.truncated };
  },

  async ListGroups(deps, caller, params) {
    const acct = account(caller);
    await authorize(deps, caller, 'ListGroups', `arn:aws:iam::${acct}:group/`);
    const prefix = pathParam(params, 'PathPrefix');
    const p = page((await deps.store.listGroups(acct)).filter((g) => g.path.startsWith(prefix)), params);
    return { Groups: memberList(p.items.map(groupXml)), ...p.truncated };
  },

  async ListGroupsForUser(deps, caller, params) {
    const acct = account(caller);
    const user = await getUserOrThrow(deps, acct, required(params, 'UserName'));
    await authorize(deps, caller, 'ListGroupsForUser', user.arn);
    const p = page(await deps.store.listGroupsForUser(acct, user.userName), params);
    return { Groups: memberList(p.items.map(groupXml)), ...p.truncated };
  },

  async DeleteGroup(deps, caller, params) {
    const acct = account(caller);
    const group = await getGroupOrThrow(deps, acct, required(params, 'GroupName'));
    await authorize(deps, caller, 'DeleteGroup', group.arn);
    if ((await deps.store.listGroupMembers(acct, group.groupName)).length > 0) {
      throw new ServiceError('DeleteConflict', 409, 'Cannot delete entity, must remove users from group first.');
    }
    const inline = await deps.store.listInlinePolicies(acct, 'group', group.groupName);
    const attached = await deps.store.listAttachedPolicies(acct, 'group', group.groupName);
    if (inline.length + attached.length > 0) throw new ServiceError('DeleteConflict', 409, 'Cannot delete entity, must delete policies first.');
    await deps.store.deleteGroup(acct, group.groupName);
    return undefined;
  },

  async AddUserToGroup(deps, caller, params) {
    const acct = account(caller);
    const group = await getGroupOrThrow(deps, acct, required(params, 'GroupName'));
    const user = await getUserOrThrow(deps, acct, required(params, 'UserName'));
    await authorize(deps, caller, 'AddUserToGroup', group.arn);
    await deps.store.addUserToGroup(acct, group.groupName, user.userName);
    return undefined;
  },

  async RemoveUserFromGroup(deps, caller, params) {
    const acct = account(caller);
    const group = await getGroupOrThrow(deps, acct, required(params, 'GroupName'));
    const user = await getUserOrThrow(deps, acct, required(params, 'UserName'));
    await authorize(deps, caller, 'RemoveUserFromGroup', group.arn);
    if (!(await deps.store.removeUserFromGroup(acct, group.groupName, user.userName))) {
      throw noSuchEntity(`The user with name ${user.userName} is not in group ${group.groupName}.`);
    }
    return undefined;
  },
};
