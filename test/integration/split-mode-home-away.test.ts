/**
 * Split mode with the home region's process away. us-east-1's process owns IAM, STS, accounts and
 * bucket names; the other process serves us-east-2 and us-west-2 and asks the home for those. When
 * the home is stopped (SIGSTOP: a hang, connections accepted by the kernel and never answered) or
 * killed (SIGKILL: connections refused), the other process answers its own regions' S3, KMS, IAM
 * and STS requests with AWS's 503 shapes — S3, IAM and STS `ServiceUnavailable`, KMS
 * `DependencyTimeoutException` — naming the unreachable home, with Retry-After, where it answered
 * 500 InternalError after up to 30 s before. Replication between its two regions, which needs the
 * home for the destination's name, the role's session and the policies, waits (retried, never
 * FAILED) and completes once the home is back.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { KMSClient, ListKeysCommand } from '@aws-sdk/client-kms';
import { IAMClient, ListUsersCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { eventually } from '../support/clients.js';
import type { MeridianProcess } from '../support/meridian-process.js';
import type { ScenarioNames } from '../support/replication-documents.js';
import { setUpReplicationBetween } from '../support/replication-setup.js';
import { startSplitPair, type SplitPair } from '../support/split-mode.js';
import { signedFetch } from './signed-fetch.js';

/** Generous: the point is that an answer comes, and which one. */
const handler = () => new NodeHttpHandler({ connectionTimeout: 10_000, requestTimeout: 120_000 });

function clients(m: MeridianProcess) {
  const credentials = { accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey };
  const common = { endpoint: m.httpEndpoint, credentials, maxAttempts: 1, requestHandler: handler() };
  return {
    s3: (region: string) => new S3Client({ ...common, region, forcePathStyle: true }),
    kms: (region: string) => new KMSClient({ ...common, region }),
    iam: () => new IAMClient({ ...common, region: 'us-east-1' }),
    sts: (region: string) => new STSClient({ ...common, region }),
  };
}

/** The SDK error of a request expected to fail, with its code and HTTP status. */
async function failure(p: Promise<unknown>): Promise<{ code: string; status: number | undefined; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { code: err.name, status: err.$metadata?.httpStatusCode, message: err.message };
  }
  throw new Error('the request succeeded while the home was away');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Longer than the other process caches the home's answers (2 s), so every request needs the home. */
const PAST_THE_CACHE_MS = 2500;

describe("split mode: the home region's process away", () => {
  let pair: SplitPair;
  let c: ReturnType<typeof clients>;
  let s: ScenarioNames;
  const written: { key: string; body: string }[] = [];

  before(async () => {
    pair = await startSplitPair(
      // Claimed replication tasks wait 3 s before they run, so tasks of objects written just before the home stops run while it is away.
      {},
      { regions: { east2: ['us-east-2', 'us-west-2'] }, sideEnv: { east2: { MERIDIAN_TEST_REPLICATION_DELAY_MS: '3000' } } },
    );
    c = clients(pair.east2);
    s = await setUpReplicationBetween(c, 'us-east-2', 'us-west-2');
  });

  after(async () => {
    // Never leave a stopped process behind.
    resume();
    await pair?.stop();
  });

  function resume(): void {
    try {
      if (pair?.east1?.child.pid) process.kill(-pair.east1.child.pid, 'SIGCONT');
    } catch {
      // already gone
    }
  }

  async function put(key: string): Promise<void> {
    const body = `body of ${key}`;
    await c.s3('us-east-2').send(new PutObjectCommand({ Bucket: s.src, Key: key, Body: body, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: s.srcKeyArn }));
    written.push({ key, body });
  }

  const status = async (key: string) => (await c.s3('us-east-2').send(new HeadObjectCommand({ Bucket: s.src, Key: key }))).ReplicationStatus;

  /** Every request of the other process's own regions that needs the home: its 503, as each protocol says it. */
  async function assertAnswersUnavailable(t: { diagnostic(m: string): void }, label: string): Promise<void> {
    const timed = async <T>(name: string, p: Promise<T>): Promise<T> => {
      const start = Date.now();
      const r = await p;
      t.diagnostic(`${label}: ${name} answered in ${Date.now() - start} ms`);
      return r;
    };
    // The wire format, raw: S3's Error document and Retry-After.
    const raw = await timed('GetObject (raw)', signedFetch(pair.east2, 'GET', `/${s.src}/${written[0]!.key}`, { region: 'us-east-2' }));
    assert.equal(raw.status, 503);
    assert.equal(raw.headers['retry-after'], '1');
    assert.match(raw.text, /^<\?xml version="1.0" encoding="UTF-8"\?>\s*<Error><Code>ServiceUnavailable<\/Code><Message>The home region us-east-1&apos;s process \(IAM, STS, accounts, bucket names\) at http:\/\/127\.0\.0\.1:\d+ is not reachable \(.+\)\. Please retry later\.<\/Message>.*<RequestId>/s);

    const expectations: [string, () => Promise<unknown>, string][] = [
      ['GetObject', () => c.s3('us-east-2').send(new GetObjectCommand({ Bucket: s.src, Key: written[0]!.key })), 'ServiceUnavailable'],
      ['PutObject', () => c.s3('us-east-2').send(new PutObjectCommand({ Bucket: s.src, Key: 'while-away', Body: 'x' })), 'ServiceUnavailable'],
      ['CreateBucket', () => c.s3('us-west-2').send(new CreateBucketCommand({ Bucket: `while-away-${Date.now()}`, CreateBucketConfiguration: { LocationConstraint: 'us-west-2' } })), 'ServiceUnavailable'],
      ['KMS ListKeys', () => c.kms('us-east-2').send(new ListKeysCommand({})), 'DependencyTimeoutException'],
      ['IAM ListUsers', () => c.iam().send(new ListUsersCommand({})), 'ServiceUnavailable'],
      ['STS GetCallerIdentity', () => c.sts('us-west-2').send(new GetCallerIdentityCommand({})), 'ServiceUnavailable'],
    ];
    for (const [name, request, code] of expectations) {
      const f = await timed(name, failure(request()));
      assert.equal(f.status, 503, `${name}: ${f.code} ${f.message}`);
      assert.equal(f.code, code, `${name}: ${f.message}`);
      assert.match(f.message, /home region us-east-1/, name);
    }
  }

  /** The process's log lines of a message. */
  const logLines = (m: MeridianProcess, msg: string) => m.logs().split('\n').filter((l) => l.includes(`"msg":"${msg}"`));

  it('stopped (a hang): requests answer 503 ServiceUnavailable / DependencyTimeoutException; replication waits and completes after it resumes', async (t) => {
    await put('before-0');
    await eventually(async () => ((await status('before-0')) === 'COMPLETED' ? true : undefined), 60_000, 200);

    for (let i = 0; i < 4; i++) await put(`stopped-${i}`);
    process.kill(-pair.east1.child.pid!, 'SIGSTOP');
    try {
      await sleep(PAST_THE_CACHE_MS);
      await assertAnswersUnavailable(t, 'home stopped');
      // The waiting tasks met the missing home and were set to be retried, none failed.
      const retry = await eventually(async () => logLines(pair.east2, 'replication will retry').find((l) => /home region us-east-1/.test(l)), 120_000, 200);
      t.diagnostic(`while stopped: ${retry}`);
      assert.ok(logLines(pair.east2, 'home region unreachable').length > 0, 'the outage is logged');
    } finally {
      resume();
    }
    for (let i = 0; i < 4; i++) await eventually(async () => ((await status(`stopped-${i}`)) === 'COMPLETED' ? true : undefined), 120_000, 250);
    assert.deepEqual(logLines(pair.east2, 'replication failed'), []);
    assert.ok(logLines(pair.east2, 'home region reachable again').length > 0);
  });

  it('killed (refused): requests answer 503 at once; restarted, requests and replication go on', async (t) => {
    for (let i = 0; i < 3; i++) await put(`killed-${i}`);
    await pair.east1.kill();
    await sleep(PAST_THE_CACHE_MS);
    await assertAnswersUnavailable(t, 'home killed');
    await eventually(async () => logLines(pair.east2, 'replication will retry').find((l) => /home region us-east-1.*ECONNREFUSED/.test(l)), 120_000, 200);

    await pair.start('east1');
    for (let i = 0; i < 3; i++) await eventually(async () => ((await status(`killed-${i}`)) === 'COMPLETED' ? true : undefined), 120_000, 250);
    assert.deepEqual(logLines(pair.east2, 'replication failed'), []);
    // Every version written, once, under the destination's key.
    const dest = c.s3('us-west-2');
    for (const { key, body } of written) {
      const replica = await dest.send(new GetObjectCommand({ Bucket: s.dest, Key: key }));
      assert.equal(replica.ReplicationStatus, 'REPLICA');
      assert.equal(replica.SSEKMSKeyId, s.destKeyArn);
      assert.equal(await replica.Body!.transformToString(), body);
    }
  });
});
