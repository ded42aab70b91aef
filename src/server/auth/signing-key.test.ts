/** The SigV4 signing-key cache: keyed by access key id and scope, never serving a key for another secret. */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { signingKey, signingKeyCacheSize } from './signing-key.js';

/** The derivation written out (reference §5.1 step 3), independent of the cache. */
function derive(secret: string, date: string, region: string, service: string): Buffer {
  const h = (k: Buffer | string, d: string) => createHmac('sha256', k).update(d).digest();
  return h(h(h(h('AWS4' + secret, date), region), service), 'aws4_request');
}

test('a cached signing key is returned for the same key id, secret and scope', () => {
  const a = signingKey('secret-one', '20261202', 'us-east-1', 's3', 'AKIACACHETEST0000001');
  assert.deepEqual(a, derive('secret-one', '20261202', 'us-east-1', 's3'));
  assert.equal(signingKey('secret-one', '20261202', 'us-east-1', 's3', 'AKIACACHETEST0000001'), a, 'the same Buffer: a cache hit');
  assert.deepEqual(signingKey('secret-one', '20261203', 'us-east-1', 's3', 'AKIACACHETEST0000001'), derive('secret-one', '20261203', 'us-east-1', 's3'), 'another day is another key');
  assert.deepEqual(signingKey('secret-one', '20261202', 'us-east-2', 's3', 'AKIACACHETEST0000001'), derive('secret-one', '20261202', 'us-east-2', 's3'));
  assert.deepEqual(signingKey('secret-one', '20261202', 'us-east-1', 'kms', 'AKIACACHETEST0000001'), derive('secret-one', '20261202', 'us-east-1', 'kms'));
});

test('a key id whose secret changed (deleted and re-created, rotated) never gets the old secret’s key', () => {
  const id = 'AKIACACHETEST0000002';
  const old = signingKey('old-secret', '20261202', 'us-east-1', 's3', id);
  const fresh = signingKey('new-secret', '20261202', 'us-east-1', 's3', id);
  assert.deepEqual(fresh, derive('new-secret', '20261202', 'us-east-1', 's3'));
  assert.notDeepEqual(fresh, old);
  assert.deepEqual(signingKey('old-secret', '20261202', 'us-east-1', 's3', id), old, 'and back: derived again, not mixed up');
});

test('without a key id the cache is keyed by the inputs themselves', () => {
  assert.deepEqual(signingKey('s1', '20261202', 'us-east-1', 's3'), derive('s1', '20261202', 'us-east-1', 's3'));
  assert.deepEqual(signingKey('s2', '20261202', 'us-east-1', 's3'), derive('s2', '20261202', 'us-east-1', 's3'));
});

test('the cache is bounded', () => {
  for (let i = 0; i < 600; i++) signingKey(`secret-${i}`, '20261202', 'us-east-1', 's3', `AKIABOUND${String(i).padStart(11, '0')}`);
  assert.ok(signingKeyCacheSize() <= 256);
});
