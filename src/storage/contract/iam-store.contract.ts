/** The IamStore contract. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AccessKeyRecord, IamStore, ManagedPolicyRecord, RoleRecord, UserRecord } from '../types.js';
import { withStore, type StoreFactory } from './fixtures.js';

const A = '111122223333';

function user(userName: string, over: Partial<UserRecord> = {}): UserRecord {
  return { accountId: A, userName, userId: `AIDA${userName.toUpperCase()}`, path: '/', arn: `arn:aws:iam::${A}:user/${userName}`, createdAt: 1, tags: [], ...over };
}

function role(roleName: string, over: Partial<RoleRecord> = {}): RoleRecord {
  return {
    accountId: A,
    roleName,
    roleId: `AROA${roleName.toUpperCase()}`,
    path: '/service-role/',
    arn: `arn:aws:iam::${A}:role/service-role/${roleName}`,
    createdAt: 1,
    assumeRolePolicyDocument: '{"Statement":[]}',
    maxSessionDuration: 3600,
    tags: [],
    ...over,
  };
}

function accessKey(id: string, owner: AccessKeyRecord['owner'], over: Partial<AccessKeyRecord> = {}): AccessKeyRecord {
  return { accessKeyId: id, secretAccessKey: `secret-${id}`, owner, status: 'Active', createdAt: 1, ...over };
}

function policy(policyName: string, over: Partial<ManagedPolicyRecord> = {}): ManagedPolicyRecord {
  return {
    accountId: A,
    policyName,
    policyId: `ANPA${policyName.toUpperCase()}`,
    arn: `arn:aws:iam::${A}:policy/${policyName}`,
    path: '/',
    defaultVersionId: 'v1',
    versions: [{ versionId: 'v1', document: '{"Statement":[]}', createdAt: 1 }],
    createdAt: 1,
    updatedAt: 1,
    ...over,
  };
}

export function runIamStoreContract(name: string, make: StoreFactory<IamStore>): void {
  describe(`IamStore contract: ${name}`, () => {
    it('accounts: create once, get, list', async () => {
      await withStore(make, async (s) => {
        assert.equal(await s.createAccount({ accountId: A, name: 'main', createdAt: 1 }), true);
        assert.equal(await s.createAccount({ accountId: A, name: 'again', createdAt: 2 }), false);
        assert.equal(await s.createAccount({ accountId: '999988887777', name: 'second', createdAt: 3 }), true);
        assert.deepEqual(await s.getAccount(A), { accountId: A, name: 'main', createdAt: 1 });
        assert.equal(await s.getAccount('000000000000'), undefined);
        assert.deepEqual((await s.listAccounts()).map((a) => a.name), ['main', 'second']);
      });
    });

    it('access keys: lookup by id, list root or user keys (never sessions), status, delete, expiry', async () => {
      await withStore(make, async (s) => {
        const root = accessKey('AKIAROOT', { type: 'root', accountId: A });
        const alice = accessKey('AKIAALICE', { type: 'user', accountId: A, userName: 'Alice' }, { createdAt: 2 });
        const session = accessKey(
          'ASIASESSION',
          { type: 'session', accountId: A, roleName: 'Repl', sessionName: 's3-replication', sessionPolicy: '{}', sourceIdentity: 's3.amazonaws.com' },
          { sessionToken: 'token', expiresAt: 5000 },
        );
        const aliceSession = accessKey('ASIAALICE', { type: 'user', accountId: A, userName: 'Alice' }, { sessionToken: 't', expiresAt: 9000 });
        const rootSession = accessKey('ASIAROOT', { type: 'root', accountId: A }, { sessionToken: 't', expiresAt: 9000 });
        for (const k of [root, alice, session, aliceSession, rootSession]) await s.putAccessKey(k);
        assert.deepEqual(await s.getAccessKey('AKIAALICE'), alice);
        assert.deepEqual(await s.getAccessKey('ASIASESSION'), session);
        assert.equal(await s.getAccessKey('AKIANOPE'), undefined);
        assert.deepEqual((await s.listAccessKeys({ accountId: A })).map((k) => k.accessKeyId), ['AKIAROOT']);
        assert.deepEqual((await s.listAccessKeys({ accountId: A, userName: 'alice' })).map((k) => k.accessKeyId), ['AKIAALICE'], 'user names are case-insensitive');
        await s.updateAccessKeyStatus('AKIAALICE', 'Inactive');
        assert.equal((await s.getAccessKey('AKIAALICE'))?.status, 'Inactive');
        assert.equal(await s.deleteExpiredSessions(4000), 0);
        assert.equal(await s.deleteExpiredSessions(6000), 1);
        assert.deepEqual(await s.getAccessKey('ASIAALICE'), aliceSession, 'GetSessionToken credentials are found by id, never listed');
        assert.equal(await s.getAccessKey('ASIASESSION'), undefined);
        await s.deleteAccessKey('AKIAROOT');
        assert.equal(await s.getAccessKey('AKIAROOT'), undefined);
      });
    });

    it('users: names unique case-insensitively, found in any case, listed by name', async () => {
      await withStore(make, async (s) => {
        const alice = user('Alice', { tags: [{ Key: 'team', Value: 'x' }], permissionsBoundary: 'arn:aws:iam::aws:policy/PowerUserAccess' });
        assert.equal(await s.createUser(alice), true);
        assert.equal(await s.createUser(user('ALICE')), false);
        assert.equal(await s.createUser(user('bob')), true);
        assert.equal(await s.createUser(user('Alice', { accountId: '999988887777' })), true, 'other accounts are separate');
        assert.deepEqual(await s.getUser(A, 'alice'), alice);
        assert.deepEqual((await s.listUsers(A)).map((u) => u.userName), ['Alice', 'bob']);
      });
    });

    it('deleting a user removes its keys, inline policies and attachments', async () => {
      await withStore(make, async (s) => {
        await s.createUser(user('Alice'));
        await s.putAccessKey(accessKey('AKIAALICE', { type: 'user', accountId: A, userName: 'Alice' }));
        await s.putInlinePolicy(A, 'user', 'Alice', 'p', '{}');
        await s.attachPolicy(A, 'user', 'Alice', 'arn:aws:iam::aws:policy/ReadOnlyAccess');
        await s.deleteUser(A, 'ALICE');
        assert.equal(await s.getUser(A, 'Alice'), undefined);
        await s.createUser(user('alice'));
        assert.equal(await s.getAccessKey('AKIAALICE'), undefined);
        assert.deepEqual(await s.listInlinePolicies(A, 'user', 'alice'), []);
        assert.deepEqual(await s.listAttachedPolicies(A, 'user', 'alice'), []);
      });
    });

    it('roles: case-insensitive names, patch, delete', async () => {
      await withStore(make, async (s) => {
        const r = role('ReplicationRole', { description: 'crr' });
        assert.equal(await s.createRole(r), true);
        assert.equal(await s.createRole(role('replicationrole')), false);
        assert.deepEqual(await s.getRole(A, 'REPLICATIONROLE'), r);
        await s.updateRole(A, 'replicationRole', { assumeRolePolicyDocument: '{"v":2}', maxSessionDuration: 7200, description: undefined });
        const { description: _d, ...rest } = r;
        assert.deepEqual(await s.getRole(A, 'ReplicationRole'), { ...rest, assumeRolePolicyDocument: '{"v":2}', maxSessionDuration: 7200 });
        assert.deepEqual((await s.listRoles(A)).map((x) => x.roleName), ['ReplicationRole']);
        await s.deleteRole(A, 'replicationrole');
        assert.equal(await s.getRole(A, 'ReplicationRole'), undefined);
        assert.deepEqual(await s.listRoles(A), []);
      });
    });

    it('inline policies per principal kind; names case-insensitive', async () => {
      await withStore(make, async (s) => {
        await s.putInlinePolicy(A, 'role', 'R', 'S3Access', '{"a":1}');
        await s.putInlinePolicy(A, 'role', 'R', 'KmsAccess', '{"b":1}');
        await s.putInlinePolicy(A, 'user', 'R', 'S3Access', '{"user":1}');
        assert.equal(await s.getInlinePolicy(A, 'role', 'r', 's3access'), '{"a":1}');
        await s.putInlinePolicy(A, 'role', 'R', 's3access', '{"a":2}');
        assert.deepEqual(await s.listInlinePolicies(A, 'role', 'R'), [
          { policyName: 'KmsAccess', document: '{"b":1}' },
          { policyName: 's3access', document: '{"a":2}' },
        ]);
        assert.equal(await s.getInlinePolicy(A, 'user', 'R', 'S3Access'), '{"user":1}');
        assert.equal(await s.deleteInlinePolicy(A, 'role', 'R', 'S3ACCESS'), true);
        assert.equal(await s.deleteInlinePolicy(A, 'role', 'R', 'S3ACCESS'), false);
        assert.equal(await s.getInlinePolicy(A, 'role', 'R', 'S3Access'), undefined);
        await s.putInlinePolicy(A, 'group', 'Admins', 'all', '{}');
        assert.equal(await s.getInlinePolicy(A, 'group', 'admins', 'ALL'), '{}');
      });
    });

    it('managed policies and attachments', async () => {
      await withStore(make, async (s) => {
        const p = policy('ReplicationPolicy', { description: 'd' });
        assert.equal(await s.createManagedPolicy(p), true);
        assert.equal(await s.createManagedPolicy(p), false, 'same ARN');
        assert.equal(await s.createManagedPolicy(policy('replicationpolicy', { arn: `arn:aws:iam::${A}:policy/x/replicationpolicy` })), false, 'same name, other case');
        assert.equal(await s.createManagedPolicy(policy('Other')), true);
        assert.deepEqual(await s.getManagedPolicy(p.arn), p);
        assert.deepEqual((await s.listManagedPolicies(A)).map((x) => x.policyName), ['Other', 'ReplicationPolicy']);
        const versions = [...p.versions, { versionId: 'v2', document: '{"v":2}', createdAt: 2 }];
        await s.updateManagedPolicy(p.arn, { versions, defaultVersionId: 'v2', updatedAt: 2 });
        assert.deepEqual(await s.getManagedPolicy(p.arn), { ...p, versions, defaultVersionId: 'v2', updatedAt: 2 });

        await s.attachPolicy(A, 'role', 'Repl', p.arn);
        await s.attachPolicy(A, 'role', 'repl', 'arn:aws:iam::aws:policy/ReadOnlyAccess');
        await s.attachPolicy(A, 'role', 'REPL', p.arn);
        assert.deepEqual(await s.listAttachedPolicies(A, 'role', 'Repl'), [p.arn, 'arn:aws:iam::aws:policy/ReadOnlyAccess']);
        assert.deepEqual(await s.listAttachedPolicies(A, 'user', 'Repl'), []);
        assert.equal(await s.detachPolicy(A, 'role', 'Repl', 'arn:aws:iam::aws:policy/ReadOnlyAccess'), true);
        assert.equal(await s.detachPolicy(A, 'role', 'Repl', 'arn:aws:iam::aws:policy/ReadOnlyAccess'), false);
        await s.deleteManagedPolicy(p.arn);
        assert.equal(await s.getManagedPolicy(p.arn), undefined);
        assert.deepEqual(await s.listAttachedPolicies(A, 'role', 'Repl'), [], 'deleting a policy detaches it');
      });
    });

    it('groups: case-insensitive names, membership both ways, delete cleans up', async () => {
      await withStore(make, async (s) => {
        const g = { accountId: A, groupName: 'Admins', groupId: 'AGPAADMINS', path: '/', arn: `arn:aws:iam::${A}:group/Admins`, createdAt: 1 };
        assert.equal(await s.createGroup(g), true);
        assert.equal(await s.createGroup({ ...g, groupName: 'ADMINS' }), false);
        assert.equal(await s.createGroup({ ...g, groupName: 'Readers', groupId: 'AGPAREADERS' }), true);
        assert.deepEqual(await s.getGroup(A, 'admins'), g);
        assert.deepEqual((await s.listGroups(A)).map((x) => x.groupName), ['Admins', 'Readers']);
        await s.createUser(user('Alice'));
        await s.createUser(user('bob'));
        await s.addUserToGroup(A, 'admins', 'ALICE');
        await s.addUserToGroup(A, 'Admins', 'Alice');
        await s.addUserToGroup(A, 'Readers', 'alice');
        await s.addUserToGroup(A, 'Readers', 'bob');
        assert.deepEqual((await s.listGroupsForUser(A, 'alice')).map((x) => x.groupName), ['Admins', 'Readers']);
        assert.deepEqual((await s.listGroupMembers(A, 'readers')).map((u) => u.userName), ['Alice', 'bob']);
        assert.equal(await s.removeUserFromGroup(A, 'Readers', 'BOB'), true);
        assert.equal(await s.removeUserFromGroup(A, 'Readers', 'bob'), false);
        await s.putInlinePolicy(A, 'group', 'Admins', 'all', '{}');
        await s.attachPolicy(A, 'group', 'Admins', 'arn:aws:iam::aws:policy/AdministratorAccess');
        await s.deleteGroup(A, 'ADMINS');
        assert.equal(await s.getGroup(A, 'Admins'), undefined);
        assert.deepEqual((await s.listGroupsForUser(A, 'Alice')).map((x) => x.groupName), ['Readers']);
        assert.deepEqual(await s.listInlinePolicies(A, 'group', 'Admins'), []);
        assert.deepEqual(await s.listPolicyAttachments('arn:aws:iam::aws:policy/AdministratorAccess'), []);
        await s.deleteUser(A, 'alice');
        assert.deepEqual(await s.listGroupMembers(A, 'Readers'), [], 'a deleted user leaves its groups');
      });
    });

    it('updateUser: patch fields, rename moves keys, policies, attachments and memberships', async () => {
      await withStore(make, async (s) => {
        await s.createUser(user('Alice', { permissionsBoundary: 'arn:aws:iam::aws:policy/PowerUserAccess' }));
        await s.createUser(user('Carol'));
        await s.createGroup({ accountId: A, groupName: 'G', groupId: 'AGPAG', path: '/', arn: `arn:aws:iam::${A}:group/G`, createdAt: 1 });
        await s.addUserToGroup(A, 'G', 'Alice');
        await s.putAccessKey(accessKey('AKIAALICE', { type: 'user', accountId: A, userName: 'Alice' }));
        await s.putInlinePolicy(A, 'user', 'Alice', 'p', '{"p":1}');
        await s.attachPolicy(A, 'user', 'Alice', 'arn:aws:iam::aws:policy/ReadOnlyAccess');
        assert.equal(await s.updateUser(A, 'alice', { permissionsBoundary: undefined, path: '/x/' }), true);
        const patched = await s.getUser(A, 'Alice');
        assert.equal(patched?.permissionsBoundary, undefined);
        assert.equal(patched?.path, '/x/');
        assert.equal(await s.updateUser(A, 'Alice', { userName: 'carol' }), false, 'new name taken');
        assert.equal(await s.updateUser(A, 'nobody', { path: '/' }), false);
        assert.equal(await s.updateUser(A, 'Alice', { userName: 'Alicia', arn: `arn:aws:iam::${A}:user/x/Alicia` }), true);
        assert.equal(await s.getUser(A, 'Alice'), undefined);
        assert.equal((await s.getUser(A, 'alicia'))?.arn, `arn:aws:iam::${A}:user/x/Alicia`);
        assert.deepEqual((await s.listAccessKeys({ accountId: A, userName: 'Alicia' })).map((k) => k.accessKeyId), ['AKIAALICE']);
        assert.deepEqual((await s.getAccessKey('AKIAALICE'))?.owner, { type: 'user', accountId: A, userName: 'Alicia' });
        assert.equal(await s.getInlinePolicy(A, 'user', 'Alicia', 'p'), '{"p":1}');
        assert.deepEqual(await s.listAttachedPolicies(A, 'user', 'Alicia'), ['arn:aws:iam::aws:policy/ReadOnlyAccess']);
        assert.deepEqual((await s.listGroupMembers(A, 'G')).map((u) => u.userName), ['Alicia']);
        assert.deepEqual(await s.listPolicyAttachments('arn:aws:iam::aws:policy/ReadOnlyAccess'), [{ accountId: A, kind: 'user', principalName: 'alicia' }]);
      });
    });

    it('changeToken changes with every write, not with reads', async () => {
      await withStore(make, async (s) => {
        const t0 = await s.changeToken();
        assert.equal(await s.changeToken(), t0);
        await s.getUser(A, 'nobody');
        assert.equal(await s.changeToken(), t0);
        await s.createUser(user('Alice'));
        const t1 = await s.changeToken();
        assert.notEqual(t1, t0);
        await s.putInlinePolicy(A, 'user', 'Alice', 'p', '{}');
        assert.notEqual(await s.changeToken(), t1);
      });
    });
  });
}
