/**
 * SSE-C objects through replication with the real aws CLI over HTTPS: `aws s3 cp --sse-c` into the
 * walkthrough's source bucket (a multipart upload at this size), the replica read back from the
 * destination with the same key and refused without it; then the destination blocks SSE-C and the
 * next SSE-C object ends FAILED.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AwsCli, AwsCliError, walkthroughProfiles } from '../support/aws-cli.js';
import { eventually } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { setUpScenario } from './walkthrough.js';

describe('SSE-C replication with the aws CLI', () => {
  let m: MeridianProcess;
  let cli: AwsCli;

  before(async () => {
    m = await startMeridianProcess();
    cli = new AwsCli(walkthroughProfiles(m, m.httpsEndpoint!), { caBundle: m.certFile! });
  });

  after(async () => {
    cli?.remove();
    await m?.stop();
  });

  const aws = (args: string[]) => cli.run(args);

  it('aws s3 cp --sse-c: the object replicates without the key and is read at the destination with it', async () => {
    const s = await setUpScenario(cli);
    // 32 ASCII bytes, so s3api's --sse-customer-key (a string) and s3's fileb:// key file agree.
    const key = randomBytes(16).toString('hex');
    const keyFile = cli.file('customer.key', key);
    const sseC = ['--sse-c', 'AES256', '--sse-c-key', `fileb://${keyFile}`];
    const headWithKey = ['--sse-customer-algorithm', 'AES256', '--sse-customer-key', key];
    const body = randomBytes(9 * 1024 * 1024); // above the CLI's 8 MiB multipart threshold
    cli.file('secret.bin', body);
    await aws(['s3', 'cp', join(cli.dir, 'secret.bin'), `s3://${s.src}/secret.bin`, ...sseC, '--profile', 'src_profile']);

    const source = await eventually(async () => {
      const h = (await aws(['s3api', 'head-object', '--bucket', s.src, '--key', 'secret.bin', ...headWithKey, '--profile', 'src_profile'])).json;
      return h.ReplicationStatus === 'COMPLETED' ? h : undefined;
    }, 30_000, 200);
    const replica = (await aws(['s3api', 'head-object', '--bucket', s.dest, '--key', 'secret.bin', ...headWithKey, '--profile', 'dest_profile'])).json;
    assert.equal(replica.ReplicationStatus, 'REPLICA');
    assert.equal(replica.VersionId, source.VersionId);
    assert.equal(replica.ETag, source.ETag);
    assert.equal(replica.SSECustomerKeyMD5, source.SSECustomerKeyMD5);

    await aws(['s3', 'cp', `s3://${s.dest}/secret.bin`, join(cli.dir, 'secret.back'), ...sseC, '--profile', 'dest_profile']);
    assert.ok(readFileSync(join(cli.dir, 'secret.back')).equals(body));
    await assert.rejects(aws(['s3', 'cp', `s3://${s.dest}/secret.bin`, join(cli.dir, 'nokey.bin'), '--profile', 'dest_profile']), AwsCliError);

    // The destination now blocks SSE-C: the next SSE-C object cannot be replicated there.
    const blocked = JSON.stringify({ Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BlockedEncryptionTypes: { EncryptionType: ['SSE-C'] } }] });
    await aws(['s3api', 'put-bucket-encryption', '--bucket', s.dest, '--server-side-encryption-configuration', blocked, '--profile', 'dest_profile']);
    cli.file('small.bin', 'small secret');
    await aws(['s3', 'cp', join(cli.dir, 'small.bin'), `s3://${s.src}/small.bin`, ...sseC, '--profile', 'src_profile']);
    await eventually(async () => {
      const h = (await aws(['s3api', 'head-object', '--bucket', s.src, '--key', 'small.bin', ...headWithKey, '--profile', 'src_profile'])).json;
      return h.ReplicationStatus === 'FAILED' ? true : undefined;
    }, 30_000, 200);
  });
});
