/**
 * Presigned URLs (reference §5.8). @aws-sdk/s3-request-presigner is not installed, so URLs are made
 * with SignatureV4.presign the way that presigner drives it (X-Amz-Content-Sha256 header hoisted into
 * the query, checksum headers hoisted too).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { computeChecksum } from '../../crypto/checksums.js';
import { uriEncode } from './encoding.js';
import { createPayloadVerifier } from './payload.js';
import { readCredentialScope, verifySignature, type SigningRequest } from './sigv4.js';
import { CREDS, defaultLookup, lookupFor, runStream, serviceError, smithySigner } from './test-support.js';

const NOW = Date.UTC(2026, 10, 27, 14, 10, 40);

interface PresignInput {
  method?: string;
  path?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  expiresIn?: number;
  signingDate?: number;
  service?: string;
  sessionToken?: string;
  unhoistable?: string[];
}

/** Presign and return the request as the server would receive it (wire query, lower-case headers). */
async function presign(p: PresignInput = {}): Promise<SigningRequest> {
  const service = p.service ?? 's3';
  const creds = p.sessionToken ? { ...CREDS, sessionToken: p.sessionToken } : CREDS;
  const signer = smithySigner(service, 'us-west-2', creds);
  const headers: Record<string, string> = { host: 'localhost:18080', ...(p.headers ?? {}) };
  if (service === 's3') headers['X-Amz-Content-Sha256'] = 'UNSIGNED-PAYLOAD';
  const out = await signer.presign(
    { method: p.method ?? 'GET', protocol: 'http:', hostname: 'localhost', port: 18080, path: p.path ?? '/bkt/a%20b.txt', query: p.query ?? {}, headers },
    { signingDate: new Date(p.signingDate ?? NOW), expiresIn: p.expiresIn ?? 3600, unhoistableHeaders: new Set(p.unhoistable ?? []) },
  );
  const rawQuery = Object.entries(out.query ?? {})
    .map(([k, v]) => `${uriEncode(k)}=${uriEncode(String(v))}`)
    .join('&');
  const wireHeaders = Object.fromEntries(Object.entries(out.headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { method: p.method ?? 'GET', rawPath: out.path, rawQuery, headers: wireHeaders };
}

const opts = { lookup: defaultLookup, now: NOW, s3: true };
const withQuery = (req: SigningRequest, f: (q: URLSearchParams) => void): SigningRequest => {
  const q = new URLSearchParams(req.rawQuery);
  f(q);
  return { ...req, rawQuery: q.toString().replace(/\+/g, '%20') };
};

test('AWS docs example: presigned GET of examplebucket/test.txt valid for 86400 s', async () => {
  const req: SigningRequest = {
    method: 'GET',
    rawPath: '/test.txt',
    rawQuery:
      'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
    headers: { host: 'examplebucket.s3.amazonaws.com' },
  };
  const v = await verifySignature(req, { ...opts, now: Date.UTC(2013, 4, 24, 12) });
  assert.equal(v.kind, 'presigned');
  assert.equal(v.payloadHash, 'UNSIGNED-PAYLOAD');
  assert.deepEqual(readCredentialScope(req), { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', date: '20130524', region: 'us-east-1', service: 's3' });
});

test('property: presigned URLs for random keys, queries and expiries verify inside their window; tampering fails', async () => {
  const segment = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 6 }), fc.constantFrom(' ', '+', "!*'()", 'ü', '.', '..'));
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('GET', 'PUT', 'HEAD', 'DELETE'),
      fc.array(segment, { minLength: 1, maxLength: 4 }),
      fc.dictionary(fc.stringMatching(/^[a-z][a-z-]{0,8}$/), fc.string({ unit: 'grapheme', maxLength: 8 }), { maxKeys: 3 }),
      fc.integer({ min: 1, max: 604800 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.constantFrom('method', 'path', 'query', 'signature', 'expires'),
      async (method, segments, query, expiresIn, at, t) => {
        const req = await presign({ method, path: '/bkt/' + segments.map((s) => uriEncode(s)).join('/'), query, expiresIn });
        const now = NOW + Math.floor(at * expiresIn * 1000);
        const v = await verifySignature(req, { ...opts, now });
        assert.equal(v.kind, 'presigned');
        const tampered =
          t === 'method'
            ? { ...req, method: method === 'GET' ? 'PUT' : 'GET' }
            : t === 'path'
              ? { ...req, rawPath: req.rawPath + 'x' }
              : t === 'query'
                ? { ...req, rawQuery: req.rawQuery + '&extra=1' }
                : t === 'signature'
                  ? withQuery(req, (q) => q.set('X-Amz-Signature', q.get('X-Amz-Signature')!.replace(/^./, (c) => (c === '0' ? '1' : '0'))))
                  : withQuery(req, (q) => q.set('X-Amz-Expires', String(expiresIn === 1 ? 2 : expiresIn - 1)));
        await assert.rejects(verifySignature(tampered, { ...opts, now: NOW }), { code: 'SignatureDoesNotMatch' });
      },
    ),
    { numRuns: 150 },
  );
});

test('an expired URL is AccessDenied "Request has expired" with X-Amz-Expires, Expires and ServerTime', async () => {
  const req = await presign({ expiresIn: 100 });
  await verifySignature(req, { ...opts, now: NOW + 100_000 });
  await assert.rejects(verifySignature(req, { ...opts, now: NOW + 101_000 }), (e: unknown) => {
    serviceError('AccessDenied', { status: 403, message: 'Request has expired' })(e);
    assert.deepEqual((e as { fields: Record<string, string> }).fields, {
      'X-Amz-Expires': '100',
      Expires: '2026-11-27T14:12:20Z',
      ServerTime: '2026-11-27T14:12:21Z',
    });
    return true;
  });
});

test('a URL dated more than 15 minutes ahead is not yet valid', async () => {
  const req = await presign({ signingDate: NOW + 16 * 60 * 1000 });
  await assert.rejects(verifySignature(req, opts), serviceError('AccessDenied', { message: 'Request is not yet valid' }));
});

test('each missing parameter is AuthorizationQueryParametersError with AWS\'s text', async () => {
  const req = await presign();
  const message =
    'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.';
  for (const name of ['X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Expires']) {
    const r = withQuery(req, (q) => q.delete(name));
    assert.throws(() => readCredentialScope(r), serviceError('AuthorizationQueryParametersError', { status: 400, message }), name);
    await assert.rejects(verifySignature(r, opts), serviceError('AuthorizationQueryParametersError', { message }), name);
  }
  // Without X-Amz-Algorithm and X-Amz-Credential nothing marks the request as presigned.
  assert.throws(() => readCredentialScope(withQuery(req, (q) => q.delete('X-Amz-Algorithm'))), serviceError('AuthorizationQueryParametersError'));
});

test('X-Amz-Expires: a week is the limit, must be a positive number', async () => {
  await verifySignature(await presign({ expiresIn: 604800 }), opts);
  const req = await presign();
  const cases: [string, string][] = [
    ['604801', 'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds'],
    ['abc', 'X-Amz-Expires should be a number'],
    ['-5', 'X-Amz-Expires must be non-negative'],
    ['0', 'X-Amz-Expires must be greater than 0'],
  ];
  for (const [value, message] of cases) {
    await assert.rejects(
      verifySignature(withQuery(req, (q) => q.set('X-Amz-Expires', value)), opts),
      serviceError('AuthorizationQueryParametersError', { status: 400, message }),
    );
  }
});

test('malformed X-Amz-Credential / X-Amz-Date / algorithm, and a credential date that is not X-Amz-Date', async () => {
  const req = await presign();
  const err = (f: (q: URLSearchParams) => void, message: string | RegExp) =>
    assert.throws(() => readCredentialScope(withQuery(req, f)), serviceError('AuthorizationQueryParametersError', { message }));
  err((q) => q.set('X-Amz-Credential', 'AKID/20261127/us-west-2/s3'), /the Credential is mal-formed/);
  err((q) => q.set('X-Amz-Date', '2026-11-27T14:10:40Z'), /ISO8601 Long Format/);
  err((q) => q.set('X-Amz-Algorithm', 'AWS4-HMAC-SHA1'), 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  err((q) => q.set('X-Amz-Credential', `${CREDS.accessKeyId}/20261126/us-west-2/s3/aws4_request`), /Invalid credential date "20261126"/);
});

test('x-amz-* headers that are not signed are AccessDenied with HeadersNotSigned; signed ones are fine', async () => {
  const req = await presign({ method: 'PUT' });
  await assert.rejects(
    verifySignature({ ...req, headers: { ...req.headers, 'x-amz-meta-a': '1', 'x-amz-acl': 'private' } }, opts),
    (e: unknown) => {
      serviceError('AccessDenied', { status: 403, message: 'There were headers present in the request which were not signed' })(e);
      assert.equal((e as { fields: Record<string, string> }).fields.HeadersNotSigned, 'x-amz-acl, x-amz-meta-a');
      return true;
    },
  );
  const signedMeta = await presign({ method: 'PUT', headers: { 'x-amz-meta-a': '1' }, unhoistable: ['x-amz-meta-a'] });
  assert.equal(signedMeta.headers['x-amz-meta-a'], '1');
  const v = await verifySignature(signedMeta, opts);
  assert.deepEqual(v.signedHeaders, ['host', 'x-amz-meta-a']);
});

test('session-token URLs (botocore style X-Amz-Security-Token) need the lookup\'s token', async () => {
  const token = 'IQoJb3JpZ2luX2VjE+/=TOKEN';
  const req = await presign({ sessionToken: token });
  const lookup = lookupFor({ [CREDS.accessKeyId]: { secretAccessKey: CREDS.secretAccessKey, sessionToken: token } });
  assert.equal((await verifySignature(req, { ...opts, lookup })).sessionToken, token);
  const other = lookupFor({ [CREDS.accessKeyId]: { secretAccessKey: CREDS.secretAccessKey, sessionToken: 'different' } });
  await assert.rejects(verifySignature(req, { ...opts, lookup: other }), serviceError('InvalidToken'));
});

test('SDK v3 PutObject presign: hoisted checksum parameters are signed but never checked against the body', async () => {
  const req = await presign({
    method: 'PUT',
    query: { 'x-id': 'PutObject' },
    headers: { 'x-amz-checksum-crc32': 'AAAAAA==', 'x-amz-sdk-checksum-algorithm': 'CRC32' },
  });
  assert.match(req.rawQuery, /x-amz-checksum-crc32=AAAAAA%3D%3D/);
  assert.match(req.rawQuery, /X-Amz-Content-Sha256=UNSIGNED-PAYLOAD/);
  const v = await verifySignature(req, opts);
  assert.equal(v.payloadHash, 'UNSIGNED-PAYLOAD');
  const body = Buffer.from('real data, not the empty body the presigner checksummed');
  const { output, result } = await runStream(createPayloadVerifier(v, req.headers), [body]);
  assert.ok(output.equals(body));
  assert.equal(result.checksum, undefined);
  assert.notEqual(computeChecksum('CRC32', body), 'AAAAAA==');
});

test('unknown access key in a URL is InvalidAccessKeyId', async () => {
  await assert.rejects(verifySignature(await presign(), { ...opts, lookup: lookupFor({}) }), serviceError('InvalidAccessKeyId'));
});

test('SigV2 query URLs (CLI v1 `s3 presign`) are refused as an unsupported mechanism', () => {
  const req: SigningRequest = {
    method: 'GET',
    rawPath: '/bkt/k',
    rawQuery: 'AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=abc%3D&Expires=1700000000',
    headers: { host: 'localhost' },
  };
  assert.throws(() => readCredentialScope(req), serviceError('InvalidRequest', { message: /Please use AWS4-HMAC-SHA256/ }));
});

test('non-S3 presigned requests (STS GetCallerIdentity, EKS-token style) sign the body hash, not UNSIGNED-PAYLOAD', async () => {
  const req = await presign({ service: 'sts', path: '/', query: { Action: 'GetCallerIdentity', Version: '2011-06-15' }, expiresIn: 60 });
  const v = await verifySignature(req, { ...opts, s3: false });
  assert.equal(v.service, 'sts');
  assert.equal(v.payloadHash, 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
});
