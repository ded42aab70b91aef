/**
 * The request path under hostile or careless clients: no request ends the process, an early answer
 * never leaves the client pushing a body nobody reads, and the server keeps answering afterwards.
 * Raw sockets (test/support/raw-http.ts) send what SDKs will not.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateBucketCommand, GetObjectCommand, HeadBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3Client } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { head, RawConnection, rawExchange, signedHeaders } from '../support/raw-http.js';
import { bucketName, bytes } from './helpers.js';

const WRONG_HASH = '0'.repeat(64);

let m: MeridianProcess;
let s3: S3Client;
let bucket: string;
let host: string;

before(async () => {
  m = await startMeridianProcess({ tls: false });
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

  test('an Expect header other than 100-continue is ignored (AWS), not 417', async () => {
    const headers = await signedHeaders(m, 'GET', `/${bucket}/existing`, { expect: 'something-else' });
    const { reply } = await rawExchange(m.httpEndpoint, head('GET', `/${bucket}/existing`, headers));
    assert.equal(reply?.status, 200);
    assert.equal(reply?.text, 'keep me');
  });
});
