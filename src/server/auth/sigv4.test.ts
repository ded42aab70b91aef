/**
 * verifySignature against the AWS documentation's worked examples, and the error behaviour of
 * reference §5.5–§5.7 and §5.13.
 */
import { test } from 'node:test';
import { createHash } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import assert from 'node:assert/strict';
import { readCredentialScope, verifySignature } from './sigv4.js';
import type { SigningRequest } from './sigv4.js';
import { signRequest } from './sign.js';
import { signingKeyCacheSize } from './signing-key.js';
import { CREDS, NodeSha256, defaultLookup, lookupFor, serviceError } from './test-support.js';

const T2013 = Date.UTC(2013, 4, 24); // 20130524T000000Z, the docs' request time
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const s3opts = { lookup: defaultLookup, now: T2013, s3: true };

/** GET Object example from the S3 "Signature Calculations for the Authorization Header" page. */
function docsGetObject(): SigningRequest {
  return {
    method: 'GET',
    rawPath: '/test.txt',
    rawQuery: '',
    headers: {
      host: 'examplebucket.s3.amazonaws.com',
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
      range: 'bytes=0-9',
      'x-amz-content-sha256': EMPTY,
      'x-amz-date': '20130524T000000Z',
    },
  };
}

test('AWS docs example: GET Object with Range verifies (comma-separated without spaces)', async () => {
  const v = await verifySignature(docsGetObject(), s3opts);
  assert.equal(v.accessKeyId, CREDS.accessKeyId);
  assert.equal(v.scope, '20130524/us-east-1/s3/aws4_request');
  assert.equal(v.kind, 'header');
  assert.equal(v.payloadHash, EMPTY);
  assert.equal(v.requestTime, T2013);
  assert.deepEqual(v.signedHeaders, ['host', 'range', 'x-amz-content-sha256', 'x-amz-date']);
  assert.equal(v.signingKey.length, 32);
});

test('AWS docs example: PUT Object with a Date header, $ in the key and a storage class', async () => {
  const req: SigningRequest = {
    method: 'PUT',
    rawPath: '/test%24file.text',
    rawQuery: '',
    headers: {
      host: 'examplebucket.s3.amazonaws.com',
      date: 'Fri, 24 May 2013 00:00:00 GMT',
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd',
      'x-amz-date': '20130524T000000Z',
      'x-amz-storage-class': 'REDUCED_REDUNDANCY',
      'x-amz-content-sha256': '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072',
    },
  };
  await verifySignature(req, s3opts);
});

test('AWS docs examples: GET ?lifecycle (bare sub-resource) and GET ?max-keys=2&prefix=J', async () => {
  const base = (rawQuery: string, sig: string): SigningRequest => ({
    method: 'GET',
    rawPath: '/',
    rawQuery,
    headers: {
      host: 'examplebucket.s3.amazonaws.com',
      'x-amz-date': '20130524T000000Z',
      'x-amz-content-sha256': EMPTY,
      authorization: `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=${sig}`,
    },
  });
  await verifySignature(base('lifecycle', 'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543'), s3opts);
  await verifySignature(base('max-keys=2&prefix=J', '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7'), s3opts);
});

test('readCredentialScope reads header scopes without secrets, and is undefined for anonymous requests', () => {
  assert.deepEqual(readCredentialScope(docsGetObject()), {
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    date: '20130524',
    region: 'us-east-1',
    service: 's3',
  });
  assert.equal(readCredentialScope({ method: 'GET', rawPath: '/b', rawQuery: 'x=1', headers: { host: 'h' } }), undefined);
});

test('malformed Authorization headers are AuthorizationHeaderMalformed with AWS texts', () => {
  const withAuth = (authorization: string): SigningRequest => ({ ...docsGetObject(), headers: { ...docsGetObject().headers, authorization } });
  assert.throws(
    () => readCredentialScope(withAuth('AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request, Signature=abc')),
    serviceError('AuthorizationHeaderMalformed', {
      status: 400,
      message: 'The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature.',
    }),
  );
  assert.throws(
    () => readCredentialScope(withAuth('AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3, SignedHeaders=host, Signature=abc')),
    serviceError('AuthorizationHeaderMalformed', {
      message: 'The authorization header is malformed; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
    }),
  );
  assert.throws(
    () => readCredentialScope(withAuth('AWS4-HMAC-SHA256 Credential=AKID/2013-05-24/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=abc')),
    serviceError('AuthorizationHeaderMalformed', { message: /incorrect date format/ }),
  );
  assert.throws(
    () => readCredentialScope(withAuth('AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request, SignedHeaders=x-amz-date, Signature=abc')),
    serviceError('AuthorizationHeaderMalformed', { message: /host/ }),
  );
});

test('SigV2 and SigV4a Authorization headers are refused as unsupported mechanisms; unknown schemes are InvalidArgument', () => {
  const withAuth = (authorization: string): SigningRequest => ({ method: 'GET', rawPath: '/', rawQuery: '', headers: { host: 'h', authorization } });
  const unsupported = serviceError('InvalidRequest', {
    message: 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.',
  });
  assert.throws(() => readCredentialScope(withAuth('AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=')), unsupported);
  assert.throws(() => readCredentialScope(withAuth('AWS4-ECDSA-P256-SHA256 Credential=x')), unsupported);
  assert.throws(() => readCredentialScope(withAuth('Bearer abc')), serviceError('InvalidArgument', { message: 'Unsupported Authorization Type' }));
});

test('an Authorization header together with presign query parameters is InvalidArgument', () => {
  const req = docsGetObject();
  req.rawQuery = 'X-Amz-Algorithm=AWS4-HMAC-SHA256';
  assert.throws(() => readCredentialScope(req), serviceError('InvalidArgument', { message: /Only one auth mechanism allowed/ }));
});

test('S3: missing x-amz-content-sha256 is InvalidRequest; an unknown token is InvalidArgument', async () => {
  const req = docsGetObject();
  delete req.headers['x-amz-content-sha256'];
  await assert.rejects(
    verifySignature(req, s3opts),
    serviceError('InvalidRequest', { status: 400, message: 'Missing required header for this request: x-amz-content-sha256' }),
  );
  req.headers['x-amz-content-sha256'] = 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD';
  await assert.rejects(verifySignature(req, s3opts), serviceError('InvalidArgument', { status: 400 }));
});

test('S3: more than 15 minutes of skew is RequestTimeTooSkewed with AWS fields; 15 minutes exactly is fine', async () => {
  const fifteen = 15 * 60 * 1000;
  await verifySignature(docsGetObject(), { ...s3opts, now: T2013 + fifteen });
  await verifySignature(docsGetObject(), { ...s3opts, now: T2013 - fifteen });
  for (const now of [T2013 + fifteen + 1000, T2013 - fifteen - 1000]) {
    await assert.rejects(verifySignature(docsGetObject(), { ...s3opts, now }), (e: unknown) => {
      serviceError('RequestTimeTooSkewed', { status: 403 })(e);
      const err = e as { fields: Record<string, string> };
      assert.equal(err.fields.RequestTime, '20130524T000000Z');
      assert.equal(err.fields.ServerTime, new Date(now).toISOString().replace('.000Z', 'Z'));
      assert.equal(err.fields.MaxAllowedSkewMilliseconds, '900000');
      return true;
    });
  }
});

test('non-S3 services allow 5 minutes and answer with AWS "Signature expired" / "not yet current" texts', async () => {
  const now = Date.UTC(2024, 0, 1, 12, 0, 0);
  const signedAt = (ms: number) => {
    const h = signRequest(
      { method: 'POST', url: new URL('http://127.0.0.1:4566/'), headers: { 'content-type': 'application/x-amz-json-1.1' }, body: '{}' },
      CREDS,
      'eu-west-1',
      'kms',
      new Date(ms),
    );
    return { method: 'POST', rawPath: '/', rawQuery: '', headers: h };
  };
  const opts = { lookup: defaultLookup, now, s3: false };
  await verifySignature(signedAt(now - 5 * 60 * 1000), opts);
  await assert.rejects(
    verifySignature(signedAt(now - 6 * 60 * 1000), opts),
    serviceError('SignatureDoesNotMatch', {
      status: 403,
      message: 'Signature expired: 20240101T115400Z is now earlier than 20240101T115500Z (20240101T120000Z - 5 min.)',
    }),
  );
  await assert.rejects(
    verifySignature(signedAt(now + 6 * 60 * 1000), opts),
    serviceError('SignatureDoesNotMatch', {
      message: 'Signature not yet current: 20240101T120600Z is still later than 20240101T120500Z (20240101T120000Z + 5 min.)',
    }),
  );
});

test('scope date differing from X-Amz-Date is AuthorizationHeaderMalformed', async () => {
  const req = docsGetObject();
  req.headers['x-amz-date'] = '20130525T000000Z';
  await assert.rejects(
    verifySignature(req, { ...s3opts, now: Date.UTC(2013, 4, 25) }),
    serviceError('AuthorizationHeaderMalformed', {
      status: 400,
      message: 'The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date.',
    }),
  );
});

test('a missing or invalid date is AccessDenied', async () => {
  const req = docsGetObject();
  delete req.headers['x-amz-date'];
  await assert.rejects(verifySignature(req, s3opts), serviceError('AccessDenied', { status: 403, message: /valid Date or x-amz-date/ }));
  req.headers['x-amz-date'] = '20131324T000000Z';
  await assert.rejects(verifySignature(req, s3opts), serviceError('AccessDenied'));
});

test('a scope for another service at the S3 endpoint is AuthorizationHeaderMalformed', async () => {
  const h = signRequest({ method: 'GET', url: new URL('http://h/b/k'), headers: {} }, CREDS, 'us-east-1', 'kms', new Date(T2013));
  await assert.rejects(
    verifySignature({ method: 'GET', rawPath: '/b/k', rawQuery: '', headers: h }, s3opts),
    serviceError('AuthorizationHeaderMalformed', { message: /incorrect service "kms"/ }),
  );
});

test('an unknown access key is InvalidAccessKeyId with the AWSAccessKeyId field', async () => {
  await assert.rejects(verifySignature(docsGetObject(), { ...s3opts, lookup: lookupFor({}) }), (e: unknown) => {
    serviceError('InvalidAccessKeyId', { status: 403, message: 'The AWS Access Key Id you provided does not exist in our records.' })(e);
    assert.equal((e as { fields: Record<string, string> }).fields.AWSAccessKeyId, 'AKIAIOSFODNN7EXAMPLE');
    return true;
  });
});

test('a wrong signature is SignatureDoesNotMatch carrying the string to sign and canonical request (with bytes)', async () => {
  const lookup = lookupFor({ [CREDS.accessKeyId]: { secretAccessKey: 'not-the-secret' } });
  await assert.rejects(verifySignature(docsGetObject(), { ...s3opts, lookup }), (e: unknown) => {
    serviceError('SignatureDoesNotMatch', { status: 403 })(e);
    const f = (e as { fields: Record<string, string> }).fields;
    assert.equal(f.AWSAccessKeyId, CREDS.accessKeyId);
    assert.equal(f.SignatureProvided, 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41');
    assert.equal(
      f.CanonicalRequest,
      ['GET', '/test.txt', '', 'host:examplebucket.s3.amazonaws.com', 'range:bytes=0-9', `x-amz-content-sha256:${EMPTY}`, 'x-amz-date:20130524T000000Z', '', 'host;range;x-amz-content-sha256;x-amz-date', EMPTY].join('\n'),
    );
    assert.equal(
      f.StringToSign,
      'AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972',
    );
    assert.match(f.StringToSignBytes!, /^41 57 53 34 2d /);
    assert.equal(f.CanonicalRequestBytes!.split(' ').length, Buffer.byteLength(f.CanonicalRequest!));
    return true;
  });
});

test('session tokens: the lookup\'s token must be sent unchanged; a token with permanent keys is InvalidToken', async () => {
  const now = Date.UTC(2024, 5, 1);
  const temp = { accessKeyId: 'ASIATESTTESTTEST0001', secretAccessKey: 'tempsecret', sessionToken: 'IQoJb3JpZ2luX2VjE+/=TOKEN' };
  const sign = (token?: string) => {
    const creds = token === undefined ? { accessKeyId: temp.accessKeyId, secretAccessKey: temp.secretAccessKey } : { ...temp, sessionToken: token };
    const headers = signRequest({ method: 'GET', url: new URL('http://localhost:9000/bkt/k'), headers: {} }, creds, 'us-east-1', 's3', new Date(now));
    return { method: 'GET', rawPath: '/bkt/k', rawQuery: '', headers };
  };
  const lookup = lookupFor({ [temp.accessKeyId]: { secretAccessKey: temp.secretAccessKey, sessionToken: temp.sessionToken } });
  const opts = { lookup, now, s3: true };
  const v = await verifySignature(sign(temp.sessionToken), opts);
  assert.equal(v.sessionToken, temp.sessionToken);
  const invalid = serviceError('InvalidToken', { status: 400, message: 'The provided token is malformed or otherwise invalid.' });
  await assert.rejects(verifySignature(sign(undefined), opts), invalid);
  await assert.rejects(verifySignature(sign('other-token'), opts), invalid);
  const permanent = lookupFor({ [temp.accessKeyId]: { secretAccessKey: temp.secretAccessKey } });
  await assert.rejects(verifySignature(sign(temp.sessionToken), { ...opts, lookup: permanent }), invalid);
});

test('non-S3: the canonical request uses the server-computed body hash, with or without the header', async () => {
  const now = Date.UTC(2024, 0, 1);
  const body = '{"KeyId":"alias/x"}';
  const bodySha256 = createHash('sha256').update(body).digest('hex');
  const headers = signRequest({ method: 'POST', url: new URL('http://localhost:4566/'), headers: { 'x-amz-target': 'TrentService.DescribeKey' }, body }, CREDS, 'us-east-1', 'kms', new Date(now));
  const req = { method: 'POST', rawPath: '/', rawQuery: '', headers };
  await verifySignature(req, { lookup: defaultLookup, now, s3: false, bodySha256 });
  await assert.rejects(
    verifySignature(req, { lookup: defaultLookup, now, s3: false, bodySha256: createHash('sha256').update('{}').digest('hex') }),
    serviceError('SignatureDoesNotMatch'),
  );
  // botocore sends no x-amz-content-sha256 to KMS/IAM/STS but still signs over the body hash.
  const signer = new SignatureV4({ service: 'kms', region: 'us-east-1', credentials: CREDS, sha256: NodeSha256, applyChecksum: false });
  const signed = await signer.sign(
    { method: 'POST', protocol: 'http:', hostname: 'localhost', port: 4566, path: '/', query: {}, headers: { host: 'localhost:4566' }, body },
    { signingDate: new Date(now) },
  );
  assert.equal(signed.headers['x-amz-content-sha256'], undefined);
  const botoReq = { method: 'POST', rawPath: '/', rawQuery: '', headers: lowerCase(signed.headers) };
  await verifySignature(botoReq, { lookup: defaultLookup, now, s3: false, bodySha256 });
});

function lowerCase(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

test('signing keys are cached in a bounded map', async () => {
  for (let i = 0; i < 600; i++) {
    const lookup = lookupFor({ [CREDS.accessKeyId]: { secretAccessKey: `secret-${i}` } });
    await verifySignature(docsGetObject(), { ...s3opts, lookup }).catch(() => undefined);
  }
  assert.ok(signingKeyCacheSize() <= 256);
});
