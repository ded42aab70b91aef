/**
 * Types of the one IAM policy engine. Pure data: no I/O anywhere in policy/.
 */
import type { AclInput } from './acl.js';

/** Which kind of document a policy is; it decides which elements are allowed (Principal, Resource). */
export type PolicyKind = 'identity' | 'resource' | 'trust' | 'key' | 'session' | 'boundary';

export type ConditionValue = string | string[];

/** A statement as parsed and normalised (single values turned into arrays). */
export interface Statement {
  /** Position in the Statement array (0-based), for explanations. */
  index: number;
  sid?: string;
  effect: 'Allow' | 'Deny';
  /** Exactly one of principal / notPrincipal is set in resource, trust and key policies; neither in identity policies. */
  principal?: PrincipalSpec;
  notPrincipal?: PrincipalSpec;
  action?: string[];
  notAction?: string[];
  resource?: string[];
  notResource?: string[];
  /** operator (as written, e.g. 'StringLikeIfExists' or 'ForAnyValue:StringEquals') -> key (as written) -> values */
  condition?: Record<string, Record<string, string[]>>;
}

/** `"*"` is represented as { AWS: ['*'] }. */
export interface PrincipalSpec {
  AWS?: string[];
  Service?: string[];
  Federated?: string[];
  CanonicalUser?: string[];
}

export interface ParsedPolicy {
  version: '2012-10-17' | '2008-10-17';
  id?: string;
  statements: Statement[];
  /**
   * The kind it was parsed as (set by parsePolicy). Only used for a statement without Resource/NotResource:
   * in a key policy such a statement has no effect; in a trust policy (and when unknown) it applies.
   */
  kind?: PolicyKind;
}

/** A policy together with where it came from, so explanations can name it. */
export interface NamedPolicy {
  /** e.g. 'inline policy s3-crr-with-kms-role-permissions-policy of role/replication-role', a managed policy ARN, 'bucket policy of b', 'key policy of arn:aws:kms:...'. */
  name: string;
  policy: ParsedPolicy;
}

/** The principal making a request, with everything policy matching and condition keys need. */
export interface Principal {
  type: 'Account' | 'User' | 'AssumedRole' | 'Service' | 'Anonymous';
  /** Account of the principal (absent for services and anonymous). */
  accountId?: string;
  /** Root: arn:aws:iam::<acct>:root. User: user ARN with path. Session: arn:aws:sts::<acct>:assumed-role/<role>/<session>. Service: the service name. */
  arn?: string;
  /** Sessions only: the role ARN (with path). Matches Principal {"AWS": roleArn} and is aws:PrincipalArn. */
  roleArn?: string;
  /** aws:userid: account id (root), AIDA... (user), AROA...:<session> (session). */
  userId?: string;
  /** aws:username (users only). */
  username?: string;
  /** Service principals only: e.g. 's3.amazonaws.com'. */
  service?: string;
  /** aws:PrincipalTag/<k> values. */
  tags?: Record<string, string>;
  /** Web-identity / SAML callers: the identity provider, matched by Principal {"Federated": ...}. */
  federatedProvider?: string;
}

/**
 * The request being authorized. `context` holds condition keys; names are matched case-insensitively
 * (the engine lower-cases them). Values absent from the map are "missing" for condition evaluation.
 * The engine adds the principal's global keys itself (aws:PrincipalArn, aws:PrincipalAccount,
 * aws:PrincipalType, aws:userid, aws:username) unless the caller supplies them.
 */
export interface AuthorizationRequest {
  principal: Principal;
  /** e.g. 's3:GetObject' */
  action: string;
  /** Resource ARN, e.g. 'arn:aws:s3:::bucket/key' or a key ARN. '*' for actions without a resource. */
  resource: string;
  /** Account that owns the resource (decides same-account vs cross-account evaluation). */
  resourceAccount?: string;
  context: Record<string, ConditionValue | undefined>;
}

export interface EvaluationInput {
  request: AuthorizationRequest;
  /** The principal's identity-based policies (user/role inline and attached; none for root or services). */
  identityPolicies: NamedPolicy[];
  /** Bucket policy, key policy or trust policy. */
  resourcePolicy?: NamedPolicy;
  permissionsBoundary?: NamedPolicy;
  /** Session policies of an assumed-role session (intersect with the role's permissions). */
  sessionPolicies?: NamedPolicy[];
  /**
   * KMS key policies and role trust policies: the resource policy must allow the principal itself or
   * its account (delegation to identity policies); identity policies alone never suffice.
   */
  resourcePolicyRequired?: boolean;
  /** S3: the bucket or object ACL that applies (absent when ACLs are disabled or grant nothing for this action). */
  acl?: AclInput;
}

/** A statement that decided (or could have decided) the outcome. */
export interface StatementRef {
  policyName: string;
  sid?: string;
  index: number;
  effect: 'Allow' | 'Deny';
  /** Which input the policy came from (set by evaluate). */
  source?: PolicySource;
  /** ACL grants only: what the grant gives to whom, e.g. 'READ to AllUsers' (`index` is its position in the ACL). */
  grant?: string;
}

/** Where a policy sits in EvaluationInput. */
export type PolicySource = 'identity' | 'resource' | 'boundary' | 'session' | 'acl';

/** Why a statement that matched action and resource did not apply: a condition failed. */
export interface ConditionFailure {
  statement: StatementRef;
  operator: string;
  key: string;
  /** The policy's values. */
  expected: string[];
  /** What the request had for the key; undefined if the key was missing. */
  actual: string[] | undefined;
}

export type Outcome = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

export interface Decision {
  outcome: Outcome;
  /** For Allow: the statements that allowed (one per policy kind that had to allow). For ExplicitDeny: the denying statement(s). */
  statements: StatementRef[];
  /**
   * For denials, AWS's phrase for the reason, used in 'User: X is not authorized to perform: A on resource: R because ...':
   * 'no identity-based policy allows the A action', 'no resource-based policy allows the A action',
   * 'with an explicit deny in an identity-based policy', 'with an explicit deny in a resource-based policy',
   * 'no permissions boundary allows the A action', 'no session policy allows the A action'.
   */
  reason?: string;
  /** Statements whose action and resource matched but whose condition failed, with the values seen. */
  conditionFailures: ConditionFailure[];
}
