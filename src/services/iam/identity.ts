/**
 * Credentials → principal. Every signed request's access key is resolved here to the principal the
 * policy engine evaluates (root, IAM user or assumed-role session).
 */
import { ServiceError } from '../../common/errors.js';
import type { Clock } from '../../common/clock.js';
import type { Principal } from '../../policy/types.js';
import type { AccessKeyRecord, IamStore } from '../../storage/types.js';
import { assumedRoleArn, rootArn } from './arns.js';

export interface ResolvedIdentity {
  principal: Principal;
  sessionPolicy?: string;
  sessionPolicyArns?: string[];
  tokenIssueTime?: number;
  credentialSource?: 'AssumeRole' | 'GetSessionToken';
}

export class IdentityResolver {
  constructor(
    private readonly store: IamStore,
    private readonly clock: Clock,
  ) {}

  /** For SigV4: the secret (and session token) of an active key; undefined if unknown or inactive. */
  async secretFor(accessKeyId: string): Promise<{ secretAccessKey: string; sessionToken?: string } | undefined> {
    return secretOf(await this.store.getAccessKey(accessKeyId));
  }

  /** The principal behind a verified access key. Expired session credentials are ExpiredToken. */
  async resolve(accessKeyId: string): Promise<ResolvedIdentity> {
    return this.resolveKey(accessKeyId, await this.store.getAccessKey(accessKeyId));
  }

  /**
   * Both at once from one read of the key, for a request: the lookup SigV4 verification calls, and
   * the principal once the signature has verified (one access-key read per request instead of two).
   */
  forRequest(): { lookup: (accessKeyId: string) => Promise<{ secretAccessKey: string; sessionToken?: string } | undefined>; resolve: (accessKeyId: string) => Promise<ResolvedIdentity> } {
    let read: { id: string; key: AccessKeyRecord | undefined } | undefined;
    const keyOf = async (id: string): Promise<AccessKeyRecord | undefined> => {
      if (read?.id !== id) read = { id, key: await this.store.getAccessKey(id) };
      return read.key;
    };
    return {
      lookup: async (id) => secretOf(await keyOf(id)),
      resolve: async (id) => this.resolveKey(id, await keyOf(id)),
    };
  }

  private async resolveKey(accessKeyId: string, key: AccessKeyRecord | undefined): Promise<ResolvedIdentity> {
    if (!key || key.status !== 'Active') {
      throw new ServiceError('InvalidAccessKeyId', 403, 'The AWS Access Key Id you provided does not exist in our records.', {
        AWSAccessKeyId: accessKeyId,
      });
    }
    if (key.expiresAt !== undefined && key.expiresAt <= this.clock.now()) {
      throw new ServiceError('ExpiredToken', 400, 'The provided token has expired.');
    }
    const resolved = await this.principalOf(key);
    if (key.sessionToken !== undefined && resolved.credentialSource === undefined) {
      // GetSessionToken: the user's (or root's) own permissions, temporary credentials.
      resolved.credentialSource = 'GetSessionToken';
      resolved.tokenIssueTime = key.createdAt;
    }
    return resolved;
  }

  private async principalOf(key: AccessKeyRecord): Promise<ResolvedIdentity> {
    const owner = key.owner;
    switch (owner.type) {
      case 'root':
        return { principal: { type: 'Account', accountId: owner.accountId, arn: rootArn(owner.accountId), userId: owner.accountId } };
      case 'user': {
        const user = await this.store.getUser(owner.accountId, owner.userName);
        if (!user) throw invalidKey(key.accessKeyId);
        const tags = Object.fromEntries(user.tags.map((t) => [t.Key, t.Value]));
        return {
          principal: { type: 'User', accountId: owner.accountId, arn: user.arn, userId: user.userId, username: user.userName, tags },
        };
      }
      case 'session': {
        const role = await this.store.getRole(owner.accountId, owner.roleName);
        // A session outlives nothing: deleting the role invalidates its sessions.
        if (!role) throw invalidKey(key.accessKeyId);
        const tags = Object.fromEntries(role.tags.map((t) => [t.Key, t.Value]));
        const resolved: ResolvedIdentity = {
          principal: {
            type: 'AssumedRole',
            accountId: owner.accountId,
            arn: assumedRoleArn(owner.accountId, role.roleName, owner.sessionName),
            roleArn: role.arn,
            userId: `${role.roleId}:${owner.sessionName}`,
            tags,
          },
          tokenIssueTime: key.createdAt,
          credentialSource: 'AssumeRole',
        };
        if (owner.sessionPolicy) resolved.sessionPolicy = owner.sessionPolicy;
        if (owner.sessionPolicyArns && owner.sessionPolicyArns.length > 0) resolved.sessionPolicyArns = owner.sessionPolicyArns;
        return resolved;
      }
    }
  }
}

function secretOf(key: AccessKeyRecord | undefined): { secretAccessKey: string; sessionToken?: string } | undefined {
  if (!key || key.status !== 'Active') return undefined;
  return key.sessionToken ? { secretAccessKey: key.secretAccessKey, sessionToken: key.sessionToken } : { secretAccessKey: key.secretAccessKey };
}

function invalidKey(accessKeyId: string): ServiceError {
  return new ServiceError('InvalidAccessKeyId', 403, 'The AWS Access Key Id you provided does not exist in our records.', {
    AWSAccessKeyId: accessKeyId,
  });
}
