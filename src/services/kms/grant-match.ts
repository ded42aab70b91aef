/**
 * When a grant lets a caller use a key (reference §1.8 rule 3c): the grantee is the caller (a role
 * grantee covers its sessions), the grant lists the operation, and its encryption-context constraint
 * holds for the request. Explicit denies in policies still win; KmsService checks them first.
 */
import { randomBytes } from 'node:crypto';
import type { KmsGrantRecord } from '../../storage/types.js';
import type { Caller } from '../caller.js';

/** Operations a grant can allow (CreateGrant's Operations enum). */
export const GRANT_OPERATIONS = new Set([
  'Decrypt',
  'Encrypt',
  'GenerateDataKey',
  'GenerateDataKeyWithoutPlaintext',
  'ReEncryptFrom',
  'ReEncryptTo',
  'Sign',
  'Verify',
  'GetPublicKey',
  'CreateGrant',
  'RetireGrant',
  'DescribeKey',
  'GenerateDataKeyPair',
  'GenerateDataKeyPairWithoutPlaintext',
  'GenerateMac',
  'VerifyMac',
  'DeriveSharedSecret',
]);

/** Operations that take an encryption context: constraints apply to these only. */
const CONTEXT_OPERATIONS = new Set(['Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'ReEncryptFrom', 'ReEncryptTo']);

export function granteeMatches(grantee: string, caller: Caller): boolean {
  const p = caller.principal;
  return grantee === p.arn || (p.roleArn !== undefined && grantee === p.roleArn);
}

function contextSatisfies(grant: KmsGrantRecord, context: Record<string, string> | undefined): boolean {
  const c = grant.constraints;
  if (!c) return true;
  const ctx = context ?? {};
  if (c.EncryptionContextEquals) {
    const want = c.EncryptionContextEquals;
    const keys = Object.keys(want);
    if (keys.length !== Object.keys(ctx).length || keys.some((k) => ctx[k] !== want[k])) return false;
  }
  if (c.EncryptionContextSubset) {
    for (const [k, v] of Object.entries(c.EncryptionContextSubset)) if (ctx[k] !== v) return false;
  }
  return true;
}

export function grantAllows(grant: KmsGrantRecord, caller: Caller, operation: string, context: Record<string, string> | undefined): boolean {
  if (!granteeMatches(grant.granteePrincipal, caller)) return false;
  if (!grant.operations.includes(operation)) return false;
  return !CONTEXT_OPERATIONS.has(operation) || contextSatisfies(grant, context);
}

export function newGrantId(): string {
  return randomBytes(32).toString('hex');
}

/** Opaque and unguessable, like AWS's (which are long base64 strings). */
export function newGrantToken(): string {
  return randomBytes(96).toString('base64url');
}
