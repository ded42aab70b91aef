/** STS API operations (awsQuery), keyed by AWS operation name. */
import { ServiceError } from '../../common/errors.js';
import { memberStructs, required, type QueryParams } from '../protocol/aws-query.js';
import type { XmlObject } from '../protocol/xml.js';
import type { Caller } from '../caller.js';
import type { AssumeRoleRequest, StsService } from './sts-service.js';

export const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';

type Handler = (sts: StsService, caller: Caller, params: QueryParams) => Promise<XmlObject | undefined>;

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export const STS_OPERATIONS: Record<string, Handler> = {
  async AssumeRole(sts, caller, params) {
    const req: AssumeRoleRequest = { roleArn: required(params, 'RoleArn'), roleSessionName: required(params, 'RoleSessionName') };
    const duration = params.get('DurationSeconds');
    if (duration !== undefined) req.durationSeconds = Number(duration);
    const policy = params.get('Policy');
    if (policy !== undefined) req.policy = policy;
    const externalId = params.get('ExternalId');
    if (externalId !== undefined) req.externalId = externalId;
    const policyArns = memberStructs(params, 'PolicyArns', ['arn']).map((p) => p.arn ?? '');
    if (policyArns.length > 0) req.policyArns = policyArns;
    const assumed = await sts.assumeRole(caller, req);
    const c = assumed.credentials;
    const result: XmlObject = {
      Credentials: {
        AccessKeyId: c.accessKeyId,
        SecretAccessKey: c.secretAccessKey,
        SessionToken: c.sessionToken,
        Expiration: iso(c.expiresAt!),
      },
      AssumedRoleUser: { AssumedRoleId: assumed.assumedRoleId, Arn: assumed.assumedRoleArn },
    };
    if (policy !== undefined || policyArns.length > 0) {
      const size = (policy?.replace(/\s/g, '').length ?? 0) + policyArns.reduce((n, a) => n + a.length, 0);
      result.PackedPolicySize = Math.min(100, Math.ceil((size / 2048) * 100));
    }
    return result;
  },

  async GetSessionToken(sts, caller, params) {
    const duration = params.get('DurationSeconds');
    const c = await sts.getSessionToken(caller, duration === undefined ? {} : { durationSeconds: Number(duration) });
    return {
      Credentials: { AccessKeyId: c.accessKeyId, SecretAccessKey: c.secretAccessKey, SessionToken: c.sessionToken, Expiration: iso(c.expiresAt!) },
    };
  },

  async GetCallerIdentity(_sts, caller) {
    // Needs no permission: even an explicit Deny does not block it (reference §4.2).
    const p = caller.principal;
    if (!p.accountId || !p.arn || !p.userId) throw new ServiceError('MissingAuthenticationToken', 403, 'Request is missing Authentication Token');
    return { UserId: p.userId, Account: p.accountId, Arn: p.arn };
  },
};
