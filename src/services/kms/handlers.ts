/**
 * KMS API operations (awsJson1_1, X-Amz-Target: TrentService.<Operation>), keyed by the AWS
 * operation name. Each handler takes the parsed JSON input and returns the output object.
 */
import { ServiceError } from '../../common/errors.js';
import { parsePolicy, PolicyValidationError } from '../../policy/index.js';
import type { KmsKeyRecord } from '../../storage/types.js';
import type { Caller } from '../caller.js';
import type { Authorizer } from '../iam/authorizer.js';
import { keyMetadata } from './key-metadata.js';
import { kmsError, type KmsService } from './kms-service.js';

type Input = Record<string, unknown>;
type Handler = (svc: KmsService, caller: Caller, input: Input, authorizer: Authorizer) => Promise<unknown>;

function str(input: Input, name: string, required = false): string | undefined {
  const v = input[name];
  if (v === undefined || v === null) {
    if (required) throw validation(name, 'Member must not be null');
    return undefined;
  }
  if (typeof v !== 'string') throw kmsError('SerializationException', `Expected a string for ${name}`);
  return v;
}

function validation(member: string, constraint: string, value?: string): ServiceError {
  const name = member.charAt(0).toLowerCase() + member.slice(1);
  return kmsError('ValidationException', `1 validation error detected: Value ${value === undefined ? 'null' : `'${value}'`} at '${name}' failed to satisfy constraint: ${constraint}`);
}

function blob(input: Input, name: string, max: number): Buffer {
  const v = str(input, name, true)!;
  const b = Buffer.from(v, 'base64');
  if (b.length === 0) throw validation(name, 'Member must have length greater than or equal to 1');
  if (b.length > max) throw validation(name, `Member must have length less than or equal to ${max}`);
  return b;
}

function context(input: Input, name = 'EncryptionContext'): Record<string, string> | undefined {
  const v = input[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw kmsError('SerializationException', `Expected a map for ${name}`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (typeof val !== 'string') throw kmsError('SerializationException', `Expected string values in ${name}`);
    out[k] = val;
  }
  return out;
}

function dataKeyBytes(input: Input): number {
  const spec = str(input, 'KeySpec');
  const n = input.NumberOfBytes;
  if ((spec === undefined) === (n === undefined || n === null)) {
    throw kmsError('ValidationException', 'Please specify either number of bytes or key spec.');
  }
  if (spec !== undefined) {
    if (spec === 'AES_256') return 32;
    if (spec === 'AES_128') return 16;
    throw validation('KeySpec', 'Member must satisfy enum value set: [AES_256, AES_128]', spec);
  }
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 1024) {
    throw validation('NumberOfBytes', 'Member must have value between 1 and 1024', String(n));
  }
  return n;
}

/** Operations without a key resource are authorized by IAM alone (the account root is always allowed). */
async function requireIam(authorizer: Authorizer, caller: Caller, operation: string, region: string): Promise<void> {
  await authorizer.require(
    caller,
    { action: `kms:${operation}`, resource: `arn:aws:kms:${region}:${caller.principal.accountId}:*`, resourceAccount: caller.principal.accountId },
    'AccessDeniedException',
  );
}

async function keyFor(svc: KmsService, caller: Caller, input: Input, operation: string, aliases = true): Promise<KmsKeyRecord> {
  const key = await svc.resolveKey(caller, str(input, 'KeyId', true)!, { aliases });
  await svc.authorizeKey(caller, key, operation);
  return key;
}

export const KMS_OPERATIONS: Record<string, Handler> = {
  async CreateKey(svc, caller, input, authorizer) {
    await requireIam(authorizer, caller, 'CreateKey', svc.region);
    const keySpec = str(input, 'KeySpec') ?? str(input, 'CustomerMasterKeySpec') ?? 'SYMMETRIC_DEFAULT';
    const keyUsage = str(input, 'KeyUsage') ?? 'ENCRYPT_DECRYPT';
    if (keySpec !== 'SYMMETRIC_DEFAULT' || keyUsage !== 'ENCRYPT_DECRYPT') {
      throw kmsError('UnsupportedOperationException', `Meridian supports only SYMMETRIC_DEFAULT ENCRYPT_DECRYPT keys (got ${keySpec} ${keyUsage}).`);
    }
    if (input.MultiRegion === true) throw kmsError('UnsupportedOperationException', 'Multi-Region keys are not supported yet.');
    const policy = str(input, 'Policy');
    if (policy !== undefined) {
      try {
        parsePolicy(policy, 'key');
      } catch (e) {
        if (e instanceof PolicyValidationError) throw kmsError('MalformedPolicyDocumentException', e.message);
        throw e;
      }
    }
    const opts: Parameters<KmsService['createKey']>[1] = {};
    const description = str(input, 'Description');
    if (description !== undefined) {
      if (description.length > 8192) throw validation('Description', 'Member must have length less than or equal to 8192');
      opts.description = description;
    }
    if (policy !== undefined) opts.policy = policy;
    if (Array.isArray(input.Tags)) opts.tags = input.Tags as { TagKey: string; TagValue: string }[];
    const key = await svc.createKey(caller.principal.accountId!, opts);
    return { KeyMetadata: keyMetadata(key) };
  },

  async DescribeKey(svc, caller, input) {
    const key = await keyFor(svc, caller, input, 'DescribeKey');
    return { KeyMetadata: keyMetadata(key) };
  },

  async ListKeys(svc, caller, input, authorizer) {
    await requireIam(authorizer, caller, 'ListKeys', svc.region);
    const limit = typeof input.Limit === 'number' ? input.Limit : 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw validation('Limit', 'Member must have value between 1 and 1000', String(limit));
    const keys = (await svc.listKeys(caller.principal.accountId!)).sort((a, b) => a.keyId.localeCompare(b.keyId));
    const marker = str(input, 'Marker');
    let start = 0;
    if (marker !== undefined) {
      start = keys.findIndex((k) => k.keyId > marker);
      if (start < 0) start = keys.length;
    }
    const page = keys.slice(start, start + limit);
    const truncated = start + limit < keys.length;
    const out: Record<string, unknown> = { Keys: page.map((k) => ({ KeyId: k.keyId, KeyArn: k.arn })), Truncated: truncated };
    if (truncated) out.NextMarker = page[page.length - 1]!.keyId;
    return out;
  },

  async EnableKey(svc, caller, input) {
    const key = await keyFor(svc, caller, input, 'EnableKey', false);
    await svc.setEnabled(key, true);
    return {};
  },

  async DisableKey(svc, caller, input) {
    const key = await keyFor(svc, caller, input, 'DisableKey', false);
    await svc.setEnabled(key, false);
    return {};
  },

  async GetKeyPolicy(svc, caller, input) {
    const key = await keyFor(svc, caller, input, 'GetKeyPolicy', false);
    return { Policy: key.policy, PolicyName: 'default' };
  },

  async PutKeyPolicy(svc, caller, input) {
    const key = await keyFor(svc, caller, input, 'PutKeyPolicy', false);
    if (key.keyManager === 'AWS') throw kmsError('UnsupportedOperationException', `${key.arn} is an AWS managed key; its policy cannot be changed.`);
    const policy = str(input, 'Policy', true)!;
    try {
      parsePolicy(policy, 'key');
    } catch (e) {
      if (e instanceof PolicyValidationError) throw kmsError('MalformedPolicyDocumentException', e.message);
      throw e;
    }
    await svc.store.updateKey(key.accountId, key.keyId, { policy });
    return {};
  },

  async Encrypt(svc, caller, input) {
    const plaintext = blob(input, 'Plaintext', 4096);
    const { key, ciphertext } = await svc.encrypt(caller, str(input, 'KeyId', true)!, plaintext, context(input));
    return { CiphertextBlob: ciphertext.toString('base64'), KeyId: key.arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
  },

  async Decrypt(svc, caller, input) {
    const ciphertext = blob(input, 'CiphertextBlob', 6144);
    const { key, plaintext } = await svc.decrypt(caller, ciphertext, context(input), str(input, 'KeyId'));
    return { KeyId: key.arn, Plaintext: plaintext.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
  },

  async GenerateDataKey(svc, caller, input) {
    const bytes = dataKeyBytes(input);
    const { key, plaintext, ciphertext } = await svc.generateDataKey(caller, str(input, 'KeyId', true)!, bytes, context(input));
    return { CiphertextBlob: ciphertext.toString('base64'), Plaintext: plaintext.toString('base64'), KeyId: key.arn };
  },

  async GenerateDataKeyWithoutPlaintext(svc, caller, input) {
    const bytes = dataKeyBytes(input);
    const { key, ciphertext } = await svc.generateDataKey(caller, str(input, 'KeyId', true)!, bytes, context(input), 'GenerateDataKeyWithoutPlaintext');
    return { CiphertextBlob: ciphertext.toString('base64'), KeyId: key.arn };
  },

  async ListAliases(svc, caller, input, authorizer) {
    await requireIam(authorizer, caller, 'ListAliases', svc.region);
    const account = caller.principal.accountId!;
    let aliases = await svc.store.listAliases(account);
    const keyId = str(input, 'KeyId');
    if (keyId !== undefined) {
      const key = await svc.resolveKey(caller, keyId, { aliases: false });
      aliases = aliases.filter((a) => a.targetKeyId === key.keyId);
    }
    return {
      Aliases: aliases.map((a) => ({
        AliasName: a.aliasName,
        AliasArn: `arn:aws:kms:${svc.region}:${account}:${a.aliasName}`,
        TargetKeyId: a.targetKeyId,
        CreationDate: a.createdAt / 1000,
        LastUpdatedDate: a.updatedAt / 1000,
      })),
      Truncated: false,
    };
  },

  async CreateAlias(svc, caller, input) {
    const aliasName = str(input, 'AliasName', true)!;
    if (!aliasName.startsWith('alias/')) {
      throw kmsError('ValidationException', 'Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html');
    }
    if (!/^alias\/[a-zA-Z0-9:/_-]{1,250}$/.test(aliasName)) throw validation('AliasName', 'Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$', aliasName);
    if (aliasName.startsWith('alias/aws/')) throw kmsError('NotAuthorizedException', 'The alias prefix alias/aws/ is reserved for AWS managed keys.');
    const key = await svc.resolveKey(caller, str(input, 'TargetKeyId', true)!, { aliases: false });
    await svc.authorizeKey(caller, key, 'CreateAlias');
    const now = Date.now();
    const created = await svc.store.createAlias({ aliasName, accountId: key.accountId, targetKeyId: key.keyId, createdAt: now, updatedAt: now });
    if (!created) throw kmsError('AlreadyExistsException', `An alias with the name arn:aws:kms:${svc.region}:${key.accountId}:${aliasName} already exists`);
    return {};
  },

  async DeleteAlias(svc, caller, input) {
    const aliasName = str(input, 'AliasName', true)!;
    const account = caller.principal.accountId!;
    const alias = await svc.store.getAlias(account, aliasName);
    if (!alias) throw kmsError('NotFoundException', `Alias arn:aws:kms:${svc.region}:${account}:${aliasName} is not found.`);
    const key = await svc.resolveKey(caller, alias.targetKeyId, { aliases: false });
    await svc.authorizeKey(caller, key, 'DeleteAlias');
    await svc.store.deleteAlias(account, aliasName);
    return {};
  },
};
