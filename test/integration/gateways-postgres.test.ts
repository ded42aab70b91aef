/**
 * Several `meridian serve` processes on one PostgreSQL database (MERIDIAN_METADATA_URL) and one data
 * directory are interchangeable gateways: a client may send any request to any of them. Real
 * processes, a real throwaway PostgreSQL, the AWS SDK v3:
 * - a multipart upload spread over three gateways; a write on one read and listed on another at once;
 * - races decided in the database: one CreateBucket of a name wins, one If-None-Match:* PUT wins;
 * - IAM, bucket policy and KMS key state changed on one gateway are enforced by the others at once;
 * - replication: a PUT committed on one gateway wakes the workers of the others (LISTEN/NOTIFY), each
 *   version is replicated exactly once;
 * - faults: SIGKILL of a gateway under load (the others serve on, its claimed tasks are taken over
 *   after their lease, every acknowledged PUT is whole), PostgreSQL restarted under load (503 while it
 *   is down, the gateways come back by themselves, nothing acknowledged is lost).
 */
import assert from 'node:assert/strict';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketPolicyCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { CreateKeyCommand, DisableKeyCommand, EnableKeyCommand } from '@aws-sdk/client-kms';
import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { eventually, iamClient, kmsClient, s3Client, type Credentials } from '../support/clients.js';
import { meridianCli, meridianOnDataDir } from '../support/meridian-cli.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { postgresUnavailable, startThrowawayPostgres, type ThrowawayPostgres } from '../support/postgres.js';
import { setUpReplication } from '../support/replication-setup.js';

const skip = postgresUnavailable();
const KiB = 1024;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

type AwsError = { name?: string; $metadata?: { httpStatusCode?: number } };
const status = (e: unknown) => (e as AwsError).$metadata?.httpStatusCode;

/** A body derived from its label alone (so any object found later can be checked whole). */
function bodyFor(label: string, max = 200 * KiB): Buffer {
  const h = createHash('sha256').update(label).digest();
  const size = 1 + (h.readUInt32BE(0) % max);
  const cipher = createCipheriv('aes-256-ctr', h, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}

async function bytesOf(s3: S3Client, bucket: string, key: string, versionId?: string): Promise<Buffer> {
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }));
  return Buffer.from(await got.Body!.transformToByteArray());
}

/** One attempt per request: a failure is seen, not retried away by the SDK. */
function onceClient(m: MeridianProcess, region = 'us-east-1'): S3Client {
  return new S3Client({ endpoint: m.httpEndpoint, region, forcePathStyle: true, credentials: { accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey }, maxAttempts: 1, logger: quiet });
}

/** The 'replicated' debug lines of a gateway's log: one per replica written by its workers. */
function replicatedKeys(m: MeridianProcess): string[] {
  return m
    .logs()
    .split('\n')
    .filter((l) => l.includes('"replicated"'))
    .map((l) => (JSON.parse(l) as { key: string }).key);
}

describe('several gateways on one PostgreSQL', { skip }, () => {
  let pg: ThrowawayPostgres;
  const running: MeridianProcess[] = [];
  const dirs: string[] = [];
  const keys = { accessKeyId: 'AKIAPGGATEWAYSTEST01', secretAccessKey: 'pg-gateways-test-secret-key-0123456789ab' };

  before(async () => {
    pg = await startThrowawayPostgres();
  });
  after(async () => {
    for (const m of running) {
      // A gateway that died on its own (not killed by a test) says why.
      if (m.child.exitCode !== null && m.child.signalCode !== 'SIGKILL') console.log(`# gateway ${m.httpEndpoint} exited ${m.child.exitCode}:\n${m.logs().slice(-4000)}`);
      await m.stop({ keepData: true }).catch(() => undefined);
    }
    await pg?.destroy();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** A fresh database and data directory, migrated, and `n` gateways on them (started one by one). */
  async function deployment(n: number, env: Record<string, string> = {}, perGateway: (i: number) => Record<string, string> = () => ({})): Promise<MeridianProcess[]> {
    const url = await pg.createDatabase();
    const dataDir = mkdtempSync(join(tmpdir(), 'meridian-pg-gws-'));
    dirs.push(dataDir);
    const migrated = await meridianOnDataDir(['migrate', '--metadata-url', url], dataDir);
    assert.equal(migrated.code, 0, migrated.stderr);
    const gateways: MeridianProcess[] = [];
    for (let i = 0; i < n; i++) {
      const m = await startMeridianProcess({ dataDir, env: { MERIDIAN_METADATA_URL: url, ...env, ...perGateway(i) }, tls: false, ...keys });
      running.push(m);
      gateways.push(m);
    }
    return gateways;
  }

  it('any request to any gateway: multipart over three, read-after-write, races decided once', async () => {
    const [a, b, c] = await deployment(3, { MERIDIAN_TEST_MIN_PART_SIZE: '1024' });
    const [s3a, s3b, s3c] = [a!, b!, c!].map((m) => s3Client(m));

    // Multipart: created on A, parts on B and C, completed on A, read on C.
    await s3a.send(new CreateBucketCommand({ Bucket: 'shared' }));
    const { UploadId } = await s3a.send(new CreateMultipartUploadCommand({ Bucket: 'shared', Key: 'big' }));
    const part1 = bodyFor('part-1', 64 * KiB).subarray(0, 8 * KiB);
    const part2 = bodyFor('part-2', 64 * KiB);
    const p1 = await s3b!.send(new UploadPartCommand({ Bucket: 'shared', Key: 'big', UploadId, PartNumber: 1, Body: part1 }));
    const p2 = await s3c!.send(new UploadPartCommand({ Bucket: 'shared', Key: 'big', UploadId, PartNumber: 2, Body: part2 }));
    await s3a.send(new CompleteMultipartUploadCommand({ Bucket: 'shared', Key: 'big', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag! }, { PartNumber: 2, ETag: p2.ETag! }] } }));
    assert.deepEqual(await bytesOf(s3c!, 'shared', 'big'), Buffer.concat([part1, part2]));

    // PUT on A, then at once GET and LIST on B.
    for (let i = 0; i < 5; i++) {
      const key = `raw/${i}`;
      await s3a.send(new PutObjectCommand({ Bucket: 'shared', Key: key, Body: bodyFor(key) }));
      assert.deepEqual(await bytesOf(s3b!, 'shared', key), bodyFor(key));
      const listed = await s3b!.send(new ListObjectsV2Command({ Bucket: 'shared', Prefix: 'raw/' }));
      assert.equal(listed.KeyCount, i + 1);
    }

    // CreateBucket of one name through every gateway at once: one creates it, the others are told it is theirs already.
    const name = `race-${randomBytes(4).toString('hex')}`;
    const creates = await Promise.allSettled(
      [a!, b!, c!, a!, b!, c!].map((m) => s3Client(m, 'eu-west-1').send(new CreateBucketCommand({ Bucket: name, CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }))),
    );
    if (creates.some((r) => r.status === 'rejected' && (r.reason as Error).name === 'InternalError')) for (const m of [a!, b!, c!]) console.log(m.logs().split('\n').filter((l) => /"level":50/.test(l)).join('\n'));
    assert.equal(creates.filter((r) => r.status === 'fulfilled').length, 1, JSON.stringify(creates.map((r) => (r.status === 'rejected' ? (r.reason as Error).name : 'ok'))));
    for (const r of creates) if (r.status === 'rejected') assert.equal((r.reason as Error).name, 'BucketAlreadyOwnedByYou');

    // If-None-Match: * raced over the gateways: exactly one 200, every other 412, and the winner's bytes stay.
    for (let round = 0; round < 3; round++) {
      const key = `once-${round}`;
      const puts = await Promise.allSettled(
        [a!, b!, c!, a!, b!, c!].map((m, i) => onceClient(m).send(new PutObjectCommand({ Bucket: 'shared', Key: key, Body: bodyFor(`${key}/${i}`), IfNoneMatch: '*' })).then(() => i)),
      );
      const won = puts.filter((r): r is PromiseFulfilledResult<number> => r.status === 'fulfilled');
      assert.equal(won.length, 1, `round ${round}: ${JSON.stringify(puts.map((r) => (r.status === 'rejected' ? status(r.reason) : 200)))}`);
      for (const r of puts) if (r.status === 'rejected') assert.equal(status(r.reason), 412);
      assert.deepEqual(await bytesOf(s3c!, 'shared', key), bodyFor(`${key}/${won[0]!.value}`));
    }
  });

  it('IAM, bucket policy and KMS key state changed on one gateway hold on the others at once', async () => {
    const [a, b, c] = await deployment(3);
    const s3a = s3Client(a!);
    await s3a.send(new CreateBucketCommand({ Bucket: 'guarded' }));
    await s3a.send(new PutObjectCommand({ Bucket: 'guarded', Key: 'doc', Body: 'secret' }));
    const iam = iamClient(a!);
    await iam.send(new CreateUserCommand({ UserName: 'reader' }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'reader' }))).AccessKey!;
    const reader: Credentials = { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! };
    const readerOn = (m: MeridianProcess) => {
      const s3 = s3Client(m, 'us-east-1', reader);
      s3.config.maxAttempts = async () => 1;
      return s3;
    };
    const userArn = `arn:aws:iam::${a!.accountId}:user/reader`;

    // No policy yet: denied everywhere. The allow is written on A and holds on B at once.
    await assert.rejects(readerOn(b!).send(new GetObjectCommand({ Bucket: 'guarded', Key: 'doc' })), (e) => status(e) === 403);
    await iam.send(new PutUserPolicyCommand({ UserName: 'reader', PolicyName: 'read', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::guarded/*' }] }) }));
    assert.equal(await (await readerOn(b!).send(new GetObjectCommand({ Bucket: 'guarded', Key: 'doc' }))).Body!.transformToString(), 'secret');
    // The allow replaced by a deny on A: B refuses at once.
    await iam.send(new PutUserPolicyCommand({ UserName: 'reader', PolicyName: 'read', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 's3:GetObject', Resource: 'arn:aws:s3:::guarded/*' }] }) }));
    await assert.rejects(readerOn(b!).send(new GetObjectCommand({ Bucket: 'guarded', Key: 'doc' })), (e) => status(e) === 403);
    await iam.send(new PutUserPolicyCommand({ UserName: 'reader', PolicyName: 'read', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::guarded/*' }] }) }));
    assert.equal(await (await readerOn(c!).send(new GetObjectCommand({ Bucket: 'guarded', Key: 'doc' }))).Body!.transformToString(), 'secret');

    // A bucket policy denying the user, put on A: C refuses at once; deleted on B: C allows again.
    await s3a.send(new PutBucketPolicyCommand({ Bucket: 'guarded', Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: { AWS: userArn }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::guarded/*' }] }) }));
    await assert.rejects(readerOn(c!).send(new GetObjectCommand({ Bucket: 'guarded', Key: 'doc' })), (e) => status(e) === 403);
    await s3Client(b!).send(new DeleteBucketPolicyCommand({ Bucket: 'guarded' }));
    assert.equal(await (await readerOn(c!).send(new GetObjectCommand({ Bucket: 'guarded', Key: 'doc' }))).Body!.transformToString(), 'secret');

    // A KMS key used by an object written on B, disabled on A: C cannot decrypt at once; enabled on B: C can.
    const kmsKey = (await kmsClient(a!).send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    await s3Client(b!).send(new PutObjectCommand({ Bucket: 'guarded', Key: 'sealed', Body: 'under kms', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: kmsKey }));
    assert.equal(await (await s3Client(c!).send(new GetObjectCommand({ Bucket: 'guarded', Key: 'sealed' }))).Body!.transformToString(), 'under kms');
    await kmsClient(a!).send(new DisableKeyCommand({ KeyId: kmsKey }));
    await assert.rejects(onceClient(c!).send(new GetObjectCommand({ Bucket: 'guarded', Key: 'sealed' })), (e: AwsError) => /Disabled/.test(e.name ?? ''));
    await kmsClient(b!).send(new EnableKeyCommand({ KeyId: kmsKey }));
    assert.equal(await (await s3Client(c!).send(new GetObjectCommand({ Bucket: 'guarded', Key: 'sealed' }))).Body!.transformToString(), 'under kms');
  });

  it('a PUT committed on one gateway wakes the others’ replication workers (NOTIFY); each version replicated once', async () => {
    // Polling every 10 minutes: only a notification can make B and C claim within the test. A's own
    // workers are paused by an injected fault, so every replica below is written by B or C.
    const [a, b, c] = await deployment(3, { MERIDIAN_FAULTS: 'on', MERIDIAN_REPLICATION_POLL_MS: '600000', MERIDIAN_LOG_LEVEL: 'debug' });
    const names = await setUpReplication(a!);
    const paused = await meridianCli(a!, ['faults', 'add', '--kind', 'pause-workers', '--target', 'us-east-1', '--duration', '30m']);
    assert.equal(paused.code, 0, paused.stderr);
    const s3a = s3Client(a!);
    const written = new Map<string, string>(); // key -> version id
    for (let i = 0; i < 12; i++) {
      const key = `n/${i}`;
      written.set(key, (await s3a.send(new PutObjectCommand({ Bucket: names.src, Key: key, Body: bodyFor(key) }))).VersionId!);
    }
    const dest = s3Client(c!, 'us-east-2');
    for (const [key, versionId] of written) {
      const head = await eventually(async () => {
        const h = await s3Client(b!).send(new HeadObjectCommand({ Bucket: names.src, Key: key }));
        return h.ReplicationStatus === 'COMPLETED' ? h : undefined;
      }, 60_000);
      assert.equal(head.VersionId, versionId);
      assert.deepEqual(await bytesOf(dest, names.dest, key, versionId), bodyFor(key));
    }
    const byB = replicatedKeys(b!);
    const byC = replicatedKeys(c!);
    assert.deepEqual(replicatedKeys(a!), [], 'A’s workers are paused');
    assert.deepEqual([...byB, ...byC].sort(), [...written.keys()].sort(), 'every version replicated exactly once, by B or C');
    const versions = await dest.send(new ListObjectVersionsCommand({ Bucket: names.dest }));
    assert.equal(versions.Versions?.length, written.size);
  });

  it('SIGKILL of one gateway under load: the others serve on, take over its tasks after the lease, lose nothing acknowledged', async () => {
    // Only C replicates at first (A's and B's workers paused), slowly, so C dies with tasks claimed.
    const [a, b, c] = await deployment(3, { MERIDIAN_FAULTS: 'on', MERIDIAN_REPLICATION_LEASE_MS: '3000', MERIDIAN_REPLICATION_POLL_MS: '500' }, (i): Record<string, string> =>
      i === 2 ? { MERIDIAN_TEST_REPLICATION_DELAY_MS: '1500' } : {},
    );
    const names = await setUpReplication(a!);
    for (const m of [a!, b!]) assert.equal((await meridianCli(m, ['faults', 'add', '--kind', 'pause-workers', '--target', 'us-east-1', '--duration', '30m'])).code, 0);
    const gateways = [a!, b!, c!];
    const acked = new Map<string, string>(); // key -> version id
    const failed: string[] = [];
    let killed = false;
    let afterKill = 0;
    const writer = async (w: number) => {
      for (let seq = 0; seq < 40; seq++) {
        const m = gateways[(w + seq) % 3]!;
        if (killed && m === c) continue;
        const key = `w${w}/${String(seq).padStart(3, '0')}`;
        try {
          const put = await onceClient(m).send(new PutObjectCommand({ Bucket: names.src, Key: key, Body: bodyFor(key) }));
          acked.set(key, put.VersionId!);
          if (killed) afterKill++;
        } catch {
          failed.push(key); // cut by the kill: not acknowledged, may or may not exist, but never half
        }
        if (seq === 15 && w === 0) {
          // C has claimed tasks by now (its delay holds each for 1.5 s): kill it mid-flight.
          await c!.kill();
          killed = true;
        }
      }
    };
    await Promise.all([0, 1, 2].map(writer));
    assert.ok(killed);
    assert.ok(afterKill > 0, 'A and B kept acknowledging writes after C died');

    // Every acknowledged PUT is readable whole through the survivors; everything listed is whole.
    for (const [key, versionId] of acked) assert.deepEqual(await bytesOf(s3Client(b!), names.src, key, versionId), bodyFor(key), key);
    const listed = await s3Client(a!).send(new ListObjectsV2Command({ Bucket: names.src }));
    for (const o of listed.Contents ?? []) assert.deepEqual(await bytesOf(s3Client(a!), names.src, o.Key!), bodyFor(o.Key!), `listed ${o.Key} is whole`);

    // The survivors resume replicating: C's claimed tasks come back after their lease.
    for (const m of [a!, b!]) assert.equal((await meridianCli(m, ['faults', 'clear'])).code, 0);
    const dest = s3Client(a!, 'us-east-2');
    for (const [key, versionId] of acked) {
      await eventually(async () => {
        const h = await s3Client(b!).send(new HeadObjectCommand({ Bucket: names.src, Key: key, VersionId: versionId }));
        return h.ReplicationStatus === 'COMPLETED' ? true : undefined;
      }, 90_000);
      assert.deepEqual(await bytesOf(dest, names.dest, key, versionId), bodyFor(key));
    }
    const replicas = await dest.send(new ListObjectVersionsCommand({ Bucket: names.dest, MaxKeys: 1000 }));
    const replicaVersions = new Set((replicas.Versions ?? []).map((v) => v.VersionId));
    for (const versionId of acked.values()) assert.ok(replicaVersions.has(versionId), `replica of ${versionId}`);
    assert.equal(replicaVersions.size, replicas.Versions?.length, 'one replica per version');
    assert.equal(a!.child.exitCode, null);
    assert.equal(b!.child.exitCode, null);
  });

  it('PostgreSQL restarted under load: 503 while it is down, the gateways come back by themselves, nothing acknowledged lost', async () => {
    const [a, b] = await deployment(2, { MERIDIAN_REPLICATION_POLL_MS: '500' });
    const names = await setUpReplication(a!);
    const gateways = [a!, b!];
    const acked = new Map<string, string>();
    const failures = new Map<string, number>(); // error code or status -> count
    let phase: 'before' | 'down' | 'after' = 'before';
    let stop = false;
    const writer = async (w: number) => {
      for (let seq = 0; !stop && seq < 2000; seq++) {
        const key = `w${w}/${String(seq).padStart(4, '0')}`;
        try {
          const put = await onceClient(gateways[(w + seq) % 2]!).send(new PutObjectCommand({ Bucket: names.src, Key: key, Body: bodyFor(key, 16 * KiB) }));
          acked.set(key, put.VersionId!);
        } catch (e) {
          const label = `${status(e)} ${(e as AwsError).name}`;
          failures.set(label, (failures.get(label) ?? 0) + 1);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    const writers = Promise.all([0, 1, 2, 3].map(writer));
    try {
      await eventually(async () => (acked.size >= 20 ? true : undefined), 60_000);
      await pg.stop();
      phase = 'down';
      // While it is down every request ends with a 503 (the SDKs retry that), none hangs.
      for (const m of gateways) {
        const started = Date.now();
        await assert.rejects(onceClient(m).send(new GetObjectCommand({ Bucket: names.src, Key: 'w0/0000' })), (e: AwsError) => status(e) === 503 && (e.name === 'ServiceUnavailable' || e.name === 'SlowDown'));
        console.log(`# PostgreSQL down: ${m.httpEndpoint} answered 503 after ${Date.now() - started} ms`);
      }
      await new Promise((r) => setTimeout(r, 1500));
    } finally {
      await pg.start();
    }
    phase = 'after';
    const restartedAt = acked.size;
    await eventually(async () => (acked.size >= restartedAt + 20 ? true : undefined), 60_000);
    stop = true;
    await writers;
    assert.equal(phase, 'after');
    for (const label of failures.keys()) assert.match(label, /^503 (ServiceUnavailable|SlowDown)$/, `only 503s while PostgreSQL was away: ${JSON.stringify([...failures])}`);

    // Nothing acknowledged is lost, and replication went on: every acknowledged version reaches the destination.
    for (const [key, versionId] of acked) assert.deepEqual(await bytesOf(s3Client(b!), names.src, key, versionId), bodyFor(key, 16 * KiB), key);
    const dest = s3Client(b!, 'us-east-2');
    for (const [key, versionId] of acked) {
      const ok = await eventually(async () => {
        try {
          return (await bytesOf(dest, names.dest, key, versionId)).equals(bodyFor(key, 16 * KiB)) ? true : undefined;
        } catch {
          return undefined;
        }
      }, 120_000);
      assert.ok(ok);
    }
    assert.equal(a!.child.exitCode, null);
    assert.equal(b!.child.exitCode, null);
  });
});
