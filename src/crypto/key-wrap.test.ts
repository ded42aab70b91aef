import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { CryptoIntegrityError } from './errors.js';
import { newKeyMaterial, unwrapKey, wrapKey } from './key-wrap.js';

const rootKey = randomBytes(32);
const label = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab/' + 'ab'.repeat(32);

describe('key wrapping under the root key', () => {
  it('round trip', () => {
    const { key } = newKeyMaterial();
    const wrapped = wrapKey(rootKey, key, label);
    assert.equal(wrapped.length, 1 + 12 + 32 + 16);
    assert.deepEqual(unwrapKey(rootKey, wrapped, label), key);
  });

  it('uses a fresh IV each time', () => {
    const key = randomBytes(32);
    assert.notDeepEqual(wrapKey(rootKey, key, label), wrapKey(rootKey, key, label));
  });

  it('a wrapped key moved to another label (another key or material) fails', () => {
    const wrapped = wrapKey(rootKey, randomBytes(32), label);
    assert.throws(() => unwrapKey(rootKey, wrapped, label + 'x'), CryptoIntegrityError);
    assert.throws(() => unwrapKey(rootKey, wrapped, ''), CryptoIntegrityError);
  });

  it('another root key fails', () => {
    const wrapped = wrapKey(rootKey, randomBytes(32), label);
    assert.throws(() => unwrapKey(randomBytes(32), wrapped, label), CryptoIntegrityError);
  });

  it('any flipped byte, truncation or extension fails', () => {
    const wrapped = wrapKey(rootKey, randomBytes(32), label);
    for (let at = 0; at < wrapped.length; at++) {
      const bad = Buffer.from(wrapped);
      bad[at]! ^= 0x01;
      assert.throws(() => unwrapKey(rootKey, bad, label), CryptoIntegrityError, `byte ${at}`);
    }
    for (let n = 0; n < wrapped.length; n++) {
      assert.throws(() => unwrapKey(rootKey, wrapped.subarray(0, n), label), CryptoIntegrityError, `first ${n} bytes`);
    }
    assert.throws(() => unwrapKey(rootKey, Buffer.concat([wrapped, Buffer.from([0])]), label), CryptoIntegrityError);
  });

  it('random bytes only ever give CryptoIntegrityError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
        assert.throws(() => unwrapKey(rootKey, Buffer.from(bytes), label), CryptoIntegrityError);
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses a root key that is not 32 bytes, and an empty key', () => {
    assert.throws(() => wrapKey(randomBytes(16), randomBytes(32), label), RangeError);
    assert.throws(() => unwrapKey(randomBytes(31), Buffer.alloc(61), label), RangeError);
    assert.throws(() => wrapKey(rootKey, Buffer.alloc(0), label), RangeError);
  });
});

describe('newKeyMaterial', () => {
  it('is a random 256-bit key with a random 64-hex id', () => {
    const a = newKeyMaterial();
    const b = newKeyMaterial();
    assert.match(a.id, /^[0-9a-f]{64}$/);
    assert.equal(a.key.length, 32);
    assert.notEqual(a.id, b.id);
    assert.notDeepEqual(a.key, b.key);
  });
});
