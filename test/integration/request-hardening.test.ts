/**
 * The request path under hostile or careless clients: no request ends the process, an early answer
 * never leaves the client pushing a body nobody reads, and the server keeps answering afterwards.
 * Raw sockets (test/support/raw-http.ts) send what SDKs will not.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand, GetObjectCommand, HeadBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3Client } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { head, openDescriptors, RawConnection, rawExchange, signedHeaders } from '../support/raw-http.js';
import { bucketName, bytes } from './helpers.js';
import { signedFetch } from './signed-fetch.js';

const WRONG_HASH = '0'.repeat(64);
const METRICS_TOKEN = 'scrape-token-0123456789abcdef';

let m: MeridianProcess;
let s3: S3Client;
let bucket: string;
let host: string;

before(async () => {
  m = await startMeridianProcess({ tls: false, env: { MERIDIAN_METRICS_TOKEN: METRICS_TOKEN } });
  s3 = s3Client(m);
  bucket = bucketName('harden');
  host = new URL(m.httpEndpoint).host;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'existing', Body: 'keep me' }));
});
after(async () => {
  await m?.stop();
});

/** The process is still running and still serves signed requests. */
async function stillServing(): Promise<void> {
  await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  assert.equal((await bytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'existing' }))).Body)).toString(), 'keep me');
  assert.equal(m.child.exitCode, null, `the server exited:\n${m.logs().slice(-2000)}`);
  assert.equal(m.child.signalCode, null);
}

describe('no request ends the process', { timeout: 60_000 }, () => {
  test('a wrong x-amz-content-sha256 on a PUT to a missing bucket, anonymous: 404, and the server lives', async () => {
    const { reply } = await rawExchange(m.httpEndpoint, head('PUT', '/no-such-bucket-anon/k', { host, 'x-amz-content-sha256': WRONG_HASH, 'content-length': '3' }) + 'abc');
    assert.equal(reply?.status, 404);
    assert.match(reply!.text, /<Code>NoSuchBucket<\/Code>/);
    await stillServing();
  });

  test('a wrong x-amz-content-sha256 on a signed PUT to a missing bucket: 404, and the server lives', async () => {
    const headers = await signedHeaders(m, 'PUT', '/no-such-bucket-signed/k', { 'content-length': '3' }, { payloadHash: WRONG_HASH, body: 'abc' });
    const { reply } = await rawExchange(m.httpEndpoint, head('PUT', '/no-such-bucket-signed/k', headers) + 'abc');
    assert.equal(reply?.status, 404);
    await stillServing();
  });

  test('a GET with a body whose hash does not match: answered, and the server lives', async () => {
    const path = `/${bucket}/existing`;
    const headers = await signedHeaders(m, 'GET', path, { 'content-length': '5' }, { payloadHash: WRONG_HASH, body: 'hello' });
    const { reply } = await rawExchange(m.httpEndpoint, head('GET', path, headers) + 'hello');
    assert.ok(reply && reply.status < 500, `status ${reply?.status}`);
    await stillServing();
  });

  test('a malformed aws-chunked body to a missing bucket: 404, and the server lives', async () => {
    const body = 'zz;chunk-signature=nonsense\r\nabc\r\n';
    const { reply } = await rawExchange(
      m.httpEndpoint,
      head('PUT', '/no-such-bucket-chunked/k', {
        host,
        'content-encoding': 'aws-chunked',
        'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
        'x-amz-decoded-content-length': '3',
        'content-length': String(body.length),
      }) + body,
    );
    assert.equal(reply?.status, 404);
    await stillServing();
  });

  test('a malformed aws-chunked body to an existing bucket: 400 IncompleteBody, and the server lives', async () => {
    const body = 'zz\r\nabc\r\n';
    const headers = await signedHeaders(m, 'PUT', `/${bucket}/chunked`, {
      'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': '3',
      'content-length': String(body.length),
    }, { payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' });
    const { reply } = await rawExchange(m.httpEndpoint, head('PUT', `/${bucket}/chunked`, headers) + body);
    assert.equal(reply?.status, 400);
    assert.match(reply!.text, /<Code>IncompleteBody<\/Code>/);
    await stillServing();
  });
});

describe('an early answer to a request with a body', { timeout: 60_000 }, () => {
  test('a small unread body is drained: the same connection serves the next request', async () => {
    const c = await RawConnection.open(m.httpEndpoint);
    try {
      const body = Buffer.alloc(200 * 1024, 'x');
      const headers = await signedHeaders(m, 'PUT', '/no-such-bucket-drain/k', { 'content-length': String(body.length) }, { payloadHash: 'UNSIGNED-PAYLOAD' });
      await c.write(head('PUT', '/no-such-bucket-drain/k', headers));
      await c.write(body);
      const first = await c.response();
      assert.equal(first?.status, 404);
      assert.notEqual(first?.headers.connection, 'close');
      const next = await signedHeaders(m, 'HEAD', `/${bucket}`, {});
      await c.write(head('HEAD', `/${bucket}`, next));
      const second = await c.response({ head: true });
      assert.equal(second?.status, 200, 'the connection carried the next request');
    } finally {
      c.destroy();
    }
  });

  test('a large unread body is not waited for: Connection: close, and the server ends the connection', async () => {
    const c = await RawConnection.open(m.httpEndpoint);
    try {
      const size = 64 * 1024 * 1024;
      const headers = await signedHeaders(m, 'PUT', '/no-such-bucket-big/k', { 'content-length': String(size) }, { payloadHash: 'UNSIGNED-PAYLOAD' });
      await c.write(head('PUT', '/no-such-bucket-big/k', headers));
      // The client pushes its whole body, as botocore does before it reads any answer.
      const pushing = (async () => {
        const piece = Buffer.alloc(1024 * 1024, 'x');
        for (let sent = 0; sent < size && !c.closed; sent += piece.length) if (!(await c.write(piece))) break;
      })();
      const reply = await c.response();
      assert.equal(reply?.status, 404);
      assert.equal(reply?.headers.connection, 'close');
      await c.closing;
      await pushing;
    } finally {
      c.destroy();
    }
    await stillServing();
  });

  test('an oversized KMS body is refused from its Content-Length, and the answer arrives', async () => {
    const c = await RawConnection.open(m.httpEndpoint);
    try {
      await c.write(head('POST', '/', { host, 'x-amz-target': 'TrentService.ListKeys', 'content-type': 'application/x-amz-json-1.1', 'content-length': String(512 * 1024 * 1024) }));
      await c.write(Buffer.alloc(256 * 1024, 0x20));
      const reply = await c.response();
      assert.equal(reply?.status, 413);
      assert.equal(reply?.headers.connection, 'close');
      await c.closing;
    } finally {
      c.destroy();
    }
  });

  test('a KMS body of unknown length (chunked) is read only up to its limit: 413, and the answer arrives', async () => {
    const c = await RawConnection.open(m.httpEndpoint);
    try {
      await c.write(head('POST', '/', { host, 'x-amz-target': 'TrentService.ListKeys', 'content-type': 'application/x-amz-json-1.1', 'transfer-encoding': 'chunked' }));
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
      // 2 MiB offered; the server stops at its 1 MiB limit and answers.
      const pushing = (async () => {
        for (let i = 0; i < 32 && !c.closed; i++) if (!(await c.write(frame))) break;
      })();
      const reply = await c.response();
      assert.equal(reply?.status, 413);
      assert.equal(reply?.headers.connection, 'close');
      await c.closing;
      await pushing;
    } finally {
      c.destroy();
    }
  });

  test('Expect: 100-continue: a request refused on its headers is answered without 100 Continue (no body is sent)', async () => {
    const c = await RawConnection.open(m.httpEndpoint);
    try {
      const headers = await signedHeaders(m, 'PUT', '/no-such-bucket-expect/k', { 'content-length': String(8 * 1024 * 1024), expect: '100-continue' }, { payloadHash: 'UNSIGNED-PAYLOAD' });
      await c.write(head('PUT', '/no-such-bucket-expect/k', headers));
      assert.equal(await c.firstAnswer(), 'final', 'no 100 Continue before the refusal');
      const reply = await c.response();
      assert.equal(reply?.status, 404);
      assert.deepEqual(c.interim, []);
    } finally {
      c.destroy();
    }
  });

  test('Expect: 100-continue: an accepted request gets 100 Continue, then its answer', async () => {
    const c = await RawConnection.open(m.httpEndpoint);
    try {
      const body = Buffer.alloc(64 * 1024, 'c');
      const headers = await signedHeaders(m, 'PUT', `/${bucket}/expect-continue`, { 'content-length': String(body.length), expect: '100-continue' }, { body });
      await c.write(head('PUT', `/${bucket}/expect-continue`, headers));
      assert.equal(await c.firstAnswer(), 'interim');
      await c.write(body);
      const reply = await c.response();
      assert.equal(reply?.status, 200, reply?.text);
      assert.deepEqual(c.interim, [100]);
    } finally {
      c.destroy();
    }
    assert.equal((await bytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'expect-continue' }))).Body)).length, 64 * 1024);
  });

  test('an Expect header other than 100-continue is ignored (AWS), not 417', async () => {
    const headers = await signedHeaders(m, 'GET', `/${bucket}/existing`, { expect: 'something-else' });
    const { reply } = await rawExchange(m.httpEndpoint, head('GET', `/${bucket}/existing`, headers));
    assert.equal(reply?.status, 200);
    assert.equal(reply?.text, 'keep me');
  });
});

describe('limits on slow and greedy clients', { timeout: 90_000 }, () => {
  let t: MeridianProcess;
  let tHost: string;
  const tBucket = bucketName('limits');
  before(async () => {
    t = await startMeridianProcess({
      tls: false,
      env: { MERIDIAN_HEADERS_TIMEOUT_MS: '1500', MERIDIAN_BODY_TIMEOUT_MS: '1000', MERIDIAN_MIN_BODY_BYTES_PER_SEC: '1024', MERIDIAN_MAX_HEADER_BYTES: '8192' },
    });
    tHost = new URL(t.httpEndpoint).host;
    await s3Client(t).send(new CreateBucketCommand({ Bucket: tBucket }));
  });
  after(async () => {
    await t?.stop();
  });

  test('slowloris: a client sending one header line every second is cut off with 408', async () => {
    const c = await RawConnection.open(t.httpEndpoint);
    try {
      await c.write(`GET /${tBucket} HTTP/1.1\r\nHost: ${tHost}\r\n`);
      let lines = 0;
      while (!c.closed && lines < 20) {
        await sleep(1000);
        await c.write(`x-filler-${lines++}: still here\r\n`);
      }
      assert.ok(c.closed, `the server still held the connection after ${lines} header lines`);
      const reply = await c.response();
      assert.equal(reply?.status, 408);
    } finally {
      c.destroy();
    }
  });

  test('a request body that stops moving is cut, and nothing is stored', async () => {
    const c = await RawConnection.open(t.httpEndpoint);
    try {
      const headers = await signedHeaders(t, 'PUT', `/${tBucket}/stalled`, { 'content-length': String(1024 * 1024) }, { payloadHash: 'UNSIGNED-PAYLOAD' });
      await c.write(head('PUT', `/${tBucket}/stalled`, headers));
      await c.write(Buffer.alloc(10 * 1024, 'x'));
      await c.closing;
      assert.ok(c.closed);
    } finally {
      c.destroy();
    }
    const s = s3Client(t);
    await assert.rejects(s.send(new GetObjectCommand({ Bucket: tBucket, Key: 'stalled' })), (e: Error) => e.name === 'NoSuchKey');
    await s.send(new HeadBucketCommand({ Bucket: tBucket }));
  });

  test('a slow but moving upload (3 KiB/s against a 1 KiB/s minimum) completes', async () => {
    const piece = Buffer.alloc(1536, 'y');
    const pieces = 8;
    const c = await RawConnection.open(t.httpEndpoint);
    try {
      const headers = await signedHeaders(t, 'PUT', `/${tBucket}/slow`, { 'content-length': String(piece.length * pieces) }, { payloadHash: 'UNSIGNED-PAYLOAD' });
      await c.write(head('PUT', `/${tBucket}/slow`, headers));
      for (let i = 0; i < pieces; i++) {
        await sleep(500);
        assert.ok(await c.write(piece), `the server cut a moving upload after ${i} pieces`);
      }
      const reply = await c.response();
      assert.equal(reply?.status, 200, reply?.text);
    } finally {
      c.destroy();
    }
    const got = await s3Client(t).send(new GetObjectCommand({ Bucket: tBucket, Key: 'slow' }));
    assert.equal((await bytes(got.Body)).length, piece.length * pieces);
  });

  test('a download whose client stopped reading is cut, releasing its socket and blob descriptor', async () => {
    await s3Client(t).send(new PutObjectCommand({ Bucket: tBucket, Key: 'big', Body: Buffer.alloc(24 * 1024 * 1024, 'b') }));
    const pid = t.child.pid!;
    const before = await openDescriptors(pid);
    const c = await RawConnection.open(t.httpEndpoint);
    try {
      c.socket.pause();
      await c.write(head('GET', `/${tBucket}/big`, await signedHeaders(t, 'GET', `/${tBucket}/big`, {})));
      // The server holds the object's blob open while it waits for the client to read…
      let during = 0;
      for (let i = 0; i < 100 && during === 0; i++) {
        await sleep(50);
        during = blobDescriptors(pid, t.dataDir);
      }
      assert.equal(during, 1, 'the blob is open while the response waits for the client');
      // …until the body timeout of no progress cuts the connection.
      let after = during;
      for (let i = 0; i < 200 && after > 0; i++) {
        await sleep(100);
        after = blobDescriptors(pid, t.dataDir);
      }
      assert.equal(after, 0, 'the blob descriptor is closed after the cut');
      assert.ok((await openDescriptors(pid)) <= before, 'and the socket');
    } finally {
      c.destroy();
    }
  });

  test('headers larger than MERIDIAN_MAX_HEADER_BYTES get 431', async () => {
    const { reply } = await rawExchange(t.httpEndpoint, head('GET', `/${tBucket}`, { host: tHost, 'x-amz-meta-big': 'a'.repeat(10 * 1024) }));
    assert.equal(reply?.status, 431);
  });
});

describe('connection caps', { timeout: 60_000 }, () => {
  let t: MeridianProcess;
  before(async () => {
    t = await startMeridianProcess({ tls: false, env: { MERIDIAN_MAX_CONNECTIONS: '5', MERIDIAN_MAX_CONNECTIONS_PER_CLIENT: '3' } });
  });
  after(async () => {
    await t?.stop();
  });

  /** Whether a connection from `localAddress` is served (answers a request) or refused (closed unanswered). */
  async function served(c: RawConnection): Promise<boolean> {
    await c.write(head('GET', '/', { host: new URL(t.httpEndpoint).host }));
    const reply = await c.response();
    return reply !== undefined;
  }

  test('per client address and in total: connections past the caps are closed unanswered, others still served', async () => {
    const open: RawConnection[] = [];
    const from = async (address: string) => {
      const c = await RawConnection.open(t.httpEndpoint, { localAddress: address });
      open.push(c);
      return c;
    };
    try {
      const first = [await from('127.0.0.1'), await from('127.0.0.1'), await from('127.0.0.1')];
      for (const c of first) assert.ok(await served(c));
      assert.equal(await served(await from('127.0.0.1')), false, 'a fourth connection from one address is refused');
      assert.ok(await served(await from('127.0.0.2')), 'another address is still served');
      assert.ok(await served(await from('127.0.0.3')), 'five open in total');
      assert.equal(await served(await from('127.0.0.4')), false, 'a sixth connection in total is refused');
      first[0]!.destroy();
      await first[0]!.closing;
      // The server sees the close a moment after the client: retry until the slot is free.
      let again = false;
      for (let i = 0; i < 50 && !again; i++) {
        again = await served(await from('127.0.0.1'));
        if (!again) await sleep(100);
      }
      assert.ok(again, 'a slot freed by a closed connection is usable again');
    } finally {
      for (const c of open) c.destroy();
    }
  });
});

describe("AWS's answer for every bad input", { timeout: 120_000 }, () => {
  test('an x-amz-* header outside SignedHeaders on a header-signed request: 403 AccessDenied naming it, and nothing stored', async () => {
    for (const [name, value] of [
      ['x-amz-meta-injected', 'yes'],
      ['x-amz-tagging', 'a=b'],
      ['x-amz-storage-class', 'STANDARD_IA'],
      ['x-amz-server-side-encryption', 'AES256'],
    ] as const) {
      const path = `/${bucket}/unsigned-${name}`;
      const headers = await signedHeaders(m, 'PUT', path, { 'content-length': '2' }, { body: 'hi', unsigned: { [name]: value } });
      const { reply } = await rawExchange(m.httpEndpoint, head('PUT', path, headers) + 'hi');
      assert.equal(reply?.status, 403, `${name}: ${reply?.text}`);
      assert.match(reply!.text, /<Code>AccessDenied<\/Code>/);
      assert.match(reply!.text, /<Message>There were headers present in the request which were not signed<\/Message>/);
      assert.match(reply!.text, new RegExp(`<HeadersNotSigned>${name}</HeadersNotSigned>`));
      await assert.rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: `unsigned-${name}` })), (e: Error) => e.name === 'NoSuchKey');
    }
  });

  test('x-amz-content-sha256 left out of SignedHeaders is refused too (the header form always signs it)', async () => {
    const path = `/${bucket}/unsigned-hash`;
    const headers = await signedHeaders(m, 'PUT', path, { 'content-length': '2' }, { body: 'hi', unsignable: ['x-amz-content-sha256'] });
    assert.doesNotMatch(headers.authorization!, /x-amz-content-sha256/);
    const { reply } = await rawExchange(m.httpEndpoint, head('PUT', path, headers) + 'hi');
    assert.equal(reply?.status, 403, reply?.text);
    assert.match(reply!.text, /<HeadersNotSigned>x-amz-content-sha256<\/HeadersNotSigned>/);
  });

  test('SDK requests (which sign every x-amz-* header) still pass', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sdk-signed', Body: 'ok', Metadata: { a: 'b' }, Tagging: 'x=y', StorageClass: 'STANDARD_IA' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'sdk-signed' }));
    assert.equal(got.Metadata?.a, 'b');
  });

  test('Transfer-Encoding: chunked without Content-Length (and not aws-chunked): 411 MissingContentLength, nothing stored', async () => {
    const path = `/${bucket}/te-chunked`;
    const headers = await signedHeaders(m, 'PUT', path, { 'transfer-encoding': 'chunked' }, { payloadHash: 'UNSIGNED-PAYLOAD' });
    const { reply } = await rawExchange(m.httpEndpoint, head('PUT', path, headers) + '5\r\nhello\r\n0\r\n\r\n');
    assert.equal(reply?.status, 411, reply?.text);
    assert.match(reply!.text, /<Code>MissingContentLength<\/Code>/);
    await assert.rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'te-chunked' })), (e: Error) => e.name === 'NoSuchKey');
  });

  test('response-* values with CR/LF: 400 InvalidArgument, and 50 of them leave no descriptor open', async () => {
    const key = 'large-object';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.alloc(512 * 1024, 'z') }));
    const c = await RawConnection.open(m.httpEndpoint);
    const pid = m.child.pid!;
    try {
      // One warm-up request on the connection, then the baseline.
      const ok = await signedHeaders(m, 'HEAD', `/${bucket}/${key}`, {});
      await c.write(head('HEAD', `/${bucket}/${key}`, ok));
      assert.equal((await c.response({ head: true }))?.status, 200);
      const before = await openDescriptors(pid);
      for (let i = 0; i < 50; i++) {
        const param = ['response-content-type', 'response-content-disposition', 'response-cache-control'][i % 3]!;
        const headers = await signedHeaders(m, 'GET', `/${bucket}/${key}`, {}, { query: { [param]: 'text/plain\r\nx-injected: 1' } });
        await c.write(head('GET', `/${bucket}/${key}?${param}=text%2Fplain%0D%0Ax-injected%3A%201`, headers));
        const reply = await c.response();
        assert.equal(reply?.status, 400, reply?.text);
        assert.match(reply!.text, /<Code>InvalidArgument<\/Code>/);
        assert.equal(reply?.headers['x-injected'], undefined);
      }
      assert.ok((await openDescriptors(pid)) <= before, `descriptors: ${before} before, ${await openDescriptors(pid)} after`);
    } finally {
      c.destroy();
    }
    await stillServing();
  });
});

describe('resource hygiene', { timeout: 180_000 }, () => {
  test('after an error storm of a few hundred bad requests, the descriptor count is back to its baseline', async () => {
    const pid = m.child.pid!;
    await stillServing();
    await sleep(200);
    const before = await openDescriptors(pid);
    const rssBefore = residentKiB(pid);
    const bad: (() => Promise<unknown>)[] = [
      () => rawExchange(m.httpEndpoint, head('PUT', '/no-such-bucket-storm/k', { host, 'x-amz-content-sha256': WRONG_HASH, 'content-length': '3' }) + 'abc'),
      () => rawExchange(m.httpEndpoint, head('PUT', '/no-such-bucket-storm/k', { host, 'content-encoding': 'aws-chunked', 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'x-amz-decoded-content-length': '3', 'content-length': '9' }) + 'zz\r\nabc\r\n'),
      async () => {
        const h = await signedHeaders(m, 'GET', `/${bucket}/large-object`, {}, { query: { 'response-content-type': 'a\nb' } });
        return rawExchange(m.httpEndpoint, head('GET', `/${bucket}/large-object?response-content-type=a%0Ab`, h));
      },
      async () => {
        const h = await signedHeaders(m, 'PUT', `/${bucket}/storm`, { 'content-length': '2' }, { body: 'hi', unsigned: { 'x-amz-meta-x': '1' } });
        return rawExchange(m.httpEndpoint, head('PUT', `/${bucket}/storm`, h) + 'hi');
      },
      async () => {
        // A large body abandoned half-way after an early answer.
        const c = await RawConnection.open(m.httpEndpoint);
        await c.write(head('PUT', '/no-such-bucket-storm/big', { host, 'content-length': String(32 * 1024 * 1024) }));
        await c.write(Buffer.alloc(256 * 1024));
        await c.response();
        return c;
      },
      () => rawExchange(m.httpEndpoint, 'GARBAGE / HTTP/9.9\r\n\r\n'),
      () => rawExchange(m.httpEndpoint, head('POST', '/', { host, 'x-amz-target': 'TrentService.Encrypt', 'content-type': 'application/x-amz-json-1.1', 'content-length': '5' }) + '{bad '),
    ];
    const connections: RawConnection[] = [];
    for (let i = 0; i < 350; i++) {
      const r = await bad[i % bad.length]!();
      const c = r instanceof RawConnection ? r : (r as { connection: RawConnection }).connection;
      c.destroy();
      connections.push(c);
    }
    await Promise.all(connections.map((c) => c.closing));
    await stillServing();
    // The server closes its side of each connection a moment after the client: poll, do not sleep blindly.
    let after = await openDescriptors(pid);
    for (let i = 0; i < 50 && after > before; i++) {
      await sleep(100);
      after = await openDescriptors(pid);
    }
    console.log(`error storm: descriptors ${before} -> ${after}; RSS ${rssBefore} KiB -> ${residentKiB(pid)} KiB`);
    assert.ok(after <= before, `descriptors: ${before} before, ${after} after`);
  });
});

function residentKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

describe('/_meridian/metrics', () => {
  test('anonymous: 403; a wrong bearer token: 403', async () => {
    const anonymous = await fetch(`${m.httpEndpoint}/_meridian/metrics`);
    assert.equal(anonymous.status, 403);
    assert.doesNotMatch(await anonymous.text(), new RegExp(bucket));
    const wrong = await fetch(`${m.httpEndpoint}/_meridian/metrics`, { headers: { authorization: 'Bearer not-the-token-at-all' } });
    assert.equal(wrong.status, 403);
  });

  test('the configured bearer token (what Prometheus sends) or a signed request of the operator account: 200', async () => {
    const bearer = await fetch(`${m.httpEndpoint}/_meridian/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    assert.equal(bearer.status, 200);
    assert.match(await bearer.text(), /^# HELP /m);
    const signed = await signedFetch(m, 'GET', '/_meridian/metrics');
    assert.equal(signed.status, 200);
  });
});

/** Descriptors the server holds on files under its data directory's blobs. */
function blobDescriptors(pid: number, dataDir: string): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(dataDir) && readlinkSync(`/proc/${pid}/fd/${fd}`).includes('/blobs/')) n++;
    } catch {
      // closed while listing
    }
  }
  return n;
}
