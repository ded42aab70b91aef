/**
 * KMS keys, aliases and grants of one region in the shared PostgreSQL database (rows tagged with
 * the region). A key is one JSON document, as in SQLite (material stays wrapped; Buffers base64).
 * updateKey reads and rewrites the document under a row lock, so two gateways patching one key
 * (say, a state change and a rotation) do not lose either patch.
 */
import type { KeyMaterial, KmsAliasRecord, KmsGrantRecord, KmsKeyRecord, KmsKeyStore } from '../types.js';
import { fromJson, toJson } from '../sqlite/codec.js';
import type { PgDatabase } from './database.js';

type MaterialJson = Omit<KeyMaterial, 'wrapped'> & { wrapped: string };
type KeyJson = Omit<KmsKeyRecord, 'materials'> & { materials: MaterialJson[] };

function encodeKey(k: KmsKeyRecord): string {
  const j: KeyJson = { ...k, materials: k.materials.map((m) => ({ ...m, wrapped: m.wrapped.toString('base64') })) };
  return toJson(j);
}

function decodeKey(text: string): KmsKeyRecord {
  const j = fromJson<KeyJson>(text);
  return { ...j, materials: j.materials.map((m) => ({ ...m, wrapped: Buffer.from(m.wrapped, 'base64') })) };
}

interface AliasRow {
  account_id: string;
  alias_name: string;
  target_key_id: string;
  created_at: number;
  updated_at: number;
}

const toAlias = (r: AliasRow): KmsAliasRecord => ({
  aliasName: r.alias_name,
  accountId: r.account_id,
  targetKeyId: r.target_key_id,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export class PgKmsKeyStore implements KmsKeyStore {
  constructor(
    private readonly db: PgDatabase,
    readonly region: string,
  ) {}

  /** The KMS change counter (bumped by statement triggers on keys and aliases, whichever gateway writes). */
  async changeToken(): Promise<string> {
    const [row] = await this.db.query<{ generation: string }>('SELECT generation FROM kms_generation');
    return String(row!.generation);
  }

  async createKey(key: KmsKeyRecord): Promise<void> {
    await this.db.execute('INSERT INTO kms_keys (region, account_id, key_id, created_at, body) VALUES ($1, $2, $3, $4, $5)', [
      this.region,
      key.accountId,
      key.keyId,
      key.createdAt,
      encodeKey(key),
    ]);
  }

  async getKey(accountId: string, keyId: string): Promise<KmsKeyRecord | undefined> {
    const [row] = await this.db.query<{ body: string }>('SELECT body FROM kms_keys WHERE region = $1 AND account_id = $2 AND key_id = $3', [
      this.region,
      accountId,
      keyId,
    ]);
    return row ? decodeKey(row.body) : undefined;
  }

  /** Oldest first. */
  async listKeys(accountId: string): Promise<KmsKeyRecord[]> {
    const rows = await this.db.query<{ body: string }>('SELECT body FROM kms_keys WHERE region = $1 AND account_id = $2 ORDER BY created_at, key_id', [
      this.region,
      accountId,
    ]);
    return rows.map((r) => decodeKey(r.body));
  }

  async listAllKeys(): Promise<KmsKeyRecord[]> {
    const rows = await this.db.query<{ body: string }>('SELECT body FROM kms_keys WHERE region = $1 ORDER BY account_id, created_at, key_id', [this.region]);
    return rows.map((r) => decodeKey(r.body));
  }

  /** A missing key is ignored (false). Optional fields set to undefined in the patch are removed. */
  async updateKey(
    accountId: string,
    keyId: string,
    patch: Partial<Omit<KmsKeyRecord, 'keyId' | 'arn' | 'accountId' | 'region'>>,
    onlyIf?: (current: KmsKeyRecord) => boolean,
  ): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ body: string }>(
        'SELECT body FROM kms_keys WHERE region = $1 AND account_id = $2 AND key_id = $3 FOR UPDATE',
        [this.region, accountId, keyId],
      );
      if (!rows[0]) return false;
      const cur = decodeKey(rows[0].body);
      if (onlyIf && !onlyIf(cur)) return false;
      const next: KmsKeyRecord = { ...cur, ...patch, keyId: cur.keyId, arn: cur.arn, accountId: cur.accountId, region: cur.region };
      for (const k of Object.keys(next) as (keyof KmsKeyRecord)[]) if (next[k] === undefined) delete next[k];
      await tx.query('UPDATE kms_keys SET created_at = $4, body = $5 WHERE region = $1 AND account_id = $2 AND key_id = $3', [
        this.region,
        accountId,
        keyId,
        next.createdAt,
        encodeKey(next),
      ]);
      return true;
    });
  }

  /** Removes the key, its aliases and its grants. */
  async deleteKey(accountId: string, keyId: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const p = [this.region, accountId, keyId];
      await tx.query('DELETE FROM kms_keys WHERE region = $1 AND account_id = $2 AND key_id = $3', p);
      await tx.query('DELETE FROM kms_aliases WHERE region = $1 AND account_id = $2 AND target_key_id = $3', p);
      await tx.query('DELETE FROM kms_grants WHERE region = $1 AND account_id = $2 AND key_id = $3', p);
    });
  }

  async createAlias(alias: KmsAliasRecord): Promise<boolean> {
    const n = await this.db.execute(
      `INSERT INTO kms_aliases (region, account_id, alias_name, target_key_id, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
      [this.region, alias.accountId, alias.aliasName, alias.targetKeyId, alias.createdAt, alias.updatedAt],
    );
    return n === 1;
  }

  async getAlias(accountId: string, aliasName: string): Promise<KmsAliasRecord | undefined> {
    const [row] = await this.db.query<AliasRow>(
      'SELECT account_id, alias_name, target_key_id, created_at, updated_at FROM kms_aliases WHERE region = $1 AND account_id = $2 AND alias_name = $3',
      [this.region, accountId, aliasName],
    );
    return row ? toAlias(row) : undefined;
  }

  /** Alias names ascending. */
  async listAliases(accountId: string): Promise<KmsAliasRecord[]> {
    const rows = await this.db.query<AliasRow>(
      'SELECT account_id, alias_name, target_key_id, created_at, updated_at FROM kms_aliases WHERE region = $1 AND account_id = $2 ORDER BY alias_name',
      [this.region, accountId],
    );
    return rows.map(toAlias);
  }

  async updateAlias(accountId: string, aliasName: string, targetKeyId: string, updatedAt: number): Promise<void> {
    await this.db.execute('UPDATE kms_aliases SET target_key_id = $4, updated_at = $5 WHERE region = $1 AND account_id = $2 AND alias_name = $3', [
      this.region,
      accountId,
      aliasName,
      targetKeyId,
      updatedAt,
    ]);
  }

  async deleteAlias(accountId: string, aliasName: string): Promise<void> {
    await this.db.execute('DELETE FROM kms_aliases WHERE region = $1 AND account_id = $2 AND alias_name = $3', [this.region, accountId, aliasName]);
  }

  async createGrant(grant: KmsGrantRecord): Promise<void> {
    await this.db.execute(
      `INSERT INTO kms_grants (region, account_id, key_id, grant_id, grant_token, retiring_principal, created_at, body)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [this.region, grant.accountId, grant.keyId, grant.grantId, grant.grantToken, grant.retiringPrincipal ?? null, grant.createdAt, toJson(grant)],
    );
  }

  async listGrants(accountId: string, keyId: string): Promise<KmsGrantRecord[]> {
    const rows = await this.db.query<{ body: string }>(
      'SELECT body FROM kms_grants WHERE region = $1 AND account_id = $2 AND key_id = $3 ORDER BY created_at, grant_id',
      [this.region, accountId, keyId],
    );
    return rows.map((r) => fromJson<KmsGrantRecord>(r.body));
  }

  async getGrantByToken(grantToken: string): Promise<KmsGrantRecord | undefined> {
    const [row] = await this.db.query<{ body: string }>('SELECT body FROM kms_grants WHERE region = $1 AND grant_token = $2', [this.region, grantToken]);
    return row ? fromJson<KmsGrantRecord>(row.body) : undefined;
  }

  async listRetirableGrants(retiringPrincipal: string): Promise<KmsGrantRecord[]> {
    const rows = await this.db.query<{ body: string }>(
      'SELECT body FROM kms_grants WHERE region = $1 AND retiring_principal = $2 ORDER BY created_at, grant_id',
      [this.region, retiringPrincipal],
    );
    return rows.map((r) => fromJson<KmsGrantRecord>(r.body));
  }

  async deleteGrant(accountId: string, keyId: string, grantId: string): Promise<boolean> {
    const n = await this.db.execute('DELETE FROM kms_grants WHERE region = $1 AND account_id = $2 AND key_id = $3 AND grant_id = $4', [
      this.region,
      accountId,
      keyId,
      grantId,
    ]);
    return n === 1;
  }
}
