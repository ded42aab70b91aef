/**
 * Properties over arbitrary input for the request parsers an attacker reaches before any signature
 * is checked: each either accepts its input or rejects it with an AWS error (a ServiceError carrying
 * a code and a 4xx status), and never throws anything else, loops, or grows without bound.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isServiceError } from '../../common/errors.js';
import { parseAuth } from './auth-params.js';
import { AwsChunkedDecoder, MAX_LINE } from './aws-chunked.js';

function rejectsLikeAws(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    assert.ok(isServiceError(e), `threw a non-AWS error: ${(e as Error)?.stack ?? String(e)}`);
    assert.ok(e.status >= 400 && e.status < 500, `status ${e.status} for ${e.code}`);
    assert.match(e.code, /^[A-Z][A-Za-z0-9]+$/);
  }
}

const token = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('AWS4-HMAC-SHA256', 'Credential=', 'SignedHeaders=', 'Signature=', '/', ',', ';', '=', ' ', 'aws4_request', 's3', 'us-east-1', '20260101', 'AKIA', '%', '\u0000', 'host;x-amz-date'),
);
const authHeader = fc.array(token, { maxLength: 12 }).map((xs) => xs.join(''));
const queryPart = fc.tuple(
  fc.constantFrom('X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature', 'X-Amz-Security-Token', 'AWSAccessKeyId', 'Signature', 'Expires', 'x'),
  fc.oneof(fc.string({ maxLength: 30 }), token),
);

test('SigV4 parameters: any Authorization header, x-amz-date and presign query either parses or is an AWS 4xx', () => {
  fc.assert(
    fc.property(
      fc.option(authHeader, { nil: undefined }),
      fc.option(fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('20260101T000000Z', '20261302T250000Z', '')), { nil: undefined }),
      fc.array(queryPart, { maxLength: 7 }),
      fc.option(fc.array(fc.string({ maxLength: 10 }), { minLength: 2, maxLength: 3 }), { nil: undefined }),
      (authorization, date, query, repeated) => {
        const rawQuery = query.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
        const headers: Record<string, string | string[] | undefined> = { host: 'h', authorization: repeated ?? authorization, 'x-amz-date': date };
        rejectsLikeAws(() => parseAuth({ method: 'GET', rawPath: '/b/k', rawQuery, headers }));
      },
    ),
    { numRuns: 3000 },
  );
});

test('aws-chunked decoder: arbitrary bytes split anywhere are decoded or refused as malformed, with bounded buffering', () => {
  const chunkLike = fc.oneof(
    fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
    fc.constantFrom('0\r\n\r\n', '5\r\nhello\r\n', 'ffffffffffffffffff\r\n', 'zz\r\n', ';chunk-signature=\r\n', '\r\n', 'x-amz-checksum-crc32:AAAAAA==\r\n', '5;chunk-signature=' + 'a'.repeat(64) + '\r\n').map((s) => Buffer.from(s)),
    fc.integer({ min: 1, max: 3 * MAX_LINE }).map((n) => Buffer.alloc(n, 0x61)),
  );
  fc.assert(
    fc.property(fc.array(chunkLike, { maxLength: 12 }), fc.boolean(), fc.nat(10_000), (pieces, trailer, decodedLength) => {
      let delivered = 0;
      const d = new AwsChunkedDecoder({ trailer, declaredTrailers: new Set(['x-amz-checksum-crc32']), decodedLength, onData: (b) => (delivered += b.length) });
      rejectsLikeAws(() => {
        for (const p of pieces) d.write(p);
        d.end();
      });
      assert.ok(delivered <= pieces.reduce((n, p) => n + p.length, 0), "never delivers more bytes than it was given");
    }),
    { numRuns: 3000 },
  );
});
