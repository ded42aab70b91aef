/**
 * KMS keys and aliases of one region, in the region's database (sharing its group commit).
 * A key is one JSON document (key material stays wrapped; Buffers as base64).
 */
import type { KeyMaterial, KmsAliasRecord, KmsGrantRecord, KmsKeyRecord, KmsKeyStore } from '../types.js';
import type { SqliteConnection } from './connection.js';
import { fromJson, toJson } from './codec.js';

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

function toAlias(r: AliasRow): KmsAliasRecord {
  return {
    aliasName: r.alias_name,
    accountId: r.account_id,
    targetKeyId: r.target_key_id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export class SqliteKmsKeyStore implements KmsKeyStore {
  /** The counter as last read, and what could have moved it since: another connection's commit, a write here. */
  private token: { value: string; dataVersion: unknown; localChanges: number } | undefined;

  constructor(private readonly conn: SqliteConnection) {}

  /**
   * The region's KMS change counter (bumped by triggers on keys and aliases, whoever writes). Asked
   * for on every SSE-KMS request (CachedKmsKeyStore), so it is read again only when it may have
   * moved: this connection wrote KMS rows, or another connection committed (data_version, checked
   * once per request).
   */
  changeToken(): Promise<string> {
    return this.conn.read(() => {
      const dataVersion = this.conn.dataVersion();
      const localChanges = this.conn.changesTo('kms');
      const t = this.token;
      if (t && t.dataVersion === dataVersion && t.localChanges === localChanges) return t.value;
      const value = String(this.conn.stmt('SELECT n FROM kms_changes WHERE id = 0').pluck().get());
      this.token = { value, dataVersion, localChanges };
      return value;
    });
  }

  /** Every write here: KMS rows may change, so the change token is read again. */
  private change<T>(fn: () => T): Promise<T> {
    return this.conn.write(() => {
      this.conn.noteChange('kms');
      return fn();
    });
  }

  createKey(key: KmsKeyRecord): Promise<void> {
    return this.change(() => {
      this.conn
        .stmt('INSERT INTO kms_keys (account_id, key_id, created_at, body) VALUES (?, ?, ?, ?)')
        .run(key.accountId, key.keyId, key.createdAt, encodeKey(key));
    });
  }

  private getSync(accountId: string, keyId: string): KmsKeyRecord | undefined {
    const row = this.conn.stmt('SELECT body FROM kms_keys WHERE account_id = ? AND key_id = ?').get(accountId, keyId) as
      | { body: string }
      | undefined;
    return row ? decodeKey(row.body) : undefined;
  }

  getKey(accountId: string, keyId: string): Promise<KmsKeyRecord | undefined> {
    return this.conn.read(() => this.getSync(accountId, keyId));
  }

  /** Oldest first. */
  listKeys(accountId: string): Promise<KmsKeyRecord[]> {
    return this.conn.read(() =>
      (
        this.conn.stmt('SELECT body FROM kms_keys WHERE account_id = ? ORDER BY created_at, key_id').all(accountId) as {
          body: string;
        }[]
      ).map((r) => decodeKey(r.body)),
    );
  }

  listAllKeys(): Promise<KmsKeyRecord[]> {
    return this.conn.read(() =>
      (this.conn.stmt('SELECT body FROM kms_keys ORDER BY account_id, created_at, key_id').all() as { body: string }[]).map((r) => decodeKey(r.body)),
    );
  }

  /** A missing key is ignored (false). Optional fields set to undefined in the patch are removed. */
  updateKey(
    accountId: string,
    keyId: string,
    patch: Partial<Omit<KmsKeyRecord, 'keyId' | 'arn' | 'accountId' | 'region'>>,
    onlyIf?: (current: KmsKeyRecord) => boolean,
  ): Promise<boolean> {
    return this.change(() => {
      const cur = this.getSync(accountId, keyId);
      if (!cur || (onlyIf && !onlyIf(cur))) return false;
      const next: KmsKeyRecord = { ...cur, ...patch, keyId: cur.keyId, arn: cur.arn, accountId: cur.accountId, region: cur.region };
      for (const k of Object.keys(next) as (keyof KmsKeyRecord)[]) if (next[k] === undefined) delete next[k];
      this.conn
        .stmt('UPDATE kms_keys SET created_at = ?, body = ? WHERE account_id = ? AND key_id = ?')
        .run(next.createdAt, encodeKey(next), accountId, keyId);
      return true;
    });
  }

  /** Removes the key and the aliases that point at it (KMS deletes a key's aliases with it). */
  deleteKey(accountId: string, keyId: string): Promise<void> {
    return this.change(() => {
      this.conn.stmt('DELETE FROM kms_keys WHERE account_id = ? AND key_id = ?').run(accountId, keyId);
      this.conn.stmt('DELETE FROM kms_aliases WHERE account_id = ? AND target_key_id = ?').run(accountId, keyId);
      this.conn.stmt('DELETE FROM kms_grants WHERE account_id = ? AND key_id = ?').run(accountId, keyId);
    });
  }

  createAlias(alias: KmsAliasRecord): Promise<boolean> {
    return this.change(() => {
      const info = this.conn
        .stmt(`INSERT INTO kms_aliases (account_id, alias_name, target_key_id, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`)
        .run(alias.accountId, alias.aliasName, alias.targetKeyId, alias.createdAt, alias.updatedAt);
      return info.changes === 1;
    });
  }

  getAlias(accountId: string, aliasName: string): Promise<KmsAliasRecord | undefined> {
    return this.conn.read(() => {
      const row = this.conn
        .stmt('SELECT * FROM kms_aliases WHERE account_id = ? AND alias_name = ?')
        .get(accountId, aliasName) as AliasRow | undefined;
      return row ? toAlias(row) : undefined;
    });
  }

  /** Alias names ascending. */
  listAliases(accountId: string): Promise<KmsAliasRecord[]> {
    return this.conn.read(() =>
      (this.conn.stmt('SELECT * FROM kms_aliases WHERE account_id = ? ORDER BY alias_name').all(accountId) as AliasRow[]).map(
        toAlias,
      ),
    );
  }

  updateAlias(accountId: string, aliasName: string, targetKeyId: string, updatedAt: number): Promise<void> {
    return this.change(() => {
      this.conn
        .stmt('UPDATE kms_aliases SET target_key_id = ?, updated_at = ? WHERE account_id = ? AND alias_name = ?')
        .run(targetKeyId, updatedAt, accountId, aliasName);
    });
  }

  deleteAlias(accountId: string, aliasName: string): Promise<void> {
    return this.change(() => {
      this.conn.stmt('DELETE FROM kms_aliases WHERE account_id = ? AND alias_name = ?').run(accountId, aliasName);
    });
  }

  createGrant(grant: KmsGrantRecord): Promise<void> {
    return this.change(() => {
      this.conn
        .stmt('INSERT INTO kms_grants (account_id, key_id, grant_id, grant_token, retiring_principal, created_at, body) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(grant.accountId, grant.keyId, grant.grantId, grant.grantToken, grant.retiringPrincipal ?? null, grant.createdAt, toJson(grant));
    });
  }

  listGrants(accountId: string, keyId: string): Promise<KmsGrantRecord[]> {
    return this.conn.read(() =>
      (this.conn.stmt('SELECT body FROM kms_grants WHERE account_id = ? AND key_id = ? ORDER BY created_at, grant_id').all(accountId, keyId) as { body: string }[]).map(
        (r) => fromJson<KmsGrantRecord>(r.body),
      ),
    );
  }

  getGrantByToken(grantToken: string): Promise<KmsGrantRecord | undefined> {
    return this.conn.read(() => {
      const row = this.conn.stmt('SELECT body FROM kms_grants WHERE grant_token = ?').get(grantToken) as { body: string } | undefined;
      return row ? fromJson<KmsGrantRecord>(row.body) : undefined;
    });
  }

  listRetirableGrants(retiringPrincipal: string): Promise<KmsGrantRecord[]> {
    return this.conn.read(() =>
      (this.conn.stmt('SELECT body FROM kms_grants WHERE retiring_principal = ? ORDER BY created_at, grant_id').all(retiringPrincipal) as { body: string }[]).map(
        (r) => fromJson<KmsGrantRecord>(r.body),
      ),
    );
  }

  deleteGrant(accountId: string, keyId: string, grantId: string): Promise<boolean> {
    return this.change(
      () => this.conn.stmt('DELETE FROM kms_grants WHERE account_id = ? AND key_id = ? AND grant_id = ?').run(accountId, keyId, grantId).changes === 1,
    );
  }
}
