/**
 * The account directory and root credentials. The default account's root keys come from the
 * environment, or are generated on first start and kept 0600 in the data directory (printed once).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { newIamId, newSecretAccessKey } from '../common/ids.js';
import { writeFileDurably } from '../common/durable-file.js';
import type { IamStore } from '../storage/types.js';

export interface RootCredentials {
  accountId: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export function rootCredentialsFile(dataDir: string): string {
  return join(dataDir, 'global', 'root-credentials.json');
}

/** Create an account with fresh root keys; false-y if the account id is taken. */
export async function createAccount(iam: IamStore, name: string, accountId: string, now: number, keys?: { accessKeyId: string; secretAccessKey: string }): Promise<RootCredentials | undefined> {
  if (!(await iam.createAccount({ accountId, name, createdAt: now }))) return undefined;
  const creds = keys ?? { accessKeyId: newIamId('AKIA', 20), secretAccessKey: newSecretAccessKey() };
  await iam.putAccessKey({ ...creds, owner: { type: 'root', accountId }, status: 'Active', createdAt: now });
  return { accountId, ...creds };
}

/** A random 12-digit account id that is not taken yet. */
export async function newAccountId(iam: IamStore): Promise<string> {
  for (;;) {
    const id = String(Math.floor(100000000000 + Math.random() * 899999999999));
    if (!(await iam.getAccount(id))) return id;
  }
}

/** Where the id of the default account's current root key is kept, so a change of key revokes the old one. */
function rootKeyIdFile(dataDir: string): string {
  return join(dataDir, 'global', 'root-access-key-id');
}

/**
 * Make sure the default account exists with root credentials. Returns the credentials and whether
 * they were generated now (so the caller prints them once). The root key configured before (from
 * the environment or generated) is revoked when another one takes its place: changing
 * MERIDIAN_ROOT_ACCESS_KEY_ID is how an operator rotates a leaked root key.
 */
export async function ensureDefaultAccount(
  iam: IamStore,
  dataDir: string,
  accountId: string,
  now: number,
  fromEnv?: { accessKeyId: string; secretAccessKey: string },
): Promise<{ credentials: RootCredentials; generated: boolean }> {
  if (!(await iam.getAccount(accountId))) {
    try {
      await iam.createAccount({ accountId, name: 'default', createdAt: now });
    } catch (e) {
      // Another gateway on the same database created it a moment ago.
      if (!(await iam.getAccount(accountId))) throw e;
    }
  }
  const result = await currentRootKey(iam, dataDir, accountId, now, fromEnv);
  await revokePreviousRootKey(iam, dataDir, accountId, result.credentials.accessKeyId);
  return result;
}

async function currentRootKey(
  iam: IamStore,
  dataDir: string,
  accountId: string,
  now: number,
  fromEnv?: { accessKeyId: string; secretAccessKey: string },
): Promise<{ credentials: RootCredentials; generated: boolean }> {
  if (fromEnv) {
    const existing = await iam.getAccessKey(fromEnv.accessKeyId);
    if (!existing || existing.secretAccessKey !== fromEnv.secretAccessKey) {
      if (existing) await iam.deleteAccessKey(fromEnv.accessKeyId);
      try {
        await iam.putAccessKey({ ...fromEnv, owner: { type: 'root', accountId }, status: 'Active', createdAt: now });
      } catch (e) {
        // Another gateway starting with the same keys stored them a moment ago.
        if ((await iam.getAccessKey(fromEnv.accessKeyId))?.secretAccessKey !== fromEnv.secretAccessKey) throw e;
      }
    }
    return { credentials: { accountId, ...fromEnv }, generated: false };
  }
  const file = rootCredentialsFile(dataDir);
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as RootCredentials;
    if (saved.accountId === accountId && (await iam.getAccessKey(saved.accessKeyId))) return { credentials: saved, generated: false };
  }
  const credentials: RootCredentials = { accountId, accessKeyId: newIamId('AKIA', 20), secretAccessKey: newSecretAccessKey() };
  await iam.putAccessKey({ accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, owner: { type: 'root', accountId }, status: 'Active', createdAt: now });
  writeFileDurably(file, JSON.stringify(credentials, null, 2) + '\n', 0o600);
  return { credentials, generated: true };
}

/**
 * Delete the root key that was the configured one until now, if it is not `current`. Data
 * directories from before this record existed fall back to the generated credentials file.
 */
async function revokePreviousRootKey(iam: IamStore, dataDir: string, accountId: string, current: string): Promise<void> {
  const marker = rootKeyIdFile(dataDir);
  let previous: string | undefined;
  if (existsSync(marker)) previous = readFileSync(marker, 'utf8').trim();
  else if (existsSync(rootCredentialsFile(dataDir))) previous = (JSON.parse(readFileSync(rootCredentialsFile(dataDir), 'utf8')) as RootCredentials).accessKeyId;
  if (previous && previous !== current) {
    const old = await iam.getAccessKey(previous);
    // Only ever a root key of this account: never a user's key that happens to be named there.
    if (old && old.owner.type === 'root' && old.owner.accountId === accountId) await iam.deleteAccessKey(previous);
  }
  if (previous !== current) writeFileDurably(marker, current + '\n', 0o600);
}
