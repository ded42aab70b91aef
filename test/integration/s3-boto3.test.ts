/**
 * boto3 (installed on the machine) drives a real server: test/integration/boto3/s3_api.py runs the
 * S3 API in path and virtual-hosted style — objects, copy, tagging, attributes, DeleteObjects,
 * FULL_OBJECT multipart checksums, the transfer manager, CORS/lifecycle/ACL/ownership, ListBuckets
 * pages, presigned URLs and the cross-region redirect botocore follows.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';

let m: MeridianProcess;

before(async () => {
  m = await startMeridianProcess({ tls: false });
});
after(async () => {
  await m?.stop();
});

test('boto3 drives the S3 API in path and virtual-hosted style', async () => {
  const script = new URL('./boto3/s3_api.py', import.meta.url).pathname;
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
  Object.assign(env, {
    MERIDIAN_ENDPOINT: m.httpEndpoint,
    MERIDIAN_ACCESS_KEY_ID: m.accessKeyId,
    MERIDIAN_SECRET_ACCESS_KEY: m.secretAccessKey,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  });
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile('python3', [script], { env, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 }, (err, out, errOut) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: out, stderr: errOut });
    });
  });
  assert.equal(code, 0, `boto3 checks failed:\n${stdout}\n${stderr}`);
  for (const style of ['path', 'virtual']) {
    for (const check of ['objects', 'copy, tagging, attributes', 'delete_objects', 'multipart FULL_OBJECT CRC32', 'transfer manager', 'cors, lifecycle, acl, ownership, 501', 'list_buckets pages', 'presigned url']) {
      assert.ok(stdout.includes(`${style}: ${check}\n`), `${style}: ${check} ran`);
    }
  }
  assert.match(stdout, /cross-region redirect/);
});
