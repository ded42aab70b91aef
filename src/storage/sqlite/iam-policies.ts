/**
 * IAM policy tables of the global database: inline policies of users, roles and groups, managed
 * policies with their versions, and attachments. SqliteIamStore extends this with principals and keys.
 */
import type { ManagedPolicyRecord, PrincipalKind } from '../types.js';
import { fromJson, toJson } from './codec.js';
import type { SqliteConnection } from './connection.js';

const lc = (name: string): string => name.toLowerCase();

export /** Merge a patch into a record; optional fields the patch sets to undefined are removed. */
function merge<T extends object>(cur: T, patch: Partial<T>): T {
  const next = { ...cur, ...patch };
  for (const k of Object.keys(next) as (keyof T)[]) if (next[k] === undefined) delete next[k];
  return next;
}

export abstract class SqliteIamPolicies {
  constructor(protected readonly conn: SqliteConnection) {}

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

  listPolicyAttachments(policyArn: string): Promise<{ accountId: string; kind: PrincipalKind; principalName: string }[]> {
    return this.conn.read(() =>
      (
        this.conn.stmt('SELECT account_id, kind, principal_lc FROM iam_attachments WHERE policy_arn = ? ORDER BY id').all(policyArn) as {
          account_id: string;
          kind: PrincipalKind;
          principal_lc: string;
        }[]
      ).map((r) => ({ accountId: r.account_id, kind: r.kind, principalName: r.principal_lc })),
    );
  }
}
