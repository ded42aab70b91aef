/** The header of a bucket's pages: its name, region and the Objects / Settings / Replication tabs. */
import { bucketRegion } from '../lib/catalog';
import { href } from '../router';
import { useAsync } from '../ui';

export function BucketHeader({ bucket, current }: { bucket: string; current: 'objects' | 'settings' | 'replication' }) {
  const region = useAsync(() => bucketRegion(bucket), [bucket]);
  const tabs: [typeof current, string][] = [
    ['objects', 'Objects'],
    ['settings', 'Settings'],
    ['replication', 'Replication'],
  ];
  return (
    <>
      <p class="crumbs">
        <a href={href(['buckets'])}>Buckets</a> / <span>{bucket}</span>
        {region.data && <span class="badge">{region.data}</span>}
      </p>
      <nav class="tabs" aria-label={`Bucket ${bucket}`}>
        {tabs.map(([id, label]) => (
          <a key={id} href={href(['bucket', bucket, id])} aria-current={id === current ? 'page' : undefined}>
            {label}
          </a>
        ))}
      </nav>
    </>
  );
}

/** S3 says "not configured" with an error; these codes mean an empty setting, not a failure. */
export const NOT_CONFIGURED = new Set([
  'NoSuchBucketPolicy',
  'ServerSideEncryptionConfigurationNotFoundError',
  'OwnershipControlsNotFoundError',
  'NoSuchPublicAccessBlockConfiguration',
  'NoSuchTagSet',
  'NoSuchLifecycleConfiguration',
  'NoSuchCORSConfiguration',
  'ReplicationConfigurationNotFoundError',
]);

export async function orEmpty<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (e) {
    const name = (e as { name?: string; Code?: string }).Code ?? (e as { name?: string }).name ?? '';
    if (NOT_CONFIGURED.has(name)) return null;
    throw e;
  }
}
