import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { KeyCache, ownCopy } from './key-cache.js';
import { derivedKeyCacheSize, reuseDerivedKeys, segmentKey, segmentKeyBytes } from './segment-layout.js';
import { decryptBuffer, encryptBuffer } from './segmented-aead.js';
import { CryptoIntegrityError } from './errors.js';

describe('KeyCache: a bounded LRU of key material', () => {
  it('keeps at most `capacity` entries, evicting the least recently used, and hands each evicted value to onEvict', () => {
    const evicted: string[] = [];
    const cache = new KeyCache<string>(2, (v) => evicted.push(v));
    cache.set('a', 'A');
    cache.set('b', 'B');
    assert.equal(cache.get('a'), 'A'); // a is now the most recent
    cache.set('c', 'C');
    assert.deepEqual(evicted, ['B']);
    assert.equal(cache.get('b'), undefined);
    assert.equal(cache.get('a'), 'A');
    assert.equal(cache.get('c'), 'C');
    assert.equal(cache.size, 2);
  });

  it('over a long run of hits, misses, replacements and clears, evicts exactly what a plain LRU list would', () => {
    const evicted: string[] = [];
    const cache = new KeyCache<string>(8, (v) => evicted.push(v.split('@')[0]!));
    let model: string[] = []; // keys, least recent first
    const modelEvicted: string[] = [];
    let x = 7;
    for (let i = 0; i < 20_000; i++) {
      x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff;
      if (i % 5000 === 2500) {
        cache.clear();
        modelEvicted.push(...model);
        model = [];
      }
      const id = `k${x % 24}`;
      const hit = cache.get(id);
      const at = model.indexOf(id);
      assert.equal(hit !== undefined, at >= 0, `step ${i}: ${id} is cached in the cache as in the model`);
      if (at >= 0) model.push(...model.splice(at, 1));
      // A miss stores the key; now and then a hit replaces its value (the old value is evicted).
      if (hit === undefined || x % 7 === 0) {
        cache.set(id, `${id}@${i}`);
        if (at >= 0) modelEvicted.push(id);
        else model.push(id);
        if (model.length > 8) modelEvicted.push(model.shift()!);
      }
      assert.equal(cache.size, model.length);
    }
    assert.deepEqual(evicted, modelEvicted);
    assert.ok(evicted.length > 1000, 'the run evicted plenty');
  });

  it('replacing an entry evicts the old value; clear evicts everything', () => {
    const evicted: Buffer[] = [];
    const cache = new KeyCache<Buffer>(4, (v) => {
      evicted.push(v);
      v.fill(0);
    });
    const first = Buffer.from([1, 2, 3]);
    cache.set('k', first);
    cache.set('k', Buffer.from([4, 5, 6]));
    assert.deepEqual(evicted, [first]);
    assert.deepEqual(first, Buffer.from([0, 0, 0]), 'the replaced key bytes were zeroed');
    cache.clear();
    assert.equal(cache.size, 0);
    assert.equal(evicted.length, 2);
  });

  it('ownCopy: the same bytes in memory of their own, not a slice of the shared buffer pool', () => {
    const key = Buffer.from(randomBytes(32)); // small: Buffer.from cuts it from the pool
    assert.ok(key.buffer.byteLength > 32, 'the source is a pool slice');
    const copy = ownCopy(key);
    assert.deepEqual(copy, key);
    assert.equal(copy.buffer.byteLength, 32, 'a cached copy keeps no pool slab alive');
    key.fill(0);
    assert.notDeepEqual(copy, key, 'independent of the source');
  });

  it('refuses a capacity below one', () => {
    assert.throws(() => new KeyCache(0), RangeError);
  });
});

describe('derived segment keys of data keys marked for reuse', () => {
  it('a second read of the same blob decrypts the same, from the cached key', () => {
    const dataKey = randomBytes(32);
    const plaintext = randomBytes(5000);
    const blob = encryptBuffer(dataKey, plaintext);
    const before = derivedKeyCacheSize();
    assert.deepEqual(decryptBuffer(reuseDerivedKeys(Buffer.from(dataKey)), blob), plaintext);
    assert.equal(derivedKeyCacheSize(), before + 1);
    assert.deepEqual(decryptBuffer(reuseDerivedKeys(Buffer.from(dataKey)), blob), plaintext);
    assert.equal(derivedKeyCacheSize(), before + 1, 'the second read found the key it derived the first time');
  });

  it('another data key meeting a cached salt derives its own key, so the wrong key still fails', () => {
    const dataKey = randomBytes(32);
    const blob = encryptBuffer(dataKey, randomBytes(100));
    decryptBuffer(reuseDerivedKeys(Buffer.from(dataKey)), blob); // cached under the blob's salt
    assert.throws(() => decryptBuffer(reuseDerivedKeys(randomBytes(32)), blob), CryptoIntegrityError);
    assert.throws(() => decryptBuffer(randomBytes(32), blob), CryptoIntegrityError);
  });

  it('segmentKeyBytes: the same key as segmentKey; fresh bytes are the caller\'s to zero, cached ones are not handed over', () => {
    const dataKey = reuseDerivedKeys(randomBytes(32));
    const salt = randomBytes(16);
    const expected = segmentKey(Buffer.from(dataKey), salt).export();
    const first = segmentKeyBytes(dataKey, salt);
    assert.equal(first.owned, true, 'derived now: a copy went into the cache');
    assert.deepEqual(first.bytes, expected);
    first.bytes.fill(0); // what a caller does when done: the cache keeps its own copy
    const again = segmentKeyBytes(dataKey, salt);
    assert.equal(again.owned, false, 'from the cache: the caller must neither zero nor keep them');
    assert.deepEqual(again.bytes, expected);
    assert.deepEqual(segmentKey(dataKey, salt).export(), expected, 'a KeyObject made from the cached bytes');
    const unmarked = segmentKeyBytes(randomBytes(32), salt);
    assert.equal(unmarked.owned, true);
    assert.notDeepEqual(unmarked.bytes, expected, 'another data key meeting the cached salt derives its own');
  });

  it('sealing and unmarked keys never enter the cache', () => {
    const before = derivedKeyCacheSize();
    const dataKey = randomBytes(32);
    const blob = encryptBuffer(dataKey, randomBytes(100));
    decryptBuffer(dataKey, blob);
    assert.equal(derivedKeyCacheSize(), before);
  });
});
