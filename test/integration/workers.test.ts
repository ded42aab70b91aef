/**
 * MERIDIAN_WORKERS=2: two worker processes behind the same ports, over the same data. Each client
 * below keeps one connection, pinned to a known worker (found from the worker's own request log),
 * so a request is made to land on the other worker on purpose: what one worker writes, the other
 * reads at once; a policy, IAM or KMS key change made through one is enforced by the other on the
 * very next request; replication queued by either is done by the one that runs it. A worker
 * SIGKILLed under load is replaced while the other keeps serving, and nothing it acknowledged is lost.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { randomBytes } from 'node:crypto';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketPolicyCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { CreateKeyCommand, DisableKeyCommand, EnableKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateAccessKeyCommand, CreateUserCommand, DeleteUserPolicyCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { eventually, type Credentials } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { setUpReplication } from '../support/replication-setup.js';
import { bytes } from './helpers.js';

let m: MeridianProcess;

before(async () => {
  m = await startMeridianProcess({ tls: false, env: { MERIDIAN_WORKERS: '2', MERIDIAN_LOG_LEVEL: 'debug' } });
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

  it('SSE-KMS objects written through either worker replicate to the other region, re-encrypted under the destination key', async () => {
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
