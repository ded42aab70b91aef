/**
 * V2 replication rules with the real aws CLI: filters with prefix and tags, priorities among rules
 * for one destination, several destinations with one aggregated status, storage class override,
 * delete marker replication on and off, version-specific deletes never replicated; two-way
 * replication without loops; and the validation errors PutBucketReplication answers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { AwsCli, walkthroughProfiles } from '../support/aws-cli.js';
import { eventually } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { trustPolicy } from '../support/replication-documents.js';

const REGIONS: Record<string, string> = { src_profile: 'us-east-1', dest_profile: 'us-east-2' };

describe('V2 replication rules with the aws CLI', () => {
  let m: MeridianProcess;
  let cli: AwsCli;

  before(async () => {
    m = await startMeridianProcess({ tls: false });
    const profiles = walkthroughProfiles(m, m.httpEndpoint);
    profiles.push({ ...profiles[0]!, name: 'west_profile', region: 'us-west-2' });
    cli = new AwsCli(profiles);
  });

  after(async () => {
    cli?.remove();
    await m?.stop();
  });

  const aws = (args: string[]) => cli.run(args);

  async function bucket(name: string, profile: string): Promise<void> {
    const region = REGIONS[profile] ?? 'us-west-2';
    const args = ['s3api', 'create-bucket', '--bucket', name, '--profile', profile];
    if (region !== 'us-east-1') args.push('--create-bucket-configuration', `LocationConstraint=${region}`);
    await aws(args);
    await aws(['s3api', 'put-bucket-versioning', '--bucket', name, '--versioning-configuration', 'Status=Enabled', '--profile', profile]);
  }

  /** A role S3 may assume, allowed to read `from` and replicate into each of `to`. */
  async function role(name: string, from: string, to: string[]): Promise<string> {
    const trust = cli.file(`trust-${name}.json`, trustPolicy('s3.amazonaws.com'));
    const arn = (await aws(['iam', 'create-role', '--role-name', name, '--assume-role-policy-document', `file://${trust}`, '--profile', 'src_profile', '--query', 'Role.Arn', '--output', 'text'])).stdout.trim();
    const policy = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: ['s3:GetReplicationConfiguration', 's3:ListBucket', 's3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging'], Resource: [`arn:aws:s3:::${from}`, `arn:aws:s3:::${from}/*`] },
        { Effect: 'Allow', Action: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'], Resource: to.map((b) => `arn:aws:s3:::${b}/*`) },
      ],
    };
    await aws(['iam', 'put-role-policy', '--role-name', name, '--policy-name', 'replication', '--policy-document', `file://${cli.file(`perm-${name}.json`, JSON.stringify(policy))}`, '--profile', 'src_profile']);
    return arn;
  }

  async function putReplication(bucketName: string, profile: string, config: unknown): Promise<void> {
    const file = cli.file(`replication-${bucketName}.json`, JSON.stringify(config));
    await aws(['s3api', 'put-bucket-replication', '--bucket', bucketName, '--replication-configuration', `file://${file}`, '--profile', profile]);
  }

  async function head(bucketName: string, key: string, profile: string, versionId?: string): Promise<any> {
    const args = ['s3api', 'head-object', '--bucket', bucketName, '--key', key, '--profile', profile];
    if (versionId) args.push('--version-id', versionId);
    return (await aws(args)).json;
  }

  async function until(bucketName: string, key: string, profile: string, status: string): Promise<any> {
    return eventually(async () => {
      const h = await head(bucketName, key, profile);
      return h.ReplicationStatus === status ? h : undefined;
    }, 30_000, 200);
  }

  async function versions(bucketName: string, profile: string, prefix: string): Promise<{ Versions?: any[]; DeleteMarkers?: any[] }> {
    return (await aws(['s3api', 'list-object-versions', '--bucket', bucketName, '--prefix', prefix, '--profile', profile])).json ?? {};
  }

  it('tags, prefixes and priorities choose the rule per destination; every matching destination gets a replica', async () => {
    const tag = randomBytes(3).toString('hex');
    const src = `v2-src-${tag}`;
    const d1 = `v2-d1-${tag}`;
    const d2 = `v2-d2-${tag}`;
    await bucket(src, 'src_profile');
    await bucket(d1, 'dest_profile');
    await bucket(d2, 'west_profile');
    const roleArn = await role(`v2-role-${tag}`, src, [d1, d2]);
    const config = {
      Role: roleArn,
      Rules: [
        { ID: 'blue-docs', Priority: 2, Filter: { And: { Prefix: 'docs/', Tags: [{ Key: 'team', Value: 'blue' }] } }, Status: 'Enabled', DeleteMarkerReplication: { Status: 'Disabled' }, Destination: { Bucket: `arn:aws:s3:::${d1}`, StorageClass: 'STANDARD_IA' } },
        { ID: 'docs', Priority: 1, Filter: { Prefix: 'docs/' }, Status: 'Enabled', DeleteMarkerReplication: { Status: 'Enabled' }, Destination: { Bucket: `arn:aws:s3:::${d1}` } },
        { ID: 'everything', Priority: 3, Filter: {}, Status: 'Enabled', DeleteMarkerReplication: { Status: 'Disabled' }, Destination: { Bucket: `arn:aws:s3:::${d2}` } },
      ],
    };
    await putReplication(src, 'src_profile', config);
    const echoed = (await aws(['s3api', 'get-bucket-replication', '--bucket', src, '--profile', 'src_profile'])).json.ReplicationConfiguration;
    assert.deepEqual(echoed.Rules[0].Filter, { And: { Prefix: 'docs/', Tags: [{ Key: 'team', Value: 'blue' }] } });
    assert.deepEqual(echoed.Rules.map((r: any) => [r.ID, r.Priority, r.DeleteMarkerReplication.Status]), [['blue-docs', 2, 'Disabled'], ['docs', 1, 'Enabled'], ['everything', 3, 'Disabled']]);
    assert.deepEqual(echoed.Rules[2].Filter, {});

    const body = cli.file('body.txt', 'replicate me\n');
    const blue = (await aws(['s3api', 'put-object', '--bucket', src, '--key', 'docs/blue.txt', '--body', body, '--tagging', 'team=blue', '--profile', 'src_profile'])).json.VersionId;
    const plain = (await aws(['s3api', 'put-object', '--bucket', src, '--key', 'docs/plain.txt', '--body', body, '--profile', 'src_profile'])).json.VersionId;
    const other = (await aws(['s3api', 'put-object', '--bucket', src, '--key', 'other/x.txt', '--body', body, '--profile', 'src_profile'])).json.VersionId;
    for (const k of ['docs/blue.txt', 'docs/plain.txt', 'other/x.txt']) await until(src, k, 'src_profile', 'COMPLETED');

    // The tagged object: rule blue-docs (priority 2 beats docs) to d1 with its storage class, and d2.
    const blueReplica = await head(d1, 'docs/blue.txt', 'dest_profile');
    assert.equal(blueReplica.VersionId, blue, 'the replica keeps the version id');
    assert.equal(blueReplica.ReplicationStatus, 'REPLICA');
    assert.equal(blueReplica.StorageClass, 'STANDARD_IA');
    assert.equal((await head(d2, 'docs/blue.txt', 'west_profile')).VersionId, blue);
    // The untagged one: rule docs to d1 (no storage class override), and d2.
    const plainReplica = await head(d1, 'docs/plain.txt', 'dest_profile');
    assert.equal(plainReplica.VersionId, plain);
    assert.equal(plainReplica.StorageClass, undefined, 'STANDARD is not sent');
    assert.equal((await head(d2, 'docs/plain.txt', 'west_profile')).VersionId, plain);
    // Outside docs/: only the catch-all rule to d2.
    assert.equal((await head(d2, 'other/x.txt', 'west_profile')).VersionId, other);
    assert.equal((await versions(d1, 'dest_profile', 'other/')).Versions, undefined);

    // Delete marker: rule docs replicates it to d1; rule everything (disabled for markers) not to d2.
    const marker = (await aws(['s3api', 'delete-object', '--bucket', src, '--key', 'docs/plain.txt', '--profile', 'src_profile'])).json.VersionId;
    const d1Markers = await eventually(async () => {
      const dm = (await versions(d1, 'dest_profile', 'docs/plain.txt')).DeleteMarkers;
      return dm && dm.length > 0 ? dm : undefined;
    }, 30_000, 200);
    assert.equal(d1Markers[0].VersionId, marker, 'the replicated marker keeps its version id');
    assert.equal(d1Markers[0].IsLatest, true);
    // A marker has no tags, so the tag rule never matches it: the marker of the tagged key goes by rule docs.
    await aws(['s3api', 'delete-object', '--bucket', src, '--key', 'docs/blue.txt', '--profile', 'src_profile']);
    await eventually(async () => ((await versions(d1, 'dest_profile', 'docs/blue.txt')).DeleteMarkers?.length === 1 ? true : undefined), 30_000, 200);
    // By now the markers to d2 would have replicated too, had the rule allowed it.
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await versions(d2, 'west_profile', 'docs/')).DeleteMarkers, undefined, 'DeleteMarkerReplication Disabled');

    // A version-specific delete is never replicated.
    await aws(['s3api', 'delete-object', '--bucket', src, '--key', 'other/x.txt', '--version-id', other, '--profile', 'src_profile']);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await head(d2, 'other/x.txt', 'west_profile', other)).VersionId, other);
  });

  it('two-way replication with ReplicaModifications: each side gets the other\'s objects, replicas never loop', async () => {
    const tag = randomBytes(3).toString('hex');
    const a = `tw-a-${tag}`;
    const b = `tw-b-${tag}`;
    await bucket(a, 'src_profile');
    await bucket(b, 'dest_profile');
    const rule = (dest: string) => ({
      ID: `to-${dest}`,
      Priority: 1,
      Filter: {},
      Status: 'Enabled',
      SourceSelectionCriteria: { ReplicaModifications: { Status: 'Enabled' } },
      DeleteMarkerReplication: { Status: 'Enabled' },
      Destination: { Bucket: `arn:aws:s3:::${dest}` },
    });
    await putReplication(a, 'src_profile', { Role: await role(`tw-ab-${tag}`, a, [b]), Rules: [rule(b)] });
    await putReplication(b, 'dest_profile', { Role: await role(`tw-ba-${tag}`, b, [a]), Rules: [rule(a)] });
    const body = cli.file('tw.txt', 'both ways\n');
    const fromA = (await aws(['s3api', 'put-object', '--bucket', a, '--key', 'from-a.txt', '--body', body, '--profile', 'src_profile'])).json.VersionId;
    const fromB = (await aws(['s3api', 'put-object', '--bucket', b, '--key', 'from-b.txt', '--body', body, '--profile', 'dest_profile'])).json.VersionId;
    await until(a, 'from-a.txt', 'src_profile', 'COMPLETED');
    await until(b, 'from-b.txt', 'dest_profile', 'COMPLETED');
    assert.equal((await head(b, 'from-a.txt', 'dest_profile')).ReplicationStatus, 'REPLICA');
    assert.equal((await head(a, 'from-b.txt', 'src_profile')).VersionId, fromB);
    await new Promise((r) => setTimeout(r, 1000));
    // Exactly one version of each key on each side: the replicas were not replicated back.
    for (const [bk, profile] of [[a, 'src_profile'], [b, 'dest_profile']] as const) {
      const v = await versions(bk, profile, '');
      assert.deepEqual(v.Versions?.map((x: any) => x.Key).sort(), ['from-a.txt', 'from-b.txt'], `${bk} holds one version per key`);
    }
    assert.equal((await head(a, 'from-a.txt', 'src_profile')).VersionId, fromA);

    // A tag change on the source version follows to its replica.
    const tags = async (bk: string, key: string, profile: string) =>
      (await aws(['s3api', 'get-object-tagging', '--bucket', bk, '--key', key, '--profile', profile])).json.TagSet as { Key: string; Value: string }[];
    await aws(['s3api', 'put-object-tagging', '--bucket', a, '--key', 'from-a.txt', '--tagging', 'TagSet=[{Key=stage,Value=reviewed}]', '--profile', 'src_profile']);
    await eventually(async () => ((await tags(b, 'from-a.txt', 'dest_profile')).some((t) => t.Value === 'reviewed') ? true : undefined), 30_000, 200);
    await until(a, 'from-a.txt', 'src_profile', 'COMPLETED');
    // ReplicaModifications: a tag change made on the replica flows back to the source.
    await aws(['s3api', 'put-object-tagging', '--bucket', b, '--key', 'from-a.txt', '--tagging', 'TagSet=[{Key=stage,Value=approved}]', '--profile', 'dest_profile']);
    await eventually(async () => ((await tags(a, 'from-a.txt', 'src_profile')).some((t) => t.Value === 'approved') ? true : undefined), 30_000, 200);
    assert.equal((await head(b, 'from-a.txt', 'dest_profile')).ReplicationStatus, 'REPLICA');
    // Removing the tags at the source removes them from the replica too.
    await aws(['s3api', 'delete-object-tagging', '--bucket', a, '--key', 'from-a.txt', '--profile', 'src_profile']);
    await eventually(async () => ((await tags(b, 'from-a.txt', 'dest_profile')).length === 0 ? true : undefined), 30_000, 200);
  });

  it('rejects what AWS rejects, with AWS\'s messages', async () => {
    const tag = randomBytes(3).toString('hex');
    const src = `val-src-${tag}`;
    const dst = `val-dst-${tag}`;
    await bucket(src, 'src_profile');
    await bucket(dst, 'dest_profile');
    const roleArn = await role(`val-role-${tag}`, src, [dst]);
    const base = { ID: 'r', Priority: 1, Filter: { Prefix: '' }, Status: 'Enabled', DeleteMarkerReplication: { Status: 'Disabled' }, Destination: { Bucket: `arn:aws:s3:::${dst}` } };
    const cases: [unknown, RegExp][] = [
      [{ Role: roleArn, Rules: [{ ...base, DeleteMarkerReplication: undefined }] }, /InvalidRequest.*DeleteMarkerReplication must be specified for this version of Cross Region Replication configuration schema/],
      [{ Role: roleArn, Rules: [{ ...base, Priority: undefined }] }, /InvalidRequest.*Priority must be specified/],
      [{ Role: roleArn, Rules: [{ ...base, Filter: { Tag: { Key: 'a', Value: 'b' } }, DeleteMarkerReplication: { Status: 'Enabled' } }] }, /InvalidRequest.*Delete marker replication is not supported if any Tag filter is specified/],
      [{ Role: roleArn, Rules: [base, { ...base, ID: 'r2', Filter: { Prefix: 'x' } }] }, /InvalidRequest.*duplicate priority/i],
      [{ Role: roleArn, Rules: [{ ID: 'v1', Prefix: '', Status: 'Enabled', Destination: { Bucket: `arn:aws:s3:::${dst}` } }, { ...base, ID: 'v2' }] }, /InvalidRequest/],
      [{ Role: roleArn, Rules: [{ ID: 'v1', Prefix: '', Priority: 1, Status: 'Enabled', Destination: { Bucket: `arn:aws:s3:::${dst}` } }] }, /Priority cannot be used for this version/],
      [{ Role: roleArn, Rules: [{ ...base, Destination: { Bucket: 'arn:aws:s3:::no-such-bucket-' + tag } }] }, /InvalidRequest.*Destination bucket must exist/],
      [{ Role: roleArn, Rules: [{ ...base, Destination: { Bucket: `arn:aws:s3:::${dst}`, ReplicationTime: { Status: 'Enabled', Time: { Minutes: 15 } } } }] }, /InvalidRequest.*both ReplicationTime and Metrics/],
    ];
    for (const [config, expected] of cases) {
      await assert.rejects(putReplication(src, 'src_profile', config), expected, JSON.stringify(config));
    }
    // RTC with metrics, both 15 minutes, is accepted.
    await putReplication(src, 'src_profile', {
      Role: roleArn,
      Rules: [{ ...base, Destination: { Bucket: `arn:aws:s3:::${dst}`, ReplicationTime: { Status: 'Enabled', Time: { Minutes: 15 } }, Metrics: { Status: 'Enabled', EventThreshold: { Minutes: 15 } } } }],
    });
  });
});
