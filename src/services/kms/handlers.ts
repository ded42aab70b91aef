/**
 * KMS API operations (awsJson1_1, X-Amz-Target: TrentService.<Operation>), keyed by the AWS
 * operation name. Each handler takes the parsed JSON input and returns the output object.
 */
import { ALIAS_HANDLERS } from './handlers/aliases.js';
import { CRYPTO_HANDLERS } from './handlers/crypto.js';
import { GRANT_HANDLERS } from './handlers/grants.js';
import type { Handler } from './handlers/input.js';
import { KEY_HANDLERS } from './handlers/keys.js';
import { POLICY_HANDLERS } from './handlers/policies.js';
import { ROTATION_HANDLERS } from './handlers/rotation.js';

export const KMS_OPERATIONS: Record<string, Handler> = {
  ...KEY_HANDLERS,
  ...CRYPTO_HANDLERS,
  ...ALIAS_HANDLERS,
  ...ROTATION_HANDLERS,
  ...POLICY_HANDLERS,
  ...GRANT_HANDLERS,
};
