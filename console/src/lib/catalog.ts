/** Look-ups several pages share: a bucket's region, the buckets, a region's KMS keys and IAM roles. */
import { GetBucketLocationCommand, ListBucketsCommand } from '@aws-sdk/client-s3';
import { s3 } from '../aws';

const regions = new Map<string, Promise<string>>();

/** GetBucketLocation, as the CLI does it: '' or null means us-east-1, 'EU' eu-west-1. */
export function bucketRegion(bucket: string): Promise<string> {
  let p = regions.get(bucket);
  if (!p) {
    p = s3('us-east-1')
      .send(new GetBucketLocationCommand({ Bucket: bucket }))
      .then((r) => (!r.LocationConstraint ? 'us-east-1' : r.LocationConstraint === 'EU' ? 'eu-west-1' : r.LocationConstraint));
    p.catch(() => regions.delete(bucket));
    regions.set(bucket, p);
  }
  return p;
}

export function forgetBucket(bucket: string): void {
  regions.delete(bucket);
}

export interface BucketInfo {
  name: string;
  region: string;
  created?: Date;
}

export async function listBuckets(): Promise<BucketInfo[]> {
  const out = await s3('us-east-1').send(new ListBucketsCommand({}));
  const buckets = out.Buckets ?? [];
  return Promise.all(
    buckets.map(async (b) => {
      const info: BucketInfo = { name: b.Name!, region: await bucketRegion(b.Name!).catch(() => '?') };
      if (b.CreationDate) info.created = b.CreationDate;
      return info;
    }),
  );
}

export interface KeyChoice {
  arn: string;
  label: string;
}

/** A region's customer keys (and aliases), for key pickers. */
export async function keyChoices(region: string): Promise<KeyChoice[]> {
  const [{ ListAliasesCommand, ListKeysCommand }, { kms }] = await Promise.all([import('@aws-sdk/client-kms'), import('../aws-kms')]);
  const client = kms(region);
  const [keys, aliases] = await Promise.all([client.send(new ListKeysCommand({ Limit: 1000 })), client.send(new ListAliasesCommand({ Limit: 100 }))]);
  const names = new Map<string, string[]>();
  for (const a of aliases.Aliases ?? []) if (a.TargetKeyId) names.set(a.TargetKeyId, [...(names.get(a.TargetKeyId) ?? []), a.AliasName!]);
  return (keys.Keys ?? []).map((k) => ({ arn: k.KeyArn!, label: `${names.get(k.KeyId!)?.join(', ') ?? k.KeyId} (${region})` }));
}

export async function roleArns(): Promise<string[]> {
  const [{ ListRolesCommand }, { iam }] = await Promise.all([import('@aws-sdk/client-iam'), import('../aws-iam')]);
  const out = await iam().send(new ListRolesCommand({ MaxItems: 1000 }));
  return (out.Roles ?? []).map((r) => r.Arn!);
}

/** AWS commercial regions Meridian serves (src/regions/known-regions.ts). */
export { KNOWN_REGIONS } from '../../../src/regions/known-regions';
