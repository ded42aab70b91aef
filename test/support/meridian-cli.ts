/** Runs the `meridian` command against a test server, as an operator would (signed with its root keys). */
import { execFile } from 'node:child_process';
import { testMetadataUrl, type MeridianProcess } from './meridian-process.js';

const BIN = new URL('../../bin/meridian.mjs', import.meta.url).pathname;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function meridianCli(m: MeridianProcess, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const url = await testMetadataUrl(m.dataDir);
  return new Promise((resolve) => {
    const childEnv: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_') && !k.startsWith('MERIDIAN_')) childEnv[k] = v;
    Object.assign(childEnv, { MERIDIAN_ENDPOINT: m.httpEndpoint, AWS_ACCESS_KEY_ID: m.accessKeyId, AWS_SECRET_ACCESS_KEY: m.secretAccessKey }, url ? { MERIDIAN_METADATA_URL: url } : {}, env);
    execFile(process.execPath, [BIN, ...args], { env: childEnv, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Runs a `meridian` command that works on a data directory directly (`accounts create`, `explain`),
 * as a user would next to a running server or not. Never rejects for a non-zero exit.
 */
export async function meridianOnDataDir(args: string[], dataDir: string, env: Record<string, string> = {}): Promise<CliResult> {
  // The servers of this directory keep their metadata in PostgreSQL (MERIDIAN_TEST_BACKEND=postgres): so does the command.
  const url = await testMetadataUrl(dataDir);
  return new Promise((resolve) => {
    const childEnv = { ...process.env, MERIDIAN_DATA_DIR: dataDir, ...(url ? { MERIDIAN_METADATA_URL: url } : {}), ...env };
    execFile(process.execPath, [BIN, ...args], { env: childEnv, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `meridian accounts create --name <name>`: a new account's root credentials. */
export async function createAccount(dataDir: string, name: string): Promise<{ accountId: string; accessKeyId: string; secretAccessKey: string }> {
  const r = await meridianOnDataDir(['accounts', 'create', '--name', name], dataDir);
  if (r.code !== 0) throw new Error(`meridian accounts create failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { accountId: string; accessKeyId: string; secretAccessKey: string };
}
