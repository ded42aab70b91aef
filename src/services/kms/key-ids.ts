/** The forms a key can be named in (reference §1.3): key id, key ARN, alias name, alias ARN. */
import { kmsError } from './kms-errors.js';

const KEY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$|^mrk-[0-9a-f]{32}$/;
const KEY_ARN = /^arn:aws:kms:([a-z0-9-]+):(\d{12}):key\/(.+)$/;
const ALIAS_ARN = /^arn:aws:kms:([a-z0-9-]+):(\d{12}):(alias\/.+)$/;

export type KeyRef =
  | { kind: 'key'; region?: string; accountId?: string; keyId: string }
  | { kind: 'alias'; region?: string; accountId?: string; aliasName: string };

export function isKeyId(s: string): boolean {
  return KEY_ID.test(s);
}

/** Parse without resolving; an ARN keeps its region and account, bare forms leave them to the caller. */
export function parseKeyRef(value: string): KeyRef {
  let m: RegExpExecArray | null;
  if ((m = KEY_ARN.exec(value))) return { kind: 'key', region: m[1]!, accountId: m[2]!, keyId: m[3]! };
  if ((m = ALIAS_ARN.exec(value))) return { kind: 'alias', region: m[1]!, accountId: m[2]!, aliasName: m[3]! };
  if (value.startsWith('alias/')) return { kind: 'alias', aliasName: value };
  if (value.startsWith('arn:')) throw kmsError('NotFoundException', `Invalid arn ${value}`);
  return { kind: 'key', keyId: value };
}

/** The account and region parts of a key ARN (blobs name their key by ARN). */
export function parseKeyArn(arn: string): { region: string; accountId: string; keyId: string } | undefined {
  const m = KEY_ARN.exec(arn);
  return m ? { region: m[1]!, accountId: m[2]!, keyId: m[3]! } : undefined;
}

export function aliasArnOf(region: string, accountId: string, aliasName: string): string {
  return `arn:aws:kms:${region}:${accountId}:${aliasName}`;
}
