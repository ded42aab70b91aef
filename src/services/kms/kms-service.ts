/**
 * A region's KMS: keys, their wrapped material, key-policy authorization and the cryptographic
 * operations. The API handlers (handlers.ts) and S3 (for SSE-KMS, calling with viaService set)
 * both go through here, so every use of a key is authorized the same way.
 */
import { randomBytes } from 'node:crypto';
import { ServiceError } from '../../common/errors.js';
import type { Clock } from '../../common/clock.js';
import { newUuid } from '../../common/ids.js';
import {
  InvalidCiphertextError,
  newKeyMaterial,
  openKmsCiphertext,
  parseKmsCiphertext,
  sealKmsCiphertext,
  unwrapKey,
  wrapKey,
} from '../../crypto/index.js';
import type { ConditionValue } from '../../policy/types.js';
import type { KmsKeyRecord, KmsKeyStore } from '../../storage/types.js';
import type { Authorizer } from '../iam/authorizer.js';
import type { Caller } from '../caller.js';
import { awsManagedS3KeyPolicy, defaultKeyPolicy } from './default-policies.js';

const KEY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$|^mrk-[0-9a-f]{32}$/;
const KEY_ARN = /^arn:aws:kms:([a-z0-9-]+):(\d{12}):key\/(.+)$/;
const ALIAS_ARN = /^arn:aws:kms:([a-z0-9-]+):(\d{12}):(alias\/.+)$/;
const AWS_S3_ALIAS = 'alias/aws/s3';

export interface KmsServiceDeps {
  region: string;
  keys: KmsKeyStore;
  rootKey: Buffer;
  authorizer: Authorizer;
  clock: Clock;
}

export function kmsError(code: string, message: string): ServiceError {
  return new ServiceError(code, 400, message);
}

export function keyArnOf(region: string, accountId: string, keyId: string): string {
  return `arn:aws:kms:${region}:${accountId}:key/${keyId}`;
}

export class KmsService {
  readonly region: string;
  private readonly materialCache = new Map<string, Buffer>();

  constructor(private readonly deps: KmsServiceDeps) {
    this.region = deps.region;
  }

  // ----------------------------------------------------------------------------------- keys

  async createKey(
    accountId: string,
    opts: { description?: string; policy?: string; keyManager?: 'CUSTOMER' | 'AWS'; tags?: { TagKey: string; TagValue: string }[] } = {},
  ): Promise<KmsKeyRecord> {
    const keyId = newUuid();
    const arn = keyArnOf(this.region, accountId, keyId);
    const now = this.deps.clock.now();
    const material = newKeyMaterial();
    const key: KmsKeyRecord = {
      keyId,
      arn,
      accountId,
      region: this.region,
      createdAt: now,
      description: opts.description ?? '',
      keyState: 'Enabled',
      keyUsage: 'ENCRYPT_DECRYPT',
      keySpec: 'SYMMETRIC_DEFAULT',
      origin: 'AWS_KMS',
      keyManager: opts.keyManager ?? 'CUSTOMER',
      multiRegion: false,
      policy: opts.policy ?? defaultKeyPolicy(accountId),
      tags: opts.tags ?? [],
      rotationEnabled: opts.keyManager === 'AWS',
      materials: [{ id: material.id, wrapped: wrapKey(this.deps.rootKey, material.key, materialLabel(arn, material.id)), createdAt: now }],
    };
    material.key.fill(0);
    await this.deps.keys.createKey(key);
    return key;
  }

  /**
   * Resolve a key identifier in any form the operation accepts (key id, key ARN, alias name, alias
   * ARN) to the key record, in this region. `aliases: false` for operations taking only id/ARN.
   */
  async resolveKey(caller: Caller, keyId: string, opts: { aliases?: boolean } = {}): Promise<KmsKeyRecord> {
    const accountId = caller.principal.accountId;
    if (!keyId) throw kmsError('ValidationException', "1 validation error detected: Value at 'keyId' failed to satisfy constraint: Member must have length greater than or equal to 1");
    let account = accountId;
    let id: string | undefined;
    let alias: string | undefined;
    let m: RegExpExecArray | null;
    if ((m = KEY_ARN.exec(keyId))) {
      if (m[1] !== this.region) throw kmsError('NotFoundException', `Invalid arn ${m[1]}`);
      account = m[2];
      id = m[3];
    } else if ((m = ALIAS_ARN.exec(keyId))) {
      if (opts.aliases === false) throw kmsError('NotFoundException', `Invalid keyId ${keyId}`);
      if (m[1] !== this.region) throw kmsError('NotFoundException', `Invalid arn ${m[1]}`);
      account = m[2];
      alias = m[3];
    } else if (keyId.startsWith('alias/')) {
      if (opts.aliases === false) throw kmsError('NotFoundException', `Invalid keyId ${keyId}`);
      alias = keyId;
    } else {
      id = keyId;
    }
    if (!account) throw kmsError('NotFoundException', `Invalid keyId ${keyId}`);
    if (alias !== undefined) {
      const a = await this.deps.keys.getAlias(account, alias);
      if (!a) {
        if (alias === AWS_S3_ALIAS && account === accountId) return this.awsManagedS3Key(account);
        throw kmsError('NotFoundException', `Alias arn:aws:kms:${this.region}:${account}:${alias} is not found.`);
      }
      id = a.targetKeyId;
    }
    if (!id || !KEY_ID.test(id)) throw kmsError('NotFoundException', `Invalid keyId ${keyId}`);
    const key = await this.deps.keys.getKey(account, id);
    if (!key) throw kmsError('NotFoundException', `Key '${keyArnOf(this.region, account, id)}' does not exist`);
    return key;
  }

  /** alias/aws/s3: the AWS managed key, created on first use (reference §1.10). */
  async awsManagedS3Key(accountId: string): Promise<KmsKeyRecord> {
    const existing = await this.deps.keys.getAlias(accountId, AWS_S3_ALIAS);
    if (existing) {
      const key = await this.deps.keys.getKey(accountId, existing.targetKeyId);
      if (key) return key;
    }
    const key = await this.createKey(accountId, {
      description: 'Default key that protects my S3 objects when no other key is defined',
      policy: awsManagedS3KeyPolicy(accountId, this.region),
      keyManager: 'AWS',
    });
    const now = this.deps.clock.now();
    const created = await this.deps.keys.createAlias({ aliasName: AWS_S3_ALIAS, accountId, targetKeyId: key.keyId, createdAt: now, updatedAt: now });
    if (!created) {
      // Another request created it first: use theirs.
      const winner = await this.deps.keys.getAlias(accountId, AWS_S3_ALIAS);
      const winnerKey = winner && (await this.deps.keys.getKey(accountId, winner.targetKeyId));
      if (winnerKey) return winnerKey;
    }
    return key;
  }

  /** Authorize `kms:<operation>` on a key: key policy required, IAM policies through delegation. */
  async authorizeKey(
    caller: Caller,
    key: KmsKeyRecord,
    operation: string,
    context?: Record<string, string>,
  ): Promise<void> {
    const ctx: Record<string, ConditionValue | undefined> = {
      'kms:calleraccount': caller.principal.accountId,
    };
    if (caller.viaService) ctx['kms:viaservice'] = caller.viaService;
    if (context) {
      for (const [k, v] of Object.entries(context)) ctx[`kms:encryptioncontext:${k.toLowerCase()}`] = v;
      ctx['kms:encryptioncontextkeys'] = Object.keys(context);
    }
    await this.deps.authorizer.require(
      caller,
      {
        action: `kms:${operation}`,
        resource: key.arn,
        resourceAccount: key.accountId,
        context: ctx,
        resourcePolicy: { name: `key policy of ${key.arn}`, policy: this.deps.authorizer.parse(key.policy, 'key') },
        resourcePolicyRequired: true,
      },
      'AccessDeniedException',
    );
  }

  /** Crypto operations need an Enabled key (reference §1.4). */
  requireUsable(key: KmsKeyRecord): void {
    switch (key.keyState) {
      case 'Enabled':
        return;
      case 'Disabled':
        throw kmsError('DisabledException', `${key.arn} is disabled.`);
      case 'PendingDeletion':
      case 'PendingReplicaDeletion':
        throw kmsError('KMSInvalidStateException', `${key.arn} is pending deletion.`);
      default:
        throw kmsError('KMSInvalidStateException', `${key.arn} is ${key.keyState.toLowerCase()}.`);
    }
  }

  private material(key: KmsKeyRecord, materialId?: string): { id: string; key: Buffer } {
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

  async encrypt(caller: Caller, keyId: string, plaintext: Buffer, context?: Record<string, string>): Promise<{ key: KmsKeyRecord; ciphertext: Buffer }> {
    const key = await this.resolveKey(caller, keyId);
    await this.authorizeKey(caller, key, 'Encrypt', context);
    this.requireUsable(key);
    return { key, ciphertext: this.seal(key, plaintext, context) };
  }

  async generateDataKey(
    caller: Caller,
    keyId: string,
    bytes: number,
    context?: Record<string, string>,
    operation: 'GenerateDataKey' | 'GenerateDataKeyWithoutPlaintext' = 'GenerateDataKey',
  ): Promise<{ key: KmsKeyRecord; plaintext: Buffer; ciphertext: Buffer }> {
    const key = await this.resolveKey(caller, keyId);
    await this.authorizeKey(caller, key, operation, context);
    this.requireUsable(key);
    const plaintext = randomBytes(bytes);
    return { key, plaintext, ciphertext: this.seal(key, plaintext, context) };
  }

  /**
   * Decrypt a ciphertext blob; the blob names its key. A blob of another region or account is
   * AccessDeniedException, as AWS answers (reference §1.5, Decrypt row).
   */
  async decrypt(
    caller: Caller,
    blob: Buffer,
    context?: Record<string, string>,
    expectedKeyId?: string,
  ): Promise<{ key: KmsKeyRecord; plaintext: Buffer }> {
    let header;
    try {
      header = parseKmsCiphertext(blob);
    } catch {
      throw kmsError('InvalidCiphertextException', '');
    }
    const m = KEY_ARN.exec(header.keyArn);
    const foreign = () =>
      new ServiceError(
        'AccessDeniedException',
        400,
        'The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.',
      );
    if (!m || m[1] !== this.region) throw foreign();
    const key = await this.deps.keys.getKey(m[2]!, m[3]!);
    if (!key) throw foreign();
    if (expectedKeyId) {
      const wanted = await this.resolveKey(caller, expectedKeyId);
      if (wanted.arn !== key.arn) throw kmsError('IncorrectKeyException', 'The key ID in the request does not identify a KMS key that can perform this operation.');
    }
    await this.authorizeKey(caller, key, 'Decrypt', context);
    this.requireUsable(key);
    try {
      const material = this.material(key, header.materialId);
      return { key, plaintext: openKmsCiphertext(blob, material.key, context) };
    } catch (e) {
      if (e instanceof InvalidCiphertextError || (e instanceof Error && e.name === 'CryptoIntegrityError')) {
        throw kmsError('InvalidCiphertextException', '');
      }
      throw e;
    }
  }

  private seal(key: KmsKeyRecord, plaintext: Buffer, context?: Record<string, string>): Buffer {
    const material = this.material(key);
    const p: Parameters<typeof sealKmsCiphertext>[0] = { keyArn: key.arn, materialId: material.id, materialKey: material.key, plaintext };
    if (context) p.context = context;
    return sealKmsCiphertext(p);
  }

  // ------------------------------------------------------------------------ key management

  async listKeys(accountId: string): Promise<KmsKeyRecord[]> {
    return this.deps.keys.listKeys(accountId);
  }

  async setEnabled(key: KmsKeyRecord, enabled: boolean): Promise<void> {
    if (key.keyState === 'PendingDeletion') throw kmsError('KMSInvalidStateException', `${key.arn} is pending deletion.`);
    await this.deps.keys.updateKey(key.accountId, key.keyId, { keyState: enabled ? 'Enabled' : 'Disabled' });
  }

  get store(): KmsKeyStore {
    return this.deps.keys;
  }
}

/** Wrapped material is bound to its key and material id, so it cannot be swapped between keys. */
function materialLabel(keyArn: string, materialId: string): string {
  return `kms-material:${keyArn}:${materialId}`;
}
