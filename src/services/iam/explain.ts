/**
 * `meridian explain`: evaluate a hypothetical request (principal, action, resource, context) against
 * the policies stored in a data directory, exactly as the server would, and explain the decision.
 * The resource decides which resource policy applies: a bucket's policy, a KMS key's policy, or a
 * role's trust policy for sts:AssumeRole.
 */
import type { Clock } from '../../common/clock.js';
import type { ConditionValue, Decision, EvaluationInput, Principal } from '../../policy/types.js';
import type { BucketDirectory, IamStore, KmsKeyStore, RegionMetadataStore } from '../../storage/types.js';
import type { Caller } from '../caller.js';
import { assumedRoleArn, parseRoleArn, rootArn } from './arns.js';
import { applicableAcl, type AclTarget } from '../s3/acl-access.js';
import { bucketResourcePolicy } from '../s3/s3-authorize.js';
import { Authorizer, type AuthorizationQuery } from './authorizer.js';
import { IdentityResolver } from './identity.js';

export interface ExplainStores {
  iam: IamStore;
  directory: BucketDirectory;
  /** A region's metadata store, if that region has data. */
  regionStore(region: string): Promise<RegionMetadataStore | undefined>;
  kmsKeys(region: string): Promise<KmsKeyStore | undefined>;
}

export interface ExplainRequest {
  /** An ARN (root, user, role, assumed-role session), an account id, an access key id, a service principal, or 'anonymous'. */
  principal: string;
  action: string;
  resource: string;
  context: Record<string, ConditionValue>;
  secureTransport?: boolean;
}

export interface Explanation {
  input: EvaluationInput;
  decision: Decision;
}

export class ExplainError extends Error {}

const USER_ARN = /^arn:aws:iam::(\d{12}):user\/(?:.*\/)?([^/]+)$/;
const SESSION_ARN = /^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/;

async function principalOf(stores: ExplainStores, clock: Clock, value: string): Promise<Pick<Caller, 'principal' | 'sessionPolicy' | 'sessionPolicyArns'>> {
  if (value === 'anonymous' || value === '*') return { principal: { type: 'Anonymous' } };
  if (/^(AKIA|ASIA)[A-Z0-9]{12,}$/.test(value)) {
    const resolved = await new IdentityResolver(stores.iam, clock).resolve(value).catch(() => {
      throw new ExplainError(`access key ${value} is unknown, inactive or expired`);
    });
    const out: Pick<Caller, 'principal' | 'sessionPolicy' | 'sessionPolicyArns'> = { principal: resolved.principal };
    if (resolved.sessionPolicy) out.sessionPolicy = resolved.sessionPolicy;
    if (resolved.sessionPolicyArns) out.sessionPolicyArns = resolved.sessionPolicyArns;
    return out;
  }
  if (/^[a-z0-9.-]+\.amazonaws\.com$/.test(value)) return { principal: { type: 'Service', service: value, arn: value } };
  const account = /^\d{12}$/.exec(value)?.[0] ?? /^arn:aws:iam::(\d{12}):root$/.exec(value)?.[1];
  if (account) {
    if (!(await stores.iam.getAccount(account))) throw new ExplainError(`account ${account} does not exist`);
    return { principal: { type: 'Account', accountId: account, arn: rootArn(account), userId: account } };
  }
  let m = USER_ARN.exec(value);
  if (m) {
    const user = await stores.iam.getUser(m[1]!, m[2]!);
    if (!user || user.arn !== value) throw new ExplainError(`user ${value} does not exist`);
    const principal: Principal = { type: 'User', accountId: user.accountId, arn: user.arn, userId: user.userId, username: user.userName };
    if (user.tags.length > 0) principal.tags = Object.fromEntries(user.tags.map((t) => [t.Key, t.Value]));
    return { principal };
  }
  const role = parseRoleArn(value);
  m = SESSION_ARN.exec(value);
  const roleRef = role ? { accountId: role.accountId, roleName: role.roleName, session: 'explain' } : m ? { accountId: m[1]!, roleName: m[2]!, session: m[3]! } : undefined;
  if (roleRef) {
    const r = await stores.iam.getRole(roleRef.accountId, roleRef.roleName);
    if (!r || (role && r.arn !== value)) throw new ExplainError(`role ${value} does not exist`);
    const principal: Principal = {
      type: 'AssumedRole',
      accountId: r.accountId,
      arn: assumedRoleArn(r.accountId, r.roleName, roleRef.session),
      roleArn: r.arn,
      userId: `${r.roleId}:${roleRef.session}`,
    };
    if (r.tags.length > 0) principal.tags = Object.fromEntries(r.tags.map((t) => [t.Key, t.Value]));
    return { principal };
  }
  throw new ExplainError(`cannot tell what principal '${value}' is: give an ARN, an account id, an access key id, a service principal or 'anonymous'`);
}

const KEY_ARN = /^arn:aws:kms:([a-z0-9-]+):(\d{12}):key\/(.+)$/;

/** The resource policy and owner for a resource ARN, as the server would find them. */
type ResourceSide = Partial<AuthorizationQuery>;

async function resourceSide(stores: ExplainStores, authorizer: Authorizer, principal: Principal, action: string, resource: string): Promise<ResourceSide> {
  const s3 = /^arn:aws:s3:::([^/]+)(?:\/.*)?$/.exec(resource);
  // CreateBucket names a bucket that does not exist yet: only the caller's own policies decide.
  if (s3 && action.toLowerCase() === 's3:createbucket') return {};
  if (s3) {
    const entry = await stores.directory.lookup(s3[1]!);
    if (!entry) throw new ExplainError(`bucket ${s3[1]} does not exist`);
    const meta = await stores.regionStore(entry.region);
    const q: ResourceSide = { resourceAccount: entry.ownerAccountId };
    const bucket = await meta?.getBucket(entry.name);
    if (meta && bucket) {
      // The bucket policy as the server applies it (RestrictPublicBuckets included), and the bucket
      // or object ACL, consulted as the server does: only when the policies do not allow.
      const rp = await bucketResourcePolicy(authorizer, meta, principal, bucket);
      if (rp) q.resourcePolicy = rp;
      const key = resource.slice(`arn:aws:s3:::${entry.name}/`.length);
      const target: AclTarget = { action, bucket };
      if (resource.length > `arn:aws:s3:::${entry.name}`.length) target.key = key;
      q.acl = () => applicableAcl(meta, target, principal);
    }
    return q;
  }
  const kms = KEY_ARN.exec(resource);
  if (kms) {
    const key = await (await stores.kmsKeys(kms[1]!))?.getKey(kms[2]!, kms[3]!);
    if (!key) throw new ExplainError(`KMS key ${resource} does not exist`);
    return {
      resourceAccount: key.accountId,
      resourcePolicy: { name: `key policy of ${key.arn}`, policy: authorizer.parse(key.policy, 'key') },
      resourcePolicyRequired: true,
      context: { 'kms:calleraccount': undefined, 'aws:requestedregion': kms[1]! },
    };
  }
  const role = parseRoleArn(resource);
  if (role && action.toLowerCase() === 'sts:assumerole') {
    const r = await stores.iam.getRole(role.accountId, role.roleName);
    if (!r) throw new ExplainError(`role ${resource} does not exist`);
    return {
      resourceAccount: r.accountId,
      resourcePolicy: { name: `trust policy of ${r.arn}`, policy: authorizer.parse(r.assumeRolePolicyDocument, 'trust') },
      resourcePolicyRequired: true,
    };
  }
  const account = /^arn:aws:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):/.exec(resource)?.[1];
  return account ? { resourceAccount: account } : {};
}

export async function explain(stores: ExplainStores, clock: Clock, req: ExplainRequest): Promise<Explanation> {
  const authorizer = new Authorizer(stores.iam, clock);
  const who = await principalOf(stores, clock, req.principal);
  const caller: Caller = { ...who, secureTransport: req.secureTransport ?? true, loopback: false };
  const side = await resourceSide(stores, authorizer, who.principal, req.action, req.resource);
  const context: Record<string, ConditionValue | undefined> = { ...side.context };
  if ('kms:calleraccount' in context) context['kms:calleraccount'] = caller.principal.accountId;
  for (const [k, v] of Object.entries(req.context)) context[k.toLowerCase()] = v;
  const q: AuthorizationQuery = { action: req.action, resource: req.resource, context };
  if (side.resourceAccount !== undefined) q.resourceAccount = side.resourceAccount;
  if (side.resourcePolicy) q.resourcePolicy = side.resourcePolicy;
  if (side.resourcePolicyRequired) q.resourcePolicyRequired = true;
  if (side.acl) q.acl = side.acl;
  return authorizer.decide(caller, q);
}
