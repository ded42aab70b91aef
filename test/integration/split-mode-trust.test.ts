/**
 * Split mode across an untrusted network: a man in the middle between the two processes (a relay
 * the test controls) alters a byte of a request or an answer, answers in a peer's place, or replays
 * a captured request. Each is refused, and nothing of it is applied; once the relay behaves,
 * everything goes through.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutBucketPolicyCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { generate } from 'selfsigned';
import { CreateUserCommand, DeleteUserCommand, GetUserCommand } from '@aws-sdk/client-iam';
import { eventually, iamClient, kmsClient, s3Client } from '../support/clients.js';
import type { MeridianProcess } from '../support/meridian-process.js';
import { flipByte, PeerRelay } from '../support/peer-relay.js';
import { setUpReplication } from '../support/replication-setup.js';
import { freePort, startSplitPair, type SplitPair } from '../support/split-mode.js';

const REPLICA = '/_meridian/internal/replica';
const BUNDLE = '/_meridian/internal/replicas';
const GLOBAL = '/_meridian/internal/global';

describe('split mode: a man in the middle between the processes', () => {
  let pair: SplitPair;
  /** Between us-east-2's process and the home (global stores). */
  let toHome: PeerRelay;
  /** Between us-east-1's process and us-east-2's (replicas, proxied requests). */
  let toEast2: PeerRelay;

  before(async () => {
    const ports = { east1: await freePort(), east2: await freePort() };
    toHome = await PeerRelay.start(() => ports.east1);
    toEast2 = await PeerRelay.start(() => ports.east2);
    pair = await startSplitPair({}, { ports, via: { east1: toHome.url, east2: toEast2.url } });
  });

  after(async () => {
    await pair?.stop();
    await toHome?.close();
    await toEast2?.close();
  });

  // Small objects travel in bundles (several replicas to a request), larger ones in a request each.
  for (const { kind, path, size } of [
    { kind: 'a small replica (in a bundle)', path: BUNDLE, size: 1200 },
    { kind: 'a large replica (streamed alone)', path: REPLICA, size: 300 * 1024 },
  ]) {
    it(`${kind} altered in transit is refused and nothing is written; it completes once the relay behaves`, async () => {
      const s = await setUpReplication(pair.east1);
      const src = s3Client(pair.east1, 'us-east-1');
      const dest = s3Client(pair.east2, 'us-east-2');
      const answers: number[] = [];
      toEast2.alterRequest = (r) => (r.path === path ? { ...r, body: flipByte(r.body, -40) } : undefined);
      toEast2.alterAnswer = (r, a) => {
        if (r.path === path) answers.push(a.status);
        return undefined;
      };
      const body = Buffer.from('replicate me, byte for byte. '.repeat(Math.ceil(size / 29))).subarray(0, size);
      const put = await src.send(new PutObjectCommand({ Bucket: s.src, Key: 'altered.txt', Body: body, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: s.srcKeyArn }));
      // Two attempts answered: the first was refused, and the source tried again.
      await eventually(async () => (answers.length >= 2 ? true : undefined), 30_000);
      assert.ok(answers.every((status) => status === 400), `every altered replica is refused (answers: ${answers.join(', ')})`);
      await assert.rejects(dest.send(new HeadObjectCommand({ Bucket: s.dest, Key: 'altered.txt' })), (e: { name: string }) => e.name === 'NotFound');
      assert.equal((await src.send(new HeadObjectCommand({ Bucket: s.src, Key: 'altered.txt' }))).ReplicationStatus, 'PENDING');

      toEast2.behave();
      await eventually(async () => ((await src.send(new HeadObjectCommand({ Bucket: s.src, Key: 'altered.txt' }))).ReplicationStatus === 'COMPLETED' ? true : undefined), 60_000);
      const replica = await dest.send(new GetObjectCommand({ Bucket: s.dest, Key: 'altered.txt' }));
      assert.equal(replica.VersionId, put.VersionId);
      assert.ok(Buffer.from(await replica.Body!.transformToByteArray()).equals(body), 'the replica holds the bytes the source stored');
    });
  }

  it('an answer forged by the relay is not taken for the destination\'s: the version stays PENDING and is sent again', async () => {
    const s = await setUpReplication(pair.east1);
    const src = s3Client(pair.east1, 'us-east-1');
    let attempts = 0;
    toEast2.forge = (r) => {
      if (r.path !== REPLICA && r.path !== BUNDLE) return undefined;
      attempts++;
      return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from('{}') };
    };
    await src.send(new PutObjectCommand({ Bucket: s.src, Key: 'forged.txt', Body: 'never delivered', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: s.srcKeyArn }));
    await eventually(async () => (attempts >= 2 ? true : undefined), 30_000);
    assert.equal((await src.send(new HeadObjectCommand({ Bucket: s.src, Key: 'forged.txt' }))).ReplicationStatus, 'PENDING');
    toEast2.behave();
    await eventually(async () => ((await src.send(new HeadObjectCommand({ Bucket: s.src, Key: 'forged.txt' }))).ReplicationStatus === 'COMPLETED' ? true : undefined), 60_000);
  });

  it('a proxied answer altered in transit reaches the client as an error, never altered', async () => {
    const bucket = `mitm-${randomBytes(4).toString('hex')}`;
    const east2 = s3Client(pair.east2, 'us-east-2');
    await east2.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: 'us-east-2' } }));
    await east2.send(new PutObjectCommand({ Bucket: bucket, Key: 'report.txt', Body: 'quarterly', ContentType: 'text/plain' }));
    const viaEast1 = s3Client(pair.east1, 'us-east-2');
    // A byte of a listing (a body the peer signs whole).
    toEast2.alterAnswer = (r, a) => (r.path.startsWith(`/${bucket}`) ? { ...a, body: Buffer.from(a.body.toString('utf8').replace('report.txt', 'rep0rt.txt')) } : undefined);
    await assert.rejects(viaEast1.send(new ListObjectsV2Command({ Bucket: bucket })), (e: { $metadata: { httpStatusCode?: number } }) => e.$metadata.httpStatusCode === 502);
    // A header of an object's answer (the body streams; its head is signed).
    toEast2.alterAnswer = (r, a) => (r.path.startsWith(`/${bucket}`) ? { ...a, headers: { ...a.headers, 'content-type': 'text/html' } } : undefined);
    await assert.rejects(viaEast1.send(new GetObjectCommand({ Bucket: bucket, Key: 'report.txt' })), (e: { $metadata: { httpStatusCode?: number } }) => e.$metadata.httpStatusCode === 502);
    // A byte of a large object's data (streamed, closed by a signed trailer): the client never gets the altered bytes whole.
    const big = Buffer.alloc(3 * 1024 * 1024, 'q');
    await east2.send(new PutObjectCommand({ Bucket: bucket, Key: 'big.bin', Body: big }));
    toEast2.alterAnswer = (r, a) => (r.path.startsWith(`/${bucket}/big.bin`) ? { ...a, body: flipByte(a.body, big.length / 2) } : undefined);
    // (A client that does not validate checksums itself, so only the relaying process can notice.)
    const trusting = new S3Client({ endpoint: pair.east1.httpEndpoint, region: 'us-east-2', forcePathStyle: true, credentials: { accessKeyId: pair.east1.accessKeyId, secretAccessKey: pair.east1.secretAccessKey }, maxAttempts: 1, responseChecksumValidation: 'WHEN_REQUIRED' });
    let received: Buffer | undefined;
    await assert.rejects(async () => {
      const got = await trusting.send(new GetObjectCommand({ Bucket: bucket, Key: 'big.bin' }));
      received = Buffer.from(await got.Body!.transformToByteArray());
    });
    assert.equal(received, undefined, 'the altered body reached the client whole');
    toEast2.behave();
    const whole = await trusting.send(new GetObjectCommand({ Bucket: bucket, Key: 'big.bin' }));
    assert.ok(Buffer.from(await whole.Body!.transformToByteArray()).equals(big));
    const listed = await viaEast1.send(new ListObjectsV2Command({ Bucket: bucket }));
    assert.deepEqual(listed.Contents?.map((o) => o.Key), ['big.bin', 'report.txt']);
    const got = await viaEast1.send(new GetObjectCommand({ Bucket: bucket, Key: 'report.txt' }));
    assert.equal(got.ContentType, 'text/plain');
    assert.equal(await got.Body!.transformToString(), 'quarterly');
  });

  it('a relayed request body the client did not sign (a presigned PUT) is still checked: altered in transit, nothing is stored', async () => {
    const bucket = `mitm-put-${randomBytes(4).toString('hex')}`;
    await s3Client(pair.east2, 'us-east-2').send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: 'us-east-2' } }));
    // A presigned URL of us-east-1's process for us-east-2: UNSIGNED-PAYLOAD, relayed to us-east-2's.
    const url = await getSignedUrl(s3Client(pair.east1, 'us-east-2'), new PutObjectCommand({ Bucket: bucket, Key: 'note.txt' }), { expiresIn: 300 });
    toEast2.alterRequest = (r) => (r.path.startsWith(`/${bucket}/note.txt`) ? { ...r, body: Buffer.from(r.body.toString('utf8').replace('pay 10', 'pay 99')) } : undefined);
    const altered = await fetch(url, { method: 'PUT', body: 'pay 10 to alice' });
    assert.equal(altered.status, 400, await altered.text());
    toEast2.behave();
    await assert.rejects(s3Client(pair.east2, 'us-east-2').send(new HeadObjectCommand({ Bucket: bucket, Key: 'note.txt' })), (e: { name: string }) => e.name === 'NotFound');
    const honest = await fetch(url, { method: 'PUT', body: 'pay 10 to alice' });
    assert.equal(honest.status, 200);
    const got = await s3Client(pair.east2, 'us-east-2').send(new GetObjectCommand({ Bucket: bucket, Key: 'note.txt' }));
    assert.equal(await got.Body!.transformToString(), 'pay 10 to alice');
  });

  it('global store calls: an altered request or answer is refused, and a captured request cannot be replayed', async () => {
    const viaEast2 = iamClient(pair.east2);
    const atHome = iamClient(pair.east1);
    const name = `victim-${randomBytes(3).toString('hex')}`;

    // An altered request: refused by the home, the user is not created.
    toHome.alterRequest = (r) => (r.path === GLOBAL ? { ...r, body: flipByte(r.body, 20) } : undefined);
    await assert.rejects(viaEast2.send(new CreateUserCommand({ UserName: `ghost-${name}` })));
    toHome.behave();
    await assert.rejects(atHome.send(new GetUserCommand({ UserName: `ghost-${name}` })), (e: { name: string }) => e.name === 'NoSuchEntityException');

    // An altered answer: the caller refuses it rather than act on it.
    await atHome.send(new CreateUserCommand({ UserName: name }));
    toHome.alterAnswer = (r, a) => {
      if (r.path !== GLOBAL) return undefined;
      const text = a.body.toString('latin1');
      return { ...a, body: text.includes(name) ? Buffer.from(text.replaceAll(name, name.replace('victim', 'victin')), 'latin1') : flipByte(a.body, Math.floor(a.body.length / 2)) };
    };
    await assert.rejects(viaEast2.send(new GetUserCommand({ UserName: name })));
    toHome.behave();
    assert.equal((await viaEast2.send(new GetUserCommand({ UserName: name }))).User!.UserName, name);

    // A replay: the user deleted through us-east-2's process, created again, then the captured calls sent again.
    const from = toHome.seen.length;
    await viaEast2.send(new DeleteUserCommand({ UserName: name }));
    const captured = toHome.seen.slice(from).filter((r) => r.path === GLOBAL);
    assert.ok(captured.length > 0);
    await atHome.send(new CreateUserCommand({ UserName: name }));
    for (const r of captured) {
      const answer = await toHome.send(r);
      assert.equal(answer.status, 403, `a replayed call is refused: ${answer.body.toString('utf8')}`);
    }
    assert.equal((await atHome.send(new GetUserCommand({ UserName: name }))).User!.UserName, name, 'the replayed delete was not applied');
  });
});

describe('split mode: policies at the destination see the original client, not the hop', () => {
  let pair: SplitPair;
  /** A second loopback address: the client connects from it, the process in between from 127.0.0.1. */
  const CLIENT_IP = '127.0.0.5';

  before(async () => {
    // us-east-1's process also serves HTTPS; us-east-2's refuses SSE-KMS over plain HTTP from anyone (AWS's rule).
    pair = await startSplitPair({}, { tls: { east1: true }, sideEnv: { east2: { MERIDIAN_SSE_KMS_OVER_HTTP: 'never' } } });
  });

  after(async () => {
    await pair?.stop();
  });

  /** An S3 client for us-east-2 that reaches `m` over http or https from a chosen local address. */
  function client(m: MeridianProcess, opts: { from?: string; https?: boolean; headers?: Record<string, string> } = {}): S3Client {
    const handler = opts.https
      ? new NodeHttpHandler({ httpsAgent: new HttpsAgent({ ca: readFileSync(m.certFile!), ...(opts.from ? { localAddress: opts.from } : {}) }) })
      : new NodeHttpHandler({ httpAgent: new HttpAgent(opts.from ? { localAddress: opts.from } : {}) });
    const c = new S3Client({
      endpoint: opts.https ? m.httpsEndpoint! : m.httpEndpoint,
      region: 'us-east-2',
      forcePathStyle: true,
      credentials: { accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey },
      maxAttempts: 1,
      requestHandler: handler,
    });
    const extra = opts.headers;
    if (extra) {
      c.middlewareStack.add(
        (next) => async (args) => {
          Object.assign((args.request as { headers: Record<string, string> }).headers, extra);
          return next(args);
        },
        { step: 'finalizeRequest', name: 'extraHeaders', priority: 'low' },
      );
    }
    return c;
  }

  const denied = (e: { name?: string; $metadata?: { httpStatusCode?: number } }) => e.name === 'AccessDenied' && e.$metadata?.httpStatusCode === 403;

  async function bucketWithPolicy(statement: object): Promise<string> {
    const bucket = `fwd-${randomBytes(4).toString('hex')}`;
    const direct = s3Client(pair.east2, 'us-east-2');
    await direct.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: 'us-east-2' } }));
    await direct.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'for the right client' }));
    await direct.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Resource: `arn:aws:s3:::${bucket}/*`, ...statement }] }) }));
    return bucket;
  }

  it('aws:SourceIp is the client\'s address; a client cannot claim another by sending the forwarding header', async () => {
    const bucket = await bucketWithPolicy({ Action: 's3:GetObject', Condition: { NotIpAddress: { 'aws:SourceIp': `${CLIENT_IP}/32` } } });
    // Through us-east-1's process, from the allowed address: the destination sees that address.
    const got = await client(pair.east1, { from: CLIENT_IP }).send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }));
    assert.equal(await got.Body!.transformToString(), 'for the right client');
    // Through the same process from another address: denied, although the hop is the same.
    await assert.rejects(client(pair.east1).send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })), denied);
    // Straight to us-east-2's process, claiming the allowed address in the forwarding header: ignored.
    const claim = { 'x-meridian-peer-client': `addr=${CLIENT_IP};proto=https` };
    await assert.rejects(client(pair.east2, { headers: claim }).send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })), denied);
    // ... and with made-up peer authentication: refused outright.
    const forged = { ...claim, 'x-meridian-peer': '1', 'x-meridian-peer-date': String(Date.now()), 'x-meridian-peer-nonce': randomBytes(16).toString('hex'), 'x-meridian-peer-content-sha256': 'UNSIGNED-PAYLOAD', 'x-meridian-peer-signature': randomBytes(32).toString('hex') };
    await assert.rejects(client(pair.east2, { headers: forged }).send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })), (e: { name?: string; message?: string }) => e.name === 'AccessDenied' && /Peer authentication failed/.test(e.message ?? ''));
  });

  it('aws:SecureTransport and the SSE-KMS rule see the client\'s transport: https to the first process counts as https', async () => {
    const bucket = await bucketWithPolicy({ Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    const keyArn = (await kmsClient(pair.east2, 'us-east-2').send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    const overHttps = client(pair.east1, { https: true });
    await overHttps.send(new PutObjectCommand({ Bucket: bucket, Key: 'secret.txt', Body: 'over tls, then the hop', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn }));
    assert.equal(await (await overHttps.send(new GetObjectCommand({ Bucket: bucket, Key: 'secret.txt' }))).Body!.transformToString(), 'over tls, then the hop');
    // Plain HTTP to the same process: the policy denies it at the destination.
    await assert.rejects(client(pair.east1).send(new GetObjectCommand({ Bucket: bucket, Key: 'secret.txt' })), denied);

    // No policy: the SSE-KMS rule alone (never over plain HTTP at us-east-2's process).
    const open = `kms-${randomBytes(4).toString('hex')}`;
    await s3Client(pair.east2, 'us-east-2').send(new CreateBucketCommand({ Bucket: open, CreateBucketConfiguration: { LocationConstraint: 'us-east-2' } }));
    await overHttps.send(new PutObjectCommand({ Bucket: open, Key: 'a', Body: 'a', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn }));
    await assert.rejects(
      client(pair.east1).send(new PutObjectCommand({ Bucket: open, Key: 'b', Body: 'b', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn })),
      (e: { message?: string }) => /must be made over a secure connection/.test(e.message ?? ''),
    );
  });
});

describe('split mode: https between the processes', () => {
  let pair: SplitPair;
  let dir: string;

  before(async () => {
    // One certificate for both (a CA certificate for 127.0.0.1), placed where each process looks for its own.
    dir = mkdtempSync(join(tmpdir(), 'meridian-peer-ca-'));
    const pems = await generate([{ name: 'commonName', value: 'meridian peers' }], {
      keySize: 2048,
      algorithm: 'sha256',
      extensions: [
        { name: 'basicConstraints', cA: true },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
        { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
      ],
    });
    writeFileSync(join(dir, 'ca.pem'), pems.cert);
    const tlsPorts = { east1: await freePort(), east2: await freePort() };
    pair = await startSplitPair(
      { MERIDIAN_PEER_CA: join(dir, 'ca.pem') },
      {
        tls: { east1: true, east2: true },
        sideEnv: { east1: { MERIDIAN_TLS_PORT: String(tlsPorts.east1) }, east2: { MERIDIAN_TLS_PORT: String(tlsPorts.east2) } },
        via: { east1: `https://127.0.0.1:${tlsPorts.east1}`, east2: `https://127.0.0.1:${tlsPorts.east2}` },
        prepare: (_side, dataDir) => {
          mkdirSync(join(dataDir, 'tls'), { recursive: true });
          writeFileSync(join(dataDir, 'tls', 'cert.pem'), pems.cert);
          writeFileSync(join(dataDir, 'tls', 'key.pem'), pems.private, { mode: 0o600 });
        },
      },
    );
  });

  after(async () => {
    await pair?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('global store calls, proxied requests and replicas go over TLS to peers whose certificate chains to MERIDIAN_PEER_CA', async () => {
    // us-east-2's process started: it asked the home (over https) for its root account. IAM through it goes there too.
    const name = `tls-${randomBytes(3).toString('hex')}`;
    await iamClient(pair.east2).send(new CreateUserCommand({ UserName: name }));
    assert.equal((await iamClient(pair.east1).send(new GetUserCommand({ UserName: name }))).User!.UserName, name);
    // Replication: the set-up reaches us-east-2's KMS and S3 through us-east-1's process, the replica goes over https.
    const s = await setUpReplication(pair.east1);
    const src = s3Client(pair.east1, 'us-east-1');
    await src.send(new PutObjectCommand({ Bucket: s.src, Key: 'tls.txt', Body: 'over tls between peers', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: s.srcKeyArn }));
    await eventually(async () => ((await src.send(new HeadObjectCommand({ Bucket: s.src, Key: 'tls.txt' }))).ReplicationStatus === 'COMPLETED' ? true : undefined), 30_000);
    const replica = await s3Client(pair.east1, 'us-east-2').send(new GetObjectCommand({ Bucket: s.dest, Key: 'tls.txt' }));
    assert.equal(await replica.Body!.transformToString(), 'over tls between peers');
  });
});
