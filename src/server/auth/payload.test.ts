/** Plain (non-chunked) bodies: x-amz-content-sha256, Content-MD5 and flexible checksums (reference §5.5, §6.3). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { CHECKSUM_ALGORITHMS, computeChecksum } from '../../crypto/checksums.js';
import { createPayloadVerifier } from './payload.js';
import { digestThreadBodies } from '../../crypto/digest-thread.js';
import type { VerifiedSignature } from './sigv4.js';
import { encodeAwsChunked, runStream, serviceError } from './test-support.js';

const BODY = Buffer.from('Welcome to Amazon S3.');
const BODY_SHA = createHash('sha256').update(BODY).digest('hex');
const BODY_MD5 = createHash('md5').update(BODY).digest();

/** A verified header signature as verifySignature returns it (only payloadHash matters here). */
function sig(payloadHash: string, kind: 'header' | 'presigned' = 'header'): VerifiedSignature {
  return {
    accessKeyId: 'AKID',
    region: 'us-east-1',
    service: 's3',
    date: '20250101',
    scope: '20250101/us-east-1/s3/aws4_request',
    requestTime: Date.UTC(2025, 0, 1),
    amzDate: '20250101T000000Z',
    signature: '0'.repeat(64),
    signingKey: Buffer.alloc(32),
    kind,
    payloadHash,
    signedHeaders: ['host'],
  };
}

const run = (s: VerifiedSignature | undefined, headers: Record<string, string>, body = BODY) =>
  runStream(createPayloadVerifier(s, headers), [body.subarray(0, 5), body.subarray(5)]);

test('a matching hex x-amz-content-sha256 passes the body through with its MD5', async () => {
  const { output, result } = await run(sig(BODY_SHA), { 'x-amz-content-sha256': BODY_SHA });
  assert.ok(output.equals(BODY));
  assert.deepEqual(result, { decodedLength: BODY.length, md5: BODY_MD5.toString('hex') });
});

test('a body not matching x-amz-content-sha256 is XAmzContentSHA256Mismatch with both hashes', async () => {
  const claimed = createHash('sha256').update('other').digest('hex');
  await assert.rejects(run(sig(claimed), {}), (e: unknown) => {
    serviceError('XAmzContentSHA256Mismatch', {
      status: 400,
      message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
    })(e);
    assert.deepEqual((e as { fields: Record<string, string> }).fields, {
      ClientComputedContentSHA256: claimed,
      S3ComputedContentSHA256: BODY_SHA,
    });
    return true;
  });
});

test('UNSIGNED-PAYLOAD and presigned requests skip the body hash', async () => {
  await run(sig('UNSIGNED-PAYLOAD'), {});
  await run(sig('UNSIGNED-PAYLOAD', 'presigned'), {});
  await run(undefined, {});
});

test('anonymous requests still have a declared hex body hash checked', async () => {
  await run(undefined, { 'x-amz-content-sha256': BODY_SHA });
  await assert.rejects(run(undefined, { 'x-amz-content-sha256': '0'.repeat(64) }), serviceError('XAmzContentSHA256Mismatch'));
});

test('Content-MD5: correct passes, wrong is BadDigest, malformed is InvalidDigest (thrown up front)', async () => {
  await run(sig('UNSIGNED-PAYLOAD'), { 'content-md5': BODY_MD5.toString('base64') });
  await assert.rejects(
    run(sig('UNSIGNED-PAYLOAD'), { 'content-md5': createHash('md5').update('x').digest('base64') }),
    serviceError('BadDigest', { status: 400, message: 'The Content-MD5 you specified did not match what we received.' }),
  );
  for (const bad of ['abc', BODY_MD5.toString('hex'), Buffer.alloc(15).toString('base64')]) {
    assert.throws(
      () => createPayloadVerifier(sig('UNSIGNED-PAYLOAD'), { 'content-md5': bad }),
      serviceError('InvalidDigest', { status: 400, message: 'The Content-MD5 you specified was invalid.' }),
    );
  }
});

for (const alg of CHECKSUM_ALGORITHMS) {
  const header = `x-amz-checksum-${alg.toLowerCase()}`;
  test(`${header}: correct value passes and is reported; wrong is BadDigest; malformed is InvalidRequest`, async () => {
    const value = computeChecksum(alg, BODY);
    const { result } = await run(sig(BODY_SHA), { [header]: value, 'x-amz-sdk-checksum-algorithm': alg });
    assert.deepEqual(result.checksum, { algorithm: alg, value });

    await assert.rejects(
      run(sig(BODY_SHA), { [header]: computeChecksum(alg, Buffer.from('nope')) }),
      serviceError('BadDigest', { status: 400, message: `The ${alg} you specified did not match the calculated checksum.` }),
    );
    for (const bad of ['!!!!', 'AAAA', computeChecksum(alg, BODY) + 'AAAA']) {
      assert.throws(
        () => createPayloadVerifier(sig(BODY_SHA), { [header]: bad }),
        serviceError('InvalidRequest', { status: 400, message: `Value for ${header} header is invalid.` }),
      );
    }
  });
}

test('x-amz-sdk-checksum-algorithm must name the algorithm of the checksum sent with it', () => {
  const crc = computeChecksum('CRC32', BODY);
  const make = (h: Record<string, string>) => () => createPayloadVerifier(sig(BODY_SHA), h);
  assert.throws(make({ 'x-amz-checksum-crc32': crc, 'x-amz-sdk-checksum-algorithm': 'SHA256' }), serviceError('InvalidRequest'));
  assert.throws(make({ 'x-amz-sdk-checksum-algorithm': 'CRC32' }), serviceError('InvalidRequest', { message: /no corresponding x-amz-checksum-\*/ }));
  assert.throws(make({ 'x-amz-checksum-crc32': crc, 'x-amz-sdk-checksum-algorithm': 'MD6' }), serviceError('InvalidRequest'));
  make({ 'x-amz-checksum-crc32': crc, 'x-amz-sdk-checksum-algorithm': 'crc32' })();
});

test('more than one checksum header is InvalidRequest; x-amz-trailer on a plain body is InvalidRequest', () => {
  assert.throws(
    () =>
      createPayloadVerifier(sig(BODY_SHA), {
        'x-amz-checksum-crc32': computeChecksum('CRC32', BODY),
        'x-amz-checksum-sha1': computeChecksum('SHA1', BODY),
      }),
    serviceError('InvalidRequest', { message: 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.' }),
  );
  assert.throws(() => createPayloadVerifier(sig(BODY_SHA), { 'x-amz-trailer': 'x-amz-checksum-crc32' }), serviceError('InvalidRequest'));
});

test('headers that look like checksums but are not values are ignored (mode, type, algorithm)', async () => {
  await run(sig(BODY_SHA), { 'x-amz-checksum-mode': 'ENABLED', 'x-amz-checksum-type': 'FULL_OBJECT', 'x-amz-checksum-algorithm': 'CRC32' });
});

test('defaultChecksum computes a checksum when the request names none, and never overrides one it names', async () => {
  const v = createPayloadVerifier(sig(BODY_SHA), {}, { defaultChecksum: 'CRC64NVME' });
  const { result } = await runStream(v, [BODY]);
  assert.deepEqual(result.checksum, { algorithm: 'CRC64NVME', value: computeChecksum('CRC64NVME', BODY) });
  const w = createPayloadVerifier(sig(BODY_SHA), { 'x-amz-checksum-sha1': computeChecksum('SHA1', BODY) }, { defaultChecksum: 'CRC64NVME' });
  assert.equal((await runStream(w, [BODY])).result.checksum?.algorithm, 'SHA1');
});

test('Content-Encoding "gzip,aws-chunked" selects aws-chunked decoding even without a STREAMING token', async () => {
  const headers = { 'content-encoding': 'gzip, aws-chunked', 'x-amz-decoded-content-length': String(BODY.length) };
  const { output } = await runStream(createPayloadVerifier(sig('UNSIGNED-PAYLOAD'), headers), [encodeAwsChunked(BODY, { chunkSize: 7 })]);
  assert.ok(output.equals(BODY));
});

test('a hex payload hash over an aws-chunked body is checked against the decoded payload', async () => {
  const headers = { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(BODY.length) };
  await runStream(createPayloadVerifier(sig(BODY_SHA), headers), [encodeAwsChunked(BODY, { chunkSize: 7 })]);
  await assert.rejects(
    runStream(createPayloadVerifier(sig('0'.repeat(64)), headers), [encodeAwsChunked(BODY, { chunkSize: 7 })]),
    serviceError('XAmzContentSHA256Mismatch'),
  );
});

test('result() is only available after a clean end', async () => {
  const v = createPayloadVerifier(sig(BODY_SHA), {});
  assert.throws(() => v.result());
  await runStream(v, [BODY]);
  assert.equal(v.result().decodedLength, BODY.length);
});

test('an empty body verifies against the empty-string hash and checksums', async () => {
  const empty = Buffer.alloc(0);
  const sha = createHash('sha256').digest('hex');
  const { result } = await runStream(createPayloadVerifier(sig(sha), { 'x-amz-checksum-crc32': 'AAAAAA==' }), [empty]);
  assert.deepEqual(result, { decodedLength: 0, md5: 'd41d8cd98f00b204e9800998ecf8427e', checksum: { algorithm: 'CRC32', value: 'AAAAAA==' } });
});

describe('large bodies hashed on the digest thread give the same results and the same errors', () => {
  const onThread = { digestThreadMinBytes: 1024 };
  const big = randomBytes(3 * 1024 * 1024 + 17);
  const bigSha = createHash('sha256').update(big).digest('hex');
  const bigMd5 = createHash('md5').update(big).digest();
  /** The body in uneven pieces, as sockets deliver it. */
  const pieces = (b: Buffer): Buffer[] => {
    const out: Buffer[] = [];
    for (let i = 0, n = 1; i < b.length; i += n, n = ((n * 7 + 13) % 200_000) + 1) out.push(b.subarray(i, i + n));
    return out;
  };
  const length = { 'content-length': String(big.length) };

  test('MD5 and x-amz-content-sha256 of a 3 MiB body', async () => {
    const { output, result } = await runStream(createPayloadVerifier(sig(bigSha), length, onThread), pieces(big));
    assert.ok(output.equals(big));
    assert.deepEqual(result, { decodedLength: big.length, md5: bigMd5.toString('hex') });
  });

  test('a body not matching x-amz-content-sha256 is XAmzContentSHA256Mismatch with the hash computed there', async () => {
    await assert.rejects(runStream(createPayloadVerifier(sig('0'.repeat(64)), length, onThread), pieces(big)), (e: unknown) => {
      serviceError('XAmzContentSHA256Mismatch')(e);
      assert.equal((e as { fields: Record<string, string> }).fields.S3ComputedContentSHA256, bigSha);
      return true;
    });
  });

  test('Content-MD5: correct passes, wrong is BadDigest', async () => {
    await runStream(createPayloadVerifier(sig('UNSIGNED-PAYLOAD'), { ...length, 'content-md5': bigMd5.toString('base64') }, onThread), pieces(big));
    await assert.rejects(
      runStream(createPayloadVerifier(sig('UNSIGNED-PAYLOAD'), { ...length, 'content-md5': BODY_MD5.toString('base64') }, onThread), pieces(big)),
      serviceError('BadDigest'),
    );
  });

  test('an aws-chunked body is hashed as decoded (its declared decoded length decides)', async () => {
    const headers = { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(big.length) };
    const { output, result } = await runStream(createPayloadVerifier(sig(bigSha), headers, onThread), [encodeAwsChunked(big, { chunkSize: 65_536 })]);
    assert.ok(output.equals(big));
    assert.equal(result.md5, bigMd5.toString('hex'));
  });

  test('many bodies at once each get their own digests', async () => {
    const bodies = Array.from({ length: 12 }, (_, i) => randomBytes(1024 * 1024 + i * 1000));
    const results = await Promise.all(
      bodies.map((b) => runStream(createPayloadVerifier(sig('UNSIGNED-PAYLOAD'), { 'content-length': String(b.length) }, onThread), pieces(b))),
    );
    results.forEach(({ result }, i) => assert.equal(result.md5, createHash('md5').update(bodies[i]!).digest('hex')));
  });

  test('a body abandoned half-way (the client went away) leaves nothing behind on the thread', async () => {
    const before = digestThreadBodies();
    const v = createPayloadVerifier(sig('UNSIGNED-PAYLOAD'), length, onThread);
    v.stream.on('data', () => undefined);
    v.stream.on('error', () => undefined);
    const closed = new Promise((resolve) => v.stream.on('close', resolve));
    v.stream.write(big.subarray(0, 1024 * 1024));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(digestThreadBodies(), before + 1);
    v.stream.destroy(new Error('client aborted'));
    await closed;
    assert.equal(digestThreadBodies(), before);
  });
});

describe('withoutMd5: a handler with no use for the MD5 (SSE-KMS and SSE-C ETags are not one) stops it', () => {
  const onThread = { digestThreadMinBytes: 1024 };
  const big = randomBytes(3 * 1024 * 1024 + 5);
  const bigSha = createHash('sha256').update(big).digest('hex');
  const length = { 'content-length': String(big.length) };
  const halves = (b: Buffer): Buffer[] => [b.subarray(0, 1 << 20), b.subarray(1 << 20)];

  /** Writes the first piece, lets it through, calls withoutMd5, then writes the rest. */
  const runDropping = (v: ReturnType<typeof createPayloadVerifier>, pieces: Buffer[]) =>
    new Promise<{ output: Buffer; result: ReturnType<typeof v.result> }>((resolve, reject) => {
      const out: Buffer[] = [];
      v.stream.on('data', (b: Buffer) => out.push(b));
      v.stream.on('error', reject);
      v.stream.on('end', () => resolve({ output: Buffer.concat(out), result: v.result() }));
      v.stream.write(pieces[0]);
      setImmediate(() => {
        v.withoutMd5();
        for (const p of pieces.slice(1)) v.stream.write(p);
        v.stream.end();
      });
    });

  test('a small body: the bytes and the checksum as before, no MD5', async () => {
    const v = createPayloadVerifier(sig(BODY_SHA), { 'x-amz-content-sha256': BODY_SHA, 'x-amz-checksum-crc32': computeChecksum('CRC32', BODY) });
    const { output, result } = await runDropping(v, [BODY.subarray(0, 5), BODY.subarray(5)]);
    assert.ok(output.equals(BODY));
    assert.deepEqual(result, { decodedLength: BODY.length, checksum: { algorithm: 'CRC32', value: computeChecksum('CRC32', BODY) } });
  });

  test('a Content-MD5 is still checked (and the MD5 reported): wrong is BadDigest', async () => {
    const good = await runDropping(createPayloadVerifier(sig('UNSIGNED-PAYLOAD'), { 'content-md5': BODY_MD5.toString('base64') }), [BODY.subarray(0, 5), BODY.subarray(5)]);
    assert.equal(good.result.md5, BODY_MD5.toString('hex'));
    const other = createHash('md5').update('other').digest('base64');
    await assert.rejects(runDropping(createPayloadVerifier(sig('UNSIGNED-PAYLOAD'), { 'content-md5': other }), [BODY.subarray(0, 5), BODY.subarray(5)]), serviceError('BadDigest'));
    await assert.rejects(runDropping(createPayloadVerifier(sig('UNSIGNED-PAYLOAD'), { ...length, 'content-md5': other }, onThread), halves(big)), serviceError('BadDigest'));
  });

  test('a large unsigned body leaves the digest thread at once', async () => {
    const before = digestThreadBodies();
    const v = createPayloadVerifier(sig('UNSIGNED-PAYLOAD'), length, onThread);
    const done = runDropping(v, halves(big));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(digestThreadBodies(), before, 'the body is no longer on the thread');
    const { output, result } = await done;
    assert.ok(output.equals(big));
    assert.deepEqual(result, { decodedLength: big.length });
  });

  test('a large signed body keeps its SHA-256 checked on the thread', async () => {
    const { result } = await runDropping(createPayloadVerifier(sig(bigSha), length, onThread), halves(big));
    assert.deepEqual(result, { decodedLength: big.length });
    await assert.rejects(runDropping(createPayloadVerifier(sig('0'.repeat(64)), length, onThread), halves(big)), serviceError('XAmzContentSHA256Mismatch'));
  });

  test('a body waiting for the thread when its MD5 is dropped goes on (no hang)', async () => {
    const v = createPayloadVerifier(sig('UNSIGNED-PAYLOAD'), length, onThread);
    const out: Buffer[] = [];
    v.stream.on('data', (b: Buffer) => out.push(b));
    const ended = new Promise((resolve, reject) => {
      v.stream.on('end', resolve);
      v.stream.on('error', reject);
    });
    // Written all at once: more batches than the thread takes before the body must wait.
    for (let i = 0; i < big.length; i += 64 * 1024) v.stream.write(big.subarray(i, i + 64 * 1024));
    v.withoutMd5();
    v.stream.end();
    await ended;
    assert.ok(Buffer.concat(out).equals(big));
    assert.equal(v.result().md5, undefined);
  });
});
