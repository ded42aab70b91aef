/**
 * IAM policy tables in PostgreSQL: inline policies of users, roles and groups, managed policies,
 * attachments. PgIamStore extends this with accounts, keys and principals. Every write runs in a
 * transaction that also bumps iam_generation (see changeToken).
 */
import type { ManagedPolicyRecord, PrincipalKind } from '../types.js';
import { fromJson, toJson } from '../sqlite/codec.js';
import type { PgDatabase, Tx } from './database.js';

export const lc = (name: string): string => name.toLowerCase();

/** Merge a patch into a record; optional fields the patch sets to undefined are removed. */
export function merge<T extends object>(cur: T, patch: Partial<T>): T {
  const next = { ...cur, ...patch };
  for (const k of Object.keys(next) as (keyof T)[]) if (next[k] === undefined) delete next[k];
  return next;
}

export abstract class PgIamPolicies {
  constructor(protected readonly db: PgDatabase) {}

  /** An IAM write: `fn` in a transaction that, when it changed anything, bumps the generation at the end. */
  protected write<T>(fn: (tx: Tx) => Promise<T>, changed: (result: T) => boolean = () => true): Promise<T> {
    return this.db.transaction(async (tx) => {
      const result = await fn(tx);
      if (changed(result)) await tx.query('UPDATE iam_generation SET generation = generation + 1');
      return result;
    });
  }

  // inline policies ----------------------------------------------------------------------------

  /** Insert or replace; policy names compare case-insensitively and the latest spelling is kept. */
  putInlinePolicy(accountId: string, kind: PrincipalKind, principalName: string, policyName: string, document: string): Promise<void> {
    return this.write(async (tx) => {
      await tx.query(
        `INSERT INTO iam_inline_policies (account_id, kind, principal_lc, policy_name_lc, policy_name, document)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_id, kind, principal_lc, policy_name_lc)
         DO UPDATE SET policy_name = excluded.policy_name, document = excluded.document`,
        [accountId, kind, lc(principalName), lc(policyName), policyName, document],
      );
    });
  }

  async getInlinePolicy(accountId: string, kind: PrincipalKind, principalName: string, policyName: string): Promise<string | undefined> {
    const [r] = await this.db.query<{ document: string }>(
      'SELECT document FROM iam_inline_policies WHERE account_id = $1 AND kind = $2 AND principal_lc = $3 AND policy_name_lc = $4',
      [accountId, kind, lc(principalName), lc(policyName)],
    );
    return r?.document;
  }

  /** Policy names ascending (case-insensitively). */
  async listInlinePolicies(accountId: string, kind: PrincipalKind, principalName: string): Promise<{ policyName: string; document: string }[]> {
    const rows = await this.db.query<{ policy_name: string; document: string }>(
      'SELECT policy_name, document FROM iam_inline_policies WHERE account_id = $1 AND kind = $2 AND principal_lc = $3 ORDER BY policy_name_lc',
      [accountId, kind, lc(principalName)],
    );
    return rows.map((r) => ({ policyName: r.policy_name, document: r.document }));
  }

  deleteInlinePolicy(accountId: string, kind: PrincipalKind, principalName: string, policyName: string): Promise<boolean> {
    return this.write(
      async (tx) =>
        ((
          await tx.query('DELETE FROM iam_inline_policies WHERE account_id = $1 AND kind = $2 AND principal_lc = $3 AND policy_name_lc = $4', [
            accountId,
            kind,
            lc(principalName),
            lc(policyName),
          ])
        ).rowCount ?? 0) === 1,
      (deleted) => deleted,
    );
  }

  // managed policies and attachments -----------------------------------------------------------

  /** False if the ARN exists or the account already has a policy of that name (case-insensitively). */
  createManagedPolicy(p: ManagedPolicyRecord): Promise<boolean> {
    return this.write(
      async (tx) =>
        ((
          await tx.query('INSERT INTO iam_managed_policies (arn, account_id, name_lc, created_at, body) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [
            p.arn,
            p.accountId,
            lc(p.policyName),
            p.createdAt,
            toJson(p),
          ])
        ).rowCount ?? 0) === 1,
      (created) => created,
    );
  }

  async getManagedPolicy(arn: string): Promise<ManagedPolicyRecord | undefined> {
    const [r] = await this.db.query<{ body: string }>('SELECT body FROM iam_managed_policies WHERE arn = $1', [arn]);
    return r ? fromJson<ManagedPolicyRecord>(r.body) : undefined;
  }

  async listManagedPolicies(accountId: string): Promise<ManagedPolicyRecord[]> {
    const rows = await this.db.query<{ body: string }>('SELECT body FROM iam_managed_policies WHERE account_id = $1 ORDER BY name_lc', [accountId]);
    return rows.map((r) => fromJson<ManagedPolicyRecord>(r.body));
  }

  /** Read-modify-write under the row lock: concurrent version changes from two gateways both land. */
  updateManagedPolicy(arn: string, patch: Partial<Pick<ManagedPolicyRecord, 'defaultVersionId' | 'versions' | 'updatedAt' | 'description'>>): Promise<void> {
    return this.write(async (tx) => {
      const { rows } = await tx.query<{ body: string }>('SELECT body FROM iam_managed_policies WHERE arn = $1 FOR UPDATE', [arn]);
      if (!rows[0]) return;
      await tx.query('UPDATE iam_managed_policies SET body = $2 WHERE arn = $1', [arn, toJson(merge(fromJson<ManagedPolicyRecord>(rows[0].body), patch))]);
    });
  }

  /** Also detaches it from every principal. */
  deleteManagedPolicy(arn: string): Promise<void> {
    return this.write(async (tx) => {
      await tx.query('DELETE FROM iam_managed_policies WHERE arn = $1', [arn]);
      await tx.query('DELETE FROM iam_attachments WHERE policy_arn = $1', [arn]);
    });
  }

  /** Idempotent. */
  attachPolicy(accountId: string, kind: PrincipalKind, principalName: string, policyArn: string): Promise<void> {
    return this.write(async (tx) => {
      await tx.query('INSERT INTO iam_attachments (account_id, kind, principal_lc, policy_arn) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [
        accountId,
        kind,
        lc(principalName),
        policyArn,
      ]);
    });
  }

  detachPolicy(accountId: string, kind: PrincipalKind, principalName: string, policyArn: string): Promise<boolean> {
    return this.write(
      async (tx) =>
        ((
          await tx.query('DELETE FROM iam_attachments WHERE account_id = $1 AND kind = $2 AND principal_lc = $3 AND policy_arn = $4', [
            accountId,
            kind,
            lc(principalName),
            policyArn,
          ])
        ).rowCount ?? 0) === 1,
      (detached) => detached,
    );
  }

  /** In attachment order. */
  async listAttachedPolicies(accountId: string, kind: PrincipalKind, principalName: string): Promise<string[]> {
    const rows = await this.db.query<{ policy_arn: string }>(
      'SELECT policy_arn FROM iam_attachments WHERE account_id = $1 AND kind = $2 AND principal_lc = $3 ORDER BY id',
      [accountId, kind, lc(principalName)],
    );
    return rows.map((r) => r.policy_arn);
  }

  async listPolicyAttachments(policyArn: string): Promise<{ accountId: string; kind: PrincipalKind; principalName: string }[]> {
    const rows = await this.db.query<{ account_id: string; kind: PrincipalKind; principal_lc: string }>(
      'SELECT account_id, kind, principal_lc FROM iam_attachments WHERE policy_arn = $1 ORDER BY id',
      [policyArn],
    );
    return rows.map((r) => ({ accountId: r.account_id, kind: r.kind, principalName: r.principal_lc }));
  }
}
