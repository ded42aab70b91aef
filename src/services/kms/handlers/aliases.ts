/** Aliases: Create/Update/Delete/ListAliases (reference §1.3, §1.5). alias/aws/* names belong to AWS managed keys. */
import type { KmsKeyRecord } from '../../../storage/types.js';
import type { Caller } from '../../caller.js';
import type { Authorizer } from '../../iam/authorizer.js';
import { aliasArnOf } from '../key-ids.js';
import { kmsError, pendingDeletion, validationError } from '../kms-errors.js';
import type { KmsService } from '../kms-service.js';
import { listOutput, paginate, requireIam, str, type Handler, type Input } from './input.js';

const MAX_ALIASES_PER_KEY = 50;
/** Predefined AWS aliases listed before first use without a TargetKeyId (only S3's key exists in Meridian). */
const PREDEFINED = ['alias/aws/s3'];

function aliasName(input: Input): string {
  const name = str(input, 'AliasName', true)!;
  if (!name.startsWith('alias/')) {
    throw kmsError('ValidationException', 'Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html');
  }
  if (!/^alias\/[a-zA-Z0-9:/_-]{1,250}$/.test(name)) throw validationError('AliasName', 'Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$', name);
  return name;
}

function reserved(name: string): void {
  if (name.startsWith('alias/aws/')) throw kmsError('NotAuthorizedException', 'The alias prefix alias/aws/ is reserved for AWS managed keys.');
}

/** A customer managed key an alias may point at. */
async function targetKey(svc: KmsService, caller: Caller, input: Input, operation: string): Promise<KmsKeyRecord> {
  const key = await svc.resolveKey(caller, str(input, 'TargetKeyId', true)!, { aliases: false, crossAccount: false, operation });
  if (key.keyManager === 'AWS') throw kmsError('NotAuthorizedException', `${key.arn} is an AWS managed key; aliases cannot point at it.`);
  if (key.keyState === 'PendingDeletion' || key.keyState === 'PendingReplicaDeletion') throw pendingDeletion(key.arn);
  await svc.authorizeKey(caller, key, operation);
  return key;
}

/** Alias operations also need IAM permission on the alias ARN (reference §1.8). */
async function requireAliasIam(authorizer: Authorizer, svc: KmsService, caller: Caller, operation: string, name: string): Promise<void> {
  const account = caller.principal.accountId!;
  await authorizer.require(caller, { action: `kms:${operation}`, resource: aliasArnOf(svc.region, account, name), resourceAccount: account }, 'AccessDeniedException');
}

async function checkAliasLimit(svc: KmsService, key: KmsKeyRecord): Promise<void> {
  const count = (await svc.store.listAliases(key.accountId)).filter((a) => a.targetKeyId === key.keyId).length;
  if (count >= MAX_ALIASES_PER_KEY) throw kmsError('LimitExceededException', `${key.arn} already has ${MAX_ALIASES_PER_KEY} aliases.`);
}

export const ALIAS_HANDLERS: Record<string, Handler> = {
  async CreateAlias(svc, caller, input, authorizer) {
    const name = aliasName(input);
    reserved(name);
    const key = await targetKey(svc, caller, input, 'CreateAlias');
    await requireAliasIam(authorizer, svc, caller, 'CreateAlias', name);
    await checkAliasLimit(svc, key);
    const now = svc.now();
    const created = await svc.store.createAlias({ aliasName: name, accountId: key.accountId, targetKeyId: key.keyId, createdAt: now, updatedAt: now });
    if (!created) throw kmsError('AlreadyExistsException', `An alias with the name ${aliasArnOf(svc.region, key.accountId, name)} already exists`);
    return {};
  },

  async UpdateAlias(svc, caller, input, authorizer) {
    const name = aliasName(input);
    reserved(name);
    const account = caller.principal.accountId!;
    const alias = await svc.store.getAlias(account, name);
    if (!alias) throw kmsError('NotFoundException', `Alias ${aliasArnOf(svc.region, account, name)} is not found.`);
    const next = await targetKey(svc, caller, input, 'UpdateAlias');
    // The current target may be pending deletion (reference §1.4), but must still authorize the change.
    const current = await svc.loadKey(account, alias.targetKeyId);
    if (current) await svc.authorizeKey(caller, current, 'UpdateAlias');
    await requireAliasIam(authorizer, svc, caller, 'UpdateAlias', name);
    if (next.keyId !== alias.targetKeyId) await checkAliasLimit(svc, next);
    await svc.store.updateAlias(account, name, next.keyId, svc.now());
    return {};
  },

  async DeleteAlias(svc, caller, input, authorizer) {
    const name = aliasName(input);
    reserved(name);
    const account = caller.principal.accountId!;
    const alias = await svc.store.getAlias(account, name);
    if (!alias) throw kmsError('NotFoundException', `Alias ${aliasArnOf(svc.region, account, name)} is not found.`);
    const key = await svc.loadKey(account, alias.targetKeyId);
    if (key) await svc.authorizeKey(caller, key, 'DeleteAlias');
    await requireAliasIam(authorizer, svc, caller, 'DeleteAlias', name);
    await svc.store.deleteAlias(account, name);
    return {};
  },

  async ListAliases(svc, caller, input, authorizer) {
    await requireIam(authorizer, caller, 'ListAliases', svc.region);
    const account = caller.principal.accountId!;
    const stored = await svc.store.listAliases(account);
    const keyId = str(input, 'KeyId');
    let rows: Record<string, unknown>[];
    const row = (a: (typeof stored)[number]) => ({
      AliasName: a.aliasName,
      AliasArn: aliasArnOf(svc.region, account, a.aliasName),
      TargetKeyId: a.targetKeyId,
      CreationDate: a.createdAt / 1000,
      LastUpdatedDate: a.updatedAt / 1000,
    });
    if (keyId !== undefined) {
      const key = await svc.resolveKey(caller, keyId, { aliases: false, crossAccount: false, operation: 'ListAliases' });
      rows = stored.filter((a) => a.targetKeyId === key.keyId).map(row);
    } else {
      rows = stored.map(row);
      for (const name of PREDEFINED) {
        if (!stored.some((a) => a.aliasName === name)) rows.push({ AliasName: name, AliasArn: aliasArnOf(svc.region, account, name) });
      }
      rows.sort((a, b) => ((a.AliasName as string) < (b.AliasName as string) ? -1 : 1));
    }
    return listOutput('Aliases', paginate(rows, input, 100, 50));
  },
};
