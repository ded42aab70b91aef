/**
 * A region's KMS: keys, their wrapped material, authorization (key policy, IAM through delegation,
 * grants) and the cryptographic operations. The API handlers (handlers/) and S3 (for SSE-KMS,
 * calling with viaService set) both go through here, so every use of a key is authorized the same
 * way. Key material exists unwrapped only in memory; on disk it is wrapped by the region's root key.
 */
import { secureRandomBytes as randomBytes } from '../../common/random.js';
import type { Clock } from '../../common/clock.js';
import { InvalidCiphertextError, KeyCache, openKmsCiphertext, ownCopy, parseKmsCiphertext, sealKmsCiphertext, unwrapKey, wrapKey } from '../../crypto/index.js';
import { denialMessage } from '../../policy/index.js';
import type { ConditionValue } from '../../policy/types.js';
import type { IamStore, KmsKeyRecord, KmsKeyStore } from '../../storage/types.js';
import type { Authorizer } from '../iam/authorizer.js';
import type { Caller } from '../caller.js';
import { CachedKmsKeyStore } from './cached-key-store.js';
import { newKeyRecord, type CreateKeyOptions } from './key-record.js';
import { awsManagedS3KeyPolicy } from './default-policies.js';
import { grantAllows } from './grant-match.js';
import { isKeyId, parseKeyArn, parseKeyRef } from './key-ids.js';
import { dryRun, foreignCiphertext, keyArnOf, kmsError, notFound, pendingDeletion } from './kms-errors.js';

export { kmsError, keyArnOf } from './kms-errors.js';
export type { CreateKeyOptions } from './key-record.js';

const AWS_S3_ALIAS = 'alias/aws/s3';
const DAY_MS = 86_400_000;

export interface KmsServiceDeps {
  region: string;
  keys: KmsKeyStore;
  rootKey: Buffer;
  authorizer: Authorizer;
  clock: Clock;
  /** The account directory, to check that principals named in key policies exist. */
  iam?: IamStore;
  /**
   * Another region's KMS when this process serves it: only ReplicateKey (and rotation of a
   * Multi-Region primary) uses it, to share an MRK's material the way AWS does. Nothing else ever
   * hands key material to another region.
   */
  peer?: (region: string) => KmsService | undefined;
  /** Faults (MERIDIAN_FAULTS=on only): why a key is to behave as Disabled now, if it is. */
  disabledByFault?: (keyArn: string) => string | undefined;
}


export interface ResolveOptions {
  /** False for operations that take only a key id or key ARN. */
  aliases?: boolean;
  /** False for operations AWS allows only on keys of the caller's own account. */
  crossAccount?: boolean;
  /** The operation, for messages. */
  operation?: string;
}

export class KmsService {
  readonly region: string;
  /** Every read and write of keys goes through this cache (see cached-key-store.ts). */
  readonly store: KmsKeyStore;
  private readonly materialCache = new Map<string, Buffer>();
  /**
   * Plaintexts of recently opened blobs (S3 data keys read again and again), zeroed when evicted.
   * Found by the blob's authentication tag (random per ciphertext: a short id, where the whole blob
   * and context made a long string to hash on every GET); used only for the very key, material,
   * context and blob bytes that authenticated before.
   */
  readonly #opened = new KeyCache<{ keyArn: string; materialId: string; context: string; blob: Buffer; plaintext: Buffer }>(4096, (e) => e.plaintext.fill(0));

  constructor(readonly deps: KmsServiceDeps) {
    this.region = deps.region;
    this.store = new CachedKmsKeyStore(deps.keys);
  }

  now(): number {
    return this.deps.clock.now();
  }

  // ----------------------------------------------------------------------------------- keys

  async createKey(accountId: string, opts: CreateKeyOptions = {}): Promise<KmsKeyRecord> {
    const key = newKeyRecord(this, accountId, opts);
    await this.store.createKey(key);
    return key;
  }

  /**
   * A key by account and id. A key whose deletion date has passed is deleted here, on first touch,
   * so its deletion never waits for the periodic sweep.
   */
  async loadKey(accountId: string, keyId: string): Promise<KmsKeyRecord | undefined> {
    const key = await this.store.getKey(accountId, keyId);
    if (key && key.keyState === 'PendingDeletion' && key.deletionDate !== undefined && key.deletionDate <= this.now()) {
      await this.purgeKey(key);
      return undefined;
    }
    return key;
  }

  /** Delete a key for good: its material, aliases and grants. A replica leaves its primary's list. */
  async purgeKey(key: KmsKeyRecord): Promise<void> {
    await this.store.deleteKey(key.accountId, key.keyId);
    for (const m of key.materials) this.materialCache.delete(`${key.arn}/${m.id}`);
    if (key.multiRegionKeyType === 'REPLICA' && key.primaryRegion) {
      const primaryKms = this.deps.peer?.(key.primaryRegion);
      const primary = await primaryKms?.store.getKey(key.accountId, key.keyId);
      if (primaryKms && primary) {
        const replicaRegions = (primary.replicaRegions ?? []).filter((r) => r !== this.region);
        const patch: Partial<KmsKeyRecord> = { replicaRegions };
        // A primary waiting for its replicas starts its own window when the last one is gone.
        if (primary.keyState === 'PendingReplicaDeletion' && replicaRegions.length === 0) {
          patch.keyState = 'PendingDeletion';
          patch.deletionDate = this.now() + (primary.pendingWindowInDays ?? 30) * DAY_MS;
        }
        await primaryKms.store.updateKey(key.accountId, key.keyId, patch);
      }
    }
  }

  /**
   * Resolve a key identifier in any form the operation accepts (key id, key ARN, alias name, alias
   * ARN) to the key record, in this region.
   */
  async resolveKey(caller: Caller, keyId: string, opts: ResolveOptions = {}): Promise<KmsKeyRecord> {
    const callerAccount = caller.principal.accountId;
    if (!keyId) throw kmsError('ValidationException', "1 validation error detected: Value at 'keyId' failed to satisfy constraint: Member must have length greater than or equal to 1");
    const ref = parseKeyRef(keyId);
    if (ref.region !== undefined && ref.region !== this.region) throw kmsError('NotFoundException', `Invalid arn ${ref.region}`);
    if (ref.kind === 'alias' && opts.aliases === false) throw kmsError('NotFoundException', `Invalid keyId ${keyId}`);
    const account = ref.accountId ?? callerAccount;
    if (!account) throw kmsError('NotFoundException', `Invalid keyId ${keyId}`);
    if (account !== callerAccount && opts.crossAccount === false) {
      throw kmsError('AccessDeniedException', `${opts.operation ?? 'This operation'} cannot be performed on a KMS key in another AWS account (${keyId}).`);
    }
    let id: string;
    if (ref.kind === 'alias') {
      const a = await this.store.getAlias(account, ref.aliasName);
      if (!a) {
        if (ref.aliasName === AWS_S3_ALIAS && account === callerAccount) return this.awsManagedS3Key(account);
        throw kmsError('NotFoundException', `Alias arn:aws:kms:${this.region}:${account}:${ref.aliasName} is not found.`);
      }
      id = a.targetKeyId;
    } else {
      id = ref.keyId;
    }
    if (!isKeyId(id)) throw kmsError('NotFoundException', `Invalid keyId ${keyId}`);
    const key = await this.loadKey(account, id);
    if (!key) throw notFound(keyArnOf(this.region, account, id));
    return key;
  }

  /** alias/aws/s3: the AWS managed key, created on first use (reference §1.10). */
  async awsManagedS3Key(accountId: string): Promise<KmsKeyRecord> {
    const existing = await this.store.getAlias(accountId, AWS_S3_ALIAS);
    if (existing) {
      const key = await this.loadKey(accountId, existing.targetKeyId);
      if (key) return key;
    }
    const key = await this.createKey(accountId, {
      description: 'Default key that protects my S3 objects when no other key is defined',
      policy: awsManagedS3KeyPolicy(accountId, this.region),
      keyManager: 'AWS',
    });
    const now = this.now();
    const created = await this.store.createAlias({ aliasName: AWS_S3_ALIAS, accountId, targetKeyId: key.keyId, createdAt: now, updatedAt: now });
    if (!created) {
      // Another request created it first: use theirs.
      const winner = await this.store.getAlias(accountId, AWS_S3_ALIAS);
      const winnerKey = winner && (await this.loadKey(accountId, winner.targetKeyId));
      if (winnerKey) {
        await this.store.deleteKey(accountId, key.keyId);
        return winnerKey;
      }
    }
    return key;
  }

  /** Condition keys describing a key (reference §1.9). */
  private keyConditions(key: KmsKeyRecord): Record<string, ConditionValue | undefined> {
    const c: Record<string, ConditionValue | undefined> = {
      'kms:keyspec': key.keySpec,
      'kms:keyusage': key.keyUsage,
      'kms:keyorigin': key.origin,
      'kms:multiregion': String(key.multiRegion),
    };
    if (key.multiRegionKeyType) c['kms:multiregionkeytype'] = key.multiRegionKeyType;
    return c;
  }

  /**
   * Authorize `kms:<operation>` on a key: the key policy is required, IAM policies count through
   * delegation to the account, and a grant allows what no policy explicitly denies.
   */
  async authorizeKey(
    caller: Caller,
    key: KmsKeyRecord,
    operation: string,
    context?: Record<string, string>,
    extra: Record<string, ConditionValue | undefined> = {},
  ): Promise<void> {
    // Built by assignment: spreading into a literal with these keys is several times slower, and
    // this runs for every SSE-KMS object read or written.
    const ctx = this.keyConditions(key);
    ctx['kms:calleraccount'] = caller.principal.accountId;
    ctx['aws:requestedregion'] = this.region;
    ctx['aws:resourceaccount'] = key.accountId;
    for (const k in extra) ctx[k] = extra[k];
    if (caller.viaService) ctx['kms:viaservice'] = caller.viaService;
    if (context) {
      for (const k in context) ctx[`kms:encryptioncontext:${k.toLowerCase()}`] = context[k];
      ctx['kms:encryptioncontextkeys'] = Object.keys(context);
    }
    const { input, decision } = await this.deps.authorizer.decide(caller, {
      action: `kms:${operation}`,
      resource: key.arn,
      resourceAccount: key.accountId,
      context: ctx,
      resourcePolicy: { name: `key policy of ${key.arn}`, policy: this.deps.authorizer.parse(key.policy, 'key') },
      resourcePolicyRequired: true,
    });
    if (decision.outcome === 'Allow') return;
    if (decision.outcome === 'ImplicitDeny') {
      const grants = await this.store.listGrants(key.accountId, key.keyId);
      if (grants.some((g) => grantAllows(g, caller, operation, context))) return;
    }
    throw kmsError('AccessDeniedException', denialMessage(input.request, decision));
  }

  /** Crypto operations need an Enabled key (reference §1.4). */
  requireUsable(key: KmsKeyRecord): void {
    const injected = this.deps.disabledByFault?.(key.arn);
    if (injected !== undefined) throw kmsError('DisabledException', `${key.arn} is disabled. (${injected})`);
    switch (key.keyState) {
      case 'Enabled':
        return;
      case 'Disabled':
        throw kmsError('DisabledException', `${key.arn} is disabled.`);
      case 'PendingDeletion':
      case 'PendingReplicaDeletion':
        throw pendingDeletion(key.arn);
      default:
        throw kmsError('KMSInvalidStateException', `${key.arn} is ${key.keyState.toLowerCase()}.`);
    }
  }

  // -------------------------------------------------------------------------- key material

  /** Wrapped material is bound to its key ARN and material id, so it cannot be swapped between keys. */
  wrapMaterial(keyArn: string, materialId: string, key: Buffer): Buffer {
    return wrapKey(this.deps.rootKey, key, materialLabel(keyArn, materialId));
  }

  /** The unwrapped material (cached in memory only). The current material when no id is given. */
  material(key: KmsKeyRecord, materialId?: string): { id: string; key: Buffer } {
    const m = materialId ? key.materials.find((x) => x.id === materialId) : key.materials[key.materials.length - 1];
    if (!m) throw new InvalidCiphertextError('key material not found');
    const cacheKey = `${key.arn}/${m.id}`;
    let plain = this.materialCache.get(cacheKey);
    if (!plain) {
      plain = unwrapKey(this.deps.rootKey, m.wrapped, materialLabel(key.arn, m.id));
      if (this.materialCache.size > 10_000) this.materialCache.clear();
      this.materialCache.set(cacheKey, plain);
    }
    return { id: m.id, key: plain };
  }

  // ------------------------------------------------------------------------------- crypto

  async encrypt(caller: Caller, keyId: string, plaintext: Buffer, context?: Record<string, string>, opts: { dryRun?: boolean } = {}): Promise<{ key: KmsKeyRecord; ciphertext: Buffer; materialId: string }> {
    const key = await this.resolveKey(caller, keyId);
    await this.authorizeKey(caller, key, 'Encrypt', context);
    this.requireUsable(key);
    if (opts.dryRun) throw dryRun();
    return { key, ...this.seal(key, plaintext, context) };
  }

  async generateDataKey(
    caller: Caller,
    keyId: string,
    bytes: number,
    context?: Record<string, string>,
    operation: 'GenerateDataKey' | 'GenerateDataKeyWithoutPlaintext' = 'GenerateDataKey',
    opts: { dryRun?: boolean } = {},
  ): Promise<{ key: KmsKeyRecord; plaintext: Buffer; ciphertext: Buffer; materialId: string }> {
    const key = await this.resolveKey(caller, keyId);
    await this.authorizeKey(caller, key, operation, context);
    this.requireUsable(key);
    if (opts.dryRun) throw dryRun();
    const plaintext = randomBytes(bytes);
    return { key, plaintext, ...this.seal(key, plaintext, context) };
  }

  /**
   * The key a blob names, in this region. A blob of another region or a key that does not exist is
   * AccessDeniedException, as AWS answers (reference §1.5, Decrypt row). A related Multi-Region key
   * opens its siblings' blobs: the key id, not the region, is what binds them.
   */
  async keyOfBlob(blob: Buffer): Promise<{ key: KmsKeyRecord; materialId: string }> {
    let header;
    try {
      header = parseKmsCiphertext(blob);
    } catch {
      throw kmsError('InvalidCiphertextException', '');
    }
    const ref = parseKeyArn(header.keyArn);
    if (!ref) throw foreignCiphertext();
    if (ref.region !== this.region && !ref.keyId.startsWith('mrk-')) throw foreignCiphertext();
    const key = await this.loadKey(ref.accountId, ref.keyId);
    if (!key) throw foreignCiphertext();
    return { key, materialId: header.materialId };
  }

  /** Open a blob with its key's material; wrong context or damage is InvalidCiphertextException. */
  open(key: KmsKeyRecord, materialId: string, blob: Buffer, context?: Record<string, string>): Buffer {
    try {
      const material = this.material(key, materialId); // first: material deleted since is not found
      // Only data keys (32 bytes) are cached: a blob far larger holds more, is rarely opened twice and
      // would crowd memory.
      if (blob.length > 1024) return openKmsCiphertext(blob, material.key, context);
      // A hit needs the same key, material, context and ciphertext bytes that authenticated before.
      const id = blob.toString('latin1', blob.length - 16);
      const contextJson = JSON.stringify(context ?? null);
      const cached = this.#opened.get(id);
      // The caller gets a copy of its own, which it may zero.
      if (cached && cached.keyArn === key.arn && cached.materialId === material.id && cached.context === contextJson && cached.blob.equals(blob)) {
        return Buffer.from(cached.plaintext);
      }
      const plaintext = openKmsCiphertext(blob, material.key, context);
      if (plaintext.length <= 64) this.#opened.set(id, { keyArn: key.arn, materialId: material.id, context: contextJson, blob: ownCopy(blob), plaintext: ownCopy(plaintext) });
      return plaintext;
    } catch (e) {
      if (e instanceof InvalidCiphertextError || (e instanceof Error && e.name === 'CryptoIntegrityError')) throw kmsError('InvalidCiphertextException', '');
      throw e;
    }
  }

  async decrypt(
    caller: Caller,
    blob: Buffer,
    context?: Record<string, string>,
    expectedKeyId?: string,
    opts: { dryRun?: boolean } = {},
  ): Promise<{ key: KmsKeyRecord; plaintext: Buffer; materialId: string }> {
    const { key, materialId } = await this.keyOfBlob(blob);
    if (expectedKeyId) {
      const wanted = await this.resolveKey(caller, expectedKeyId);
      if (wanted.arn !== key.arn) throw kmsError('IncorrectKeyException', 'The key ID in the request does not identify a KMS key that can perform this operation.');
    }
    await this.authorizeKey(caller, key, 'Decrypt', context);
    this.requireUsable(key);
    const plaintext = this.open(key, materialId, blob, context);
    if (opts.dryRun) {
      plaintext.fill(0);
      throw dryRun();
    }
    return { key, plaintext, materialId };
  }

  /** Decrypt under the source key and encrypt under the destination, never returning the plaintext. */
  async reEncrypt(
    caller: Caller,
    blob: Buffer,
    p: { sourceContext?: Record<string, string>; sourceKeyId?: string; destinationKeyId: string; destinationContext?: Record<string, string>; dryRun?: boolean },
  ): Promise<{ source: KmsKeyRecord; sourceMaterialId: string; destination: KmsKeyRecord; ciphertext: Buffer; materialId: string }> {
    const { key: source, materialId: sourceMaterialId } = await this.keyOfBlob(blob);
    if (p.sourceKeyId) {
      const wanted = await this.resolveKey(caller, p.sourceKeyId);
      if (wanted.arn !== source.arn) throw kmsError('IncorrectKeyException', 'The key ID in the request does not identify a KMS key that can perform this operation.');
    }
    const destination = await this.resolveKey(caller, p.destinationKeyId);
    const sameKey = { 'kms:reencryptonsamekey': String(source.arn === destination.arn) };
    await this.authorizeKey(caller, source, 'ReEncryptFrom', p.sourceContext, sameKey);
    await this.authorizeKey(caller, destination, 'ReEncryptTo', p.destinationContext, sameKey);
    this.requireUsable(source);
    this.requireUsable(destination);
    if (p.dryRun) throw dryRun();
    const plaintext = this.open(source, sourceMaterialId, blob, p.sourceContext);
    try {
      return { source, sourceMaterialId, destination, ...this.seal(destination, plaintext, p.destinationContext) };
    } finally {
      plaintext.fill(0);
    }
  }

  private seal(key: KmsKeyRecord, plaintext: Buffer, context?: Record<string, string>): { ciphertext: Buffer; materialId: string } {
    const material = this.material(key);
    const p: Parameters<typeof sealKmsCiphertext>[0] = { keyArn: key.arn, materialId: material.id, materialKey: material.key, plaintext };
    if (context) p.context = context;
    return { ciphertext: sealKmsCiphertext(p), materialId: material.id };
  }
}

function materialLabel(keyArn: string, materialId: string): string {
  return `kms-material:${keyArn}:${materialId}`;
}
