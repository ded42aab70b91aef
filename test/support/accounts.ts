/** A second (or third) account on a running test server, made with `meridian accounts create`. */
import { execFile } from 'node:child_process';
import type { Credentials } from './clients.js';
import { testMetadataUrl, type MeridianProcess } from './meridian-process.js';

const BIN = new URL('../../bin/meridian.mjs', import.meta.url).pathname;

export async function createAccount(m: MeridianProcess, name: string): Promise<Credentials & { accountId: string }> {
  const url = await testMetadataUrl(m.dataDir);
  const env = { ...process.env, MERIDIAN_DATA_DIR: m.dataDir, ...(url ? { MERIDIAN_METADATA_URL: url } : {}) };
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BIN, 'accounts', 'create', '--name', name], { env }, (err, stdout, stderr) =>
      err ? reject(new Error(`${String(err)}\n${stderr}`)) : resolve(JSON.parse(stdout) as Credentials & { accountId: string }),
    );
  });
}
