/**
 * Property: any request @smithy/signature-v4 signs (the signer inside SDK v3) verifies, for S3
 * (single-encoded path) and KMS (normalised, double-encoded path); changing any signed element fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { SignatureV4 } from '@smithy/signature-v4';
import { createPayloadVerifier } from './payload.js';
import { verifySignature, type SigningRequest } from './sigv4.js';
import { uriEncode } from './encoding.js';
import { formatAmzDate, parseAmzDate } from './time.js';
import { CREDS, NodeSha256, defaultLookup, runStream, splitAt } from './test-support.js';

const NOW = Date.UTC(2025, 2, 14, 15, 9, 26);

const segment = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.constantFrom('.', '..', ' ', '+', "!*'()", 'a b', 'ü', '日本', '%', '%41', '~', '$&=;,', 'x+y', '', 'à', 'a/b', '/'),
);
const RESERVED_QUERY = /^(x-amz-signature|x-amz-algorithm|x-amz-credential|awsaccesskeyid|signature|__proto__)$/i;
const queryName = fc
  .oneof(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }), fc.constantFrom('uploads', 'x-id', 'prefix', 'delete', 'a b', 'é/'))
  .filter((n) => !RESERVED_QUERY.test(n));
const queryValue = fc.option(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 8 }), fc.constantFrom('', ' ', '+', 'a/b', '=', '&')), {
  nil: null,
});
// Header values as a client could send them: no CR/LF/other controls; may hold runs of spaces and UTF-8.
const headerText = fc.oneof(
  fc.stringMatching(/^[ -~\t]{0,24}$/),
  fc.string({ unit: 'grapheme', maxLength: 8 }).filter((s) => !/[\x00-\x1f\x7f]/.test(s)),
  fc.constantFrom('  lead and trail  ', 'a\t\tb   c', 'à', 'ñ x'),
);

const requestArb = fc.record({
  method: fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'HEAD', 'PATCH'),
  segments: fc.array(segment, { maxLength: 5 }),
  trailingSlash: fc.boolean(),
  query: fc.array(fc.tuple(queryName, queryValue), { maxLength: 5 }),
  meta: fc.dictionary(fc.stringMatching(/^[a-z0-9]{1,8}$/), headerText, { maxKeys: 4 }),
  contentType: fc.option(fc.constantFrom('application/octet-stream', 'text/plain; charset=utf-8', 'application/x-amz-json-1.1')),
  host: fc.constantFrom('localhost:9000', '127.0.0.1:18080', 's3.amazonaws.com', 'bkt.localhost:4566'),
  region: fc.constantFrom('us-east-1', 'eu-west-1', 'ap-southeast-2'),
  skewSeconds: fc.integer({ min: -290, max: 290 }),
  body: fc.uint8Array({ maxLength: 300 }),
  applyChecksum: fc.boolean(),
  cuts: fc.array(fc.nat(), { maxLength: 4 }),
});
type Gen = typeof requestArb extends fc.Arbitrary<infer T> ? T : never;

const TAMPERS = ['method', 'path', 'query', 'header', 'host', 'date', 'signature', 'region', 'body'] as const;
type Tamper = (typeof TAMPERS)[number];

/** node:http hands header bytes over as latin1 strings. */
const asWire = (v: string) => Buffer.from(v, 'utf8').toString('latin1');

async function build(g: Gen, service: 's3' | 'kms') {
  const wirePath = (service === 's3' ? '/bkt/' : '/') + g.segments.map((s) => uriEncode(s)).join('/') + (g.trailingSlash ? '/' : '');
  const query: Record<string, string | string[]> = {};
  for (const [n, v] of g.query) {
    const value = v ?? '';
    const prev = query[n];
    query[n] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  const rawQuery = g.query.map(([n, v]) => (v === null ? uriEncode(n) : `${uriEncode(n)}=${uriEncode(v)}`)).join('&');
  const body = Buffer.from(g.body);
  const headers: Record<string, string> = { host: g.host };
  for (const [k, v] of Object.entries(g.meta)) headers[`x-amz-meta-${k}`] = v;
  if (g.contentType) headers['content-type'] = g.contentType;
  if (service === 's3') headers['x-amz-content-sha256'] = createHash('sha256').update(body).digest('hex');
  const [hostname, port] = g.host.split(':') as [string, string | undefined];
  const signer = new SignatureV4({
    service,
    region: g.region,
    credentials: CREDS,
    sha256: NodeSha256,
    uriEscapePath: service !== 's3',
    applyChecksum: service === 's3' || g.applyChecksum,
  });
  const signed = await signer.sign(
    { method: g.method, protocol: 'http:', hostname, port: port ? Number(port) : undefined, path: wirePath, query, headers, body },
    { signingDate: new Date(NOW + g.skewSeconds * 1000) },
  );
  const wireHeaders: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) wireHeaders[k.toLowerCase()] = asWire(v);
  const req: SigningRequest = { method: g.method, rawPath: wirePath, rawQuery, headers: wireHeaders };
  return { req, body, bodySha256: createHash('sha256').update(body).digest('hex') };
}

function tamper(req: SigningRequest, t: Tamper): SigningRequest {
  const h = { ...req.headers } as Record<string, string>;
  const out = { ...req, headers: h };
  switch (t) {
    case 'method':
      out.method = req.method === 'GET' ? 'PUT' : 'GET';
      break;
    case 'path':
      out.rawPath = req.rawPath + 'x';
      break;
    case 'query':
      out.rawQuery = req.rawQuery === '' ? 'tamper=1' : req.rawQuery + '&tamper=1';
      break;
    case 'header': {
      const name = Object.keys(h).find((n) => n.startsWith('x-amz-meta-') || n === 'content-type') ?? 'x-amz-date';
      h[name] = name === 'x-amz-date' ? formatAmzDate(parseAmzDate(h[name]!)! + 1000) : h[name] + 'Z';
      break;
    }
    case 'host':
      h.host = h.host + '0';
      break;
    case 'date':
      h['x-amz-date'] = formatAmzDate(parseAmzDate(h['x-amz-date']!)! + 1000);
      break;
    case 'signature':
      h.authorization = h.authorization!.replace(/Signature=(.*)(.)$/, (_m, a: string, c: string) => `Signature=${a}${c === '0' ? '1' : '0'}`);
      break;
    case 'region':
      h.authorization = h.authorization!.replace(/\/(us-east-1|eu-west-1|ap-southeast-2)\//, '/us-west-2/');
      break;
    case 'body':
      break; // handled by the caller
  }
  return out;
}

for (const service of ['s3', 'kms'] as const) {
  test(`${service}: requests signed by @smithy/signature-v4 verify, and any tampering fails`, async () => {
    await fc.assert(
      fc.asyncProperty(requestArb, fc.constantFrom(...TAMPERS), async (g, t) => {
        const { req, body, bodySha256 } = await build(g, service);
        const opts = { lookup: defaultLookup, now: NOW, s3: service === 's3', bodySha256: service === 's3' ? undefined : bodySha256 };
        const sig = await verifySignature(req, opts);
        assert.equal(sig.region, g.region);
        if (service === 's3') {
          const { output } = await runStream(createPayloadVerifier(sig, req.headers), splitAt(body, g.cuts));
          assert.ok(output.equals(body));
        }

        if (t === 'body') {
          const other = Buffer.concat([body, Buffer.from('!')]);
          if (service === 's3') {
            await assert.rejects(runStream(createPayloadVerifier(sig, req.headers), [other]), { code: 'XAmzContentSHA256Mismatch' });
          } else {
            const otherSha = createHash('sha256').update(other).digest('hex');
            await assert.rejects(verifySignature(req, { ...opts, bodySha256: otherSha }), { code: 'SignatureDoesNotMatch' });
          }
          return;
        }
        await assert.rejects(verifySignature(tamper(req, t), opts), { code: 'SignatureDoesNotMatch' });
      }),
      { numRuns: 300 },
    );
  });
}
