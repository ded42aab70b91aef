import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { InvalidCiphertextError } from './errors.js';
import {
  MAX_CIPHERTEXT_BLOB_SIZE,
  canonicalContext,
  openKmsCiphertext,
  parseKmsCiphertext,
  sealKmsCiphertext,
} from './kms-ciphertext.js';

const keyArn = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const materialId = randomBytes(32).toString('hex');
const materialKey = randomBytes(32);
const context = { 'aws:s3:arn': 'arn:aws:s3:::bucket/photos/cat.jpg', purpose: 'test' };
const dataKey = randomBytes(32);
const blob = sealKmsCiphertext({ keyArn, materialId, materialKey, plaintext: dataKey, context });

/** Whatever goes wrong with a blob, a caller sees InvalidCiphertextError and nothing else. */
function assertInvalid(f: () => unknown, message?: string): void {
  assert.throws(f, InvalidCiphertextError, message);
}

describe('KMS ciphertext blobs', () => {
  it('round trip: the blob names its key and material, and opens with the same context', () => {
    assert.deepEqual(parseKmsCiphertext(blob), { keyArn, materialId });
    assert.deepEqual(openKmsCiphertext(blob, materialKey, context), dataKey);
    assert.equal(blob[0], 0x01, 'version byte');
  });

  it('pair order of the context does not matter; undefined and {} are the same empty context', () => {
    const reordered = { purpose: 'test', 'aws:s3:arn': 'arn:aws:s3:::bucket/photos/cat.jpg' };
    assert.deepEqual(openKmsCiphertext(blob, materialKey, reordered), dataKey);
    const noContext = sealKmsCiphertext({ keyArn, materialId, materialKey, plaintext: dataKey });
    assert.deepEqual(openKmsCiphertext(noContext, materialKey, {}), dataKey);
    assert.deepEqual(openKmsCiphertext(noContext, materialKey), dataKey);
  });

  it('accepts upper-case material ids and reports them in lower case', () => {
    const b = sealKmsCiphertext({ keyArn, materialId: materialId.toUpperCase(), materialKey, plaintext: dataKey });
    assert.equal(parseKmsCiphertext(b).materialId, materialId);
  });

  it('a different encryption context fails', () => {
    const wrong: Array<Record<string, string> | undefined> = [
      undefined,
      {},
      { 'aws:s3:arn': context['aws:s3:arn'] },
      { ...context, extra: '' },
      { ...context, purpose: 'Test' },
      { 'AWS:S3:ARN': context['aws:s3:arn'], purpose: 'test' },
      { 'aws:s3:arn': 'arn:aws:s3:::bucket/photos/cat.jpg\u0000', purpose: 'test' },
      { 'aws:s3:arn': '\ud800', purpose: 'test' },
    ];
    for (const c of wrong) assertInvalid(() => openKmsCiphertext(blob, materialKey, c), JSON.stringify(c));
  });

  it('the wrong key material fails', () => {
    assertInvalid(() => openKmsCiphertext(blob, randomBytes(32), context));
    assert.throws(() => openKmsCiphertext(blob, randomBytes(16), context), RangeError, 'a key of the wrong size is a programming error');
  });

  it('a blob relabelled to another key ARN or material id fails to open', () => {
    // Same-length relabel: another region's key. The blob still parses (so KMS can say "foreign key").
    const otherRegion = Buffer.from(blob.toString('latin1').replace('us-east-1', 'us-west-2'), 'latin1');
    assert.equal(parseKmsCiphertext(otherRegion).keyArn, keyArn.replace('us-east-1', 'us-west-2'));
    assertInvalid(() => openKmsCiphertext(otherRegion, materialKey, context));
    // Different-length relabel: rebuild the header around the same IV, ciphertext and tag.
    const otherArn = Buffer.from('arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab');
    const oldHeaderEnd = 3 + keyArn.length + 32;
    const relabelled = Buffer.concat([
      Buffer.from([1, 0, otherArn.length]),
      otherArn,
      blob.subarray(3 + keyArn.length, oldHeaderEnd),
      blob.subarray(oldHeaderEnd),
    ]);
    assert.equal(parseKmsCiphertext(relabelled).keyArn, otherArn.toString());
    assertInvalid(() => openKmsCiphertext(relabelled, materialKey, context));
    const otherMaterial = Buffer.from(blob);
    otherMaterial[3 + keyArn.length] ^= 0x80;
    assert.notEqual(parseKmsCiphertext(otherMaterial).materialId, materialId);
    assertInvalid(() => openKmsCiphertext(otherMaterial, materialKey, context));
  });

  it('every truncation fails', () => {
    for (let n = 0; n < blob.length; n++) {
      assertInvalid(() => openKmsCiphertext(blob.subarray(0, n), materialKey, context), `first ${n} bytes`);
    }
  });

  it('every flipped byte fails', () => {
    for (let at = 0; at < blob.length; at++) {
      const bad = Buffer.from(blob);
      bad[at]! ^= 0xff;
      assertInvalid(() => openKmsCiphertext(bad, materialKey, context), `byte ${at}`);
    }
  });

  it('extra bytes appended fail', () => {
    assertInvalid(() => openKmsCiphertext(Buffer.concat([blob, Buffer.from([0])]), materialKey, context));
  });

  it('random bytes never crash the parser', () => {
    const arbitraryBlob = fc.oneof(
      fc.uint8Array({ maxLength: 7000 }),
      // Blobs that get past the version and length checks, to reach the deeper ones.
      fc.tuple(fc.nat(200), fc.uint8Array({ maxLength: 400 })).map(([len, rest]) => Uint8Array.from([1, 0, len, ...rest])),
      fc.tuple(fc.nat(blob.length - 1), fc.uint8Array({ minLength: 1, maxLength: 64 })).map(([cut, tail]) =>
        Uint8Array.from([...blob.subarray(0, cut), ...tail]),
      ),
    );
    fc.assert(
      fc.property(arbitraryBlob, (bytes) => {
        const b = Buffer.from(bytes);
        try {
          const header = parseKmsCiphertext(b);
          assert.match(header.materialId, /^[0-9a-f]{64}$/);
          assert.match(header.keyArn, /^arn:/);
        } catch (err) {
          assert.ok(err instanceof InvalidCiphertextError, String(err));
        }
        assertInvalid(() => openKmsCiphertext(b, materialKey, context));
      }),
      { numRuns: 3000 },
    );
  });

  it('stays under the 6144-byte CiphertextBlob limit for 4096-byte plaintexts', () => {
    const big = sealKmsCiphertext({ keyArn, materialId, materialKey, plaintext: randomBytes(4096), context });
    assert.equal(big.length, 1 + 2 + keyArn.length + 32 + 12 + 4096 + 16);
    assert.ok(big.length < MAX_CIPHERTEXT_BLOB_SIZE);
    const dataKeyBlob = sealKmsCiphertext({ keyArn, materialId, materialKey, plaintext: randomBytes(32) });
    assert.ok(dataKeyBlob.length < 200, `a wrapped data key is ${dataKeyBlob.length} bytes, like AWS's ~185`);
    assertInvalid(() => parseKmsCiphertext(Buffer.concat([big, Buffer.alloc(MAX_CIPHERTEXT_BLOB_SIZE)])));
  });

  it('refuses to seal with bad inputs', () => {
    const ok = { keyArn, materialId, materialKey, plaintext: dataKey };
    assert.throws(() => sealKmsCiphertext({ ...ok, plaintext: Buffer.alloc(4097) }), RangeError);
    assert.throws(() => sealKmsCiphertext({ ...ok, materialKey: Buffer.alloc(16) }), RangeError);
    assert.throws(() => sealKmsCiphertext({ ...ok, materialId: 'abc' }), TypeError);
    assert.throws(() => sealKmsCiphertext({ ...ok, keyArn: 'alias/my-key' }), TypeError);
    assert.throws(() => sealKmsCiphertext({ ...ok, keyArn: 'arn:aws:kms:us-east-1:111122223333:alias/x' }), TypeError);
    assert.throws(() => sealKmsCiphertext({ ...ok, keyArn: `${keyArn}é` }), TypeError);
    assert.throws(() => sealKmsCiphertext({ ...ok, context: { k: '\udfff' } }), TypeError);
  });
});

describe('canonicalContext', () => {
  it('encodes zero pairs for an absent or empty context', () => {
    assert.equal(canonicalContext(undefined).toString('hex'), '00000000');
    assert.equal(canonicalContext({}).toString('hex'), '00000000');
  });

  it('is the pair count, then length-prefixed UTF-8 key and value per pair, sorted by key', () => {
    const hex = canonicalContext({ b: '2', a: 'é' }).toString('hex');
    assert.equal(hex, '00000002' + '00000001' + '61' + '00000002' + 'c3a9' + '00000001' + '62' + '00000001' + '32');
  });

  it('sorts by UTF-8 bytes, not UTF-16 code units', () => {
    // U+FFFD (EF BF BD) sorts before U+1F600 (F0 9F 98 80) in UTF-8, but after it in UTF-16 (D83D DE00).
    const encoded = canonicalContext({ '\u{1F600}': '1', '\uFFFD': '2' });
    assert.equal(encoded.subarray(8, 11).toString('hex'), 'efbfbd');
  });

  it('never maps two different contexts to the same bytes', () => {
    assert.notDeepEqual(canonicalContext({ a: 'bc' }), canonicalContext({ ab: 'c' }));
    assert.notDeepEqual(canonicalContext({ a: '' }), canonicalContext({}));
    const ctx = fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 6 }), fc.string({ unit: 'grapheme', maxLength: 6 }), { maxKeys: 4 });
    fc.assert(
      fc.property(ctx, ctx, (x, y) => {
        const sorted = (c: Record<string, string>) => JSON.stringify(Object.entries(c).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
        const same = sorted(x) === sorted(y);
        assert.equal(canonicalContext(x).equals(canonicalContext(y)), same);
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects strings that UTF-8 cannot carry faithfully, and non-strings', () => {
    assert.throws(() => canonicalContext({ '\ud800': 'x' }), TypeError);
    assert.throws(() => canonicalContext({ k: 'a\udc00' }), TypeError);
    assert.throws(() => canonicalContext({ k: 5 } as unknown as Record<string, string>), TypeError);
  });
});
