/**
 * The first start of a cluster (MERIDIAN_WORKERS > 1), done once before any worker exists: the
 * default account and its root credentials, and the TLS certificate. It runs in a short-lived child
 * process (`meridian _first-start`), so the primary, which then only forks and watches workers,
 * never loads the storage engine, the database drivers or the certificate generator: on a 2-core
 * machine it stays at about half the memory it would otherwise keep for its whole life.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import type { RootCredentials } from './accounts.js';
import type { Config } from './config.js';

export interface FirstStart {
  credentials: RootCredentials;
  generated: boolean;
  /** The certificate's file, when HTTPS is on. */
  certFile?: string;
}

/** Do the first start in this process. */
export async function firstStart(config: Config): Promise<FirstStart> {
  // Imported here, not at the top: the primary imports this module for firstStartInChild only.
  const { openGlobalStores, openPostgresMetadata } = await import('../storage/index.js');
  const { ensureDefaultAccount } = await import('./accounts.js');
  const { loadOperatorCertificate, loadOrCreateCertificate } = await import('./tls.js');
  // The account lives where the workers will look for it: PostgreSQL (schema checked) or the SQLite file.
  const pg = config.metadataUrl ? await openPostgresMetadata(config.metadataUrl, { max: 2, applicationName: 'meridian primary' }) : undefined;
  const global = pg ? pg.global : openGlobalStores(join(config.dataDir, 'global', 'global.db'));
  let result: FirstStart;
  try {
    const envKeys = config.rootAccessKeyId && config.rootSecretAccessKey ? { accessKeyId: config.rootAccessKeyId, secretAccessKey: config.rootSecretAccessKey } : undefined;
    result = await ensureDefaultAccount(global.iam, config.dataDir, config.accountId, Date.now(), envKeys);
  } finally {
    await global.close();
    await pg?.close();
  }
  if (config.tlsPort !== null) {
    const tls = config.tlsCertFile && config.tlsKeyFile ? loadOperatorCertificate(config.tlsCertFile, config.tlsKeyFile) : await loadOrCreateCertificate(config.dataDir);
    result.certFile = tls.certFile;
  }
  return result;
}

/** `meridian _first-start`: do it, send the result to the parent, exit. */
export async function firstStartChild(config: Config): Promise<void> {
  let message: { ok: FirstStart } | { error: string };
  try {
    message = { ok: await firstStart(config) };
  } catch (e) {
    message = { error: e instanceof Error ? e.message : String(e) };
  }
  await new Promise<void>((resolve) => process.send!(message, undefined, undefined, () => resolve()));
  process.disconnect();
}

/**
 * Do the first start in a child process running the same command (`process.argv[1]`), with the same
 * environment (where the configuration comes from). Its output goes where the primary's goes.
 */
export function firstStartInChild(): Promise<FirstStart> {
  return new Promise((resolve, reject) => {
    const child = fork(process.argv[1]!, ['_first-start'], { stdio: 'inherit', execArgv: process.execArgv });
    let answer: { ok: FirstStart } | { error: string } | undefined;
    child.on('message', (m) => (answer = m as typeof answer));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (answer && 'ok' in answer) resolve(answer.ok);
      else if (answer) reject(new Error(answer.error));
      else reject(new Error(`the first start (account, TLS certificate) failed: its process exited with ${signal ?? `code ${code}`}`));
    });
  });
}
