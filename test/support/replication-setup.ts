/** The seed scenario's set-up with the AWS SDK v3 (for integration tests that need replication quickly). */
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, PutBucketReplicationCommand, PutBucketVersioningCommand, type BucketLocationConstraint, type S3Client } from '@aws-sdk/client-s3';
import { CreateKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { CreateRoleCommand, PutRolePolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
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

/** Clients of a deployment per region (IAM is global). */
export interface RegionClients {
  s3(region: string): S3Client;
  kms(region: string): KMSClient;
  iam(): IAMClient;
}

/**
 * The walkthrough's set-up between any two regions: a KMS key in each, versioned buckets, the
 * replication role (trust policy, permissions for these regions) and a rule with
 * SseKmsEncryptedObjects and ReplicaKmsKeyID.
 */
export async function setUpReplicationBetween(clients: RegionClients, srcRegion: string, destRegion: string): Promise<ScenarioNames> {
  const tag = randomBytes(4).toString('hex');
  const src = `src-${tag}`;
  const dest = `dest-${tag}`;
  const srcKeyArn = (await clients.kms(srcRegion).send(new CreateKeyCommand({ Description: 'source key' }))).KeyMetadata!.Arn!;
  const destKeyArn = (await clients.kms(destRegion).send(new CreateKeyCommand({ Description: 'replica key' }))).KeyMetadata!.Arn!;
  const bucket = async (region: string, name: string) => {
    const s3 = clients.s3(region);
    await s3.send(new CreateBucketCommand({ Bucket: name, ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }) }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
  };
  await bucket(srcRegion, src);
  await bucket(destRegion, dest);
  const roleName = `s3-crr-with-kms-role-${tag}`;
  const roleArn = (await clients.iam().send(new CreateRoleCommand({ RoleName: roleName, AssumeRolePolicyDocument: trustPolicy('s3.amazonaws.com') }))).Role!.Arn!;
  // The walkthrough's documents name us-east-1 → us-east-2; put these regions in kms:ViaService.
  const policy = permissionsPolicy({ src, dest, srcKeyArn, destKeyArn })
    .replaceAll('s3.us-east-2.amazonaws.com', '@DEST@')
    .replaceAll('s3.us-east-1.amazonaws.com', `s3.${srcRegion}.amazonaws.com`)
    .replaceAll('@DEST@', `s3.${destRegion}.amazonaws.com`);
  await clients.iam().send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: 'replication', PolicyDocument: policy }));
  const names = { src, dest, srcKeyArn, destKeyArn, roleArn };
  await clients.s3(srcRegion).send(new PutBucketReplicationCommand({ Bucket: src, ReplicationConfiguration: JSON.parse(replicationConfiguration(names)) }));
  return names;
}
