/**
 * IAM API operations (awsQuery), keyed by AWS operation name. IAM is global: every region's
 * endpoint serves the same account directory. Each family lives in its own module.
 */
import { GROUP_OPERATIONS } from './groups.js';
import { IAM_XMLNS, type Handler, type IamDeps } from './iam-common.js';
import { inlinePolicyOperations } from './inline-policies.js';
import { MANAGED_POLICY_OPERATIONS } from './managed-policies.js';
import { ROLE_OPERATIONS, roleXml } from './roles.js';
import { USER_OPERATIONS } from './users.js';

export { IAM_XMLNS, roleXml, type IamDeps };

export const IAM_OPERATIONS: Record<string, Handler> = {
  ...inlinePolicyOperations('role'),
  ...inlinePolicyOperations('user'),
  ...inlinePolicyOperations('group'),
  ...ROLE_OPERATIONS,
  ...USER_OPERATIONS,
  ...GROUP_OPERATIONS,
  ...MANAGED_POLICY_OPERATIONS,
};
