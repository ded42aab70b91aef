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
  IamStore,
  ManagedPolicyRecord,
  PrincipalKind,
  RoleRecord,
  UserRecord,
} from '../types.js';
import { fromJson, setIf, toJson } from './codec.js';
import { SqliteConnection, type ConnectionOptions } from './connection.js';
import { GLOBAL_MIGRATIONS } from './global-schema.js';

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

/** Merge a patch into a record; optional fields the patch sets to undefined are removed. */
function merge<T extends object>(cur: T, patch: Partial<T>): T {
  const next = { ...cur, ...patch };
  for (const k of Object.keys(next) as (keyof T)[]) if (next[k] === undefined) delete next[k];
  return next;
}

export class SqliteIamStore implements IamStore {
  private readonly getKeyStmt: Database.Statement;

  constructor(
    private readonly conn: SqliteConnection,
    /** Whether close() closes the connection (true when this store opened it). */
    private readonly ownsConnection = false,
  ) {
    // The hot path: every signed request resolves its access key id here.
    this.getKeyStmt = conn.stmt('SELECT * FROM iam_access_keys WHERE access_key_id = ?');
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
      const r = this.getKeyStmt.get(accessKeyId) as KeyRow | undefined;
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
                     ORDER BY created_at, access_key_id`)
              .all(owner.accountId, lc(owner.userName))
          : this.conn
              .stmt(`SELECT * FROM iam_access_keys WHERE account_id = ? AND owner_type = 'root'
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

  /** Also removes the user's inline policies, attachments and access keys. */
  deleteUser(accountId: string, userName: string): Promise<void> {
    return this.conn.write(() => {
      this.conn.stmt('DELETE FROM iam_users WHERE account_id = ? AND name_lc = ?').run(accountId, lc(userName));
      this.deleteDependentsSync(accountId, 'user', lc(userName));
    });
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

  // inline policies ----------------------------------------------------------------------------

  /** Insert or replace; policy names compare case-insensitively and the latest spelling is kept. */
  putInlinePolicy(accountId: string, kind: PrincipalKind, principalName: string, policyName: string, document: string): Promise<void> {
    return this.conn.write(() => {
      this.conn
        .stmt(`INSERT INTO iam_inline_policies (account_id, kind, principal_lc, policy_name_lc, policy_name, document)
               VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, kind, principal_lc, policy_name_lc)
               DO UPDATE SET policy_name = excluded.policy_name, document = excluded.document`)
        .run(accountId, kind, lc(principalName), lc(policyName), policyName, document);
    });
  }

  getInlinePolicy(accountId: string, kind: PrincipalKind, principalName: string, policyName: string): Promise<string | undefined> {
    return this.conn.read(() => {
      const r = this.conn
        .stmt(`SELECT document FROM iam_inline_policies
               WHERE account_id = ? AND kind = ? AND principal_lc = ? AND policy_name_lc = ?`)
        .get(accountId, kind, lc(principalName), lc(policyName)) as { document: string } | undefined;
      return r?.document;
    });
  }

  /** Policy names ascending (case-insensitively). */
  listInlinePolicies(accountId: string, kind: PrincipalKind, principalName: string): Promise<{ policyName: string; document: string }[]> {
    return this.conn.read(() =>
      (
        this.conn
          .stmt(`SELECT policy_name, document FROM iam_inline_policies WHERE account_id = ? AND kind = ? AND principal_lc = ?
                 ORDER BY policy_name_lc`)
          .all(accountId, kind, lc(principalName)) as { policy_name: string; document: string }[]
      ).map((r) => ({ policyName: r.policy_name, document: r.document })),
    );
  }

  deleteInlinePolicy(accountId: string, kind: PrincipalKind, principalName: string, policyName: string): Promise<boolean> {
    return this.conn.write(
      () =>
        this.conn
          .stmt('DELETE FROM iam_inline_policies WHERE account_id = ? AND kind = ? AND principal_lc = ? AND policy_name_lc = ?')
          .run(accountId, kind, lc(principalName), lc(policyName)).changes === 1,
    );
  }

  // managed policies and attachments -----------------------------------------------------------

  /** False if the ARN exists or the account already has a policy of that name (case-insensitively). */
  createManagedPolicy(p: ManagedPolicyRecord): Promise<boolean> {
    return this.conn.write(
      () =>
        this.conn
          .stmt('INSERT INTO iam_managed_policies (arn, account_id, name_lc, created_at, body) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING')
          .run(p.arn, p.accountId, lc(p.policyName), p.createdAt, toJson(p)).changes === 1,
    );
  }

  private getManagedSync(arn: string): ManagedPolicyRecord | undefined {
    const r = this.conn.stmt('SELECT body FROM iam_managed_policies WHERE arn = ?').get(arn) as { body: string } | undefined;
    return r ? fromJson<ManagedPolicyRecord>(r.body) : undefined;
  }

  getManagedPolicy(arn: string): Promise<ManagedPolicyRecord | undefined> {
    return this.conn.read(() => this.getManagedSync(arn));
  }

  listManagedPolicies(accountId: string): Promise<ManagedPolicyRecord[]> {
    return this.conn.read(() =>
      (this.conn.stmt('SELECT body FROM iam_managed_policies WHERE account_id = ? ORDER BY name_lc').all(accountId) as { body: string }[]).map(
        (r) => fromJson<ManagedPolicyRecord>(r.body),
      ),
    );
  }

  updateManagedPolicy(
    arn: string,
    patch: Partial<Pick<ManagedPolicyRecord, 'defaultVersionId' | 'versions' | 'updatedAt' | 'description'>>,
  ): Promise<void> {
    return this.conn.write(() => {
      const cur = this.getManagedSync(arn);
      if (!cur) return;
      this.conn.stmt('UPDATE iam_managed_policies SET body = ? WHERE arn = ?').run(toJson(merge(cur, patch)), arn);
    });
  }

  /** Also detaches it from every principal. */
  deleteManagedPolicy(arn: string): Promise<void> {
    return this.conn.write(() => {
      this.conn.stmt('DELETE FROM iam_managed_policies WHERE arn = ?').run(arn);
      this.conn.stmt('DELETE FROM iam_attachments WHERE policy_arn = ?').run(arn);
    });
  }

  /** Idempotent. */
  attachPolicy(accountId: string, kind: PrincipalKind, principalName: string, policyArn: string): Promise<void> {
    return this.conn.write(() => {
      this.conn
        .stmt('INSERT INTO iam_attachments (account_id, kind, principal_lc, policy_arn) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING')
        .run(accountId, kind, lc(principalName), policyArn);
    });
  }

  detachPolicy(accountId: string, kind: PrincipalKind, principalName: string, policyArn: string): Promise<boolean> {
    return this.conn.write(
      () =>
        this.conn
          .stmt('DELETE FROM iam_attachments WHERE account_id = ? AND kind = ? AND principal_lc = ? AND policy_arn = ?')
          .run(accountId, kind, lc(principalName), policyArn).changes === 1,
    );
  }

  /** In attachment order. */
  listAttachedPolicies(accountId: string, kind: PrincipalKind, principalName: string): Promise<string[]> {
    return this.conn.read(() =>
      (
        this.conn
          .stmt('SELECT policy_arn FROM iam_attachments WHERE account_id = ? AND kind = ? AND principal_lc = ? ORDER BY id')
          .all(accountId, kind, lc(principalName)) as { policy_arn: string }[]
      ).map((r) => r.policy_arn),
    );
  }

  /** Closes the file only if this store opened it; otherwise lets pending writes commit. */
  close(): Promise<void> {
    return this.ownsConnection ? this.conn.close() : this.conn.commits.flush();
  }
}
