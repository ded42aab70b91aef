/** Reading KMS JSON inputs: typed members, AWS's validation messages, pagination. */
import { isWellFormedText } from '../../../common/unicode.js';
import type { Caller } from '../../caller.js';
import type { Authorizer } from '../../iam/authorizer.js';
import type { KmsKeyRecord } from '../../../storage/types.js';
import { kmsError, validationError } from '../kms-errors.js';
import type { KmsService, ResolveOptions } from '../kms-service.js';

export type Input = Record<string, unknown>;
export type Handler = (svc: KmsService, caller: Caller, input: Input, authorizer: Authorizer) => Promise<unknown>;

export function str(input: Input, name: string, required = false): string | undefined {
  const v = input[name];
  if (v === undefined || v === null) {
    if (required) throw validationError(name, 'Member must not be null');
    return undefined;
  }
  if (typeof v !== 'string') throw kmsError('SerializationException', `Expected a string for ${name}`);
  return v;
}

export function bool(input: Input, name: string): boolean {
  const v = input[name];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw kmsError('SerializationException', `Expected a boolean for ${name}`);
  return v;
}

export function int(input: Input, name: string, min: number, max: number, fallback?: number): number | undefined {
  const v = input[name];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw kmsError('SerializationException', `Expected an integer for ${name}`);
  if (v < min || v > max) throw validationError(name, `Member must have value between ${min} and ${max}`, String(v));
  return v;
}

export function blob(input: Input, name: string, max: number): Buffer {
  const v = str(input, name, true)!;
  const b = Buffer.from(v, 'base64');
  if (b.length === 0) throw validationError(name, 'Member must have length greater than or equal to 1');
  if (b.length > max) throw validationError(name, `Member must have length less than or equal to ${max}`);
  return b;
}

export function stringMap(input: Input, name: string): Record<string, string> | undefined {
  const v = input[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw kmsError('SerializationException', `Expected a map for ${name}`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (typeof val !== 'string') throw kmsError('SerializationException', `Expected string values in ${name}`);
    // An unpaired surrogate ("\ud800" in the JSON) has no UTF-8 form: refused, not sealed as U+FFFD.
    if (!isWellFormedText(k) || !isWellFormedText(val)) throw validationError(name, 'Map keys and values must be well-formed Unicode (no unpaired surrogate)');
    out[k] = val;
  }
  return out;
}

export function stringList(input: Input, name: string): string[] | undefined {
  const v = input[name];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw kmsError('SerializationException', `Expected a list of strings for ${name}`);
  return v as string[];
}

export function tags(input: Input, name = 'Tags'): { TagKey: string; TagValue: string }[] | undefined {
  const v = input[name];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw kmsError('SerializationException', `Expected a list for ${name}`);
  const out: { TagKey: string; TagValue: string }[] = [];
  for (const t of v as { TagKey?: unknown; TagValue?: unknown }[]) {
    if (typeof t?.TagKey !== 'string' || typeof t.TagValue !== 'string') throw validationError(`${name}.member.tagKey`, 'Member must not be null');
    if (t.TagKey.length < 1 || t.TagKey.length > 128) throw kmsError('TagException', `Tag key must be 1 to 128 characters: '${t.TagKey}'`);
    if (t.TagValue.length > 256) throw kmsError('TagException', `Tag value must be at most 256 characters (key '${t.TagKey}')`);
    if (t.TagKey.startsWith('aws:')) throw kmsError('TagException', `Tag keys beginning with aws: are reserved: '${t.TagKey}'`);
    out.push({ TagKey: t.TagKey, TagValue: t.TagValue });
  }
  if (out.length > 50) throw kmsError('LimitExceededException', 'A KMS key can have at most 50 tags.');
  return out;
}

/**
 * GrantTokens: up to 10, each one a token of an existing grant. Grants take effect at once here, so
 * a token only has to be valid.
 */
export async function checkGrantTokens(svc: KmsService, input: Input): Promise<void> {
  const tokens = stringList(input, 'GrantTokens');
  if (!tokens) return;
  if (tokens.length > 10) throw validationError('GrantTokens', 'Member must have length less than or equal to 10');
  for (const t of tokens) {
    if (!(await svc.store.getGrantByToken(t))) throw kmsError('InvalidGrantTokenException', 'The grant token is not valid.');
  }
}

/** Resolve `KeyId` and authorize `operation` on it. */
export async function keyFor(svc: KmsService, caller: Caller, input: Input, operation: string, opts: ResolveOptions = {}): Promise<KmsKeyRecord> {
  const key = await svc.resolveKey(caller, str(input, 'KeyId', true)!, { operation, ...opts });
  await svc.authorizeKey(caller, key, operation);
  return key;
}

/** Operations without a key resource are authorized by IAM alone (the account root is always allowed). */
export async function requireIam(authorizer: Authorizer, caller: Caller, operation: string, region: string): Promise<void> {
  await authorizer.require(
    caller,
    { action: `kms:${operation}`, resource: `arn:aws:kms:${region}:${caller.principal.accountId}:*`, resourceAccount: caller.principal.accountId },
    'AccessDeniedException',
  );
}

/**
 * One page of `items` (already in a stable order) after the opaque marker: the marker is the
 * position of the next item, base64 so clients treat it as opaque.
 */
export function paginate<T>(items: T[], input: Input, maxLimit: number, defaultLimit: number): { page: T[]; truncated: boolean; nextMarker?: string } {
  const limit = int(input, 'Limit', 1, maxLimit, defaultLimit)!;
  const marker = str(input, 'Marker');
  let start = 0;
  if (marker !== undefined) {
    const n = Number(Buffer.from(marker, 'base64').toString('utf8'));
    if (!Number.isInteger(n) || n < 0) throw kmsError('InvalidMarkerException', 'The request contains an invalid marker.');
    start = n;
  }
  const page = items.slice(start, start + limit);
  const truncated = start + limit < items.length;
  return truncated ? { page, truncated, nextMarker: Buffer.from(String(start + limit)).toString('base64') } : { page, truncated };
}

export function listOutput(member: string, p: { page: unknown[]; truncated: boolean; nextMarker?: string }): Record<string, unknown> {
  const out: Record<string, unknown> = { [member]: p.page, Truncated: p.truncated };
  if (p.nextMarker) out.NextMarker = p.nextMarker;
  return out;
}
