/**
 * A region's key store with its keys and aliases cached in memory: SSE-KMS reads a key record on
 * every object PUT and GET, and decoding it from the database each time was a large share of an
 * SSE-KMS request. One process owns a region's store (embedded mode), and every write in it goes
 * through this decorator, which drops the entries it touches; a generation counter keeps a read that
 * raced a write from caching what it read before the write.
 */
import type { KmsAliasRecord, KmsGrantRecord, KmsKeyRecord, KmsKeyStore } from '../../storage/types.js';

const MAX_ENTRIES = 10_000;

export class CachedKmsKeyStore implements KmsKeyStore {
  private readonly keys = new Map<string, KmsKeyRecord | undefined>();
  private readonly aliases = new Map<string, KmsAliasRecord | undefined>();
  private generation = 0;

  constructor(private readonly inner: KmsKeyStore) {}

  private invalidate(): void {
    this.generation++;
    this.keys.clear();
    this.aliases.clear();
  }

  private async cached<T>(map: Map<string, T>, id: string, load: () => Promise<T>): Promise<T> {
    if (map.has(id)) return map.get(id)!;
    const generation = this.generation;
    const value = await load();
    if (generation === this.generation) {
      if (map.size >= MAX_ENTRIES) map.clear();
      map.set(id, value);
    }
    return value;
  }

  getKey(accountId: string, keyId: string): Promise<KmsKeyRecord | undefined> {
    return this.cached(this.keys, `${accountId}/${keyId}`, () => this.inner.getKey(accountId, keyId));
  }

  getAlias(accountId: string, aliasName: string): Promise<KmsAliasRecord | undefined> {
    return this.cached(this.aliases, `${accountId}/${aliasName}`, () => this.inner.getAlias(accountId, aliasName));
  }

  listKeys(accountId: string): Promise<KmsKeyRecord[]> {
    return this.inner.listKeys(accountId);
  }

  listAllKeys(): Promise<KmsKeyRecord[]> {
    return this.inner.listAllKeys();
  }

  listAliases(accountId: string): Promise<KmsAliasRecord[]> {
    return this.inner.listAliases(accountId);
  }

  listGrants(accountId: string, keyId: string): Promise<KmsGrantRecord[]> {
    return this.inner.listGrants(accountId, keyId);
  }

  getGrantByToken(grantToken: string): Promise<KmsGrantRecord | undefined> {
    return this.inner.getGrantByToken(grantToken);
  }

  listRetirableGrants(retiringPrincipal: string): Promise<KmsGrantRecord[]> {
    return this.inner.listRetirableGrants(retiringPrincipal);
  }

  // Writes: invalidate before and after, so no read in between can cache the old state.

  private async write<T>(fn: () => Promise<T>): Promise<T> {
    this.invalidate();
    try {
      return await fn();
    } finally {
      this.invalidate();
    }
  }

  createKey(key: KmsKeyRecord): Promise<void> {
    return this.write(() => this.inner.createKey(key));
  }

  updateKey(accountId: string, keyId: string, patch: Parameters<KmsKeyStore['updateKey']>[2]): Promise<void> {
    return this.write(() => this.inner.updateKey(accountId, keyId, patch));
  }

  deleteKey(accountId: string, keyId: string): Promise<void> {
    return this.write(() => this.inner.deleteKey(accountId, keyId));
  }

  createAlias(alias: KmsAliasRecord): Promise<boolean> {
    return this.write(() => this.inner.createAlias(alias));
  }

  updateAlias(accountId: string, aliasName: string, targetKeyId: string, updatedAt: number): Promise<void> {
    return this.write(() => this.inner.updateAlias(accountId, aliasName, targetKeyId, updatedAt));
  }

  deleteAlias(accountId: string, aliasName: string): Promise<void> {
    return this.write(() => this.inner.deleteAlias(accountId, aliasName));
  }

  createGrant(grant: KmsGrantRecord): Promise<void> {
    return this.inner.createGrant(grant);
  }

  deleteGrant(accountId: string, keyId: string, grantId: string): Promise<boolean> {
    return this.inner.deleteGrant(accountId, keyId, grantId);
  }
}
