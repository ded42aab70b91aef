/**
 * The README's walkthrough block, run verbatim with bash and the real aws CLI against a fresh
 * server: the README stays honest because CI runs what it shows.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';

const README = new URL('../../README.md', import.meta.url).pathname;

function walkthroughBlock(): string {
  const text = readFileSync(README, 'utf8');
  const m = /<!-- walkthrough:start -->\s*```bash\n([\s\S]*?)```\s*<!-- walkthrough:end -->/.exec(text);
  assert.ok(m, 'README.md has a walkthrough block');
  return m[1]!;
}

let m: MeridianProcess;
let dir: string;

before(async () => {
  m = await startMeridianProcess({ tls: false });
  dir = mkdtempSync(join(tmpdir(), 'meridian-readme-'));
});

after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await m?.stop();
});

test('the README walkthrough runs as written and ends with a REPLICA under the destination key', async () => {
  const script = join(dir, 'walkthrough.sh');
  writeFileSync(script, walkthroughBlock());
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
  Object.assign(env, {
    MERIDIAN_ENDPOINT: m.httpEndpoint,
    AWS_ACCESS_KEY_ID: m.accessKeyId,
    AWS_SECRET_ACCESS_KEY: m.secretAccessKey,
    AWS_CONFIG_FILE: join(dir, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
    AWS_PAGER: '',
  });
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile('bash', [script], { cwd: dir, env, timeout: 180_000 }, (err, out, stderr) => (err ? reject(new Error(`${String(err)}\n${stderr}\n${out}`)) : resolve(out)));
  });
  assert.match(stdout, /source replication status: COMPLETED/);
  const destKey = /destination key: (\S+)/.exec(stdout)?.[1];
  assert.match(destKey ?? '', /^arn:aws:kms:us-east-2:/);
  // The head-object output is the JSON between the status line and the key line.
  const tail = stdout.slice(stdout.indexOf('source replication status'), stdout.indexOf('destination key:'));
  const head = JSON.parse(tail.slice(tail.indexOf('{'), tail.lastIndexOf('}') + 1)) as Record<string, string>;
  assert.deepEqual(head, { ReplicationStatus: 'REPLICA', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: destKey });
});
