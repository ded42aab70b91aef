/**
 * STS: AssumeRole for users and roles (API) and for AWS service principals (S3 replication),
 * GetCallerIdentity. The role's trust policy is its resource policy, evaluated by policy/.
 */
import { randomBytes } from 'node:crypto';
import { ServiceError } from '../../common/errors.js';
import type { Clock } from '../../common/clock.js';
import { newIamId, newSecretAccessKey } from '../../common/ids.js';
import type { ConditionValue } from '../../policy/types.js';
import type { AccessKeyRecord, IamStore, RoleRecord } from '../../storage/types.js';
import type { Caller } from '../caller.js';
import type { Authorizer } from '../iam/authorizer.js';
import { assumedRoleArn, parseRoleArn } from '../iam/arns.js';

export interface AssumeRoleRequest {
  roleArn: string;
  roleSessionName: string;
  durationSeconds?: number;
  policy?: string;
  externalId?: string;
  /** For service principals acting for a resource owner (confused-deputy keys). */
  sourceAccount?: string;
  sourceArn?: string;
}

export interface AssumedRole {
  role: RoleRecord;
  credentials: AccessKeyRecord;
  assumedRoleArn: string;
  assumedRoleId: string;
}

const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

export class StsService {
  constructor(
    private readonly store: IamStore,
    private readonly authorizer: Authorizer,
    private readonly clock: Clock,
  ) {}

  async assumeRole(caller: Caller, req: AssumeRoleRequest): Promise<AssumedRole> {
    if (!SESSION_NAME.test(req.roleSessionName)) {
      throw new ServiceError(
        'ValidationError',
        400,
        `1 validation error detected: Value '${req.roleSessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
      );
    }
    const denied = () =>
      new ServiceError('AccessDenied', 403, `User: ${callerName(caller)} is not authorized to perform: sts:AssumeRole on resource: ${req.roleArn}`);
    // AWS refuses role assumption with the account's root credentials, whatever the trust policy says.
    if (caller.principal.type === 'Account') throw new ServiceError('AccessDenied', 403, 'Roles may not be assumed by root accounts.');
    const parsed = parseRoleArn(req.roleArn);
    // AWS does not reveal whether a role exists: a missing role is the same AccessDenied.
    if (!parsed) throw denied();
    const role = await this.store.getRole(parsed.accountId, parsed.roleName);
    if (!role || role.arn !== req.roleArn) throw denied();

    const duration = req.durationSeconds ?? 3600;
    if (!Number.isInteger(duration) || duration < 900 || duration > 43200) {
      throw new ServiceError('ValidationError', 400, `1 validation error detected: Value '${duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200`);
    }
    if (duration > role.maxSessionDuration) {
      throw new ServiceError('ValidationError', 400, 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
    }
    // Role chaining (a role session assuming a role) is limited to one hour (reference §4.1).
    if (caller.principal.type === 'AssumedRole' && duration > 3600) {
      throw new ServiceError('ValidationError', 400, 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
    }
    if (req.policy !== undefined) this.authorizer.parse(req.policy, 'session');

    const context: Record<string, ConditionValue | undefined> = {};
    if (req.externalId !== undefined) context['sts:externalid'] = req.externalId;
    if (req.sourceAccount !== undefined) context['aws:sourceaccount'] = req.sourceAccount;
    if (req.sourceArn !== undefined) context['aws:sourcearn'] = req.sourceArn;
    const { decision } = await this.authorizer.decide(caller, {
      action: 'sts:AssumeRole',
      resource: role.arn,
      resourceAccount: role.accountId,
      context,
      resourcePolicy: { name: `trust policy of ${role.arn}`, policy: this.authorizer.parse(role.assumeRolePolicyDocument, 'trust') },
      resourcePolicyRequired: true,
    });
    if (decision.outcome !== 'Allow') throw denied();

    const now = this.clock.now();
    const credentials: AccessKeyRecord = {
      accessKeyId: newIamId('ASIA', 20),
      secretAccessKey: newSecretAccessKey(),
      owner: {
        type: 'session',
        accountId: role.accountId,
        roleName: role.roleName,
        sessionName: req.roleSessionName,
        sourceIdentity: caller.principal.arn ?? caller.principal.service ?? 'anonymous',
      },
      status: 'Active',
      createdAt: now,
      sessionToken: randomBytes(96).toString('base64'),
      expiresAt: now + duration * 1000,
    };
    if (req.policy !== undefined && credentials.owner.type === 'session') credentials.owner.sessionPolicy = req.policy;
    await this.store.putAccessKey(credentials);
    return {
      role,
      credentials,
      assumedRoleArn: assumedRoleArn(role.accountId, role.roleName, req.roleSessionName),
      assumedRoleId: `${role.roleId}:${req.roleSessionName}`,
    };
  }

  /** The caller for an AWS service principal (e.g. s3.amazonaws.com assuming a replication role). */
  static servicePrincipal(service: string): Caller {
    return { principal: { type: 'Service', service, arn: service }, secureTransport: true, loopback: true };
  }
}

function callerName(caller: Caller): string {
  return caller.principal.arn ?? caller.principal.service ?? 'anonymous';
}
