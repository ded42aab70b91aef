/**
 * Regions on separate hosts: us-east-1 and us-east-2 each served by its own `meridian serve` (split
 * mode) in its own network namespace, bound to its own address, the two reaching each other over
 * HTTPS (own CA, MERIDIAN_PEER_CA) through a proxy that adds 20 ms each way. The client sits in the
 * root namespace and talks to each host's address.
 *
 * The walkthrough's set-up (versioned buckets, a KMS key per region, the replication role and its
 * policy, SseKmsEncryptedObjects + ReplicaKmsKeyID) replicates SSE-KMS objects re-encrypted under
 * the destination's key. Then the destination host's link is cut (`ip link set … down`): writes,
 * overwrites and deletes go on at the source and stay PENDING; once the link is healed every
 * version and delete marker arrives exactly once, with the source's bytes and order.
 *
 * Needs root (network namespaces); skipped with the reason elsewhere.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { ListKeysCommand } from '@aws-sdk/client-kms';
import { eventually } from '../support/clients.js';
import { netnsUnavailable } from '../support/netns.js';
import type { ScenarioNames } from '../support/replication-documents.js';
import { setUpReplicationAcrossHosts, startRegionsOnSeparateHosts, type SeparateHosts } from '../support/separate-hosts.js';
import { bodyOf, listAllVersions } from '../support/version-listing.js';

const DELAY_MS = 20;
const CONVERGE_MS = 240_000;

const unavailable = netnsUnavailable();

describe('regions on separate hosts (network namespaces, 20 ms apart)', { skip: unavailable }, () => {
  let hosts: SeparateHosts;
  let s: ScenarioNames;
  /** Every object version written at the source: version id → key and bytes. */
  const written = new Map<string, { key: string; body: Buffer }>();
  const writes = new Map<string, number>();

  async function put(key: string): Promise<string> {
    const n = (writes.get(key) ?? 0) + 1;
    writes.set(key, n);
    const body = bodyOf(key, n);
    const r = await hosts.s3('us-east-1').send(new PutObjectCommand({ Bucket: s.src, Key: key, Body: body, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: s.srcKeyArn }));
    written.set(r.VersionId!, { key, body });
    return r.VersionId!;
  }

  async function status(versionId: string): Promise<string | undefined> {
    const { key } = written.get(versionId)!;
    return (await hosts.s3('us-east-1').send(new HeadObjectCommand({ Bucket: s.src, Key: key, VersionId: versionId }))).ReplicationStatus;
  }

  before(async () => {
    hosts = await startRegionsOnSeparateHosts({ regions: ['us-east-1', 'us-east-2'], delayMs: DELAY_MS });
    // The walkthrough: a key per region, versioned buckets, the role and its policy, the rule.
    s = await setUpReplicationAcrossHosts(hosts, 'us-east-1', 'us-east-2');
  });

  after(async () => {
    await hosts?.stop();
  });

  it('each region is served from its own host, and SSE-KMS replicas arrive encrypted under the destination key', async () => {
    const east1 = hosts.regions['us-east-1']!;
    const east2 = hosts.regions['us-east-2']!;
    assert.notEqual(east1.address, east2.address);
    assert.match(east1.process.httpEndpoint, new RegExp(`^http://${east1.address.replace(/\./g, '\\.')}:`));
    assert.match(east2.process.httpEndpoint, new RegExp(`^http://${east2.address.replace(/\./g, '\\.')}:`));

    const versions = [await put('walk-0'), await put('walk-1'), await put('walk-2'), await put('walk-3'), await put('walk-4')];
    for (const v of versions) await eventually(async () => ((await status(v)) === 'COMPLETED' ? true : undefined), CONVERGE_MS, 200);
    for (const v of versions) {
      const { key, body } = written.get(v)!;
      const source = await hosts.s3('us-east-1').send(new HeadObjectCommand({ Bucket: s.src, Key: key, VersionId: v }));
      assert.equal(source.SSEKMSKeyId, s.srcKeyArn);
      const replica = await hosts.s3('us-east-2').send(new GetObjectCommand({ Bucket: s.dest, Key: key, VersionId: v }));
      assert.equal(replica.ReplicationStatus, 'REPLICA');
      assert.equal(replica.ServerSideEncryption, 'aws:kms');
      assert.equal(replica.SSEKMSKeyId, s.destKeyArn, `${key}'s replica is under the us-east-2 key`);
      assert.ok(Buffer.from(await replica.Body!.transformToByteArray()).equals(body), `${key}'s replica has the source bytes`);
    }
    // The replicas crossed from host to host through the delay proxy, and us-east-2 asked the home
    // (IAM, the role) through the other one.
    assert.ok(east2.proxy.accepted > 0, 'us-east-1 reached us-east-2 through the link between the hosts');
    assert.ok(east1.proxy.accepted > 0, 'us-east-2 reached the home through the link between the hosts');
  });

  it('the destination host cut off: writes go on and stay PENDING; healed, every version converges exactly once', async (t) => {
    const src = hosts.s3('us-east-1');
    const keys = Array.from({ length: 16 }, (_, i) => `cut-${String(i).padStart(2, '0')}`);
    const duringCut: string[] = [];
    const markers: string[] = [];

    // Large versions whose replication is likely on the wire when the cable is pulled: a replica may
    // have arrived with its answer lost, and is sent again.
    for (const k of ['inflight-0', 'inflight-1', 'inflight-2']) {
      writes.set(k, 3);
      await put(k); // the 4th write of a key is large
    }
    hosts.net.cut('use2');
    // First batch: new keys, and a rewrite of the walkthrough's first key.
    for (const k of keys) duringCut.push(await put(k));
    duringCut.push(await put('walk-0'));
    // Let the source try the dead link for a while (connects time out, the destination is parked).
    await new Promise((r) => setTimeout(r, 5000));
    // Second batch: overwrites, delete markers, and a key written again after its delete marker.
    for (const k of keys.slice(0, 6)) duringCut.push(await put(k));
    for (const k of [keys[6]!, keys[7]!, keys[8]!, 'walk-1']) markers.push((await src.send(new DeleteObjectCommand({ Bucket: s.src, Key: k }))).VersionId!);
    duringCut.push(await put(keys[8]!));
    duringCut.push(await put(keys[0]!));

    for (const v of duringCut) assert.equal(await status(v), 'PENDING', `${written.get(v)!.key} (${v}) waits for the link`);
    assert.equal(hosts.net.linked('use2'), false);

    hosts.net.heal('use2');
    const healedAt = Date.now();

    // Every object version written anywhere in this file completes...
    for (const v of written.keys()) await eventually(async () => ((await status(v)) === 'COMPLETED' ? true : undefined), CONVERGE_MS, 250);
    // ... and the destination lists the same versions and delete markers as the source, key by key.
    const source = await listAllVersions(src, s.src);
    const dest = hosts.s3('us-east-2');
    const replicated = await eventually(async () => {
      const d = await listAllVersions(dest, s.dest);
      return [...source.counts.keys()].every((v) => d.counts.has(v)) ? d : undefined;
    }, CONVERGE_MS, 250);
    t.diagnostic(`${replicated.counts.size} versions and delete markers converged ${Date.now() - healedAt} ms after the link was healed`);
    for (const m of markers) assert.equal(replicated.counts.get(m), 1, `delete marker ${m} replicated once`);
    for (const [v, n] of replicated.counts) assert.equal(n, 1, `version ${v} appears ${n} times at the destination`);
    assert.equal(replicated.counts.size, source.counts.size, 'no version at the destination that the source lacks');
    assert.deepEqual(replicated.byKey, source.byKey, 'each key has the same versions, in the same order, with the same latest');
    assert.equal(source.counts.size, written.size + markers.length);

    // Each replica has the source's bytes, re-encrypted under the destination's key.
    for (const [v, { key, body }] of written) {
      const replica = await dest.send(new GetObjectCommand({ Bucket: s.dest, Key: key, VersionId: v }));
      assert.equal(replica.ReplicationStatus, 'REPLICA');
      assert.equal(replica.SSEKMSKeyId, s.destKeyArn);
      assert.ok(Buffer.from(await replica.Body!.transformToByteArray()).equals(body), `${key} ${v}: the replica has the source bytes`);
    }
    // What a reader of the destination sees: the latest write of each key, or nothing after a delete.
    for (const k of [keys[0]!, keys[5]!, keys[8]!, 'walk-0']) {
      const latest = await dest.send(new GetObjectCommand({ Bucket: s.dest, Key: k }));
      assert.ok(Buffer.from(await latest.Body!.transformToByteArray()).equals(bodyOf(k, writes.get(k)!)), `${k}: the latest write is the current version`);
    }
    for (const k of [keys[6]!, keys[7]!, 'walk-1']) {
      await assert.rejects(dest.send(new HeadObjectCommand({ Bucket: s.dest, Key: k })), (e: { name: string }) => e.name === 'NotFound', `${k} is deleted at the destination`);
    }
  });
});

/**
 * Three hosts: the home (IAM, STS, bucket names) on one, the source region and the destination on
 * the two others. The home's link is cut while replication from us-east-2 to us-west-2 is under
 * way: neither the role's session nor the destination's authorization of it can be had, which is
 * a passing fault, not a failure — the versions stay PENDING and complete once the home is back.
 * Meanwhile us-east-2's own S3 and KMS requests, which need the home for credentials, policies and
 * bucket names, answer AWS's 503 (ServiceUnavailable; KMS DependencyTimeoutException), not 500.
 */
describe('regions on separate hosts: the home host cut off during replication between the two others', { skip: unavailable }, () => {
  let hosts: SeparateHosts;

  before(async () => {
    hosts = await startRegionsOnSeparateHosts({
      regions: ['us-east-1', 'us-east-2', 'us-west-2'],
      delayMs: DELAY_MS,
      // Claimed tasks wait 4 s before they run, so they run while the home is away.
      hostEnv: ({ region }): Record<string, string> => (region === 'us-east-2' ? { MERIDIAN_TEST_REPLICATION_DELAY_MS: '4000' } : {}),
    });
  });

  after(async () => {
    await hosts?.stop();
  });

  it('versions stay PENDING while the home is unreachable and converge exactly once after', async (t) => {
    const { src, dest, srcKeyArn, destKeyArn } = await setUpReplicationAcrossHosts(hosts, 'us-east-2', 'us-west-2');
    const source = hosts.s3('us-east-2');
    const destination = hosts.s3('us-west-2');

    const put = async (key: string, n: number) => {
      const body = bodyOf(key, n);
      const r = await source.send(new PutObjectCommand({ Bucket: src, Key: key, Body: body, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: srcKeyArn }));
      return { key, body, versionId: r.VersionId! };
    };
    const replicationStatus = async (v: { key: string; versionId: string }) =>
      (await source.send(new HeadObjectCommand({ Bucket: src, Key: v.key, VersionId: v.versionId }))).ReplicationStatus;

    const first = await put('before-cut', 1);
    await eventually(async () => ((await replicationStatus(first)) === 'COMPLETED' ? true : undefined), CONVERGE_MS, 200);

    const versions = [];
    for (let i = 0; i < 8; i++) versions.push(await put(`home-away-${i % 5}`, i));
    const retriesBefore = (hosts.regions['us-east-2']!.process.logs().match(/replication will retry/g) ?? []).length;
    hosts.net.cut('use1');
    // Each claimed task waits 4 s, then meets the missing home; its retry is logged.
    await eventually(async () => ((hosts.regions['us-east-2']!.process.logs().match(/replication will retry/g) ?? []).length > retriesBefore ? true : undefined), 60_000, 200);
    const retry = hosts.regions['us-east-2']!.process.logs().split('\n').filter((l) => l.includes('replication will retry')).at(-1);
    t.diagnostic(`while the home was away: ${retry}`);
    // us-east-2's own requests need the home (credentials, policies, bucket names): AWS's 503, which clients retry.
    const answers: [string, () => Promise<unknown>, string][] = [
      ['GetObject', () => source.send(new GetObjectCommand({ Bucket: src, Key: first.key })), 'ServiceUnavailable'],
      ['PutObject', () => source.send(new PutObjectCommand({ Bucket: src, Key: 'while-home-away', Body: 'x' })), 'ServiceUnavailable'],
      ['CreateBucket', () => source.send(new CreateBucketCommand({ Bucket: `home-away-${Date.now()}`, CreateBucketConfiguration: { LocationConstraint: 'us-east-2' } })), 'ServiceUnavailable'],
      ['KMS ListKeys', () => hosts.kms('us-east-2').send(new ListKeysCommand({})), 'DependencyTimeoutException'],
    ];
    for (const [name, request, code] of answers) {
      const started = Date.now();
      const e = await request().then(
        () => assert.fail(`${name} succeeded while the home was cut off`),
        (err: { name: string; message: string; $metadata?: { httpStatusCode?: number } }) => err,
      );
      t.diagnostic(`home cut off: ${name} answered ${e.$metadata?.httpStatusCode} ${e.name} in ${Date.now() - started} ms`);
      assert.equal(e.$metadata?.httpStatusCode, 503, `${name}: ${e.name} ${e.message}`);
      assert.equal(e.name, code, `${name}: ${e.message}`);
      assert.match(e.message, /home region us-east-1/);
    }
    hosts.net.heal('use1');
    const healedAt = Date.now();

    for (const v of [first, ...versions]) await eventually(async () => ((await replicationStatus(v)) === 'COMPLETED' ? true : undefined), CONVERGE_MS, 250);
    t.diagnostic(`${versions.length} versions completed ${Date.now() - healedAt} ms after the home's link was healed`);
    const listed = await listAllVersions(destination, dest);
    const sourceListed = await listAllVersions(source, src);
    for (const [v, n] of listed.counts) assert.equal(n, 1, `version ${v} appears ${n} times at the destination`);
    assert.deepEqual(listed.byKey, sourceListed.byKey, 'each key has the same versions, in the same order');
    for (const v of [first, ...versions]) {
      const replica = await destination.send(new GetObjectCommand({ Bucket: dest, Key: v.key, VersionId: v.versionId }));
      assert.equal(replica.SSEKMSKeyId, destKeyArn);
      assert.ok(Buffer.from(await replica.Body!.transformToByteArray()).equals(v.body), `${v.key} ${v.versionId}: the source bytes`);
    }
  });
});
