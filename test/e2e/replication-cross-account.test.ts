/**
 * Cross-account replication with the aws CLI: the source account's role writes into another
 * account's bucket only when the destination's bucket policy and key policy allow it; with
 * AccessControlTranslation the replica belongs to the destination account. Validation of the
 * Destination Account against the bucket owner.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { AwsCli, AwsCliError } from '../support/aws-cli.js';
import { eventually } from '../support/clients.js';
import { meridianCli } from '../support/meridian-cli.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { trustPolicy } from '../support/replication-documents.js';

const DEST_ACCOUNT = '111122223333';

describe('cross-account replication with the aws CLI', () => {
  let m: MeridianProcess;
  let cli: AwsCli;

  before(async () => {
    m = await startMeridianProcess({ tls: false });
    const created = await meridianCli(m, ['accounts', 'create', '--name', 'destination-team', '--id', DEST_ACCOUNT], { MERIDIAN_DATA_DIR: m.dataDir });
    assert.equal(created.code, 0, created.stderr);
    const b = JSON.parse(created.stdout) as { accessKeyId: string; secretAccessKey: string };
    cli = new AwsCli([
      { name: 'src_profile', region: 'us-east-1', endpoint: m.httpEndpoint, accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey },
      { name: 'dest_account', region: 'us-east-2', endpoint: m.httpEndpoint, accessKeyId: b.accessKeyId, secretAccessKey: b.secretAccessKey },
    ]);
  });

  after(async () => {
    cli?.remove();
    await m?.stop();
  });

  const src = (args: string[]) => cli.run([...args, '--profile', 'src_profile']);
  const dst = (args: string[]) => cli.run([...args, '--profile', 'dest_account']);

  it('needs the destination bucket policy; with owner override the replica belongs to the destination account', async (t) => {
    const tag = randomBytes(3).toString('hex');
    const srcBucket = `xa-src-${tag}`;
    const destBucket = `xa-dest-${tag}`;
    const roleName = `xa-role-${tag}`;
    const srcAccount = m.accountId;

    await src(['s3api', 'create-bucket', '--bucket', srcBucket]);
    await src(['s3api', 'put-bucket-versioning', '--bucket', srcBucket, '--versioning-configuration', 'Status=Enabled']);
    const srcKey = (await src(['kms', 'create-key', '--query', 'KeyMetadata.Arn', '--output', 'text'])).stdout.trim();
    const roleArn = (await src(['iam', 'create-role', '--role-name', roleName, '--assume-role-policy-document', `file://${cli.file('trust.json', trustPolicy('s3.amazonaws.com'))}`, '--query', 'Role.Arn', '--output', 'text'])).stdout.trim();

    // The destination account: its bucket and a key whose policy lets the source role encrypt.
    await dst(['s3api', 'create-bucket', '--bucket', destBucket, '--create-bucket-configuration', 'LocationConstraint=us-east-2']);
    await dst(['s3api', 'put-bucket-versioning', '--bucket', destBucket, '--versioning-configuration', 'Status=Enabled']);
    const keyPolicy = {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'Owner', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${DEST_ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
        { Sid: 'SourceRoleEncrypts', Effect: 'Allow', Principal: { AWS: roleArn }, Action: ['kms:Encrypt', 'kms:GenerateDataKey*'], Resource: '*' },
      ],
    };
    const destKey = (await dst(['kms', 'create-key', '--policy', `file://${cli.file('key-policy.json', JSON.stringify(keyPolicy))}`, '--query', 'KeyMetadata.Arn', '--output', 'text'])).stdout.trim();

    const permissions = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: ['s3:GetReplicationConfiguration', 's3:ListBucket', 's3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging'], Resource: [`arn:aws:s3:::${srcBucket}`, `arn:aws:s3:::${srcBucket}/*`] },
        { Effect: 'Allow', Action: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags', 's3:ObjectOwnerOverrideToBucketOwner'], Resource: `arn:aws:s3:::${destBucket}/*` },
        { Effect: 'Allow', Action: 'kms:Decrypt', Resource: srcKey },
        { Effect: 'Allow', Action: 'kms:Encrypt', Resource: destKey },
      ],
    };
    await src(['iam', 'put-role-policy', '--role-name', roleName, '--policy-name', 'replication', '--policy-document', `file://${cli.file('perm.json', JSON.stringify(permissions))}`]);

    const config = (account: string) => ({
      Role: roleArn,
      Rules: [
        {
          ID: 'to-other-account', Priority: 1, Filter: {}, Status: 'Enabled', DeleteMarkerReplication: { Status: 'Enabled' },
          SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
          Destination: { Bucket: `arn:aws:s3:::${destBucket}`, Account: account, AccessControlTranslation: { Owner: 'Destination' }, EncryptionConfiguration: { ReplicaKmsKeyID: destKey } },
        },
      ],
    });
    await assert.rejects(
      src(['s3api', 'put-bucket-replication', '--bucket', srcBucket, '--replication-configuration', `file://${cli.file('wrong-account.json', JSON.stringify(config(srcAccount)))}`]),
      /InvalidArgument.*Destination Account must match the destination bucket owner/,
    );
    await src(['s3api', 'put-bucket-replication', '--bucket', srcBucket, '--replication-configuration', `file://${cli.file('config.json', JSON.stringify(config(DEST_ACCOUNT)))}`]);

    // Without a bucket policy the other account's bucket refuses the role.
    await src(['s3api', 'put-object', '--bucket', srcBucket, '--key', 'doc.txt', '--body', cli.file('doc.txt', 'cross-account'), '--server-side-encryption', 'aws:kms', '--ssekms-key-id', srcKey]);
    await eventually(async () => ((await src(['s3api', 'head-object', '--bucket', srcBucket, '--key', 'doc.txt'])).json.ReplicationStatus === 'FAILED' ? true : undefined), 30_000, 250);
    const explained = await meridianCli(m, ['replication', 'explain', '--bucket', srcBucket, '--key', 'doc.txt']);
    assert.match(explained.stdout, /fails with DstPutObjectNotPermitted/);
    assert.match(explained.stdout, new RegExp(`A bucket policy on ${destBucket} \\(it has none\\) must allow s3:ReplicateObject`));

    const bucketPolicy = {
      Version: '2012-10-17',
      Statement: [{ Sid: 'SourceRoleReplicates', Effect: 'Allow', Principal: { AWS: roleArn }, Action: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags', 's3:ObjectOwnerOverrideToBucketOwner'], Resource: `arn:aws:s3:::${destBucket}/*` }],
    };
    try {
      await dst(['s3api', 'put-bucket-policy', '--bucket', destBucket, '--policy', `file://${cli.file('bucket-policy.json', JSON.stringify(bucketPolicy))}`]);
    } catch (e) {
      if (e instanceof AwsCliError && /NotImplemented/.test(e.stderr)) {
        t.skip('PutBucketPolicy is not implemented in this tree yet (issue 4): the allowed half waits for it');
        return;
      }
      throw e;
    }
    const job = await meridianCli(m, ['replication', 'batch', '--bucket', srcBucket, '--status', 'FAILED', '--wait', '--json']);
    assert.equal(job.code, 0, job.stderr);
    assert.equal(JSON.parse(job.stdout).succeeded, 1, job.stdout);
    const replica = (await dst(['s3api', 'head-object', '--bucket', destBucket, '--key', 'doc.txt'])).json;
    assert.equal(replica.ReplicationStatus, 'REPLICA');
    assert.equal(replica.SSEKMSKeyId, destKey);
    const owner = (await dst(['s3api', 'list-buckets', '--query', 'Owner.ID', '--output', 'text'])).stdout.trim();
    const versions = (await dst(['s3api', 'list-object-versions', '--bucket', destBucket])).json.Versions;
    assert.equal(versions[0].Owner.ID, owner, 'owner override: the replica belongs to the destination account');
  });
});
