/**
 * MERIDIAN_WORKERS=2: two worker processes behind the same ports, over the same data. Each client
 * below keeps one connection, pinned to a known worker (found from the worker's own request log),
 * so a request is made to land on the other worker on purpose: what one worker writes, the other
 * reads at once; a policy, IAM, access key, bucket setting or KMS key change made through one is
 * enforced by the other on the very next request (each worker caches those rows and checks them
 * against the other's commits once per request); replication queued by either is done by the one that runs it. A worker
 * SIGKILLed under load is replaced while the other keeps serving, and nothing it acknowledged is lost.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { readFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketEncryptionCommand,
  DeleteBucketPolicyCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketEncryptionCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { CreateKeyCommand, DisableKeyCommand, EnableKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeleteUserPolicyCommand,
  IAMClient,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { eventually, type Credentials } from '../support/clients.js';
import { isRunning, startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { setUpReplication } from '../support/replication-setup.js';
import { bytes } from './helpers.js';
import { MALLOC_TUNABLES } from '../../src/server/malloc-tuning.js';

let m: MeridianProcess;

before(async () => {
  // A poll interval longer than any wait below: replication queued by the worker that does not run
  // it is started by the wake-up it sends through the primary, not found by polling.
  m = await startMeridianProcess({ tls: false, env: { MERIDIAN_WORKERS: '2', MERIDIAN_LOG_LEVEL: 'debug', MERIDIAN_REPLICATION_POLL_MS: '120000' } });
});

after(async () => {
  await m?.stop();
});

/** The pid of the worker that logged a request, from its debug log line. */
async function workerOf(requestId: string | undefined): Promise<number> {
  assert.ok(requestId, 'the response has a request id');
  return eventually(async () => {
    for (const line of m.logs().split('\n')) {
      if (!line.includes(requestId)) continue;
      const entry = JSON.parse(line) as { pid?: number; msg?: string; requestId?: string };
      if (entry.msg === 'request' && entry.requestId === requestId && entry.pid) return entry.pid;
    }
    return undefined;
  });
}

interface Pinned {
  s3: S3Client;
  kms: KMSClient;
  iam: IAMClient;
  pid: number;
}

/** Clients whose one keep-alive connection is served by a given worker: one set per worker. */
async function pinnedClients(c?: Credentials): Promise<[Pinned, Pinned]> {
  const found = new Map<number, Pinned>();
  for (let i = 0; i < 20 && found.size < 2; i++) {
    const requestHandler = new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: 1 }) });
    const credentials = c ?? { accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey };
    const common = { endpoint: m.httpEndpoint, region: 'us-east-1', credentials, maxAttempts: 1, requestHandler };
    const s3 = new S3Client({ ...common, forcePathStyle: true });
    const out = await s3.send(new ListObjectsV2Command({ Bucket: 'no-such-bucket-for-pinning' })).catch((e: { $metadata?: { requestId?: string } }) => e);
    const pid = await workerOf(out.$metadata?.requestId);
    if (!found.has(pid)) found.set(pid, { s3, kms: new KMSClient(common), iam: new IAMClient(common), pid });
  }
  assert.equal(found.size, 2, 'connections reached both workers');
  return [...found.values()] as [Pinned, Pinned];
}

/** Run a request and return the pid of the worker that served it. */
async function servedBy(p: Promise<{ $metadata: { requestId?: string } }>): Promise<number> {
  return workerOf((await p).$metadata.requestId);
}

/** 200, or the error's status and name; a body is read to its end (the client's one connection is then free). */
async function status(p: Promise<object>): Promise<number | string> {
  try {
    const out = await p;
    if ('Body' in out && out.Body) await bytes(out.Body as Parameters<typeof bytes>[0]);
    return 200;
  } catch (e) {
    const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
    return `${err.$metadata?.httpStatusCode} ${err.name}`;
  }
}

describe('two workers serve the same data', () => {
  let a: Pinned;
  let b: Pinned;
  before(async () => {
    [a, b] = await pinnedClients();
  });

  it('an object written through one worker is read and listed through the other; a multipart upload spans both', async () => {
    const bucket = `w-${randomBytes(4).toString('hex')}`;
    await a.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    assert.equal(await servedBy(a.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'from worker a' }))), a.pid);
    const got = await b.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }));
    assert.equal(await workerOf(got.$metadata.requestId), b.pid);
    assert.equal(await got.Body!.transformToString(), 'from worker a');
    const listed = await b.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    assert.deepEqual(listed.Contents?.map((o) => o.Key), ['k']);

    const part1 = randomBytes(5 * 1024 * 1024);
    const part2 = randomBytes(1024 * 1024 + 7);
    const { UploadId } = await a.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp' }));
    const up1 = await a.s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId, PartNumber: 1, Body: part1 }));
    const up2 = await b.s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId, PartNumber: 2, Body: part2 }));
    assert.notEqual(await workerOf(up1.$metadata.requestId), await workerOf(up2.$metadata.requestId));
    const done = await b.s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'mp', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: up1.ETag }, { PartNumber: 2, ETag: up2.ETag }] } }));
    assert.equal(await workerOf(done.$metadata.requestId), b.pid);
    const whole = await a.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp' }));
    assert.ok((await bytes(whole.Body)).equals(Buffer.concat([part1, part2])));
  });

  it('bodies whose buffers a worker frees as soon as it is done with them arrive intact: uploads in odd-sized pieces, parts, copies', async () => {
    const bucket = `w-${randomBytes(4).toString('hex')}`;
    await a.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const data = randomBytes(3 * 1024 * 1024 + 5);
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    const read = async (s3: S3Client, Key: string) => sha(await bytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key }))).Body));
    // A body in one piece, and one streamed in pieces that straddle the 64 KiB segments (aws-chunked, as the SDK sends a stream).
    await a.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'whole', Body: data }));
    const pieces = Array.from({ length: Math.ceil(data.length / 100_003) }, (_, i) => data.subarray(i * 100_003, (i + 1) * 100_003));
    await a.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'pieces', Body: Readable.from(pieces), ContentLength: data.length }));
    // Copies read the source through the decrypting path, whose chunks the encrypting path then frees.
    await a.s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy', CopySource: `${bucket}/whole` }));
    const { UploadId } = await a.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp' }));
    const p1 = await a.s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId, PartNumber: 1, Body: Buffer.concat([data, data]).subarray(0, 5 * 1024 * 1024) }));
    const p2 = await a.s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'mp', UploadId, PartNumber: 2, CopySource: `${bucket}/pieces` }));
    await a.s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'mp', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.CopyPartResult!.ETag }] } }));
    const expected = sha(data);
    for (const key of ['whole', 'pieces', 'copy']) {
      assert.equal(await read(a.s3, key), expected, `${key} through the worker that wrote it`);
      assert.equal(await read(b.s3, key), expected, `${key} through the other worker`);
    }
    assert.equal(await read(b.s3, 'mp'), sha(Buffer.concat([Buffer.concat([data, data]).subarray(0, 5 * 1024 * 1024), data])));
  });

  it('a bucket policy or IAM policy changed through one worker is enforced by the other on the next request', async () => {
    const bucket = `w-${randomBytes(4).toString('hex')}`;
    await a.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await a.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' }));
    const userName = `u-${randomBytes(4).toString('hex')}`;
    await a.iam.send(new CreateUserCommand({ UserName: userName }));
    await a.iam.send(new PutUserPolicyCommand({ UserName: userName, PolicyName: 'all', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }) }));
    const key = (await a.iam.send(new CreateAccessKeyCommand({ UserName: userName }))).AccessKey!;
    const [u1, u2] = await pinnedClients({ accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! });
    // The user's worker for reading is the one that did not make the changes below.
    const reader = u1.pid === a.pid ? u2 : u1;
    assert.notEqual(reader.pid, a.pid);
    const get = () => status(reader.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })));
    assert.equal(await get(), 200); // and now its caches hold the allowing policies

    const deny = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: { AWS: `arn:aws:iam::${m.accountId}:user/${userName}` }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }] });
    await a.s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: deny }));
    assert.equal(await get(), '403 AccessDenied');
    await a.s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
    assert.equal(await get(), 200);

    await a.iam.send(new DeleteUserPolicyCommand({ UserName: userName, PolicyName: 'all' }));
    assert.equal(await get(), '403 AccessDenied');
    await a.iam.send(new PutUserPolicyCommand({ UserName: userName, PolicyName: 'all', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }) }));
    assert.equal(await get(), 200);
  });

  it('an access key made Inactive or deleted through one worker is refused by the other on the next request', async () => {
    const bucket = `w-${randomBytes(4).toString('hex')}`;
    await a.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const userName = `u-${randomBytes(4).toString('hex')}`;
    await a.iam.send(new CreateUserCommand({ UserName: userName }));
    await a.iam.send(new PutUserPolicyCommand({ UserName: userName, PolicyName: 'all', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }) }));
    const key = (await a.iam.send(new CreateAccessKeyCommand({ UserName: userName }))).AccessKey!;
    const [u1, u2] = await pinnedClients({ accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! });
    const reader = u1.pid === a.pid ? u2 : u1;
    const list = () => status(reader.s3.send(new ListObjectsV2Command({ Bucket: bucket })));
    assert.equal(await list(), 200); // the reader's worker now holds the key in memory

    await a.iam.send(new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: key.AccessKeyId!, Status: 'Inactive' }));
    assert.equal(await list(), '403 InvalidAccessKeyId');
    await a.iam.send(new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: key.AccessKeyId!, Status: 'Active' }));
    assert.equal(await list(), 200);
    await a.iam.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: key.AccessKeyId! }));
    assert.equal(await list(), '403 InvalidAccessKeyId');
  });

  it('bucket versioning and default encryption changed through one worker apply on the other at once', async () => {
    const bucket = `w-${randomBytes(4).toString('hex')}`;
    await a.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    // Worker b reads the bucket and its (absent) configurations first.
    const first = await b.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: '1' }));
    assert.equal(first.VersionId, undefined);
    assert.equal(first.ServerSideEncryption, 'AES256');

    await a.s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const keyId = (await a.kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    await a.s3.send(
      new PutBucketEncryptionCommand({
        Bucket: bucket,
        ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyId } }] },
      }),
    );
    const second = await b.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: '2' }));
    assert.equal(await workerOf(second.$metadata.requestId), b.pid);
    assert.ok(second.VersionId, 'versioning enabled through worker a applies on worker b');
    assert.equal(second.ServerSideEncryption, 'aws:kms');
    assert.match(second.SSEKMSKeyId ?? '', new RegExp(keyId));

    await a.s3.send(new DeleteBucketEncryptionCommand({ Bucket: bucket }));
    const third = await b.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: '3' }));
    assert.equal(third.ServerSideEncryption, 'AES256');
  });

  it('a KMS key disabled through one worker is refused by the other on the next request, and enabled again likewise', async () => {
    const bucket = `w-${randomBytes(4).toString('hex')}`;
    await a.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const keyId = (await a.kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const put = (k: string) => status(b.s3.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: 'secret', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyId })));
    const get = () => status(b.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'before' })));
    // Worker b uses the key first, so its key cache holds the enabled key.
    assert.equal(await put('before'), 200);
    assert.equal(await get(), 200);

    await a.kms.send(new DisableKeyCommand({ KeyId: keyId }));
    assert.equal(await put('while-disabled'), '400 KMS.DisabledException');
    assert.equal(await get(), '400 KMS.DisabledException');

    await a.kms.send(new EnableKeyCommand({ KeyId: keyId }));
    assert.equal(await put('after'), 200);
    assert.equal(await get(), 200);
  });

  it('replication queued by the worker that does not run it starts at once (woken through the primary, not by polling)', async () => {
    const s = await setUpReplication(m);
    const background = await eventually(async () => backgroundPid(m));
    const other = a.pid === background ? b : a;
    assert.notEqual(other.pid, background);
    const out = await other.s3.send(new PutObjectCommand({ Bucket: s.src, Key: 'woken', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: s.srcKeyArn }));
    assert.equal(await workerOf(out.$metadata.requestId), other.pid);
    // The replication worker polls every 120 s here: only the wake-up can make this in time.
    await eventually(async () => ((await other.s3.send(new HeadObjectCommand({ Bucket: s.src, Key: 'woken' }))).ReplicationStatus === 'COMPLETED' ? true : undefined), 30_000);
  });

  it('SSE-KMS objects written through either worker replicate to the other region at once, re-encrypted under the destination key', async () => {
    const s = await setUpReplication(m);
    const keys = Array.from({ length: 12 }, (_, i) => `obj-${i}`);
    const versions = new Map<string, string>();
    for (const [i, key] of keys.entries()) {
      const client = i % 2 === 0 ? a.s3 : b.s3;
      const out = await client.send(new PutObjectCommand({ Bucket: s.src, Key: key, Body: `body of ${key}`, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: s.srcKeyArn }));
      versions.set(key, out.VersionId!);
    }
    const dest = new S3Client({ endpoint: m.httpEndpoint, region: 'us-east-2', forcePathStyle: true, credentials: { accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey }, maxAttempts: 1 });
    for (const key of keys) {
      await eventually(async () => ((await a.s3.send(new HeadObjectCommand({ Bucket: s.src, Key: key, VersionId: versions.get(key)! }))).ReplicationStatus === 'COMPLETED' ? true : undefined), 30_000);
      const replica = await dest.send(new GetObjectCommand({ Bucket: s.dest, Key: key }));
      assert.equal(replica.ReplicationStatus, 'REPLICA');
      assert.equal(replica.SSEKMSKeyId, s.destKeyArn);
      assert.equal(await replica.Body!.transformToString(), `body of ${key}`);
    }
  });
});

/** A body derived from its key, so replicas and survivors are checked without keeping copies. */
function bodyOf(key: string): Buffer {
  const size = key.endsWith('0') ? 300 * 1024 : 2048; // file blobs and inline blobs
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(key).digest();
  for (let off = 0; off < size; off += block.length) {
    block.copy(out, off);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

/** The pid of the worker that last said it runs the background work. */
function backgroundPid(p: MeridianProcess): number | undefined {
  let pid: number | undefined;
  for (const line of p.logs().split('\n')) if (line.includes('runs the background work')) pid = (JSON.parse(line) as { pid: number }).pid;
  return pid;
}

/**
 * PUT SSE-KMS objects from 6 writers (each with its own connections, so both workers get some)
 * until stop() is called; a PUT that fails is not acknowledged (it was on a killed worker).
 */
function writeSseKms(p: MeridianProcess, bucket: string, keyArn: string, prefix: string) {
  const acknowledged = new Map<string, string>();
  let stopped = false;
  let failures = 0;
  const writers = Array.from({ length: 6 }, async (_, w) => {
    const s3 = new S3Client({ endpoint: p.httpEndpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: p.accessKeyId, secretAccessKey: p.secretAccessKey }, maxAttempts: 1, logger: { debug() {}, info() {}, warn() {}, error() {} } });
    for (let seq = 0; !stopped; seq++) {
      const key = `${prefix}/w${w}/${String(seq).padStart(4, '0')}`;
      try {
        const r = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bodyOf(key), ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn }));
        acknowledged.set(key, r.VersionId!);
      } catch {
        failures++;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  });
  return {
    acknowledged,
    failures: () => failures,
    async stop() {
      stopped = true;
      await Promise.all(writers);
    },
  };
}

/** Every acknowledged version is whole at the source, replicates (COMPLETED), and the destination holds each source version exactly once. */
async function convergesExactlyOnce(p: MeridianProcess, s: { src: string; dest: string; destKeyArn: string }, acknowledged: Map<string, string>): Promise<void> {
  const src = new S3Client({ endpoint: p.httpEndpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: p.accessKeyId, secretAccessKey: p.secretAccessKey }, maxAttempts: 1 });
  const dest = new S3Client({ endpoint: p.httpEndpoint, region: 'us-east-2', forcePathStyle: true, credentials: { accessKeyId: p.accessKeyId, secretAccessKey: p.secretAccessKey }, maxAttempts: 1 });
  for (const [key, versionId] of acknowledged) {
    const got = await src.send(new GetObjectCommand({ Bucket: s.src, Key: key, VersionId: versionId }));
    assert.ok((await bytes(got.Body)).equals(bodyOf(key)), `acknowledged ${key} is whole`);
  }
  const versionsOf = async (c: S3Client, bucket: string) => {
    const out: string[] = [];
    let KeyMarker: string | undefined;
    let VersionIdMarker: string | undefined;
    for (;;) {
      const page = await c.send(new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker, VersionIdMarker }));
      out.push(...(page.Versions ?? []).map((v) => `${v.Key} ${v.VersionId}`));
      if (!page.IsTruncated) return out.sort();
      KeyMarker = page.NextKeyMarker;
      VersionIdMarker = page.NextVersionIdMarker;
    }
  };
  const sourceVersions = await versionsOf(src, s.src);
  for (const [key, versionId] of acknowledged) assert.ok(sourceVersions.includes(`${key} ${versionId}`), `acknowledged ${key} ${versionId} is listed`);
  for (const v of sourceVersions) {
    const [Key, VersionId] = v.split(' ') as [string, string];
    await eventually(async () => ((await src.send(new HeadObjectCommand({ Bucket: s.src, Key, VersionId }))).ReplicationStatus === 'COMPLETED' ? true : undefined), 60_000, 100);
  }
  assert.deepEqual(await versionsOf(dest, s.dest), sourceVersions, 'the destination holds each source version exactly once');
  for (const [key, versionId] of acknowledged) {
    const replica = await dest.send(new GetObjectCommand({ Bucket: s.dest, Key: key, VersionId: versionId }));
    assert.equal(replica.SSEKMSKeyId, s.destKeyArn);
    assert.ok((await bytes(replica.Body)).equals(bodyOf(key)), `replica of ${key} has the source bytes`);
  }
}

it('workers run with the server\'s V8 and malloc settings: one GC thread each, the request path optimized sooner after a start, room in the old generation before a full collection, freed buffers kept for reuse', async () => {
  const p = await startMeridianProcess({ tls: false, env: { MERIDIAN_WORKERS: '2' } });
  try {
    const workers = await eventually(async () => (p.workerPids().length === 2 ? p.workerPids() : undefined));
    for (const pid of workers) {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      assert.ok(argv.includes('--single-threaded-gc'), `worker ${pid}: ${argv.join(' ')}`);
      assert.ok(argv.includes('--interrupt-budget=16384'), `worker ${pid}: ${argv.join(' ')}`);
      assert.ok(argv.includes('--initial-old-space-size=64'), `worker ${pid}: ${argv.join(' ')}`);
      // And glibc keeps freed buffer memory for reuse (server/malloc-tuning.ts). glibc cuts the
      // variable up in place as it reads it, so /proc shows its first setting only.
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      const first = MALLOC_TUNABLES.split(':')[0]!;
      assert.ok(environ.some((e) => e.startsWith(`GLIBC_TUNABLES=${first}`)), `worker ${pid}: ${environ.filter((e) => e.startsWith('GLIBC')).join(' ')}`);
    }
  } finally {
    await p.stop();
  }
});

it('SIGTERM to the primary stops every worker gracefully, and the primary exits 0', async () => {
  const p = await startMeridianProcess({ tls: false, env: { MERIDIAN_WORKERS: '2' } });
  const workers = await eventually(async () => (p.workerPids().length === 2 ? p.workerPids() : undefined));
  await p.stop();
  assert.deepEqual({ code: p.child.exitCode, signal: p.child.signalCode }, { code: 0, signal: null });
  for (const pid of workers) assert.ok(!isRunning(pid), `worker ${pid} stopped with the primary`);
});

describe('crashes with two workers', () => {
  /** Each replication task waits this long once claimed, so the kills land with replication in flight. */
  const env = { MERIDIAN_WORKERS: '2', MERIDIAN_TEST_REPLICATION_DELAY_MS: '300' };
  let p: MeridianProcess;
  after(async () => {
    await p?.stop();
  });

  it('SIGKILL of the background worker under load: the other keeps serving and takes over its replication, a new worker starts, nothing acknowledged is lost', async (t) => {
    p = await startMeridianProcess({ tls: false, env });
    const s = await setUpReplication(p);
    const before = await eventually(async () => (p.workerPids().length === 2 ? p.workerPids() : undefined));
    const victim = await eventually(async () => backgroundPid(p));
    assert.ok(before.includes(victim));
    const survivor = before.find((pid) => pid !== victim)!;

    const load = writeSseKms(p, s.src, s.srcKeyArn, 'one');
    while (load.acknowledged.size < 60) await new Promise((r) => setTimeout(r, 10));
    process.kill(victim, 'SIGKILL');
    const atKill = load.acknowledged.size;
    // The survivor serves on: PUTs keep being acknowledged (the victim's connections fail).
    await eventually(async () => (load.acknowledged.size >= atKill + 30 ? true : undefined), 30_000, 20);
    const after = await eventually(async () => {
      const pids = p.workerPids();
      return pids.length === 2 && !pids.includes(victim) ? pids : undefined;
    }, 30_000);
    assert.ok(after.includes(survivor), 'the survivor was not restarted');
    await load.stop();
    t.diagnostic(`${load.acknowledged.size} PUTs acknowledged, ${load.failures()} failed with the victim's connections`);
    assert.equal(await eventually(async () => (backgroundPid(p) === survivor ? survivor : undefined)), survivor, 'the survivor runs the background work now');
    await convergesExactlyOnce(p, s, load.acknowledged);
  });

  it('SIGKILL of the whole group (primary and workers) under load, then a restart: every acknowledged PUT is intact and replication converges exactly once', async () => {
    const s = await setUpReplication(p);
    const load = writeSseKms(p, s.src, s.srcKeyArn, 'group');
    while (load.acknowledged.size < 80) await new Promise((r) => setTimeout(r, 10));
    const pids = [p.child.pid!, ...p.workerPids()];
    await p.kill();
    await load.stop();
    for (const pid of pids) assert.ok(!isRunning(pid), `process ${pid} is gone`);
    p = await startMeridianProcess({ dataDir: p.dataDir, accessKeyId: p.accessKeyId, secretAccessKey: p.secretAccessKey, tls: false, env });
    await convergesExactlyOnce(p, s, load.acknowledged);
  });

  it('SIGKILL of the primary alone: its workers stop too (nothing would restart them or hand them connections)', async () => {
    const workers = await eventually(async () => (p.workerPids().length === 2 ? p.workerPids() : undefined));
    process.kill(p.child.pid!, 'SIGKILL');
    await eventually(async () => (workers.every((pid) => !isRunning(pid)) ? true : undefined), 20_000);
  });
});
