/**
 * IAM/STS records in PostgreSQL (global: every gateway and region reads the same rows). Mirrors the
 * SQLite store: users, roles and groups are JSON documents keyed by a lower-cased name; deleting or
 * renaming a principal moves or removes what hangs off its name in the same transaction.
 *
 * changeToken reads iam_generation, which every IAM write bumps inside its transaction: a policy or
 * credential change made through any gateway changes the token as soon as it is committed, so
 * caches keyed by the token are never stale past the next request.
 */
import type { AccessKeyRecord, AccountRecord, CredentialOwner, GroupRecord, IamStore, RoleRecord, UserPatch, UserRecord, PrincipalKind } from '../types.js';
import { fromJson, setIf, toJson } from '../sqlite/codec.js';
import type { PgDatabase, Tx } from './database.js';
import { lc, merge, PgIamPolicies } from './iam-policies.js';

interface KeyRow {
  access_key_id: string;
  secret_access_key: string;
  owner: string;
  status: AccessKeyRecord['status'];
  created_at: number;
  session_token: string | null;
  expires_at: number | null;
}

const KEY_COLUMNS = 'access_key_id, secret_access_key, owner, status, created_at, session_token, expires_at';

function toKey(r: KeyRow): AccessKeyRecord {
  const k: AccessKeyRecord = {
    accessKeyId: r.access_key_id,
    secretAccessKey: r.secret_access_key,
    owner: fromJson<CredentialOwner>(r.owner),
    status: r.status,
    createdAt: r.created_at,
  };
  setIf(k, 'sessionToken', r.session_token);
  setIf(k, 'expiresAt', r.expires_at);
  return k;
}

function principalOf(owner: CredentialOwner): string | null {
  if (owner.type === 'user') return lc(owner.userName);
  if (owner.type === 'session') return lc(owner.roleName);
  return null;
}

type PrincipalTable = 'iam_users' | 'iam_roles' | 'iam_groups';
const changed = (n: number | null) => (n ?? 0) > 0;

export class PgIamStore extends PgIamPolicies implements IamStore {
  constructor(db: PgDatabase) {
    super(db);
  }

  // accounts -----------------------------------------------------------------------------------

  createAccount(a: AccountRecord): Promise<boolean> {
    return this.write(
      async (tx) =>
        changed((await tx.query('INSERT INTO iam_accounts (account_id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [a.accountId, a.name, a.createdAt])).rowCount),
      (created) => created,
    );
  }

  async getAccount(accountId: string): Promise<AccountRecord | undefined> {
    const [r] = await this.db.query<{ account_id: string; name: string; created_at: number }>('SELECT account_id, name, created_at FROM iam_accounts WHERE account_id = $1', [accountId]);
    return r ? { accountId: r.account_id, name: r.name, createdAt: r.created_at } : undefined;
  }

  async listAccounts(): Promise<AccountRecord[]> {
    const rows = await this.db.query<{ account_id: string; name: string; created_at: number }>('SELECT account_id, name, created_at FROM iam_accounts ORDER BY created_at, account_id');
    return rows.map((r) => ({ accountId: r.account_id, name: r.name, createdAt: r.created_at }));
  }

  // access keys --------------------------------------------------------------------------------

  /** Insert or replace (by access key id). */
  putAccessKey(k: AccessKeyRecord): Promise<void> {
    return this.write(async (tx) => {
      await tx.query(
        `INSERT INTO iam_access_keys (access_key_id, secret_access_key, owner_type, account_id, principal_lc, owner, status, created_at, session_token, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (access_key_id) DO UPDATE SET secret_access_key = excluded.secret_access_key, owner_type = excluded.owner_type,
           account_id = excluded.account_id, principal_lc = excluded.principal_lc, owner = excluded.owner, status = excluded.status,
           created_at = excluded.created_at, session_token = excluded.session_token, expires_at = excluded.expires_at`,
        [k.accessKeyId, k.secretAccessKey, k.owner.type, k.owner.accountId, principalOf(k.owner), toJson(k.owner), k.status, k.createdAt, k.sessionToken ?? null, k.expiresAt ?? null],
      );
    });
  }

  async getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    const [r] = await this.db.query<KeyRow>(`SELECT ${KEY_COLUMNS} FROM iam_access_keys WHERE access_key_id = $1`, [accessKeyId]);
    return r ? toKey(r) : undefined;
  }

  /** With userName: that user's keys. Without: the account root's keys. Temporary credentials are never listed. */
  async listAccessKeys(owner: { accountId: string; userName?: string }): Promise<AccessKeyRecord[]> {
    const rows =
      owner.userName !== undefined
        ? await this.db.query<KeyRow>(
            `SELECT ${KEY_COLUMNS} FROM iam_access_keys WHERE account_id = $1 AND owner_type = 'user' AND principal_lc = $2
             AND session_token IS NULL ORDER BY created_at, access_key_id`,
            [owner.accountId, lc(owner.userName)],
          )
        : await this.db.query<KeyRow>(
            `SELECT ${KEY_COLUMNS} FROM iam_access_keys WHERE account_id = $1 AND owner_type = 'root' AND session_token IS NULL
             ORDER BY created_at, access_key_id`,
            [owner.accountId],
          );
    return rows.map(toKey);
  }

  updateAccessKeyStatus(accessKeyId: string, status: 'Active' | 'Inactive'): Promise<void> {
    return this.write(async (tx) => {
      await tx.query('UPDATE iam_access_keys SET status = $2 WHERE access_key_id = $1', [accessKeyId, status]);
    });
  }

  deleteAccessKey(accessKeyId: string): Promise<void> {
    return this.write(async (tx) => {
      await tx.query('DELETE FROM iam_access_keys WHERE access_key_id = $1', [accessKeyId]);
    });
  }

  deleteExpiredSessions(now: number): Promise<number> {
    return this.write(
      async (tx) => (await tx.query('DELETE FROM iam_access_keys WHERE expires_at IS NOT NULL AND expires_at < $1', [now])).rowCount ?? 0,
      (n) => n > 0,
    );
  }

  // users, roles and groups --------------------------------------------------------------------

  private createPrincipal(table: PrincipalTable, accountId: string, name: string, body: object): Promise<boolean> {
    return this.write(
      async (tx) => changed((await tx.query(`INSERT INTO ${table} (account_id, name_lc, body) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [accountId, lc(name), toJson(body)])).rowCount),
      (created) => created,
    );
  }

  private async getPrincipal<T>(q: Tx, table: PrincipalTable, accountId: string, name: string, lock = false): Promise<T | undefined> {
    const sql = `SELECT body FROM ${table} WHERE account_id = $1 AND name_lc = $2${lock ? ' FOR UPDATE' : ''}`;
    const { rows } = await q.query<{ body: string }>(sql, [accountId, lc(name)]);
    return rows[0] ? fromJson<T>(rows[0].body) : undefined;
  }

  private async listPrincipals<T>(table: PrincipalTable, accountId: string): Promise<T[]> {
    const rows = await this.db.query<{ body: string }>(`SELECT body FROM ${table} WHERE account_id = $1 ORDER BY name_lc`, [accountId]);
    return rows.map((r) => fromJson<T>(r.body));
  }

  /** Delete what hangs off a principal's name; runs inside the deleting transaction. */
  private async deleteDependents(tx: Tx, accountId: string, kind: PrincipalKind, nameLc: string): Promise<void> {
    await tx.query('DELETE FROM iam_inline_policies WHERE account_id = $1 AND kind = $2 AND principal_lc = $3', [accountId, kind, nameLc]);
    await tx.query('DELETE FROM iam_attachments WHERE account_id = $1 AND kind = $2 AND principal_lc = $3', [accountId, kind, nameLc]);
    const ownerType = kind === 'user' ? 'user' : kind === 'role' ? 'session' : undefined;
    if (ownerType) await tx.query('DELETE FROM iam_access_keys WHERE account_id = $1 AND owner_type = $2 AND principal_lc = $3', [accountId, ownerType, nameLc]);
  }

  createUser(user: UserRecord): Promise<boolean> {
    return this.createPrincipal('iam_users', user.accountId, user.userName, user);
  }

  getUser(accountId: string, userName: string): Promise<UserRecord | undefined> {
    return this.getPrincipal<UserRecord>(this.db.direct, 'iam_users', accountId, userName);
  }

  listUsers(accountId: string): Promise<UserRecord[]> {
    return this.listPrincipals<UserRecord>('iam_users', accountId);
  }

  updateUser(accountId: string, userName: string, patch: UserPatch): Promise<boolean> {
    return this.write(
      async (tx) => {
        const cur = await this.getPrincipal<UserRecord>(tx, 'iam_users', accountId, userName, true);
        if (!cur) return false;
        const next = merge(cur, patch);
        const from = lc(cur.userName);
        const to = lc(next.userName);
        if (to !== from) {
          // The new name's row is taken by the primary key; ON CONFLICT tells us without an error.
          if (await this.getPrincipal<UserRecord>(tx, 'iam_users', accountId, next.userName)) return false;
          await tx.query('UPDATE iam_group_members SET user_lc = $3 WHERE account_id = $1 AND user_lc = $2', [accountId, from, to]);
          await tx.query("UPDATE iam_inline_policies SET principal_lc = $3 WHERE account_id = $1 AND kind = 'user' AND principal_lc = $2", [accountId, from, to]);
          await tx.query("UPDATE iam_attachments SET principal_lc = $3 WHERE account_id = $1 AND kind = 'user' AND principal_lc = $2", [accountId, from, to]);
          await tx.query(
            `UPDATE iam_access_keys SET principal_lc = $3, owner = jsonb_set(owner::jsonb, '{userName}', to_jsonb($4::text))::text
             WHERE account_id = $1 AND owner_type = 'user' AND principal_lc = $2`,
            [accountId, from, to, next.userName],
          );
        }
        await tx.query('UPDATE iam_users SET name_lc = $3, body = $4 WHERE account_id = $1 AND name_lc = $2', [accountId, from, to, toJson(next)]);
        return true;
      },
      (updated) => updated,
    );
  }

  /** Also removes the user's inline policies, attachments, access keys and group memberships. */
  deleteUser(accountId: string, userName: string): Promise<void> {
    return this.write(async (tx) => {
      await tx.query('DELETE FROM iam_users WHERE account_id = $1 AND name_lc = $2', [accountId, lc(userName)]);
      await this.deleteDependents(tx, accountId, 'user', lc(userName));
      await tx.query('DELETE FROM iam_group_members WHERE account_id = $1 AND user_lc = $2', [accountId, lc(userName)]);
    });
  }

  createGroup(group: GroupRecord): Promise<boolean> {
    return this.createPrincipal('iam_groups', group.accountId, group.groupName, group);
  }

  getGroup(accountId: string, groupName: string): Promise<GroupRecord | undefined> {
    return this.getPrincipal<GroupRecord>(this.db.direct, 'iam_groups', accountId, groupName);
  }

  listGroups(accountId: string): Promise<GroupRecord[]> {
    return this.listPrincipals<GroupRecord>('iam_groups', accountId);
  }

  /** Also removes the group's inline policies, attachments and memberships. */
  deleteGroup(accountId: string, groupName: string): Promise<void> {
    return this.write(async (tx) => {
      await tx.query('DELETE FROM iam_groups WHERE account_id = $1 AND name_lc = $2', [accountId, lc(groupName)]);
      await tx.query('DELETE FROM iam_group_members WHERE account_id = $1 AND group_lc = $2', [accountId, lc(groupName)]);
      await this.deleteDependents(tx, accountId, 'group', lc(groupName));
    });
  }

  addUserToGroup(accountId: string, groupName: string, userName: string): Promise<void> {
    return this.write(async (tx) => {
      await tx.query('INSERT INTO iam_group_members (account_id, group_lc, user_lc) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [accountId, lc(groupName), lc(userName)]);
    });
  }

  removeUserFromGroup(accountId: string, groupName: string, userName: string): Promise<boolean> {
    return this.write(
      async (tx) => changed((await tx.query('DELETE FROM iam_group_members WHERE account_id = $1 AND group_lc = $2 AND user_lc = $3', [accountId, lc(groupName), lc(userName)])).rowCount),
      (removed) => removed,
    );
  }

  async listGroupsForUser(accountId: string, userName: string): Promise<GroupRecord[]> {
    const rows = await this.db.query<{ body: string }>(
      `SELECT g.body FROM iam_group_members m JOIN iam_groups g ON g.account_id = m.account_id AND g.name_lc = m.group_lc
       WHERE m.account_id = $1 AND m.user_lc = $2 ORDER BY g.name_lc`,
      [accountId, lc(userName)],
    );
    return rows.map((r) => fromJson<GroupRecord>(r.body));
  }

  async listGroupMembers(accountId: string, groupName: string): Promise<UserRecord[]> {
    const rows = await this.db.query<{ body: string }>(
      `SELECT u.body FROM iam_group_members m JOIN iam_users u ON u.account_id = m.account_id AND u.name_lc = m.user_lc
       WHERE m.account_id = $1 AND m.group_lc = $2 ORDER BY u.name_lc`,
      [accountId, lc(groupName)],
    );
    return rows.map((r) => fromJson<UserRecord>(r.body));
  }

  createRole(role: RoleRecord): Promise<boolean> {
    return this.createPrincipal('iam_roles', role.accountId, role.roleName, role);
  }

  getRole(accountId: string, roleName: string): Promise<RoleRecord | undefined> {
    return this.getPrincipal<RoleRecord>(this.db.direct, 'iam_roles', accountId, roleName);
  }

  listRoles(accountId: string): Promise<RoleRecord[]> {
    return this.listPrincipals<RoleRecord>('iam_roles', accountId);
  }

  updateRole(
    accountId: string,
    roleName: string,
    patch: Partial<Pick<RoleRecord, 'assumeRolePolicyDocument' | 'description' | 'maxSessionDuration' | 'permissionsBoundary' | 'tags'>>,
  ): Promise<void> {
    return this.write(async (tx) => {
      const cur = await this.getPrincipal<RoleRecord>(tx, 'iam_roles', accountId, roleName, true);
      if (!cur) return;
      await tx.query('UPDATE iam_roles SET body = $3 WHERE account_id = $1 AND name_lc = $2', [accountId, lc(roleName), toJson(merge(cur, patch))]);
    });
  }

  /** Also removes the role's inline policies, attachments and its sessions' credentials. */
  deleteRole(accountId: string, roleName: string): Promise<void> {
    return this.write(async (tx) => {
      await tx.query('DELETE FROM iam_roles WHERE account_id = $1 AND name_lc = $2', [accountId, lc(roleName)]);
      await this.deleteDependents(tx, accountId, 'role', lc(roleName));
    });
  }

  async changeToken(): Promise<string> {
    const [r] = await this.db.query<{ generation: number }>('SELECT generation FROM iam_generation');
    return String(r?.generation ?? 0);
  }

  /** The database is shared with the other stores: its owner closes it. */
  async close(): Promise<void> {}
}
