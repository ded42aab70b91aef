/**
 * STS: AssumeRole for users and roles (API) and for AWS service principals (S3 replication),
 * GetCallerIdentity. The role's trust policy is its resource policy, evaluated by policy/.
 */
import { randomBytes } from 'node:crypto';
import { ServiceError } from '../../common/errors.js';
import type { Clock } from '../../common/clock.js';
import { newIamId, newSecretAccessKey } from '../../common/ids.js';
import { parsePolicy, PolicyValidationError } from '../../policy/index.js';
import type { ConditionValue } from '../../policy/types.js';
import type { AccessKeyRecord, IamStore, RoleRecord } from '../../storage/types.js';
import type { Caller } from '../caller.js';
import type { Authorizer } from '../iam/authorizer.js';
import { assumedRoleArn, parseRoleArn } from '../iam/arns.js';
import { findManagedPolicy } from '../iam/aws-managed-policies.js';

export interface AssumeRoleRequest {
  roleArn: string;
  roleSessionName: string;
  durationSeconds?: number;
  policy?: string;
  /** Managed session policies (at most 10). */
  policyArns?: string[];
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
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
/** Plaintext of inline + managed session policies (reference §4.1). */
const SESSION_POLICY_CHARS = 2048;

function validation(member: string, value: string, constraint: string): ServiceError {
  return new ServiceError('ValidationError', 400, `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: ${constraint}`);
}

/** GetSessionToken: DurationSeconds 900–129600 for users (default 12 h), at most 3600 for the root. */
export interface SessionTokenRequest {
  durationSeconds?: number;
}

export class StsService {
  constructor(
    private readonly store: IamStore,
    private readonly authorizer: Authorizer,
    private readonly clock: Clock,
  ) {}

  async assumeRole(caller: Caller, req: AssumeRoleRequest): Promise<AssumedRole> {
    if (!SESSION_NAME.test(req.roleSessionName)) {
      const constraint =
        req.roleSessionName.length < 2 || req.roleSessionName.length > 64
          ? 'Member must have length between 2 and 64'
          : 'Member must satisfy regular expression pattern: [\\w+=,.@-]*';
      throw validation('roleSessionName', req.roleSessionName, constraint);
    }
    if (req.externalId !== undefined && !EXTERNAL_ID.test(req.externalId)) {
      throw validation('externalId', req.externalId, 'Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]* and have length between 2 and 1224');
    }
    if (req.policyArns && req.policyArns.length > 10) {
      throw validation('policyArns', `[${req.policyArns.join(', ')}]`, 'Member must have length less than or equal to 10');
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
    await this.validateSessionPolicies(req);

    const context: Record<string, ConditionValue | undefined> = {};
    if (req.externalId !== undefined) context['sts:externalid'] = req.externalId;
    context['sts:rolesessionname'] = req.roleSessionName;
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
    if (req.policyArns && req.policyArns.length > 0 && credentials.owner.type === 'session') credentials.owner.sessionPolicyArns = req.policyArns;
    await this.store.putAccessKey(credentials);
    return {
      role,
      credentials,
      assumedRoleArn: assumedRoleArn(role.accountId, role.roleName, req.roleSessionName),
      assumedRoleId: `${role.roleId}:${req.roleSessionName}`,
    };
  }

  /** Session policies are checked like IAM checks policies, and must exist (managed ones). */
  private async validateSessionPolicies(req: AssumeRoleRequest): Promise<void> {
    let size = 0;
    if (req.policy !== undefined) {
      try {
        parsePolicy(req.policy, 'session');
      } catch (e) {
        if (e instanceof PolicyValidationError) throw new ServiceError('MalformedPolicyDocument', 400, e.message);
        throw e;
      }
      size += req.policy.replace(/\s/g, '').length;
    }
    for (const arn of req.policyArns ?? []) {
      if (!(await findManagedPolicy(this.store, arn))) throw new ServiceError('InvalidParameterValue', 400, `The policy ${arn} does not exist or is not attachable.`);
      size += arn.length;
    }
    if (size > SESSION_POLICY_CHARS) {
      throw new ServiceError('PackedPolicyTooLarge', 400, 'Packed policy consumes more than 100% of the allotted space. Reduce the size of the session policies.');
    }
  }

  /**
   * GetSessionToken: temporary credentials for a user (or the root) with the caller's own
   * permissions. Callers that already hold temporary credentials cannot call it.
   */
  async getSessionToken(caller: Caller, req: SessionTokenRequest): Promise<AccessKeyRecord> {
    const p = caller.principal;
    if (caller.credentialSource !== undefined || (p.type !== 'User' && p.type !== 'Account')) {
      throw new ServiceError('AccessDenied', 403, 'Cannot call GetSessionToken with session credentials');
    }
    const isRoot = p.type === 'Account';
    const duration = req.durationSeconds ?? (isRoot ? 3600 : 43200);
    const max = isRoot ? 3600 : 129600;
    if (!Number.isInteger(duration) || duration < 900 || duration > max) {
      throw validation('durationSeconds', String(req.durationSeconds), `Member must have value between 900 and ${max}`);
    }
    const now = this.clock.now();
    const owner: AccessKeyRecord['owner'] = isRoot ? { type: 'root', accountId: p.accountId! } : { type: 'user', accountId: p.accountId!, userName: p.username! };
    const credentials: AccessKeyRecord = {
      accessKeyId: newIamId('ASIA', 20),
      secretAccessKey: newSecretAccessKey(),
      owner,
      status: 'Active',
      createdAt: now,
      sessionToken: randomBytes(96).toString('base64'),
      expiresAt: now + duration * 1000,
    };
    await this.store.putAccessKey(credentials);
    return credentials;
  }

  /** The caller for an AWS service principal (e.g. s3.amazonaws.com assuming a replication role). */
  static servicePrincipal(service: string): Caller {
    return { principal: { type: 'Service', service, arn: service }, secureTransport: true, loopback: true };
  }
}

function callerName(caller: Caller): string {
  return caller.principal.arn ?? caller.principal.service ?? 'anonymous';
}
