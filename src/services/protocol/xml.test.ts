/** The XML reader: S3's request bodies as clients write them, and what is refused. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceError } from '../../common/errors.js';
import { attributes, child, children, parseXml, text, token } from './xml.js';

const malformed = (e: unknown) => e instanceof ServiceError && e.code === 'MalformedXML';

test('decimal and hexadecimal character references and XML’s five named entities are decoded', () => {
  const { value } = parseXml('<a><k>&#34;q&#x22; &#233;&#x1F600; &amp;&lt;&gt;&quot;&apos;</k></a>');
  assert.equal(text(value, 'k'), '"q" é😀 &<>"\'');
});

test('whitespace inside a value is kept; between elements it is dropped; typed values are trimmed by token()', () => {
  const { root, value } = parseXml('<?xml version="1.0"?>\n<Delete>\n  <Object>\n    <Key> </Key>\n  </Object>\n  <Object><Key>\ta b\n</Key></Object>\n  <Quiet> true </Quiet>\n</Delete>\n');
  assert.equal(root, 'Delete');
  assert.deepEqual(children(value, 'Object').map((o) => text(o, 'Key')), [' ', '\ta b\n']);
  assert.equal(token(value, 'Quiet'), 'true');
});

test('attributes are read apart from the elements (namespace prefix removed)', () => {
  const { value } = parseXml('<G><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>u</URI></Grantee></G>');
  const grantee = child(value, 'Grantee')!;
  assert.deepEqual(Object.keys(grantee), ['URI']);
  assert.equal(attributes(grantee).type, 'Group');
});

test('an element holding only whitespace reads as an empty element; U+00A0 is not XML whitespace', () => {
  assert.deepEqual(child(parseXml('<a><b>\n </b></a>').value, 'b'), {});
  assert.throws(() => parseXml('<a>\u00a0<b/></a>'), malformed);
});

test('refused: DOCTYPE (with or without entities), documents that are not well-formed, stray text, two roots', () => {
  for (const doc of [
    '<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>',
    '<!DOCTYPE a><a/>',
    '<a><b></a></b>',
    '<a>',
    '<a>text<b/></a>',
    '<a/><b/>',
    '',
  ]) {
    assert.throws(() => parseXml(doc), malformed, JSON.stringify(doc));
  }
});
