/**
 * Each replication failure reason produced on purpose with the aws CLI, then read back the way an
 * operator would: the source version is FAILED (or, for a delete marker, counted FAILED), `meridian
 * replication status` counts it under AWS's reason, and `meridian replication explain` replays the
 * version's path and reaches the same reason, saying what to change.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { AwsCli, walkthroughProfiles } from '../support/aws-cli.js';
import { eventually } from '../support/clients.js';
import { meridianCli } from '../support/meridian-cli.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { setUpScenario, type Scenario } from './walkthrough.js';

describe('every failure reason, produced and explained', () => {
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

  const src = (args: string[]) => cli.run([...args, '--profile', 'src_profile']);
  const dst = (args: string[]) => cli.run([...args, '--profile', 'dest_profile']);

  async function putKms(s: Scenario, key: string): Promise<void> {
    await src(['s3api', 'put-object', '--bucket', s.src, '--key', key, '--body', cli.file('body.txt', 'x'), '--server-side-encryption', 'aws:kms', '--ssekms-key-id', s.srcKeyArn]);
  }

  /** Rewrite the role's permissions, dropping some actions. */
  async function withoutActions(s: Scenario, actions: string[]): Promise<void> {
    const file = cli.file(`perm-${s.roleName}.json`, '');
    const policy = JSON.parse((await src(['iam', 'get-role-policy', '--role-name', s.roleName, '--policy-name', 's3-crr-with-kms-role-permissions-policy'])).stdout).PolicyDocument;
    for (const st of policy.Statement) st.Action = [st.Action].flat().filter((a: string) => !actions.includes(a));
    policy.Statement = policy.Statement.filter((st: { Action: string[] }) => st.Action.length > 0);
    cli.file(`perm-${s.roleName}.json`, JSON.stringify(policy));
    await src(['iam', 'put-role-policy', '--role-name', s.roleName, '--policy-name', 's3-crr-with-kms-role-permissions-policy', '--policy-document', `file://${file}`]);
  }

  async function failedWith(s: Scenario, key: string, reason: string): Promise<void> {
    await eventually(async () => {
      const r = JSON.parse((await meridianCli(m, ['replication', 'status', '--bucket', s.src, '--json'])).stdout);
      return r.failed.byReason.some((f: { reason: string }) => f.reason === reason) ? true : undefined;
    }, 30_000, 250);
    const explained = await meridianCli(m, ['replication', 'explain', '--bucket', s.src, '--key', key]);
    assert.equal(explained.code, 0, explained.stderr);
    assert.match(explained.stdout, new RegExp(`fails with ${reason}`), explained.stdout);
  }

  async function headStatus(s: Scenario, key: string): Promise<string | undefined> {
    return (await src(['s3api', 'head-object', '--bucket', s.src, '--key', key])).json.ReplicationStatus;
  }

  it('DstBucketUnversioned: versioning suspended on the destination after the rule was put', async () => {
    const s = await setUpScenario(cli);
    await dst(['s3api', 'put-bucket-versioning', '--bucket', s.dest, '--versioning-configuration', 'Status=Suspended']);
    await putKms(s, 'a');
    await failedWith(s, 'a', 'DstBucketUnversioned');
    assert.equal(await headStatus(s, 'a'), 'FAILED');
  });

  it('DstBucketNotFound: the destination bucket deleted', async () => {
    const s = await setUpScenario(cli);
    await dst(['s3api', 'delete-bucket', '--bucket', s.dest]);
    await putKms(s, 'a');
    await failedWith(s, 'a', 'DstBucketNotFound');
  });

  it('DstKmsKeyInvalidState: the destination key disabled', async () => {
    const s = await setUpScenario(cli);
    await dst(['kms', 'disable-key', '--key-id', s.destKeyArn]);
    await putKms(s, 'a');
    await failedWith(s, 'a', 'DstKmsKeyInvalidState');
  });

  it('DstKmsKeyNotFound: ReplicaKmsKeyID names no key (PutBucketReplication does not check it)', async () => {
    const s = await setUpScenario(cli, {}, false);
    const config = JSON.parse(readFileSync(s.replicationFile, 'utf8'));
    config.Rules[0].Destination.EncryptionConfiguration.ReplicaKmsKeyID = s.destKeyArn.replace(/key\/.*/, 'key/00000000-0000-4000-8000-000000000000');
    const file = cli.file('missing-key.json', JSON.stringify(config));
    await src(['s3api', 'put-bucket-replication', '--bucket', s.src, '--replication-configuration', `file://${file}`]);
    await putKms(s, 'a');
    await failedWith(s, 'a', 'DstKmsKeyNotFound');
  });

  it('SrcGetObjectNotPermitted: the role may not read the source for replication', async () => {
    const s = await setUpScenario(cli);
    await withoutActions(s, ['s3:GetObjectVersionForReplication']);
    await putKms(s, 'a');
    await failedWith(s, 'a', 'SrcGetObjectNotPermitted');
    const explained = await meridianCli(m, ['replication', 'explain', '--bucket', s.src, '--key', 'a']);
    assert.ok(explained.stdout.includes(`Add s3:GetObjectVersionForReplication on arn:aws:s3:::${s.src}/a to role ${s.roleArn}`), explained.stdout);
  });

  it('SrcKmsKeyInvalidState: the source key disabled before the version replicated (through a batch job)', async () => {
    const s = await setUpScenario(cli, {}, false);
    const config = JSON.parse(readFileSync(s.replicationFile, 'utf8'));
    config.Rules[0].Status = 'Disabled';
    await src(['s3api', 'put-bucket-replication', '--bucket', s.src, '--replication-configuration', `file://${cli.file('disabled.json', JSON.stringify(config))}`]);
    await putKms(s, 'a');
    await src(['kms', 'disable-key', '--key-id', s.srcKeyArn]);
    await src(['s3api', 'put-bucket-replication', '--bucket', s.src, '--replication-configuration', `file://${s.replicationFile}`]);
    const job = await meridianCli(m, ['replication', 'batch', '--bucket', s.src, '--wait', '--json']);
    assert.equal(job.code, 0, job.stderr);
    assert.deepEqual(JSON.parse(job.stdout).rows.map((r: { status: string; failureReason?: string }) => [r.status, r.failureReason]), [['failed', 'SrcKmsKeyInvalidState']]);
    await failedWith(s, 'a', 'SrcKmsKeyInvalidState');
  });

  it('DstDelObjNotPermitted: a delete marker the role may not replicate', async () => {
    const s = await setUpScenario(cli);
    await withoutActions(s, ['s3:ReplicateDelete']);
    await putKms(s, 'a');
    await eventually(async () => ((await headStatus(s, 'a')) === 'COMPLETED' ? true : undefined), 30_000, 250);
    await src(['s3api', 'delete-object', '--bucket', s.src, '--key', 'a']);
    await failedWith(s, 'a', 'DstDelObjNotPermitted');
  });

  it('AssumeRoleNotPermitted: a trust policy whose aws:SourceAccount condition names another account', async () => {
    const s = await setUpScenario(cli);
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': '111122223333' } } }] };
    await src(['iam', 'update-assume-role-policy', '--role-name', s.roleName, '--policy-document', `file://${cli.file('trust-other.json', JSON.stringify(trust))}`]);
    await putKms(s, 'a');
    await failedWith(s, 'a', 'AssumeRoleNotPermitted');
    const explained = await meridianCli(m, ['replication', 'explain', '--bucket', s.src, '--key', 'a']);
    assert.match(explained.stdout, /condition StringEquals limits aws:SourceAccount to "111122223333"; this request has "000000000000"/);
  });
});
