/**
 * Principals named in resource-side documents (trust policies, bucket policies, key policies) must
 * exist, as AWS checks when the document is written: "Invalid principal in policy". Accounts must be
 * in the account directory, users and roles in their account. Sessions, services, '*' and unique ids
 * are taken as written (AWS does not check them either).
 */
import type { ParsedPolicy, PrincipalSpec } from '../../policy/types.js';
import type { IamStore } from '../../storage/types.js';

const ROOT = /^arn:aws:iam::(\d{12}):root$/;
const ENTITY = /^arn:aws:iam::(\d{12}):(user|role)(\/(?:.*\/)?)([^/]+)$/;
const SESSION = /^arn:aws:sts::(\d{12}):/;

async function awsPrincipalExists(value: string, store: IamStore): Promise<boolean> {
  if (value === '*' || /^A[A-Z0-9]{15,127}$/.test(value)) return true;
  if (/^\d{12}$/.test(value)) return (await store.getAccount(value)) !== undefined;
  let m = ROOT.exec(value);
  if (m) return (await store.getAccount(m[1]!)) !== undefined;
  m = SESSION.exec(value);
  if (m) return (await store.getAccount(m[1]!)) !== undefined;
  m = ENTITY.exec(value);
  if (!m) return false;
  const [, accountId, kind, path, name] = m;
  const entity = kind === 'user' ? await store.getUser(accountId!, name!) : await store.getRole(accountId!, name!);
  // The path is part of the ARN: a user or role under another path is another principal.
  return entity !== undefined && entity.arn === value && entity.path === path;
}

/** AWS service principals: `<name>.amazonaws.com` (and the China partition's `.com.cn`). */
function servicePrincipalValid(value: string): boolean {
  return /^[a-z0-9-]+(\.[a-z0-9-]+)*\.amazonaws\.com(\.cn)?$/.test(value);
}

function describe(type: string, value: string): string {
  return `Invalid principal in policy: "${type}":"${value}"`;
}

async function checkSpec(spec: PrincipalSpec | undefined, store: IamStore): Promise<string | undefined> {
  if (!spec) return undefined;
  for (const v of spec.AWS ?? []) if (!(await awsPrincipalExists(v, store))) return describe('AWS', v);
  for (const v of spec.Service ?? []) if (!servicePrincipalValid(v)) return describe('SERVICE', v);
  return undefined;
}

/** The first principal of `policy` that does not exist, as IAM's error message names it; undefined if all do. */
export async function invalidPrincipal(policy: ParsedPolicy, store: IamStore): Promise<string | undefined> {
  for (const s of policy.statements) {
    const bad = (await checkSpec(s.principal, store)) ?? (await checkSpec(s.notPrincipal, store));
    if (bad) return bad;
  }
  return undefined;
}
