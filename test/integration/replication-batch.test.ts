/**
 * Existing objects: live replication leaves them alone; Batch Replication (`meridian replication
 * batch`) and rules with ExistingObjectReplication replicate them, and FAILED versions again once
 * the cause is fixed, with a completion report of successes and AWS failure reasons.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GetBucketReplicationCommand, HeadObjectCommand, PutBucketReplicationCommand, PutObjectCommand, type ReplicationConfiguration } from '@aws-sdk/client-s3';
import { PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { eventually, iamClient, s3Client } from '../support/clients.js';
import { meridianCli } from '../support/meridian-cli.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { permissionsPolicy } from '../support/replication-documents.js';
import { setUpReplication } from '../support/replication-setup.js';

describe('batch and existing-object replication', () => {
  let m: MeridianProcess;

  before(async () => {
    m = await startMeridianProcess({ tls: false });
  });

  after(async () => {
    await m?.stop();
  });

  it('versions written before the configuration replicate only through a batch job, which reports each', async () => {
    const s = await setUpReplication(m);
    const s3 = s3Client(m);
    const config = (await s3.send(new GetBucketReplicationCommand({ Bucket: s.src }))).ReplicationConfiguration!;
    // Take the configuration away, write, put it back: the versions predate it.
    await s3.send(new PutBucketReplicationCommand({ Bucket: s.src, ReplicationConfiguration: { ...config, Rules: config.Rules!.map((r) => ({ ...r, Status: 'Disabled' })) } }));
    for (const k of ['old-1', 'old-2', 'old-3']) await s3.send(new PutObjectCommand({ Bucket: s.src, Key: k, Body: k, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: s.srcKeyArn }));
    await s3.send(new PutBucketReplicationCommand({ Bucket: s.src, ReplicationConfiguration: config }));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: s.src, Key: 'old-1' }))).ReplicationStatus, undefined, 'live replication does not pick up existing versions');

    const job = await meridianCli(m, ['replication', 'batch', '--bucket', s.src, '--wait', '--json']);
    assert.equal(job.code, 0, job.stderr);
    const report = JSON.parse(job.stdout);
    assert.deepEqual([report.status, report.total, report.succeeded, report.failed], ['Complete', 3, 3, 0]);
    for (const k of ['old-1', 'old-2', 'old-3']) {
      assert.equal((await s3.send(new HeadObjectCommand({ Bucket: s.src, Key: k }))).ReplicationStatus, 'COMPLETED');
      assert.equal((await s3Client(m, 'us-east-2').send(new HeadObjectCommand({ Bucket: s.dest, Key: k }))).ReplicationStatus, 'REPLICA');
    }
    const again = await meridianCli(m, ['replication', 'batch', '--bucket', s.src, '--json']);
    assert.equal(JSON.parse(again.stdout).versions, 0, 'nothing left that was never replicated');
  });

  it('FAILED versions: a batch reports the failure reason; once the role is fixed, a batch replicates them', async () => {
    const s = await setUpReplication(m, { withoutKmsEncrypt: true });
    const s3 = s3Client(m);
    await s3.send(new PutObjectCommand({ Bucket: s.src, Key: 'f', Body: 'f', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: s.srcKeyArn }));
    await eventually(async () => ((await s3.send(new HeadObjectCommand({ Bucket: s.src, Key: 'f' }))).ReplicationStatus === 'FAILED' ? true : undefined));

    const failing = await meridianCli(m, ['replication', 'batch', '--bucket', s.src, '--status', 'FAILED', '--wait', '--csv']);
    assert.equal(failing.code, 0, failing.stderr);
    assert.match(failing.stdout, new RegExp(`^${s.src},f,[^,]+,failed,DstPutObjectNotPermitted,400,DstPutObjectNotPermitted to ${s.dest}$`, 'm'));

    const roleName = s.roleArn.slice(s.roleArn.lastIndexOf('/') + 1);
    await iamClient(m).send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: 'replication', PolicyDocument: permissionsPolicy(s) }));
    const fixed = await meridianCli(m, ['replication', 'batch', '--bucket', s.src, '--status', 'FAILED', '--wait']);
    assert.equal(fixed.code, 0, fixed.stderr);
    assert.match(fixed.stdout, /Complete\n {2}1 operation\(s\): 1 succeeded, 0 failed, 0 pending/);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: s.src, Key: 'f' }))).ReplicationStatus, 'COMPLETED');
  });

  it('a rule with ExistingObjectReplication Enabled replicates what the bucket already holds', async () => {
    const s = await setUpReplication(m);
    const s3 = s3Client(m);
    const config = (await s3.send(new GetBucketReplicationCommand({ Bucket: s.src }))).ReplicationConfiguration!;
    const disabled: ReplicationConfiguration = { ...config, Rules: config.Rules!.map((r) => ({ ...r, Status: 'Disabled' })) };
    await s3.send(new PutBucketReplicationCommand({ Bucket: s.src, ReplicationConfiguration: disabled }));
    await s3.send(new PutObjectCommand({ Bucket: s.src, Key: 'existing', Body: 'e', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: s.srcKeyArn }));
    await s3.send(new PutBucketReplicationCommand({ Bucket: s.src, ReplicationConfiguration: { ...config, Rules: config.Rules!.map((r) => ({ ...r, ExistingObjectReplication: { Status: 'Enabled' } })) } }));
    await eventually(async () => ((await s3.send(new HeadObjectCommand({ Bucket: s.src, Key: 'existing' }))).ReplicationStatus === 'COMPLETED' ? true : undefined));
    const echoed = (await s3.send(new GetBucketReplicationCommand({ Bucket: s.src }))).ReplicationConfiguration!;
    assert.equal(echoed.Rules![0]!.ExistingObjectReplication?.Status, 'Enabled');
  });
});
