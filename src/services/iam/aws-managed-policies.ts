/**
 * A few AWS managed policies (arn:aws:iam::aws:policy/...), so the usual
 * `aws iam attach-role-policy --policy-arn arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess` works.
 * Their documents are AWS's, narrowed to the services Meridian serves. They cannot be changed or
 * deleted, and every account sees the same ones.
 */
import type { ManagedPolicyRecord } from '../../storage/types.js';

const CREATED = Date.UTC(2015, 1, 6, 18, 40, 0);

function policy(name: string, path: string, description: string, statements: object[]): ManagedPolicyRecord {
  const document = JSON.stringify({ Version: '2012-10-17', Statement: statements });
  return {
    accountId: 'aws',
    policyName: name,
    // Stable ids: AWS's are fixed per policy too.
    policyId: `ANPA${Buffer.from(name).toString('hex').toUpperCase().replace(/[^A-Z2-7]/g, '').padEnd(17, 'A').slice(0, 17)}`,
    arn: `arn:aws:iam::aws:policy${path}${name}`,
    path,
    description,
    defaultVersionId: 'v1',
    versions: [{ versionId: 'v1', document, createdAt: CREATED }],
    createdAt: CREATED,
    updatedAt: CREATED,
  };
}

const ALL: ManagedPolicyRecord[] = [
  policy('AdministratorAccess', '/', 'Provides full access to AWS services and resources.', [{ Effect: 'Allow', Action: '*', Resource: '*' }]),
  policy('ReadOnlyAccess', '/', 'Provides read-only access to AWS services and resources.', [
    { Effect: 'Allow', Action: ['s3:Get*', 's3:List*', 'kms:Describe*', 'kms:Get*', 'kms:List*', 'iam:Get*', 'iam:List*'], Resource: '*' },
  ]),
  policy('AmazonS3FullAccess', '/', 'Provides full access to all buckets via the AWS Management Console.', [
    { Effect: 'Allow', Action: ['s3:*', 's3-object-lambda:*'], Resource: '*' },
  ]),
  policy('AmazonS3ReadOnlyAccess', '/', 'Provides read only access to all buckets via the AWS Management Console.', [
    { Effect: 'Allow', Action: ['s3:Get*', 's3:List*', 's3:Describe*', 's3-object-lambda:Get*', 's3-object-lambda:List*'], Resource: '*' },
  ]),
  policy('IAMFullAccess', '/', 'Provides full access to IAM via the AWS Management Console.', [{ Effect: 'Allow', Action: 'iam:*', Resource: '*' }]),
  policy('IAMReadOnlyAccess', '/', 'Provides read only access to IAM via the AWS Management Console.', [
    { Effect: 'Allow', Action: ['iam:GenerateCredentialReport', 'iam:Get*', 'iam:List*'], Resource: '*' },
  ]),
  policy('AWSKeyManagementServicePowerUser', '/', 'Provides access to AWS Key Management Service (AWS KMS).', [
    {
      Effect: 'Allow',
      Action: ['kms:CreateAlias', 'kms:CreateKey', 'kms:DeleteAlias', 'kms:Describe*', 'kms:GenerateRandom', 'kms:Get*', 'kms:List*', 'kms:TagResource', 'kms:UntagResource', 'iam:ListGroups', 'iam:ListRoles', 'iam:ListUsers'],
      Resource: '*',
    },
  ]),
];

const BY_ARN = new Map(ALL.map((p) => [p.arn, p]));

export function isAwsManagedArn(arn: string): boolean {
  return arn.startsWith('arn:aws:iam::aws:policy/');
}

export function awsManagedPolicy(arn: string): ManagedPolicyRecord | undefined {
  return BY_ARN.get(arn);
}

export function awsManagedPolicies(): ManagedPolicyRecord[] {
  return ALL;
}

/** A managed policy by ARN: AWS's own, or one of the store's customer managed policies. */
export async function findManagedPolicy(
  store: { getManagedPolicy(arn: string): Promise<ManagedPolicyRecord | undefined> },
  arn: string,
): Promise<ManagedPolicyRecord | undefined> {
  return isAwsManagedArn(arn) ? awsManagedPolicy(arn) : store.getManagedPolicy(arn);
}

/** The document of a managed policy's default version. */
export function defaultDocument(p: ManagedPolicyRecord): string | undefined {
  return p.versions.find((v) => v.versionId === p.defaultVersionId)?.document;
}
