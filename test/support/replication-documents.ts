/**
 * The JSON documents of the seed walkthrough (trust policy, role permissions policy, replication
 * configuration), as the first issue spells them out. Options remove or change one thing, so
 * failure variants run the same path.
 */

export interface DocumentOptions {
  /** Leave the kms:Encrypt statement on the destination key out of the role's permissions. */
  withoutKmsEncrypt?: boolean;
  /** Include SourceSelectionCriteria.SseKmsEncryptedObjects (default true). */
  sseKmsEncryptedObjects?: boolean;
  /** Include EncryptionConfiguration.ReplicaKmsKeyID (default true). */
  replicaKmsKeyId?: boolean;
  /** Replication Time Control with its metrics (15 minutes): the rule is then a V2 rule (Filter, Priority). */
  replicationTime?: boolean;
}

export interface ScenarioNames {
  src: string;
  dest: string;
  srcKeyArn: string;
  destKeyArn: string;
  roleArn: string;
}

export function trustPolicy(service: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }],
  });
}

export function permissionsPolicy(s: Pick<ScenarioNames, 'src' | 'dest' | 'srcKeyArn' | 'destKeyArn'>, opts: DocumentOptions = {}): string {
  const statements: unknown[] = [
    {
      Effect: 'Allow',
      Action: ['s3:ListBucket', 's3:GetReplicationConfiguration', 's3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl'],
      Resource: [`arn:aws:s3:::${s.src}`, `arn:aws:s3:::${s.src}/*`],
    },
    {
      Effect: 'Allow',
      Action: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags', 's3:GetObjectVersionTagging'],
      Condition: {
        StringLikeIfExists: {
          's3:x-amz-server-side-encryption': ['aws:kms', 'AES256'],
          's3:x-amz-server-side-encryption-aws-kms-key-id': [s.destKeyArn],
        },
      },
      Resource: `arn:aws:s3:::${s.dest}/*`,
    },
    {
      Effect: 'Allow',
      Action: ['kms:Decrypt'],
      Condition: { StringLike: { 'kms:ViaService': 's3.us-east-1.amazonaws.com', 'kms:EncryptionContext:aws:s3:arn': [`arn:aws:s3:::${s.src}/*`] } },
      Resource: [s.srcKeyArn],
    },
  ];
  if (!opts.withoutKmsEncrypt) {
    statements.push({
      Effect: 'Allow',
      Action: ['kms:Encrypt'],
      Condition: { StringLike: { 'kms:ViaService': 's3.us-east-2.amazonaws.com', 'kms:EncryptionContext:aws:s3:arn': [`arn:aws:s3:::${s.dest}/*`] } },
      Resource: [s.destKeyArn],
    });
  }
  return JSON.stringify({ Version: '2012-10-17', Statement: statements }, null, 2);
}

export function replicationConfiguration(s: Pick<ScenarioNames, 'dest' | 'destKeyArn' | 'roleArn'>, opts: DocumentOptions = {}): string {
  const destination: Record<string, unknown> = { Bucket: `arn:aws:s3:::${s.dest}` };
  if (opts.replicaKmsKeyId !== false) destination.EncryptionConfiguration = { ReplicaKmsKeyID: s.destKeyArn };
  let rule: Record<string, unknown> = { Prefix: '', Status: 'Enabled', Destination: destination };
  if (opts.replicationTime) {
    destination.ReplicationTime = { Status: 'Enabled', Time: { Minutes: 15 } };
    destination.Metrics = { Status: 'Enabled', EventThreshold: { Minutes: 15 } };
    rule = { ID: 'rtc', Priority: 1, Filter: { Prefix: '' }, DeleteMarkerReplication: { Status: 'Disabled' }, Status: 'Enabled', Destination: destination };
  }
  if (opts.sseKmsEncryptedObjects !== false) rule.SourceSelectionCriteria = { SseKmsEncryptedObjects: { Status: 'Enabled' } };
  return JSON.stringify({ Role: s.roleArn, Rules: [rule] }, null, 2);
}
