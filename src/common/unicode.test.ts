import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isWellFormedText } from './unicode.js';

test('text with an unpaired surrogate is not well-formed; paired ones and plain text are', () => {
  assert.equal(isWellFormedText(''), true);
  assert.equal(isWellFormedText('plain ascii'), true);
  assert.equal(isWellFormedText('emoji 😀 (a surrogate pair)'), true);
  assert.equal(isWellFormedText('\ud800'), false);
  assert.equal(isWellFormedText('a\udc00b'), false);
  assert.equal(isWellFormedText('\ude00\ud83d'), false, 'a pair in the wrong order is two lone surrogates');
});
