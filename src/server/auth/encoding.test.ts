import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalQuery, canonicalUriOther, canonicalUriS3, percentDecode, uriEncode } from './encoding.js';

test('S3 canonical URI equals the wire path both clients send (captured key a b+c/./ü~!*().txt)', () => {
  const wire = '/bkt/a%20b%2Bc/./%C3%BC~%21%2A%28%29.txt';
  assert.equal(canonicalUriS3(wire), wire);
});

test('S3 canonical URI re-encodes leniently encoded paths: !*\'() raw, lower-case hex, raw UTF-8', () => {
  assert.equal(canonicalUriS3("/bkt/a!*'().txt"), '/bkt/a%21%2A%27%28%29.txt');
  assert.equal(canonicalUriS3('/bkt/%c3%bc'), '/bkt/%C3%BC');
  assert.equal(canonicalUriS3('/bkt/ü'), '/bkt/%C3%BC');
});

test('S3 canonical URI keeps dot segments and double slashes and never double-encodes', () => {
  assert.equal(canonicalUriS3('/bkt//a/../b/./c'), '/bkt//a/../b/./c');
  assert.equal(canonicalUriS3('/bkt/100%25'), '/bkt/100%25');
  assert.equal(canonicalUriS3(''), '/');
});

test('S3 canonical URI keeps an encoded slash inside a segment encoded (clients sign what they send)', () => {
  assert.equal(canonicalUriS3('/bkt/a%2Fb/c'), '/bkt/a%2Fb/c');
  assert.equal(canonicalUriS3('/bkt/a%2fb'), '/bkt/a%2Fb');
});

test('S3 canonical URI keeps an invalid percent escape literal (encoded as %25)', () => {
  assert.equal(canonicalUriS3('/bkt/%zz%4'), '/bkt/%25zz%254');
});

test('other services: dot segments removed, slashes collapsed, each segment encoded twice', () => {
  assert.equal(canonicalUriOther('/'), '/');
  assert.equal(canonicalUriOther(''), '/');
  assert.equal(canonicalUriOther('/a/./b/../c//d/'), '/a/c/d/');
  assert.equal(canonicalUriOther('/a%20b'), '/a%2520b');
  assert.equal(canonicalUriOther('/../..'), '/');
});

test('canonical query: bare names get empty values, sorted by name then value, space %20, slash %2F', () => {
  assert.equal(canonicalQuery('uploads'), 'uploads=');
  assert.equal(canonicalQuery('prefix=a%20b%2Bc%2F%C3%BC%2A&list-type=2&encoding-type=url'), 'encoding-type=url&list-type=2&prefix=a%20b%2Bc%2F%C3%BC%2A');
  assert.equal(canonicalQuery('b=2&a=z&a=y&a'), 'a=&a=y&a=z&b=2');
  assert.equal(canonicalQuery('k=a/b c'), 'k=a%2Fb%20c');
  assert.equal(canonicalQuery(''), '');
  assert.equal(canonicalQuery('a=1&&b=2&'), 'a=1&b=2');
});

test('canonical query treats a raw + literally (%2B), and can exclude X-Amz-Signature', () => {
  assert.equal(canonicalQuery('q=a+b'), 'q=a%2Bb');
  assert.equal(canonicalQuery('X-Amz-Signature=abc&x=1', 'X-Amz-Signature'), 'x=1');
});

test('canonical query sorts by byte order of the encoded names (upper case before lower case)', () => {
  assert.equal(canonicalQuery('x-id=PutObject&X-Amz-Date=1&a=1'), 'X-Amz-Date=1&a=1&x-id=PutObject');
});

test('percentDecode / uriEncode round-trip arbitrary UTF-8', () => {
  const s = 'héllo wörld/日本語 ~-._!*\'()+%';
  assert.equal(percentDecode(uriEncode(s)).toString('utf8'), s);
  assert.equal(uriEncode('a/b', true), 'a/b');
  assert.equal(uriEncode('a/b'), 'a%2Fb');
});
