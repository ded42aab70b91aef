/**
 * A region's key store with its keys and aliases cached in memory: SSE-KMS reads a key record on
 * every object PUT and GET, and decoding it from the database each time was a large share of an
 * SSE-KMS request. Writes through this decorator drop the cache (a generation counter keeps a read
 * that raced a write from caching what it read before the write), and every read first compares the
 * store's change token (ChangeFeed), so a key disabled or re-aliased by another process — another
 * cluster worker — is seen at once, at the cost of one single-row read.
 */
import type { KmsAliasRecord, KmsGrantRecord, KmsKeyRecord, KmsKeyStore } from '../../storage/types.js';

const MAX_ENTRIES = 10_000;

export class CachedKmsKeyStore implements KmsKeyStore {
  private readonly keys = new Map<string, KmsKeyRecord | undefined>();
  private readonly aliases = new Map<string, KmsAliasRecord | undefined>();
  private generation = 0;
  /** The store's change token the cached entries were read under. */
  private seen: string | undefined;

  constructor(private readonly inner: KmsKeyStore) {}

  private invalidate(): void {
    this.generation++;
    this.keys.clear();
    this.aliases.clear();
  }

  changeToken(): Promise<string> {
    return this.inner.changeToken();
  }

  private async cached<T>(map: Map<string, T>, id: string, load: () => Promise<T>): Promise<T> {
    const token = await this.inner.changeToken();
    if (token !== this.seen) {
      // Changed elsewhere (or first use): what is cached may be stale. A load below starts after
      // this token was read, so what it caches is at least as new as the token.
      this.invalidate();
      this.seen = token;
    }
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

  updateKey(accountId: string, keyId: string, patch: Parameters<KmsKeyStore['updateKey']>[2], onlyIf?: Parameters<KmsKeyStore['updateKey']>[3]): Promise<boolean> {
    return this.write(() => this.inner.updateKey(accountId, keyId, patch, onlyIf));
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
