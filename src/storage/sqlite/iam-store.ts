/**
 * IAM/STS records in the global database. Users, roles and managed policies are JSON documents keyed
 * by a lower-cased name (AWS: names are unique case-insensitively within an account). Deleting a
 * user or role also removes what hangs off its name (inline policies, attachments, its keys or
 * sessions), so a principal re-created under the same name never inherits them.
 */
import type Database from 'better-sqlite3';
import type {
  AccessKeyRecord,
  AccountRecord,
  CredentialOwner,
  GroupRecord,
  IamStore,
  PrincipalKind,
  RoleRecord,
  UserPatch,
  UserRecord,
} from '../types.js';
import { fromJson, setIf, toJson } from './codec.js';
import { SqliteConnection, type ConnectionOptions } from './connection.js';
import { GLOBAL_MIGRATIONS } from './global-schema.js';
import { SqliteIamGroups } from './iam-groups.js';
import { merge, SqliteIamPolicies } from './iam-policies.js';
import { RowCache } from './row-cache.js';

const lc = (name: string): string => name.toLowerCase();

interface KeyRow {
  access_key_id: string;
  secret_access_key: string;
  owner: string;
  status: AccessKeyRecord['status'];
  created_at: number;
  session_token: string | null;
  expires_at: number | null;
}

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

export class SqliteIamStore extends SqliteIamPolicies implements IamStore {
  private readonly getKeyStmt: Database.Statement;
  /**
   * Access keys by id, read by every signed request. This file is written rarely (IAM, STS, bucket
   * names), so any commit through this connection or another one drops them. Unknown ids are not
   * kept: a new session's key works at once, and made-up ids cannot fill memory.
   */
  private readonly keyRows: RowCache<KeyRow | undefined>;
  private readonly groups: SqliteIamGroups;

  constructor(
    conn: SqliteConnection,
    /** Whether close() closes the connection (true when this store opened it). */
    private readonly ownsConnection = false,
  ) {
    super(conn);
    // The hot path: every signed request resolves its access key id here.
    this.getKeyStmt = conn.stmt('SELECT * FROM iam_access_keys WHERE access_key_id = ?');
    this.keyRows = new RowCache(conn, { clearOnAnyCommit: true, keepMisses: false });
    this.groups = new SqliteIamGroups(conn);
  }

  static open(path: string, options: ConnectionOptions = {}): SqliteIamStore {
    return new SqliteIamStore(SqliteConnection.open(path, GLOBAL_MIGRATIONS, options), true);
  }

  // accounts -----------------------------------------------------------------------------------

  createAccount(a: AccountRecord): Promise<boolean> {
    return this.conn.write(
      () =>
        this.conn
          .stmt('INSERT INTO iam_accounts (account_id, name, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING')
          .run(a.accountId, a.name, a.createdAt).changes === 1,
    );
  }

  getAccount(accountId: string): Promise<AccountRecord | undefined> {
    return this.conn.read(() => {
      const r = this.conn.stmt('SELECT * FROM iam_accounts WHERE account_id = ?').get(accountId) as
        | { account_id: string; name: string; created_at: number }
        | undefined;
      return r ? { accountId: r.account_id, name: r.name, createdAt: r.created_at } : undefined;
    });
  }

  listAccounts(): Promise<AccountRecord[]> {
    return this.conn.read(() =>
      (
        this.conn.stmt('SELECT * FROM iam_accounts ORDER BY created_at, account_id').all() as {
          account_id: string;
          name: string;
          created_at: number;
        }[]
      ).map((r) => ({ accountId: r.account_id, name: r.name, createdAt: r.created_at })),
    );
  }

  // access keys --------------------------------------------------------------------------------

  /** Insert or replace (by access key id). */
  putAccessKey(k: AccessKeyRecord): Promise<void> {
    return this.conn.write(() => {
      this.conn
        .stmt(`INSERT OR REPLACE INTO iam_access_keys (access_key_id, secret_access_key, owner_type, account_id,
                 principal_lc, owner, status, created_at, session_token, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(
          k.accessKeyId,
          k.secretAccessKey,
          k.owner.type,
          k.owner.accountId,
          principalOf(k.owner),
          toJson(k.owner),
          k.status,
          k.createdAt,
          k.sessionToken ?? null,
          k.expiresAt ?? null,
        );
    });
  }

  getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    return this.conn.read(() => {
      const r = this.keyRows.get(accessKeyId, () => this.getKeyStmt.get(accessKeyId) as KeyRow | undefined);
      return r ? toKey(r) : undefined;
    });
  }

  /** With userName: that user's keys. Without: the account root's keys. Temporary credentials are never listed. */
  listAccessKeys(owner: { accountId: string; userName?: string }): Promise<AccessKeyRecord[]> {
    return this.conn.read(() => {
      const rows =
        owner.userName !== undefined
          ? this.conn
              .stmt(`SELECT * FROM iam_access_keys WHERE account_id = ? AND owner_type = 'user' AND principal_lc = ?
                     AND session_token IS NULL ORDER BY created_at, access_key_id`)
              .all(owner.accountId, lc(owner.userName))
          : this.conn
              .stmt(`SELECT * FROM iam_access_keys WHERE account_id = ? AND owner_type = 'root' AND session_token IS NULL
                     ORDER BY created_at, access_key_id`)
              .all(owner.accountId);
      return (rows as KeyRow[]).map(toKey);
    });
  }

  updateAccessKeyStatus(accessKeyId: string, status: 'Active' | 'Inactive'): Promise<void> {
    return this.conn.write(() => {
      this.conn.stmt('UPDATE iam_access_keys SET status = ? WHERE access_key_id = ?').run(status, accessKeyId);
    });
  }

  deleteAccessKey(accessKeyId: string): Promise<void> {
    return this.conn.write(() => {
      this.conn.stmt('DELETE FROM iam_access_keys WHERE access_key_id = ?').run(accessKeyId);
    });
  }

  deleteExpiredSessions(now: number): Promise<number> {
    return this.conn.write(
      () => this.conn.stmt('DELETE FROM iam_access_keys WHERE expires_at IS NOT NULL AND expires_at < ?').run(now).changes,
    );
  }

  // users and roles ----------------------------------------------------------------------------

  private createPrincipal(table: 'iam_users' | 'iam_roles', accountId: string, name: string, body: object): Promise<boolean> {
    return this.conn.write(
      () =>
        this.conn
          .stmt(`INSERT INTO ${table} (account_id, name_lc, body) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`)
          .run(accountId, lc(name), toJson(body)).changes === 1,
    );
  }

  private getPrincipalSync<T>(table: 'iam_users' | 'iam_roles', accountId: string, name: string): T | undefined {
    const r = this.conn.stmt(`SELECT body FROM ${table} WHERE account_id = ? AND name_lc = ?`).get(accountId, lc(name)) as
      | { body: string }
      | undefined;
    return r ? fromJson<T>(r.body) : undefined;
  }

  private listPrincipals<T>(table: 'iam_users' | 'iam_roles', accountId: string): Promise<T[]> {
    return this.conn.read(() =>
      (this.conn.stmt(`SELECT body FROM ${table} WHERE account_id = ? ORDER BY name_lc`).all(accountId) as { body: string }[]).map(
        (r) => fromJson<T>(r.body),
      ),
    );
  }

  /** Delete what hangs off a principal's name; runs inside the deleting write. */
  private deleteDependentsSync(accountId: string, kind: PrincipalKind, nameLc: string): void {
    this.conn
      .stmt('DELETE FROM iam_inline_policies WHERE account_id = ? AND kind = ? AND principal_lc = ?')
      .run(accountId, kind, nameLc);
    this.conn.stmt('DELETE FROM iam_attachments WHERE account_id = ? AND kind = ? AND principal_lc = ?').run(accountId, kind, nameLc);
    const ownerType = kind === 'user' ? 'user' : kind === 'role' ? 'session' : undefined;
    if (ownerType) {
      this.conn
        .stmt('DELETE FROM iam_access_keys WHERE account_id = ? AND owner_type = ? AND principal_lc = ?')
        .run(accountId, ownerType, nameLc);
    }
  }

  createUser(user: UserRecord): Promise<boolean> {
    return this.createPrincipal('iam_users', user.accountId, user.userName, user);
  }

  getUser(accountId: string, userName: string): Promise<UserRecord | undefined> {
    return this.conn.read(() => this.getPrincipalSync<UserRecord>('iam_users', accountId, userName));
  }

  listUsers(accountId: string): Promise<UserRecord[]> {
    return this.listPrincipals<UserRecord>('iam_users', accountId);
  }

  updateUser(accountId: string, userName: string, patch: UserPatch): Promise<boolean> {
    return this.conn.write(() => {
      const cur = this.getPrincipalSync<UserRecord>('iam_users', accountId, userName);
      if (!cur) return false;
      const next = merge(cur, patch);
      if (lc(next.userName) !== lc(cur.userName)) {
        if (this.getPrincipalSync<UserRecord>('iam_users', accountId, next.userName)) return false;
        this.groups.renameUserSync(accountId, cur.userName, next.userName);
      }
      this.conn
        .stmt('UPDATE iam_users SET name_lc = ?, body = ? WHERE account_id = ? AND name_lc = ?')
        .run(lc(next.userName), toJson(next), accountId, lc(cur.userName));
      return true;
    });
  }

  /** Also removes the user's inline policies, attachments, access keys and group memberships. */
  deleteUser(accountId: string, userName: string): Promise<void> {
    return this.conn.write(() => {
      this.conn.stmt('DELETE FROM iam_users WHERE account_id = ? AND name_lc = ?').run(accountId, lc(userName));
      this.deleteDependentsSync(accountId, 'user', lc(userName));
      this.groups.removeUserSync(accountId, userName);
    });
  }

  // groups -------------------------------------------------------------------------------------

  createGroup(group: GroupRecord): Promise<boolean> {
    return this.groups.create(group);
  }

  getGroup(accountId: string, groupName: string): Promise<GroupRecord | undefined> {
    return this.groups.get(accountId, groupName);
  }

  listGroups(accountId: string): Promise<GroupRecord[]> {
    return this.groups.list(accountId);
  }

  /** Also removes the group's inline policies, attachments and memberships. */
  deleteGroup(accountId: string, groupName: string): Promise<void> {
    return this.conn.write(() => {
      this.groups.deleteSync(accountId, groupName);
      this.deleteDependentsSync(accountId, 'group', lc(groupName));
    });
  }

  addUserToGroup(accountId: string, groupName: string, userName: string): Promise<void> {
    return this.groups.addMember(accountId, groupName, userName);
  }

  removeUserFromGroup(accountId: string, groupName: string, userName: string): Promise<boolean> {
    return this.groups.removeMember(accountId, groupName, userName);
  }

  listGroupsForUser(accountId: string, userName: string): Promise<GroupRecord[]> {
    return this.groups.groupsOf(accountId, userName);
  }

  listGroupMembers(accountId: string, groupName: string): Promise<UserRecord[]> {
    return this.groups.members(accountId, groupName);
  }

  createRole(role: RoleRecord): Promise<boolean> {
    return this.createPrincipal('iam_roles', role.accountId, role.roleName, role);
  }

  getRole(accountId: string, roleName: string): Promise<RoleRecord | undefined> {
    return this.conn.read(() => this.getPrincipalSync<RoleRecord>('iam_roles', accountId, roleName));
  }

  listRoles(accountId: string): Promise<RoleRecord[]> {
    return this.listPrincipals<RoleRecord>('iam_roles', accountId);
  }

  updateRole(
    accountId: string,
    roleName: string,
    patch: Partial<Pick<RoleRecord, 'assumeRolePolicyDocument' | 'description' | 'maxSessionDuration' | 'permissionsBoundary' | 'tags'>>,
  ): Promise<void> {
    return this.conn.write(() => {
      const cur = this.getPrincipalSync<RoleRecord>('iam_roles', accountId, roleName);
      if (!cur) return;
      this.conn
        .stmt('UPDATE iam_roles SET body = ? WHERE account_id = ? AND name_lc = ?')
        .run(toJson(merge(cur, patch)), accountId, lc(roleName));
    });
  }

  /** Also removes the role's inline policies, attachments and its sessions' credentials. */
  deleteRole(accountId: string, roleName: string): Promise<void> {
    return this.conn.write(() => {
      this.conn.stmt('DELETE FROM iam_roles WHERE account_id = ? AND name_lc = ?').run(accountId, lc(roleName));
      this.deleteDependentsSync(accountId, 'role', lc(roleName));
    });
  }

  /** Commits through this connection, and other processes' commits (SQLite's data_version). */
  changeToken(): Promise<string> {
    // A prepared statement: db.pragma() compiles its SQL on every call, and this runs per authorization.
    return this.conn.read(() => `${this.conn.commits.stats.operations}:${String(this.conn.stmt('PRAGMA data_version').pluck().get())}`);
  }

  /** Closes the file only if this store opened it; otherwise lets pending writes commit. */
  close(): Promise<void> {
    return this.ownsConnection ? this.conn.close() : this.conn.commits.flush();
  }
}
