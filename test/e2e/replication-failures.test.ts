/**
 * The seed scenario's failure variants (issue 2, step 8), with the real aws CLI: they fail the way
 * AWS fails, and Meridian's log says why (AWS's failure reason and the policy explanation).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AwsCli, walkthroughProfiles } from '../support/aws-cli.js';
import { eventually } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { setUpScenario, type Scenario } from './walkthrough.js';

interface LogLine {
  msg: string;
  reason?: string;
  detail?: string;
  key?: string;
  bucket?: string;
}

function failures(m: MeridianProcess): LogLine[] {
  return m
    .logs()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine)
    .filter((l) => l.msg === 'replication failed');
}

describe('seed scenario failure variants with the aws CLI', () => {
  let m: MeridianProcess;
  let cli: AwsCli;

  before(async () => {
    m = await startMeridianProcess({ tls: false });
    cli = new AwsCli(walkthroughProfiles(m, m.httpEndpoint));
  });

  after(async () => {
    cli?.remove();
    await m?.stop();
  });

  async function putKmsObject(s: Scenario, key: string): Promise<void> {
    const body = cli.file(`${key}.txt`, `secret ${key}\n`);
    await cli.run(['s3api', 'put-object', '--bucket', s.src, '--key', key, '--body', body, '--server-side-encryption', 'aws:kms', '--ssekms-key-id', s.srcKeyArn, '--profile', 'src_profile']);
  }

  async function statusOf(s: Scenario, key: string): Promise<string | undefined> {
    return (await cli.run(['s3api', 'head-object', '--bucket', s.src, '--key', key, '--profile', 'src_profile'])).json.ReplicationStatus;
  }

  async function assertNoReplica(s: Scenario, key: string): Promise<void> {
    const l = await cli.run(['s3api', 'list-object-versions', '--bucket', s.dest, '--prefix', key, '--profile', 'dest_profile']);
    assert.equal(l.json?.Versions, undefined, `no replica of ${key} in ${s.dest}`);
  }

  it('without kms:Encrypt on the destination key: FAILED, no replica, reason DstPutObjectNotPermitted naming kms:Encrypt', async () => {
    const s = await setUpScenario(cli, { withoutKmsEncrypt: true });
    await putKmsObject(s, 'no-encrypt');
    await eventually(async () => ((await statusOf(s, 'no-encrypt')) === 'FAILED' ? true : undefined), 30_000, 250);
    await assertNoReplica(s, 'no-encrypt');
    const f = failures(m).find((l) => l.bucket === s.src && l.key === 'no-encrypt');
    assert.equal(f?.reason, 'DstPutObjectNotPermitted');
    assert.match(f?.detail ?? '', /kms:Encrypt/);
    assert.match(f?.detail ?? '', new RegExp(s.destKeyArn.replace(/[/.]/g, '\\$&')));
  });

  it('with a trust policy naming another service: FAILED with AssumeRoleNotPermitted', async () => {
    const s = await setUpScenario(cli, { trustedService: 'ec2.amazonaws.com' });
    await putKmsObject(s, 'wrong-trust');
    await eventually(async () => ((await statusOf(s, 'wrong-trust')) === 'FAILED' ? true : undefined), 30_000, 250);
    await assertNoReplica(s, 'wrong-trust');
    assert.equal(failures(m).find((l) => l.bucket === s.src && l.key === 'wrong-trust')?.reason, 'AssumeRoleNotPermitted');
  });

  it('a rule without SseKmsEncryptedObjects does not replicate SSE-KMS objects (but does replicate SSE-S3 ones)', async () => {
    const s = await setUpScenario(cli, { sseKmsEncryptedObjects: false, replicaKmsKeyId: false });
    await putKmsObject(s, 'kms-skipped');
    const plain = cli.file('plain.txt', 'plain\n');
    await cli.run(['s3api', 'put-object', '--bucket', s.src, '--key', 'plain-replicated', '--body', plain, '--profile', 'src_profile']);
    // Once the later SSE-S3 object has replicated, the SSE-KMS one would have too if it were eligible.
    await eventually(async () => ((await statusOf(s, 'plain-replicated')) === 'COMPLETED' ? true : undefined), 30_000, 250);
    assert.equal(await statusOf(s, 'kms-skipped'), undefined, 'an ineligible object carries no replication status');
    await assertNoReplica(s, 'kms-skipped');
  });

  it('a rule with SseKmsEncryptedObjects but no ReplicaKmsKeyID is rejected with InvalidRequest', async () => {
    const s = await setUpScenario(cli, { replicaKmsKeyId: false }, false);
    await assert.rejects(
      cli.run(['s3api', 'put-bucket-replication', '--replication-configuration', `file://${s.replicationFile}`, '--bucket', s.src, '--profile', 'src_profile']),
      /InvalidRequest.*ReplicaKmsKeyID must be specified if SseKmsEncryptedObjects tag is present/,
    );
  });
});
