/**
 * Setting Meridian up for the benchmark over its real APIs (S3 REST-XML, KMS JSON 1.1, IAM Query),
 * signed with SigV4 exactly as a client would: a plain bucket for the throughput workloads, and the
 * seed scenario (SSE-KMS cross-region replication us-east-1 → us-east-2) for replication lag.
 */
import { createHash } from 'node:crypto';
import type { BenchClient } from './http-client.js';

const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

export async function kmsCreateKey(client: BenchClient, region: string, description: string): Promise<{ keyId: string; arn: string }> {
  const res = await client.ok(
    {
      method: 'POST',
      path: '/',
      region,
      service: 'kms',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.CreateKey' },
      body: JSON.stringify({ Description: description }),
      collect: true,
    },
    `kms CreateKey in ${region}`,
  );
  const meta = (JSON.parse(res.body!.toString('utf8')) as { KeyMetadata: { KeyId: string; Arn: string } }).KeyMetadata;
  return { keyId: meta.KeyId, arn: meta.Arn };
}

export async function createBucket(client: BenchClient, bucket: string, region: string): Promise<void> {
  const body =
    region === 'us-east-1'
      ? undefined
      : `<CreateBucketConfiguration xmlns="${S3_XMLNS}"><LocationConstraint>${region}</LocationConstraint></CreateBucketConfiguration>`;
  const r: Parameters<BenchClient['ok']>[0] = { method: 'PUT', path: `/${bucket}`, region, service: 's3' };
  if (body !== undefined) r.body = body;
  await client.ok(r, `CreateBucket ${bucket}`);
}

function contentMd5(body: string): string {
  return createHash('md5').update(body).digest('base64');
}

export async function enableVersioning(client: BenchClient, bucket: string, region: string): Promise<void> {
  const body = `<VersioningConfiguration xmlns="${S3_XMLNS}"><Status>Enabled</Status></VersioningConfiguration>`;
  await client.ok(
    // PutBucketVersioning, like PutBucketReplication, requires Content-MD5 (or an x-amz-checksum-*).
    { method: 'PUT', path: `/${bucket}?versioning`, region, service: 's3', headers: { 'content-md5': contentMd5(body) }, body },
    `PutBucketVersioning ${bucket}`,
  );
}

async function iam(client: BenchClient, params: Record<string, string>): Promise<string> {
  const res = await client.ok(
    {
      method: 'POST',
      path: '/',
      region: 'us-east-1',
      service: 'iam',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: new URLSearchParams({ Version: '2010-05-08', ...params }).toString(),
      collect: true,
    },
    `iam ${params.Action}`,
  );
  return res.body!.toString('utf8');
}

export interface ReplicationScenario {
  source: { bucket: string; region: string; keyArn: string };
  destination: { bucket: string; region: string; keyArn: string };
  roleArn: string;
}

/**
 * The seed scenario (issue text): KMS keys in us-east-1 and us-east-2, SRC (us-east-1) and DEST
 * (us-east-2) versioned, a role S3 may assume with the replication permissions, and a V1 rule
 * replicating SSE-KMS objects re-encrypted under the destination key.
 */
export async function setUpReplication(client: BenchClient, src: string, dest: string): Promise<ReplicationScenario> {
  const srcRegion = 'us-east-1';
  const destRegion = 'us-east-2';
  const srcKey = await kmsCreateKey(client, srcRegion, 'bench replication source key');
  const destKey = await kmsCreateKey(client, destRegion, 'bench replication destination key');
  await createBucket(client, src, srcRegion);
  await enableVersioning(client, src, srcRegion);
  await createBucket(client, dest, destRegion);
  await enableVersioning(client, dest, destRegion);

  // One role per scenario: a run may set up several in the same account.
  const roleName = `${src}-kms-role`;
  const trust = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: 'sts:AssumeRole' }],
  };
  const created = await iam(client, { Action: 'CreateRole', RoleName: roleName, AssumeRolePolicyDocument: JSON.stringify(trust) });
  const roleArn = /<Arn>([^<]+)<\/Arn>/.exec(created)?.[1];
  if (!roleArn) throw new Error(`CreateRole answered without a role ARN: ${created.slice(0, 300)}`);
  const permissions = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['s3:ListBucket', 's3:GetReplicationConfiguration', 's3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl'],
        Resource: [`arn:aws:s3:::${src}`, `arn:aws:s3:::${src}/*`],
      },
      {
        Effect: 'Allow',
        Action: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags', 's3:GetObjectVersionTagging'],
        Resource: `arn:aws:s3:::${dest}/*`,
        Condition: {
          StringLikeIfExists: {
            's3:x-amz-server-side-encryption': ['aws:kms', 'AES256'],
            's3:x-amz-server-side-encryption-aws-kms-key-id': [destKey.arn],
          },
        },
      },
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt'],
        Resource: srcKey.arn,
        Condition: { StringLike: { 'kms:ViaService': `s3.${srcRegion}.amazonaws.com`, 'kms:EncryptionContext:aws:s3:arn': [`arn:aws:s3:::${src}/*`] } },
      },
      {
        Effect: 'Allow',
        Action: ['kms:Encrypt'],
        Resource: destKey.arn,
        Condition: { StringLike: { 'kms:ViaService': `s3.${destRegion}.amazonaws.com`, 'kms:EncryptionContext:aws:s3:arn': [`arn:aws:s3:::${dest}/*`] } },
      },
    ],
  };
  await iam(client, { Action: 'PutRolePolicy', RoleName: roleName, PolicyName: 's3-crr-with-kms-role-permissions-policy', PolicyDocument: JSON.stringify(permissions) });

  const config =
    `<ReplicationConfiguration xmlns="${S3_XMLNS}"><Role>${roleArn}</Role>` +
    `<Rule><ID>bench-crr</ID><Prefix></Prefix><Status>Enabled</Status>` +
    `<SourceSelectionCriteria><SseKmsEncryptedObjects><Status>Enabled</Status></SseKmsEncryptedObjects></SourceSelectionCriteria>` +
    `<Destination><Bucket>arn:aws:s3:::${dest}</Bucket><EncryptionConfiguration><ReplicaKmsKeyID>${destKey.arn}</ReplicaKmsKeyID></EncryptionConfiguration></Destination>` +
    `</Rule></ReplicationConfiguration>`;
  await client.ok(
    {
      method: 'PUT',
      path: `/${src}?replication`,
      region: srcRegion,
      service: 's3',
      headers: { 'content-md5': contentMd5(config) },
      body: config,
    },
    `PutBucketReplication ${src}`,
  );
  return {
    source: { bucket: src, region: srcRegion, keyArn: srcKey.arn },
    destination: { bucket: dest, region: destRegion, keyArn: destKey.arn },
    roleArn,
  };
}
