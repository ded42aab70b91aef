/** signRequest: the server's own client-side signer agrees with @smithy/signature-v4 and with verifySignature. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signRequest } from './sign.js';
import { verifySignature } from './sigv4.js';
import { CREDS, defaultLookup, lookupFor, smithySigner } from './test-support.js';

const NOW = new Date(Date.UTC(2025, 5, 30, 23, 59, 59));

test('produces the same Authorization header as @smithy/signature-v4 for S3 and KMS', async () => {
  const cases = [
    { service: 's3', url: 'http://127.0.0.1:18080/bkt/a%20b%2Bc/%C3%BC~%21.txt?x-id=PutObject&uploads=', body: 'hello' },
    { service: 'kms', url: 'https://kms.local:8443/', body: '{"KeyId":"alias/x"}' },
  ];
  for (const c of cases) {
    const url = new URL(c.url);
    const headers = { 'content-type': 'application/octet-stream', 'x-amz-meta-k': '  v  w ' };
    const ours = signRequest({ method: 'PUT', url, headers, body: c.body }, CREDS, 'eu-central-1', c.service, NOW);
    const query: Record<string, string> = {};
    url.searchParams.forEach((v, k) => (query[k] = v));
    const smithy = await smithySigner(c.service, 'eu-central-1').sign(
      {
        method: 'PUT',
        protocol: url.protocol,
        hostname: url.hostname,
        port: Number(url.port),
        path: url.pathname,
        query,
        headers: { ...headers, host: url.host },
        body: c.body,
      },
      { signingDate: NOW },
    );
    assert.equal(ours.authorization, smithy.headers['authorization'], c.service);
    assert.equal(ours['x-amz-content-sha256'], smithy.headers['x-amz-content-sha256']);
  }
});

test('round-trips through verifySignature, with a session token and a streaming payload token', async () => {
  const creds = { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 's3cr3t', sessionToken: 'tok' };
  const headers = signRequest(
    {
      method: 'PUT',
      url: new URL('http://localhost:9000/bkt/key'),
      headers: { 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'user-agent': 'meridian/0.1', 'content-encoding': 'aws-chunked' },
    },
    creds,
    'us-east-1',
    's3',
    NOW,
  );
  assert.equal(headers['x-amz-content-sha256'], 'STREAMING-UNSIGNED-PAYLOAD-TRAILER');
  assert.equal(headers['x-amz-security-token'], 'tok');
  assert.equal(headers.host, 'localhost:9000');
  assert.doesNotMatch(headers.authorization!, /user-agent/);
  const lookup = lookupFor({ ASIAEXAMPLE: { secretAccessKey: 's3cr3t', sessionToken: 'tok' } });
  const v = await verifySignature({ method: 'PUT', rawPath: '/bkt/key', rawQuery: '', headers }, { lookup, now: NOW.getTime(), s3: true });
  assert.equal(v.payloadHash, 'STREAMING-UNSIGNED-PAYLOAD-TRAILER');
  assert.deepEqual(v.signedHeaders, ['content-encoding', 'host', 'x-amz-content-sha256', 'x-amz-date', 'x-amz-security-token']);
});

test('body forms: none hashes the empty string, UNSIGNED-PAYLOAD is passed through, Buffer and string agree', () => {
  const url = new URL('http://h/b/k');
  const sign = (body?: Buffer | string) => signRequest({ method: 'PUT', url, headers: {}, body }, CREDS, 'us-east-1', 's3', NOW);
  assert.equal(sign()['x-amz-content-sha256'], 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.equal(sign('UNSIGNED-PAYLOAD')['x-amz-content-sha256'], 'UNSIGNED-PAYLOAD');
  assert.equal(sign('abc').authorization, sign(Buffer.from('abc')).authorization);
});

test('an unsigned default port is left out of host, a custom one kept', async () => {
  assert.equal(signRequest({ method: 'GET', url: new URL('https://s3.example:443/b'), headers: {} }, CREDS, 'r', 's3', NOW).host, 's3.example');
  const h = signRequest({ method: 'GET', url: new URL('http://s3.example:8080/b'), headers: {} }, CREDS, 'r', 's3', NOW);
  assert.equal(h.host, 's3.example:8080');
  await verifySignature({ method: 'GET', rawPath: '/b', rawQuery: '', headers: h }, { lookup: defaultLookup, now: NOW.getTime(), s3: true });
});
