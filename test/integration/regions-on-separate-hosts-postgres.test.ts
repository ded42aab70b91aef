/**
 * Regions on separate hosts, scaled out: each host (network namespace) runs its region's PostgreSQL
 * and two gateways on it (one data directory), behind the round-robin delay proxy the other host
 * reaches it through (20 ms each way, HTTPS with the test CA). The walkthrough's SSE-KMS objects
 * replicate from us-east-1 to us-east-2; then the us-east-2 host's link is cut, writes go on
 * through both us-east-1 gateways, one of them is SIGKILLed with replication tasks in its hands,
 * the link is healed, and every version converges exactly once (the survivor takes the dead
 * gateway's tasks over after their lease).
 *
 * Each host's gateways keep their region in their own database; us-east-2's use the home's global
 * stores (accounts, IAM, bucket names) over the peer protocol. Needs root (namespaces) and Debian's PostgreSQL.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { eventually } from '../support/clients.js';
import { netnsUnavailable } from '../support/netns.js';
import { postgresUnavailable, startThrowawayPostgres } from '../support/postgres.js';
import type { ScenarioNames } from '../support/replication-documents.js';
import { setUpReplicationAcrossHosts, startRegionsOnSeparateHosts, type SeparateHosts } from '../support/separate-hosts.js';
import { bodyOf, listAllVersions } from '../support/version-listing.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const CONVERGE_MS = 240_000;

const skip = netnsUnavailable() ?? postgresUnavailable();

describe('regions on separate hosts, each with its PostgreSQL and two gateways', { skip }, () => {
  let hosts: SeparateHosts;
  let s: ScenarioNames;
  const written = new Map<string, { key: string; body: Buffer }>();
  const writes = new Map<string, number>();

  async function put(key: string, gateway: number): Promise<string> {
    const n = (writes.get(key) ?? 0) + 1;
    writes.set(key, n);
    const body = bodyOf(key, n);
    const r = await hosts.s3('us-east-1', gateway).send(new PutObjectCommand({ Bucket: s.src, Key: key, Body: body, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: s.srcKeyArn }));
    written.set(r.VersionId!, { key, body });
    return r.VersionId!;
  }

  /** Asked of the surviving gateway (1). */
  async function status(versionId: string): Promise<string | undefined> {
    const { key } = written.get(versionId)!;
    return (await hosts.s3('us-east-1', 1).send(new HeadObjectCommand({ Bucket: s.src, Key: key, VersionId: versionId }))).ReplicationStatus;
  }

  before(async () => {
    hosts = await startRegionsOnSeparateHosts({
      regions: ['us-east-1', 'us-east-2'],
      delayMs: 20,
      gateways: 2,
      // A short lease, so the survivor takes the killed gateway's tasks over within the test (default 5 min).
      env: { MERIDIAN_REPLICATION_POLL_MS: '200', MERIDIAN_REPLICATION_LEASE_MS: '5000' },
      hostEnv: async ({ host, net, dataDir, defer }) => {
        const pg = await startThrowawayPostgres({ launcher: net.launcher(host) });
        defer(() => pg.destroy());
        const url = await pg.createDatabase(`meridian_${host}`);
        const migrated = await net.run(host, process.execPath, [`${ROOT}bin/meridian.mjs`, 'migrate', '--metadata-url', url], undefined, { ...process.env, MERIDIAN_DATA_DIR: dataDir });
        if (migrated.code !== 0) throw new Error(`meridian migrate on ${host} failed: ${migrated.stderr}`);
        return { MERIDIAN_METADATA_URL: url };
      },
    });
    s = await setUpReplicationAcrossHosts(hosts, 'us-east-1', 'us-east-2');
  });

  after(async () => {
    await hosts?.stop();
  });

  it('the walkthrough replicates through either gateway, under the destination key', async () => {
    const versions = [await put('walk-0', 0), await put('walk-1', 1)];
    for (const v of versions) await eventually(async () => ((await status(v)) === 'COMPLETED' ? true : undefined), CONVERGE_MS, 200);
    for (const v of versions) {
      const { key, body } = written.get(v)!;
      for (const gateway of [0, 1]) {
        const replica = await hosts.s3('us-east-2', gateway).send(new GetObjectCommand({ Bucket: s.dest, Key: key, VersionId: v }));
        assert.equal(replica.ReplicationStatus, 'REPLICA');
        assert.equal(replica.SSEKMSKeyId, s.destKeyArn);
        assert.ok(Buffer.from(await replica.Body!.transformToByteArray()).equals(body));
      }
    }
  });

  it('link cut, a source gateway killed, link healed: every version converges exactly once', async (t) => {
    const keys = Array.from({ length: 12 }, (_, i) => `cut-${String(i).padStart(2, '0')}`);
    const markers: string[] = [];
    hosts.net.cut('use2');
    for (const [i, k] of keys.entries()) await put(k, i % 2);
    for (const k of keys.slice(0, 4)) await put(k, 1);
    for (const k of [keys[5]!, keys[6]!]) markers.push((await hosts.s3('us-east-1', 0).send(new DeleteObjectCommand({ Bucket: s.src, Key: k }))).VersionId!);
    // Let both gateways claim tasks and fail on the dead link, then kill one with its claims.
    await new Promise((r) => setTimeout(r, 3000));
    await hosts.regions['us-east-1']!.processes[0]!.kill();
    for (const k of keys.slice(8)) await put(k, 1);
    for (const v of written.keys()) if (!['walk-0', 'walk-1'].includes(written.get(v)!.key)) assert.equal(await status(v), 'PENDING');
    hosts.net.heal('use2');
    const healedAt = Date.now();

    for (const v of written.keys()) await eventually(async () => ((await status(v)) === 'COMPLETED' ? true : undefined), CONVERGE_MS, 250);
    const source = await listAllVersions(hosts.s3('us-east-1', 1), s.src);
    const replicated = await eventually(async () => {
      const d = await listAllVersions(hosts.s3('us-east-2', 0), s.dest);
      return [...source.counts.keys()].every((v) => d.counts.has(v)) ? d : undefined;
    }, CONVERGE_MS, 250);
    t.diagnostic(`${replicated.counts.size} versions and delete markers converged ${Date.now() - healedAt} ms after the heal, one source gateway dead`);
    for (const [v, n] of replicated.counts) assert.equal(n, 1, `version ${v} appears ${n} times at the destination`);
    assert.equal(replicated.counts.size, source.counts.size);
    assert.deepEqual(replicated.byKey, source.byKey, 'each key has the same versions, in the same order, with the same latest');
    for (const m of markers) assert.equal(replicated.counts.get(m), 1);
    for (const [v, { key, body }] of written) {
      const replica = await hosts.s3('us-east-2', 1).send(new GetObjectCommand({ Bucket: s.dest, Key: key, VersionId: v }));
      assert.equal(replica.SSEKMSKeyId, s.destKeyArn);
      assert.ok(Buffer.from(await replica.Body!.transformToByteArray()).equals(body), `${key} ${v}: the source bytes`);
    }
  });
});
