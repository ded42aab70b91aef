/** Key policy documents: validation, the 32 KB limit, and the lockout safety check (reference §1.5). */
import { parsePolicy, PolicyValidationError } from '../../policy/index.js';
import type { IamStore } from '../../storage/types.js';
import type { Authorizer } from '../iam/authorizer.js';
import { invalidPrincipal } from '../iam/principal-check.js';
import type { Caller } from '../caller.js';
import { kmsError } from './kms-errors.js';

const MAX_POLICY_BYTES = 32_768;

/**
 * A policy KMS accepts: well-formed, within the size limit, and (unless bypassed) one that still lets
 * the caller change the key policy later, so a key cannot be locked out by mistake.
 */
export async function checkKeyPolicy(
  authorizer: Authorizer,
  caller: Caller,
  policy: string,
  key: { arn: string; accountId: string },
  bypassLockoutCheck: boolean,
  iam?: IamStore,
): Promise<void> {
  if (Buffer.byteLength(policy) > MAX_POLICY_BYTES) throw kmsError('LimitExceededException', `The key policy is larger than ${MAX_POLICY_BYTES} bytes.`);
  let parsed;
  try {
    parsed = parsePolicy(policy, 'key');
  } catch (e) {
    if (e instanceof PolicyValidationError) throw kmsError('MalformedPolicyDocumentException', e.message);
    throw e;
  }
  // Principals must exist, as for every resource policy (services/iam/principal-check.ts).
  const bad = iam ? await invalidPrincipal(parsed, iam) : undefined;
  if (bad) throw kmsError('MalformedPolicyDocumentException', `Policy contains a statement with one or more invalid principals. (${bad})`);
  if (bypassLockoutCheck) return;
  const { decision } = await authorizer.decide(caller, {
    action: 'kms:PutKeyPolicy',
    resource: key.arn,
    resourceAccount: key.accountId,
    context: { 'kms:calleraccount': caller.principal.accountId },
    resourcePolicy: { name: 'the new key policy', policy: parsed },
    resourcePolicyRequired: true,
  });
  if (decision.outcome !== 'Allow') {
    throw kmsError('MalformedPolicyDocumentException', 'The new key policy will not allow you to update the key policy in the future.');
  }
}
