/**
 * Grants: CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant (reference §1.5).
 * KmsService.authorizeKey honours them; they take effect at once (no eventual consistency), so grant
 * tokens only need to be valid.
 */
import type { KmsGrantRecord, KmsKeyRecord } from '../../../storage/types.js';
import type { Caller } from '../../caller.js';
import { GRANT_OPERATIONS, granteeMatches, newGrantId, newGrantToken } from '../grant-match.js';
import { dryRun, kmsError, validationError } from '../kms-errors.js';
import type { KmsService } from '../kms-service.js';
import { bool, checkGrantTokens, keyFor, listOutput, paginate, requireIam, str, stringList, stringMap, type Handler, type Input } from './input.js';

const MAX_GRANTS_PER_KEY = 50_000;
const PRINCIPAL = /^arn:aws:(iam|sts)::\d{12}:.+$|^[a-z0-9.-]+\.amazonaws\.com$/;

function principalArn(input: Input, name: string, required: boolean): string | undefined {
  const v = str(input, name, required);
  if (v !== undefined && !PRINCIPAL.test(v)) throw validationError(name, 'Member must be a valid principal ARN', v);
  return v;
}

function constraintsOf(input: Input): KmsGrantRecord['constraints'] | undefined {
  const c = input.Constraints;
  if (c === undefined || c === null) return undefined;
  if (typeof c !== 'object' || Array.isArray(c)) throw kmsError('SerializationException', 'Expected a structure for Constraints');
  const out: NonNullable<KmsGrantRecord['constraints']> = {};
  const subset = stringMap(c as Input, 'EncryptionContextSubset');
  const equals = stringMap(c as Input, 'EncryptionContextEquals');
  if (subset) out.EncryptionContextSubset = subset;
  if (equals) out.EncryptionContextEquals = equals;
  return subset || equals ? out : undefined;
}

function grantOutput(g: KmsGrantRecord, keyArn: string): Record<string, unknown> {
  const out: Record<string, unknown> = {
    KeyId: keyArn,
    GrantId: g.grantId,
    Name: g.name ?? '',
    CreationDate: g.createdAt / 1000,
    GranteePrincipal: g.granteePrincipal,
    IssuingAccount: g.issuingAccount,
    Operations: g.operations,
  };
  if (g.retiringPrincipal) out.RetiringPrincipal = g.retiringPrincipal;
  if (g.constraints) out.Constraints = g.constraints;
  return out;
}

function sameGrant(a: KmsGrantRecord, b: Omit<KmsGrantRecord, 'grantId' | 'grantToken' | 'createdAt'>): boolean {
  return (
    a.granteePrincipal === b.granteePrincipal &&
    a.retiringPrincipal === b.retiringPrincipal &&
    JSON.stringify([...a.operations].sort()) === JSON.stringify([...b.operations].sort()) &&
    JSON.stringify(a.constraints ?? null) === JSON.stringify(b.constraints ?? null)
  );
}

/** Who may retire a grant without a policy: its retiring principal, or its grantee when it allows RetireGrant. */
function mayRetire(grant: KmsGrantRecord, caller: Caller): boolean {
  if (grant.retiringPrincipal && granteeMatches(grant.retiringPrincipal, caller)) return true;
  return grant.operations.includes('RetireGrant') && granteeMatches(grant.granteePrincipal, caller);
}

async function findGrant(svc: KmsService, key: KmsKeyRecord, grantId: string): Promise<KmsGrantRecord> {
  const grant = (await svc.store.listGrants(key.accountId, key.keyId)).find((g) => g.grantId === grantId);
  if (!grant) throw kmsError('NotFoundException', `Grant ID ${grantId} not found`);
  return grant;
}

export const GRANT_HANDLERS: Record<string, Handler> = {
  async CreateGrant(svc, caller, input) {
    await checkGrantTokens(svc, input);
    const grantee = principalArn(input, 'GranteePrincipal', true)!;
    const retiring = principalArn(input, 'RetiringPrincipal', false);
    const operations = stringList(input, 'Operations');
    if (!operations || operations.length === 0) throw validationError('Operations', 'Member must have length greater than or equal to 1');
    for (const op of operations) if (!GRANT_OPERATIONS.has(op)) throw validationError('Operations', `Member must satisfy enum value set: [${[...GRANT_OPERATIONS].join(', ')}]`, op);
    const asymmetric = operations.filter((op) => !['Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'ReEncryptFrom', 'ReEncryptTo', 'CreateGrant', 'RetireGrant', 'DescribeKey'].includes(op));
    if (asymmetric.length > 0) throw kmsError('ValidationException', `Grant operations ${asymmetric.join(', ')} are not valid for a SYMMETRIC_DEFAULT key.`);
    const constraints = constraintsOf(input);
    const name = str(input, 'Name');
    const key = await svc.resolveKey(caller, str(input, 'KeyId', true)!, { aliases: false, operation: 'CreateGrant' });
    await svc.authorizeKey(caller, key, 'CreateGrant', undefined, {
      'kms:granteeprincipal': grantee,
      'kms:retiringprincipal': retiring,
      'kms:grantoperations': operations,
      'kms:grantconstrainttype': constraints ? Object.keys(constraints) : undefined,
      'kms:grantisforawsresource': 'false',
    });
    svc.requireUsable(key);
    if (bool(input, 'DryRun')) throw dryRun();
    const existing = await svc.store.listGrants(key.accountId, key.keyId);
    const fields: Omit<KmsGrantRecord, 'grantId' | 'grantToken' | 'createdAt'> = {
      accountId: key.accountId,
      keyId: key.keyId,
      granteePrincipal: grantee,
      issuingAccount: `arn:aws:iam::${caller.principal.accountId}:root`,
      operations,
    };
    if (retiring) fields.retiringPrincipal = retiring;
    if (constraints) fields.constraints = constraints;
    if (name !== undefined) fields.name = name;
    // Same name and parameters: the existing grant (CreateGrant is idempotent by name).
    const same = name !== undefined && existing.find((g) => g.name === name && sameGrant(g, fields));
    if (same) return { GrantToken: same.grantToken, GrantId: same.grantId };
    if (existing.length >= MAX_GRANTS_PER_KEY) throw kmsError('LimitExceededException', `${key.arn} already has ${MAX_GRANTS_PER_KEY} grants.`);
    const grant: KmsGrantRecord = { ...fields, grantId: newGrantId(), grantToken: newGrantToken(), createdAt: svc.now() };
    await svc.store.createGrant(grant);
    return { GrantToken: grant.grantToken, GrantId: grant.grantId };
  },

  async ListGrants(svc, caller, input) {
    await checkGrantTokens(svc, input);
    const key = await keyFor(svc, caller, input, 'ListGrants', { aliases: false });
    const grantId = str(input, 'GrantId');
    const grantee = str(input, 'GranteePrincipal');
    const grants = (await svc.store.listGrants(key.accountId, key.keyId)).filter(
      (g) => (grantId === undefined || g.grantId === grantId) && (grantee === undefined || g.granteePrincipal === grantee),
    );
    const p = paginate(grants, input, 100, 50);
    return listOutput('Grants', { ...p, page: p.page.map((g) => grantOutput(g, key.arn)) });
  },

  /** Grants in this region whose retiring principal is the given one (IAM authorizes by that principal). */
  async ListRetirableGrants(svc, caller, input, authorizer) {
    const retiring = principalArn(input, 'RetiringPrincipal', true)!;
    await requireIam(authorizer, caller, 'ListRetirableGrants', svc.region);
    const grants = await svc.store.listRetirableGrants(retiring);
    const p = paginate(grants, input, 100, 50);
    return listOutput('Grants', { ...p, page: p.page.map((g) => grantOutput(g, `arn:aws:kms:${svc.region}:${g.accountId}:key/${g.keyId}`)) });
  },

  async RetireGrant(svc, caller, input) {
    const token = str(input, 'GrantToken');
    let grant: KmsGrantRecord | undefined;
    let key: KmsKeyRecord;
    if (token !== undefined) {
      grant = await svc.store.getGrantByToken(token);
      if (!grant) throw kmsError('InvalidGrantTokenException', 'The grant token is not valid.');
      const k = await svc.loadKey(grant.accountId, grant.keyId);
      if (!k) throw kmsError('NotFoundException', `Key for grant ${grant.grantId} does not exist`);
      key = k;
    } else {
      const grantId = str(input, 'GrantId');
      if (str(input, 'KeyId') === undefined || grantId === undefined) {
        throw kmsError('ValidationException', 'RetireGrant needs either GrantToken, or both KeyId (the key ARN) and GrantId.');
      }
      key = await svc.resolveKey(caller, str(input, 'KeyId')!, { aliases: false, operation: 'RetireGrant' });
      grant = await findGrant(svc, key, grantId);
    }
    // Anyone else needs kms:RetireGrant on the key (key policy, IAM through delegation).
    if (!mayRetire(grant, caller)) await svc.authorizeKey(caller, key, 'RetireGrant');
    if (bool(input, 'DryRun')) throw dryRun();
    await svc.store.deleteGrant(key.accountId, key.keyId, grant.grantId);
    return {};
  },

  async RevokeGrant(svc, caller, input) {
    const grantId = str(input, 'GrantId', true)!;
    const key = await keyFor(svc, caller, input, 'RevokeGrant', { aliases: false });
    await findGrant(svc, key, grantId);
    if (bool(input, 'DryRun')) throw dryRun();
    await svc.store.deleteGrant(key.accountId, key.keyId, grantId);
    return {};
  },
};
