/**
 * What every IAM operation family shares: the handler shape, validation with AWS's messages,
 * URL-encoded policy documents, Marker/MaxItems paging, and authorization of iam:* actions.
 */
import { ServiceError } from '../../common/errors.js';
import type { Clock } from '../../common/clock.js';
import { parsePolicy, PolicyValidationError } from '../../policy/index.js';
import type { ConditionValue, ParsedPolicy, PolicyKind } from '../../policy/types.js';
import type { GroupRecord, IamStore, RoleRecord, UserRecord } from '../../storage/types.js';
import type { QueryParams } from '../protocol/aws-query.js';
import type { XmlObject, XmlValue } from '../protocol/xml.js';
import type { Caller } from '../caller.js';
import type { Authorizer } from './authorizer.js';
import { invalidPrincipal } from './principal-check.js';

export const IAM_XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';

export interface IamDeps {
  store: IamStore;
  authorizer: Authorizer;
  clock: Clock;
}

export type Handler = (deps: IamDeps, caller: Caller, params: QueryParams) => Promise<XmlObject | undefined>;

export const NAME = /^[\w+=,.@-]{1,64}$/;
export const GROUP_NAME = /^[\w+=,.@-]{1,128}$/;
export const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;
const PATH = /^\/(?:[\x21-\x7E]*\/)?$/;

export function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** IAM returns policy documents URL-encoded (RFC 3986) inside the XML (reference §2.2). */
export function encodePolicy(doc: string): string {
  return encodeURIComponent(doc);
}

export function noSuchEntity(message: string): ServiceError {
  return new ServiceError('NoSuchEntity', 404, message);
}

export function validationError(message: string): ServiceError {
  return new ServiceError('ValidationError', 400, message);
}

export function validateName(value: string, member: string, pattern = NAME): string {
  if (!pattern.test(value)) {
    throw validationError(
      `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${pattern.source}`,
    );
  }
  return value;
}

export function pathParam(params: QueryParams, name = 'Path'): string {
  const path = params.get(name) ?? '/';
  if (!PATH.test(path) || path.length > 512) {
    throw validationError(
      `1 validation error detected: Value '${path}' at '${name.charAt(0).toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)`,
    );
  }
  return path;
}

/** Only TAB, LF, CR and U+0020–U+00FF are allowed in policy documents (reference §2.5). */
const POLICY_CHARS = /^[\t\n\r\u0020-\u00FF]*$/;

/**
 * Validate a document on write; MalformedPolicyDocument names the problem. Resource-side documents
 * (trust policies) also have their principals checked against the account directory.
 */
export async function validatePolicy(deps: IamDeps, doc: string, kind: PolicyKind): Promise<ParsedPolicy> {
  if (!POLICY_CHARS.test(doc)) throw new ServiceError('MalformedPolicyDocument', 400, 'The policy contains characters outside TAB, LF, CR and U+0020-U+00FF.');
  let parsed: ParsedPolicy;
  try {
    parsed = parsePolicy(doc, kind);
  } catch (e) {
    if (e instanceof PolicyValidationError) throw new ServiceError('MalformedPolicyDocument', 400, e.message);
    throw e;
  }
  if (kind === 'trust') {
    const bad = await invalidPrincipal(parsed, deps.store);
    if (bad) throw new ServiceError('MalformedPolicyDocument', 400, bad);
  }
  return parsed;
}

/** IAM actions are authorized against the caller's identity policies; the account root is always allowed. */
export async function authorize(
  deps: IamDeps,
  caller: Caller,
  action: string,
  resource: string,
  context?: Record<string, ConditionValue | undefined>,
): Promise<void> {
  const q: Parameters<Authorizer['require']>[1] = { action: `iam:${action}`, resource, resourceAccount: caller.principal.accountId };
  // IAM is a global service: AWS reports its requests as us-east-1.
  q.context = { 'aws:RequestedRegion': 'us-east-1', ...context };
  await deps.authorizer.require(caller, q);
}

/** Condition keys of a request that carries tags (aws:RequestTag/<k>, aws:TagKeys). */
export function requestTagContext(tags: { Key: string; Value: string }[]): Record<string, ConditionValue | undefined> {
  const ctx: Record<string, ConditionValue | undefined> = {};
  if (tags.length === 0) return ctx;
  for (const t of tags) ctx[`aws:RequestTag/${t.Key}`] = t.Value;
  ctx['aws:TagKeys'] = tags.map((t) => t.Key);
  return ctx;
}

/** aws:ResourceTag/<k> (and iam:ResourceTag/<k>) of an existing user or role. */
export function resourceTagContext(tags: { Key: string; Value: string }[]): Record<string, ConditionValue | undefined> {
  const ctx: Record<string, ConditionValue | undefined> = {};
  for (const t of tags) {
    ctx[`aws:ResourceTag/${t.Key}`] = t.Value;
    ctx[`iam:ResourceTag/${t.Key}`] = t.Value;
  }
  return ctx;
}

/** The caller's account; IAM needs a signed principal of an account. */
export function account(caller: Caller): string {
  const a = caller.principal.accountId;
  if (!a) throw new ServiceError('AccessDenied', 403, 'IAM requires signed requests from an account principal.');
  return a;
}

/** The user a request is about: UserName, or the calling user when it is omitted. */
export function userNameOrCaller(caller: Caller, params: QueryParams): string {
  const userName = params.get('UserName') ?? caller.principal.username;
  if (!userName) throw validationError('Must specify userName when calling with non-User credentials');
  return userName;
}

export async function getRoleOrThrow(deps: IamDeps, acct: string, roleName: string): Promise<RoleRecord> {
  const role = await deps.store.getRole(acct, roleName);
  if (!role) throw noSuchEntity(`The role with name ${roleName} cannot be found.`);
  return role;
}

export async function getUserOrThrow(deps: IamDeps, acct: string, userName: string): Promise<UserRecord> {
  const user = await deps.store.getUser(acct, userName);
  if (!user) throw noSuchEntity(`The user with name ${userName} cannot be found.`);
  return user;
}

export async function getGroupOrThrow(deps: IamDeps, acct: string, groupName: string): Promise<GroupRecord> {
  const group = await deps.store.getGroup(acct, groupName);
  if (!group) throw noSuchEntity(`The group with name ${groupName} cannot be found.`);
  return group;
}

export function tagsParam(params: QueryParams, read: (p: QueryParams, name: string, fields: string[]) => Record<string, string>[]): { Key: string; Value: string }[] {
  const tags = read(params, 'Tags', ['Key', 'Value']).map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' }));
  if (tags.length > 50) throw new ServiceError('LimitExceeded', 409, 'Cannot exceed quota for TagsPerEntity: 50');
  return tags;
}

/**
 * Marker/MaxItems paging (MaxItems 1–1000, default 100). The marker is the index of the next item,
 * opaque to clients.
 */
export function page<T>(items: T[], params: QueryParams): { items: T[]; truncated: XmlObject } {
  const maxRaw = params.get('MaxItems');
  const max = maxRaw === undefined ? 100 : Number(maxRaw);
  if (!Number.isInteger(max) || max < 1 || max > 1000) {
    throw validationError(`1 validation error detected: Value '${maxRaw}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000`);
  }
  const marker = params.get('Marker');
  let start = 0;
  if (marker !== undefined) {
    start = Number(Buffer.from(marker, 'base64url').toString('utf8'));
    if (!Number.isInteger(start) || start < 0) throw validationError('Invalid Marker.');
  }
  const slice = items.slice(start, start + max);
  const truncated = start + max < items.length;
  const out: XmlObject = { IsTruncated: truncated };
  if (truncated) out.Marker = Buffer.from(String(start + max)).toString('base64url');
  return { items: slice, truncated: out };
}

export function memberList(items: XmlValue[]): XmlObject {
  return { member: items };
}

export function permissionsBoundaryXml(arn: string | undefined): XmlObject | undefined {
  return arn === undefined ? undefined : { PermissionsBoundaryType: 'PermissionsBoundaryPolicy', PermissionsBoundaryArn: arn };
}
