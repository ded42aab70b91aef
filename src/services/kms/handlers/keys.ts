/** Key lifecycle operations: Create/Describe/List keys, enable/disable, deletion, description, ReplicateKey. */
import { isKnownRegion } from '../../../regions/known-regions.js';
import { checkKeyPolicy } from '../key-policy.js';
import { keyMetadata } from '../key-metadata.js';
import { cancelDeletion, replicateKey, scheduleDeletion, setEnabled } from '../key-lifecycle.js';
import { keyArnOf, kmsError, pendingDeletion, validationError } from '../kms-errors.js';
import type { CreateKeyOptions } from '../kms-service.js';
import { bool, checkGrantTokens, keyFor, listOutput, paginate, requireIam, str, tags, type Handler } from './input.js';

function description(input: Record<string, unknown>, required = false): string | undefined {
  const d = str(input, 'Description', required);
  if (d !== undefined && d.length > 8192) throw validationError('Description', 'Member must have length less than or equal to 8192');
  return d;
}

export const KEY_HANDLERS: Record<string, Handler> = {
  async CreateKey(svc, caller, input, authorizer) {
    await requireIam(authorizer, caller, 'CreateKey', svc.region);
    const keySpec = str(input, 'KeySpec') ?? str(input, 'CustomerMasterKeySpec') ?? 'SYMMETRIC_DEFAULT';
    const keyUsage = str(input, 'KeyUsage') ?? 'ENCRYPT_DECRYPT';
    const origin = str(input, 'Origin') ?? 'AWS_KMS';
    if (keySpec !== 'SYMMETRIC_DEFAULT' || keyUsage !== 'ENCRYPT_DECRYPT') {
      throw kmsError('UnsupportedOperationException', `Meridian supports only SYMMETRIC_DEFAULT ENCRYPT_DECRYPT keys (got ${keySpec} ${keyUsage}).`);
    }
    if (origin !== 'AWS_KMS') throw kmsError('UnsupportedOperationException', `Meridian supports only keys with Origin AWS_KMS (got ${origin}).`);
    if (str(input, 'CustomKeyStoreId') !== undefined) throw kmsError('UnsupportedOperationException', 'Meridian has no custom key stores.');
    const opts: CreateKeyOptions = { multiRegion: bool(input, 'MultiRegion') };
    const desc = description(input);
    if (desc !== undefined) opts.description = desc;
    const t = tags(input);
    if (t) opts.tags = t;
    const policy = str(input, 'Policy');
    if (policy !== undefined) {
      // The lockout check needs the key's ARN; any id in this account and region evaluates the same.
      const probe = { arn: keyArnOf(svc.region, caller.principal.accountId!, '00000000-0000-0000-0000-000000000000'), accountId: caller.principal.accountId! };
      await checkKeyPolicy(authorizer, caller, policy, probe, bool(input, 'BypassPolicyLockoutSafetyCheck'), svc.deps.iam);
      opts.policy = policy;
    }
    const key = await svc.createKey(caller.principal.accountId!, opts);
    return { KeyMetadata: await keyMetadata(svc, key) };
  },

  async DescribeKey(svc, caller, input) {
    await checkGrantTokens(svc, input);
    const key = await keyFor(svc, caller, input, 'DescribeKey');
    return { KeyMetadata: await keyMetadata(svc, key) };
  },

  async ListKeys(svc, caller, input, authorizer) {
    await requireIam(authorizer, caller, 'ListKeys', svc.region);
    const keys = (await svc.store.listKeys(caller.principal.accountId!)).sort((a, b) => (a.keyId < b.keyId ? -1 : 1));
    const p = paginate(keys, input, 1000, 100);
    return listOutput('Keys', { ...p, page: p.page.map((k) => ({ KeyId: k.keyId, KeyArn: k.arn })) });
  },

  async EnableKey(svc, caller, input) {
    await setEnabled(svc, await keyFor(svc, caller, input, 'EnableKey', { aliases: false, crossAccount: false }), true);
    return {};
  },

  async DisableKey(svc, caller, input) {
    await setEnabled(svc, await keyFor(svc, caller, input, 'DisableKey', { aliases: false, crossAccount: false }), false);
    return {};
  },

  async ScheduleKeyDeletion(svc, caller, input) {
    const key = await svc.resolveKey(caller, str(input, 'KeyId', true)!, { aliases: false, crossAccount: false, operation: 'ScheduleKeyDeletion' });
    const days = input.PendingWindowInDays ?? 30;
    if (typeof days !== 'number' || !Number.isInteger(days) || days < 7 || days > 30) {
      throw validationError('PendingWindowInDays', 'Member must have value between 7 and 30', String(days));
    }
    await svc.authorizeKey(caller, key, 'ScheduleKeyDeletion', undefined, { 'kms:schedulekeydeletionpendingwindowindays': String(days) });
    const scheduled = await scheduleDeletion(svc, key, days);
    const out: Record<string, unknown> = { KeyId: key.arn, KeyState: scheduled.keyState, PendingWindowInDays: days };
    if (scheduled.deletionDate !== undefined) out.DeletionDate = scheduled.deletionDate / 1000;
    return out;
  },

  async CancelKeyDeletion(svc, caller, input) {
    const key = await keyFor(svc, caller, input, 'CancelKeyDeletion', { aliases: false, crossAccount: false });
    await cancelDeletion(svc, key);
    return { KeyId: key.arn };
  },

  async UpdateKeyDescription(svc, caller, input) {
    const key = await keyFor(svc, caller, input, 'UpdateKeyDescription', { aliases: false, crossAccount: false });
    const desc = description(input, true)!;
    if (key.keyState === 'PendingDeletion' || key.keyState === 'PendingReplicaDeletion') throw pendingDeletion(key.arn);
    if (key.keyManager === 'AWS') throw kmsError('UnsupportedOperationException', `${key.arn} is an AWS managed key; its description cannot be changed.`);
    await svc.store.updateKey(key.accountId, key.keyId, { description: desc });
    return {};
  },

  async ReplicateKey(svc, caller, input, authorizer) {
    const region = str(input, 'ReplicaRegion', true)!;
    if (!/^([a-z]+-){2,3}\d+$/.test(region)) throw validationError('ReplicaRegion', 'Member must satisfy regular expression pattern: ^([a-z]+-){2,3}\\d+$', region);
    if (!isKnownRegion(region)) throw kmsError('UnsupportedOperationException', `${region} is not a region Meridian knows.`);
    const key = await svc.resolveKey(caller, str(input, 'KeyId', true)!, { aliases: false, crossAccount: false, operation: 'ReplicateKey' });
    await svc.authorizeKey(caller, key, 'ReplicateKey', undefined, { 'kms:replicaregion': region });
    const opts: Parameters<typeof replicateKey>[3] = {};
    const policy = str(input, 'Policy');
    if (policy !== undefined) {
      await checkKeyPolicy(authorizer, caller, policy, { arn: keyArnOf(region, key.accountId, key.keyId), accountId: key.accountId }, bool(input, 'BypassPolicyLockoutSafetyCheck'), svc.deps.iam);
      opts.policy = policy;
    }
    const desc = description(input);
    if (desc !== undefined) opts.description = desc;
    const t = tags(input);
    if (t) opts.tags = t;
    const replica = await replicateKey(svc, key, region, opts);
    const replicaKms = svc.deps.peer!(region)!;
    return { ReplicaKeyMetadata: await keyMetadata(replicaKms, replica), ReplicaPolicy: replica.policy, ReplicaTags: replica.tags };
  },
};

