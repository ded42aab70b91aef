/** The seed scenario's set-up with the AWS SDK v3 (for integration tests that need replication quickly). */
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, PutBucketReplicationCommand, PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { iamClient, kmsClient, s3Client } from './clients.js';
import type { MeridianProcess } from './meridian-process.js';
import { permissionsPolicy, replicationConfiguration, trustPolicy, type DocumentOptions, type ScenarioNames } from './replication-documents.js';

export async function setUpReplication(m: MeridianProcess, opts: DocumentOptions = {}): Promise<ScenarioNames> {
  const tag = randomBytes(4).toString('hex');
  const src = `src-${tag}`;
  const dest = `dest-${tag}`;
  const srcKeyArn = (await kmsClient(m, 'us-east-1').send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  const destKeyArn = (await kmsClient(m, 'us-east-2').send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  const east1 = s3Client(m, 'us-east-1');
  const east2 = s3Client(m, 'us-east-2');
  await east1.send(new CreateBucketCommand({ Bucket: src }));
  await east1.send(new PutBucketVersioningCommand({ Bucket: src, VersioningConfiguration: { Status: 'Enabled' } }));
  await east2.send(new CreateBucketCommand({ Bucket: dest, CreateBucketConfiguration: { LocationConstraint: 'us-east-2' } }));
  await east2.send(new PutBucketVersioningCommand({ Bucket: dest, VersioningConfiguration: { Status: 'Enabled' } }));
  const iam = iamClient(m);
  const roleName = `replication-${tag}`;
  const roleArn = (await iam.send(new CreateRoleCommand({ RoleName: roleName, AssumeRolePolicyDocument: trustPolicy('s3.amazonaws.com') }))).Role!.Arn!;
  await iam.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: 'replication', PolicyDocument: permissionsPolicy({ src, dest, srcKeyArn, destKeyArn }, opts) }));
  const config = JSON.parse(replicationConfiguration({ dest, destKeyArn, roleArn }, opts));
  await east1.send(new PutBucketReplicationCommand({ Bucket: src, ReplicationConfiguration: config }));
  return { src, dest, srcKeyArn, destKeyArn, roleArn };
}
