/** Key policies (Get/Put/ListKeyPolicies) and tags (Tag/Untag/ListResourceTags). */
import type { KmsKeyRecord } from '../../../storage/types.js';
import { checkKeyPolicy } from '../key-policy.js';
import { kmsError, pendingDeletion } from '../kms-errors.js';
import { bool, keyFor, listOutput, paginate, str, stringList, tags, type Handler } from './input.js';

function policyName(input: Record<string, unknown>): void {
  const name = str(input, 'PolicyName') ?? 'default';
  if (name !== 'default') throw kmsError('NotFoundException', `No such policy exists: ${name}. The only key policy name is "default".`);
}

function customerManaged(key: KmsKeyRecord, what: string): void {
  if (key.keyManager === 'AWS') throw kmsError('UnsupportedOperationException', `${key.arn} is an AWS managed key; ${what} cannot be changed.`);
  if (key.keyState === 'PendingDeletion' || key.keyState === 'PendingReplicaDeletion') throw pendingDeletion(key.arn);
}

export const POLICY_HANDLERS: Record<string, Handler> = {
  async GetKeyPolicy(svc, caller, input) {
    policyName(input);
    const key = await keyFor(svc, caller, input, 'GetKeyPolicy', { aliases: false, crossAccount: false });
    return { Policy: key.policy, PolicyName: 'default' };
  },

  async PutKeyPolicy(svc, caller, input, authorizer) {
    policyName(input);
    const key = await keyFor(svc, caller, input, 'PutKeyPolicy', { aliases: false, crossAccount: false });
    if (key.keyManager === 'AWS') throw kmsError('UnsupportedOperationException', `${key.arn} is an AWS managed key; its policy cannot be changed.`);
    const policy = str(input, 'Policy', true)!;
    await checkKeyPolicy(authorizer, caller, policy, key, bool(input, 'BypassPolicyLockoutSafetyCheck'), svc.deps.iam);
    await svc.store.updateKey(key.accountId, key.keyId, { policy });
    return {};
  },

  async ListKeyPolicies(svc, caller, input) {
    await keyFor(svc, caller, input, 'ListKeyPolicies', { aliases: false, crossAccount: false });
    return listOutput('PolicyNames', paginate(['default'], input, 1000, 100));
  },

  async TagResource(svc, caller, input) {
    const key = await keyFor(svc, caller, input, 'TagResource', { aliases: false, crossAccount: false });
    customerManaged(key, 'its tags');
    const add = tags(input) ?? [];
    const merged = new Map(key.tags.map((t) => [t.TagKey, t.TagValue]));
    for (const t of add) merged.set(t.TagKey, t.TagValue);
    if (merged.size > 50) throw kmsError('LimitExceededException', 'A KMS key can have at most 50 tags.');
    await svc.store.updateKey(key.accountId, key.keyId, { tags: [...merged].map(([TagKey, TagValue]) => ({ TagKey, TagValue })) });
    return {};
  },

  async UntagResource(svc, caller, input) {
    const key = await keyFor(svc, caller, input, 'UntagResource', { aliases: false, crossAccount: false });
    customerManaged(key, 'its tags');
    const remove = new Set(stringList(input, 'TagKeys') ?? []);
    await svc.store.updateKey(key.accountId, key.keyId, { tags: key.tags.filter((t) => !remove.has(t.TagKey)) });
    return {};
  },

  async ListResourceTags(svc, caller, input) {
    const key = await keyFor(svc, caller, input, 'ListResourceTags', { aliases: false, crossAccount: false });
    return listOutput('Tags', paginate(key.tags, input, 50, 50));
  },
};
