/**
 * IAM groups and group membership in the global database, and the rename of a user (which moves
 * every row keyed by the user's name). Used by SqliteIamStore; names are keyed lower-cased, as AWS
 * compares them case-insensitively.
 */
import type { GroupRecord, UserRecord } from '../types.js';
import { fromJson, toJson } from './codec.js';
import type { SqliteConnection } from './connection.js';

const lc = (name: string): string => name.toLowerCase();

export class SqliteIamGroups {
  constructor(private readonly conn: SqliteConnection) {}

  create(g: GroupRecord): Promise<boolean> {
    return this.conn.write(
      () =>
        this.conn
          .stmt('INSERT INTO iam_groups (account_id, name_lc, body) VALUES (?, ?, ?) ON CONFLICT DO NOTHING')
          .run(g.accountId, lc(g.groupName), toJson(g)).changes === 1,
    );
  }

  get(accountId: string, groupName: string): Promise<GroupRecord | undefined> {
    return this.conn.read(() => {
      const r = this.conn.stmt('SELECT body FROM iam_groups WHERE account_id = ? AND name_lc = ?').get(accountId, lc(groupName)) as
        | { body: string }
        | undefined;
      return r ? fromJson<GroupRecord>(r.body) : undefined;
    });
  }

  list(accountId: string): Promise<GroupRecord[]> {
    return this.conn.read(() =>
      (this.conn.stmt('SELECT body FROM iam_groups WHERE account_id = ? ORDER BY name_lc').all(accountId) as { body: string }[]).map((r) =>
        fromJson<GroupRecord>(r.body),
      ),
    );
  }

  /** Runs inside the caller's write: the group row and its memberships. */
  deleteSync(accountId: string, groupName: string): void {
    this.conn.stmt('DELETE FROM iam_groups WHERE account_id = ? AND name_lc = ?').run(accountId, lc(groupName));
    this.conn.stmt('DELETE FROM iam_group_members WHERE account_id = ? AND group_lc = ?').run(accountId, lc(groupName));
  }

  addMember(accountId: string, groupName: string, userName: string): Promise<void> {
    return this.conn.write(() => {
      this.conn
        .stmt('INSERT INTO iam_group_members (account_id, group_lc, user_lc) VALUES (?, ?, ?) ON CONFLICT DO NOTHING')
        .run(accountId, lc(groupName), lc(userName));
    });
  }

  removeMember(accountId: string, groupName: string, userName: string): Promise<boolean> {
    return this.conn.write(
      () =>
        this.conn
          .stmt('DELETE FROM iam_group_members WHERE account_id = ? AND group_lc = ? AND user_lc = ?')
          .run(accountId, lc(groupName), lc(userName)).changes === 1,
    );
  }

  groupsOf(accountId: string, userName: string): Promise<GroupRecord[]> {
    return this.conn.read(() =>
      (
        this.conn
          .stmt(`SELECT g.body FROM iam_group_members m JOIN iam_groups g ON g.account_id = m.account_id AND g.name_lc = m.group_lc
                 WHERE m.account_id = ? AND m.user_lc = ? ORDER BY g.name_lc`)
          .all(accountId, lc(userName)) as { body: string }[]
      ).map((r) => fromJson<GroupRecord>(r.body)),
    );
  }

  members(accountId: string, groupName: string): Promise<UserRecord[]> {
    return this.conn.read(() =>
      (
        this.conn
          .stmt(`SELECT u.body FROM iam_group_members m JOIN iam_users u ON u.account_id = m.account_id AND u.name_lc = m.user_lc
                 WHERE m.account_id = ? AND m.group_lc = ? ORDER BY u.name_lc`)
          .all(accountId, lc(groupName)) as { body: string }[]
      ).map((r) => fromJson<UserRecord>(r.body)),
    );
  }

  /** Runs inside the caller's write: a deleted user leaves its groups. */
  removeUserSync(accountId: string, userName: string): void {
    this.conn.stmt('DELETE FROM iam_group_members WHERE account_id = ? AND user_lc = ?').run(accountId, lc(userName));
  }

  /** Runs inside the caller's write: move every row keyed by the user's old name to the new one. */
  renameUserSync(accountId: string, oldName: string, newName: string): void {
    const from = lc(oldName);
    const to = lc(newName);
    const c = this.conn;
    c.stmt('UPDATE iam_group_members SET user_lc = ? WHERE account_id = ? AND user_lc = ?').run(to, accountId, from);
    c.stmt("UPDATE iam_inline_policies SET principal_lc = ? WHERE account_id = ? AND kind = 'user' AND principal_lc = ?").run(to, accountId, from);
    c.stmt("UPDATE iam_attachments SET principal_lc = ? WHERE account_id = ? AND kind = 'user' AND principal_lc = ?").run(to, accountId, from);
    c.stmt(
      `UPDATE iam_access_keys SET principal_lc = ?, owner = json_set(owner, '$.userName', ?)
       WHERE account_id = ? AND owner_type = 'user' AND principal_lc = ?`,
    ).run(to, newName, accountId, from);
  }
}
