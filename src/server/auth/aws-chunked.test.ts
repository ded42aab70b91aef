/**
 * aws-chunked bodies (reference §5.10) through createPayloadVerifier: the three streaming forms,
 * arbitrary transport splits, and every way the framing, signatures or trailer can be wrong.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { computeChecksum, CHECKSUM_ALGORITHMS, type ChecksumAlgorithm } from '../../crypto/checksums.js';
import { createPayloadVerifier } from './payload.js';
import { signRequest } from './sign.js';
import { verifySignature, type VerifiedSignature } from './sigv4.js';
import { CREDS, defaultLookup, deriveKey, encodeAwsChunked, runStream, serviceError, splitAt, type EncodeOptions } from './test-support.js';

const NOW = Date.UTC(2025, 0, 2, 3, 4, 5);
type Mode = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' | 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' | 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
const MODES: Mode[] = ['STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'];

interface Upload {
  sig: VerifiedSignature;
  headers: Record<string, string>;
  encode(payload: Buffer, o?: Partial<EncodeOptions>): Buffer;
}

/** Sign an aws-chunked PutObject the way a streaming client does, verify it, return an encoder for the body. */
async function upload(mode: Mode, decodedLength: number, alg: ChecksumAlgorithm | undefined, extra: Record<string, string> = {}): Promise<Upload> {
  const trailer = mode.endsWith('TRAILER') && alg ? `x-amz-checksum-${alg.toLowerCase()}` : undefined;
  const headers: Record<string, string> = {
    'content-encoding': 'aws-chunked',
    'x-amz-content-sha256': mode,
    'x-amz-decoded-content-length': String(decodedLength),
    ...(trailer ? { 'x-amz-trailer': trailer, 'x-amz-sdk-checksum-algorithm': alg! } : {}),
    ...extra,
  };
  const signed = signRequest({ method: 'PUT', url: new URL('http://127.0.0.1:9000/bkt/obj'), headers }, CREDS, 'eu-west-1', 's3', new Date(NOW));
  const sig = await verifySignature({ method: 'PUT', rawPath: '/bkt/obj', rawQuery: '', headers: signed }, { lookup: defaultLookup, now: NOW, s3: true });
  const seed = /Signature=([0-9a-f]{64})$/.exec(signed.authorization!)![1]!;
  const amzDate = signed['x-amz-date']!;
  const signing = mode.startsWith('STREAMING-AWS4')
    ? { key: deriveKey(CREDS.secretAccessKey, amzDate.slice(0, 8), 'eu-west-1', 's3'), amzDate, scope: `${amzDate.slice(0, 8)}/eu-west-1/s3/aws4_request`, seed }
    : undefined;
  return {
    sig,
    headers: signed,
    encode: (payload, o = {}) =>
      encodeAwsChunked(payload, {
        chunkSize: 8192,
        ...(signing ? { signing } : {}),
        ...(trailer ? { trailers: [[trailer, computeChecksum(alg!, payload)]] } : {}),
        ...o,
      }),
  };
}

test('AWS docs example: signed chunks (64 KiB + 1 KiB of "a") with the published chunk signatures', async () => {
  const headers = {
    host: 's3.amazonaws.com',
    'x-amz-date': '20130524T000000Z',
    'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    authorization:
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
    'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': '66560',
    'content-length': '66824',
  };
  const sig = await verifySignature(
    { method: 'PUT', rawPath: '/examplebucket/chunkObject.txt', rawQuery: '', headers },
    { lookup: defaultLookup, now: Date.UTC(2013, 4, 24), s3: true },
  );
  const body = Buffer.concat([
    Buffer.from('10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n'),
    Buffer.alloc(65536, 'a'),
    Buffer.from('\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n'),
    Buffer.alloc(1024, 'a'),
    Buffer.from('\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n'),
  ]);
  assert.equal(body.length, 66824);
  const { output, result } = await runStream(createPayloadVerifier(sig, headers), [body]);
  assert.ok(output.equals(Buffer.alloc(66560, 'a')));
  assert.equal(result.decodedLength, 66560);
  assert.equal(result.md5, createHash('md5').update(output).digest('hex'));
  // Our independent encoder reproduces the same bytes.
  const key = deriveKey(CREDS.secretAccessKey, '20130524', 'us-east-1', 's3');
  const encoded = encodeAwsChunked(Buffer.alloc(66560, 'a'), {
    chunkSize: 65536,
    signing: { key, amzDate: '20130524T000000Z', scope: '20130524/us-east-1/s3/aws4_request', seed: sig.signature },
  });
  assert.ok(encoded.equals(body));
});

for (const mode of MODES) {
  test(`${mode}: decodes any payload under any chunking and any transport split`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 30000 }),
        fc.integer({ min: 1, max: 12000 }),
        fc.array(fc.nat(), { maxLength: 25 }),
        fc.constantFrom(...CHECKSUM_ALGORITHMS),
        fc.boolean(),
        async (data, chunkSize, cuts, alg, upperHex) => {
          const payload = Buffer.from(data);
          const u = await upload(mode, payload.length, alg);
          const body = u.encode(payload, { chunkSize, upperHex });
          const { output, result } = await runStream(createPayloadVerifier(u.sig, u.headers), splitAt(body, cuts));
          assert.ok(output.equals(payload));
          assert.equal(result.decodedLength, payload.length);
          assert.equal(result.md5, createHash('md5').update(payload).digest('hex'));
          if (mode.endsWith('TRAILER')) assert.deepEqual(result.checksum, { algorithm: alg, value: computeChecksum(alg, payload) });
          else assert.equal(result.checksum, undefined);
        },
      ),
      { numRuns: 60 },
    );
  });
}

test('single-byte transport writes decode too (every CRLF split across writes)', async () => {
  const payload = Buffer.from('hello, aws-chunked world');
  const u = await upload('STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', payload.length, 'CRC32C');
  const body = u.encode(payload, { chunkSize: 5 });
  const pieces = [...body].map((b) => Buffer.from([b]));
  const { output } = await runStream(createPayloadVerifier(u.sig, u.headers), pieces);
  assert.equal(output.toString(), payload.toString());
});

test('a modified data byte in a signed chunk is SignatureDoesNotMatch', async () => {
  const payload = Buffer.alloc(30000, 'x');
  const u = await upload('STREAMING-AWS4-HMAC-SHA256-PAYLOAD', payload.length, undefined);
  const body = u.encode(payload);
  body[body.length - 200] ^= 1;
  await assert.rejects(runStream(createPayloadVerifier(u.sig, u.headers), [body]), serviceError('SignatureDoesNotMatch', { status: 403 }));
});

test('a bad signature on the final empty chunk is SignatureDoesNotMatch', async () => {
  const u = await upload('STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 3, undefined);
  const text = u.encode(Buffer.from('abc')).toString('latin1');
  const tampered = text.replace(/0;chunk-signature=([0-9a-f]{63})(.)/, (_m, a: string, c: string) => `0;chunk-signature=${a}${c === 'a' ? 'b' : 'a'}`);
  await assert.rejects(runStream(createPayloadVerifier(u.sig, u.headers), [Buffer.from(tampered, 'latin1')]), serviceError('SignatureDoesNotMatch'));
});

test('a missing chunk-signature in signed mode is rejected', async () => {
  const u = await upload('STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 3, undefined);
  await assert.rejects(runStream(createPayloadVerifier(u.sig, u.headers), [Buffer.from('3\r\nabc\r\n0\r\n\r\n')]), serviceError('IncompleteBody'));
});

test('a trailer checksum that does not match the data is BadDigest', async () => {
  for (const mode of ['STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'] as const) {
    const payload = Buffer.from('some object data');
    const u = await upload(mode, payload.length, 'CRC32');
    const body = u.encode(payload, { trailers: [['x-amz-checksum-crc32', computeChecksum('CRC32', Buffer.from('other'))]] });
    await assert.rejects(
      runStream(createPayloadVerifier(u.sig, u.headers), [body]),
      serviceError('BadDigest', { status: 400, message: 'The CRC32 you specified did not match the calculated checksum.' }),
    );
  }
});

test('a signed trailer whose value was changed after signing is SignatureDoesNotMatch', async () => {
  const payload = Buffer.from('data');
  const u = await upload('STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', payload.length, 'SHA256');
  const good = computeChecksum('SHA256', payload);
  const text = u.encode(payload).toString('latin1').replace(good, computeChecksum('SHA256', Buffer.from('x')));
  await assert.rejects(runStream(createPayloadVerifier(u.sig, u.headers), [Buffer.from(text, 'latin1')]), serviceError('SignatureDoesNotMatch'));
  const noSig = u.encode(payload).toString('latin1').replace(/x-amz-trailer-signature:[0-9a-f]+\r\n/, '');
  await assert.rejects(runStream(createPayloadVerifier(u.sig, u.headers), [Buffer.from(noSig, 'latin1')]), serviceError('MalformedTrailerError'));
});

test('decoded length different from x-amz-decoded-content-length is IncompleteBody', async () => {
  const payload = Buffer.alloc(100, 'q');
  const message = 'You did not provide the number of bytes specified by the Content-Length HTTP header';
  for (const declared of [99, 101, 0]) {
    const u = await upload('STREAMING-UNSIGNED-PAYLOAD-TRAILER', declared, 'CRC32');
    await assert.rejects(runStream(createPayloadVerifier(u.sig, u.headers), [u.encode(payload)]), serviceError('IncompleteBody', { status: 400, message }));
  }
});

test('a body that stops early is rejected (IncompleteBody, or the signature/trailer it cut through)', async () => {
  const payload = Buffer.alloc(5000, 'z');
  const u = await upload('STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', payload.length, 'CRC32');
  const body = u.encode(payload, { chunkSize: 1000 });
  for (const cut of [1, 10, 1500, body.length - 120, body.length - 10]) {
    await assert.rejects(runStream(createPayloadVerifier(u.sig, u.headers), [body.subarray(0, cut)]), (e: unknown) => {
      const code = (e as { code: string }).code;
      assert.ok(['IncompleteBody', 'MalformedTrailerError', 'SignatureDoesNotMatch'].includes(code), code);
      return true;
    });
  }
  // Only the terminating CRLFs missing: everything was received and verified, so it is accepted.
  const { output } = await runStream(createPayloadVerifier(u.sig, u.headers), [body.subarray(0, body.length - 3)]);
  assert.ok(output.equals(payload));
});

test('malformed framing is rejected: bad size, missing CRLF after data, data after the end', async () => {
  const bodies = ['zz\r\nabc\r\n0\r\n\r\n', '3\r\nabcX\r\n0\r\n\r\n', '3\nabc\r\n0\r\n\r\n', '3\r\nabc\r\n0\r\n\r\nextra'];
  for (const b of bodies) {
    const u = await upload('STREAMING-UNSIGNED-PAYLOAD-TRAILER', 3, undefined);
    await assert.rejects(runStream(createPayloadVerifier(u.sig, u.headers), [Buffer.from(b)]), serviceError('IncompleteBody'), b);
  }
});

test('an overlong chunk header line fails once it passes the bound, without buffering the body', async () => {
  const u = await upload('STREAMING-UNSIGNED-PAYLOAD-TRAILER', 10, undefined);
  const v = createPayloadVerifier(u.sig, u.headers);
  let written = 0;
  const junk = Buffer.alloc(1024, '1');
  const failed = new Promise<unknown>((resolve) => v.stream.on('error', resolve));
  while (!v.stream.destroyed && written < 1024 * 1024) {
    v.stream.write(junk);
    written += junk.length;
    await new Promise((r) => setImmediate(r));
  }
  serviceError('IncompleteBody', { message: /line too long/ })(await failed);
  assert.ok(written <= 8 * 1024, `failed only after ${written} bytes`);
});

test('trailers: undeclared, malformed, or declared but missing are MalformedTrailerError; a bad value is InvalidRequest', async () => {
  const payload = Buffer.from('abc');
  const cases: [string, [string, string][], string][] = [
    ['undeclared', [['x-amz-checksum-crc32', 'NSRBwg=='], ['x-amz-meta-extra', '1']], 'MalformedTrailerError'],
    ['no colon', [['x-amz-checksum-crc32NSRBwg==', '']], 'MalformedTrailerError'],
    ['missing', [], 'MalformedTrailerError'],
    ['bad base64', [['x-amz-checksum-crc32', 'abc']], 'InvalidRequest'],
  ];
  for (const [name, trailers, code] of cases) {
    const u = await upload('STREAMING-UNSIGNED-PAYLOAD-TRAILER', payload.length, 'CRC32');
    const text = u.encode(payload, { trailers }).toString('latin1').replace('x-amz-checksum-crc32NSRBwg==:\r\n', 'x-amz-checksum-crc32NSRBwg==\r\n');
    await assert.rejects(runStream(createPayloadVerifier(u.sig, u.headers), [Buffer.from(text, 'latin1')]), serviceError(code), name);
  }
});

test('the exact botocore/SDK v3 unsigned-trailer layout decodes, and a missing final CRLF is tolerated', async () => {
  const payload = Buffer.alloc(1000, 7);
  const crc = computeChecksum('CRC32', payload);
  const u = await upload('STREAMING-UNSIGNED-PAYLOAD-TRAILER', 1000, 'CRC32');
  const exact = Buffer.concat([Buffer.from('3e8\r\n'), payload, Buffer.from(`\r\n0\r\nx-amz-checksum-crc32:${crc}\r\n\r\n`)]);
  assert.ok((await runStream(createPayloadVerifier(u.sig, u.headers), [exact])).output.equals(payload));
  const short = exact.subarray(0, exact.length - 2);
  assert.ok((await runStream(createPayloadVerifier(u.sig, u.headers), [short])).output.equals(payload));
});

test('header-level problems throw before the body is read', async () => {
  const u = await upload('STREAMING-UNSIGNED-PAYLOAD-TRAILER', 3, 'CRC32');
  const without = { ...u.headers };
  delete without['x-amz-decoded-content-length'];
  assert.throws(() => createPayloadVerifier(u.sig, without), serviceError('MissingContentLength', { status: 411 }));
  assert.throws(() => createPayloadVerifier(u.sig, { ...u.headers, 'x-amz-trailer': 'x-amz-checksum-sha512' }), serviceError('InvalidRequest'));
  assert.throws(() => createPayloadVerifier(u.sig, { ...u.headers, 'x-amz-checksum-crc32': 'AAAAAA==' }), serviceError('InvalidRequest', { message: /Multiple checksum Types/ }));
  // Signed chunks need the seed signature of a header-signed request.
  assert.throws(
    () => createPayloadVerifier(undefined, { 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'x-amz-decoded-content-length': '3' }),
    serviceError('InvalidRequest'),
  );
});

test('anonymous aws-chunked uploads (no signature) decode in unsigned form', async () => {
  const payload = Buffer.from('public upload');
  const headers = {
    'content-encoding': 'aws-chunked',
    'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
    'x-amz-decoded-content-length': String(payload.length),
    'x-amz-trailer': 'x-amz-checksum-crc32',
  };
  const body = encodeAwsChunked(payload, { chunkSize: 4, trailers: [['x-amz-checksum-crc32', computeChecksum('CRC32', payload)]] });
  assert.ok((await runStream(createPayloadVerifier(undefined, headers), [body])).output.equals(payload));
});

test('throughput: 64 MiB signed-with-trailer and unsigned-trailer uploads in 64 KiB transport pieces', async () => {
  const payload = Buffer.alloc(64 * 1024 * 1024);
  for (let i = 0; i < payload.length; i += 4096) payload[i] = i & 255;
  for (const mode of ['STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'] as const) {
    const u = await upload(mode, payload.length, 'CRC32');
    const body = u.encode(payload, { chunkSize: 1024 * 1024 });
    const pieces: Buffer[] = [];
    for (let i = 0; i < body.length; i += 65536) pieces.push(body.subarray(i, i + 65536));
    const v = createPayloadVerifier(u.sig, u.headers);
    const start = performance.now();
    let total = 0;
    await new Promise<void>((resolve, reject) => {
      v.stream.on('data', (b: Buffer) => (total += b.length));
      v.stream.on('end', resolve);
      v.stream.on('error', reject);
      for (const p of pieces) v.stream.write(p);
      v.stream.end();
    });
    const ms = performance.now() - start;
    assert.equal(total, payload.length);
    assert.ok(ms < 10_000, `${mode} took ${ms.toFixed(0)} ms`);
  }
});
