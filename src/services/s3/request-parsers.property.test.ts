/**
 * Properties over arbitrary input for S3's header and query parsers: each result is within its
 * bounds (a range inside the object), or the input is refused with an AWS 4xx error; nothing else
 * is ever thrown.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isServiceError } from '../../common/errors.js';
import { parseRange } from './handlers/objects.js';
import { parseCopySource, parseCopySourceRange } from './copy-source.js';
import { metadataFromHeaders, parseTaggingHeader } from './object-headers.js';
import { parsePolicy, PolicyValidationError } from '../../policy/parse.js';
import { parseJsonBody } from '../protocol/aws-json.js';

function awsOutcome<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    assert.ok(isServiceError(e), `threw a non-AWS error: ${(e as Error)?.stack ?? String(e)}`);
    assert.ok(e.status >= 400 && e.status < 500, `status ${e.status} for ${e.code}`);
    return undefined;
  }
}

const digits = fc.oneof(fc.constant(''), fc.nat({ max: 2000 }).map(String), fc.constantFrom('99999999999999999999999', '00', '1e3', '-1'));
const rangeHeader = fc.oneof(
  fc.tuple(digits, digits).map(([a, b]) => `bytes=${a}-${b}`),
  fc.string({ maxLength: 30 }),
  fc.constantFrom('bytes=0-1,3-4', ' bytes=1-2 ', 'bytes=-', 'BYTES=0-1', 'bytes 0-1'),
);

test('Range: a satisfiable range lies inside the object with start ≤ end; others are ignored or 416', () => {
  fc.assert(
    fc.property(rangeHeader, fc.nat({ max: 1500 }), (header, size) => {
      const r = awsOutcome(() => parseRange(header, size));
      if (r) {
        assert.ok(Number.isSafeInteger(r.start) && Number.isSafeInteger(r.end));
        assert.ok(r.start >= 0 && r.start <= r.end && r.end < size, `${header} on ${size} → ${r.start}-${r.end}`);
      }
    }),
    { numRuns: 5000 },
  );
});

test('x-amz-copy-source and x-amz-copy-source-range: parsed into a bucket, key and in-bounds range, or refused', () => {
  const part = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('/', '?versionId=', '%', '%2F', '..', 'b', 'k', '?', '&', '%00'));
  fc.assert(
    fc.property(fc.array(part, { maxLength: 6 }).map((xs) => xs.join('')), rangeHeader, fc.nat({ max: 1500 }), (source, range, size) => {
      const ref = awsOutcome(() => parseCopySource(source));
      if (ref) assert.ok(ref.bucket.length > 0 && ref.key.length > 0, `parsed ${JSON.stringify(ref)} from ${source}`);
      const r = awsOutcome(() => parseCopySourceRange(range, size));
      if (r) assert.ok(r.start >= 0 && r.start <= r.end && r.end < size, `${range} on ${size}`);
    }),
    { numRuns: 3000 },
  );
});

test('metadata and tagging headers: any value is accepted within AWS limits or refused with a 4xx', () => {
  fc.assert(
    fc.property(
      fc.dictionary(fc.constantFrom('x-amz-meta-a', 'x-amz-meta-', 'content-type', 'cache-control', 'x-amz-tagging', 'expires', 'x-amz-website-redirect-location', 'content-disposition'), fc.string({ maxLength: 300 })),
      fc.string({ maxLength: 200 }),
      (headers, tagging) => {
        awsOutcome(() => metadataFromHeaders(headers));
        const tags = awsOutcome(() => parseTaggingHeader(tagging));
        if (tags) assert.ok(Object.keys(tags).length <= 10);
      },
    ),
    { numRuns: 3000 },
  );
});

test('KMS/IAM JSON bodies and policy documents: any text parses, or is refused as a validation error', () => {
  const jsonish = fc.oneof(
    fc.json({ maxDepth: 4 }),
    fc.string({ maxLength: 100 }),
    fc.constantFrom('{"a":' + '['.repeat(3000), '{"__proto__":{"x":1}}', '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringLike":{"a":[null]}}}}', '\ufeff{}'),
    fc.record({ Version: fc.constantFrom('2012-10-17', '2008-10-17', 'x'), Statement: fc.anything({ maxDepth: 3 }) }).map((d) => JSON.stringify(d)),
  );
  fc.assert(
    fc.property(jsonish, fc.constantFrom('identity', 'resource', 'key', 'trust') as fc.Arbitrary<'identity'>, (text, kind) => {
      awsOutcome(() => parseJsonBody(Buffer.from(text)));
      try {
        parsePolicy(text, kind);
      } catch (e) {
        assert.ok(e instanceof PolicyValidationError || isServiceError(e), `policy parse threw ${(e as Error)?.stack ?? String(e)}`);
      }
    }),
    { numRuns: 3000 },
  );
});
