/**
 * `meridian accounts create` adds an account with root keys and prints them as JSON, whether or not
 * the server is running; the keys work at once.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { s3Client, stsClient } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';

const BIN = new URL('../../bin/meridian.mjs', import.meta.url).pathname;

function meridian(args: string[], dataDir: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, MERIDIAN_DATA_DIR: dataDir } }, (err, stdout, stderr) =>
      err ? reject(new Error(`${String(err)}\n${stderr}`)) : resolve(stdout),
    );
  });
}

describe('meridian accounts create', () => {
  let dataDir: string;
  let m: MeridianProcess | undefined;

  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'meridian-accounts-'));
  });

  after(async () => {
    await m?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints {accountId, accessKeyId, secretAccessKey} for a new account while no server runs', async () => {
    const created = JSON.parse(await meridian(['accounts', 'create', '--name', 'team-b', '--id', '123456789012'], dataDir));
    assert.deepEqual(Object.keys(created).sort(), ['accessKeyId', 'accountId', 'secretAccessKey']);
    assert.equal(created.accountId, '123456789012');
    assert.match(created.accessKeyId, /^AKIA[A-Z2-7]{16}$/);
    assert.equal(created.secretAccessKey.length, 40);

    m = await startMeridianProcess({ dataDir, tls: false });
    const who = await stsClient(m, 'us-east-1', created).send(new GetCallerIdentityCommand({}));
    assert.equal(who.Account, '123456789012');
    assert.equal(who.Arn, 'arn:aws:iam::123456789012:root');
  });

  it('works while the server is running, and refuses an account id that exists', async () => {
    const created = JSON.parse(await meridian(['accounts', 'create', '--name', 'team-c'], dataDir));
    assert.match(created.accountId, /^\d{12}$/);
    const buckets = await s3Client(m!, 'us-east-1', created).send(new ListBucketsCommand({}));
    assert.deepEqual(buckets.Buckets ?? [], []);
    await assert.rejects(meridian(['accounts', 'create', '--name', 'dup', '--id', '123456789012'], dataDir), /already exists/);
  });
});
