import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { isServiceError } from '../../common/errors.js';
import { checkCustomerKey, COPY_SOURCE, customerKeyFromHeaders } from './sse-customer.js';

const key = randomBytes(32);
const md5 = createHash('md5').update(key).digest('base64');
const h = (over: Record<string, string | undefined> = {}) => ({
  'x-amz-server-side-encryption-customer-algorithm': 'AES256',
  'x-amz-server-side-encryption-customer-key': key.toString('base64'),
  'x-amz-server-side-encryption-customer-key-md5': md5,
  ...over,
});

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isServiceError(e)) return `${e.status} ${e.code}: ${e.message}`;
    throw e;
  }
  return 'ok';
}

test('SSE-C headers are validated as S3 does (reference §5.7)', () => {
  assert.equal(customerKeyFromHeaders({}), undefined);
  assert.equal(customerKeyFromHeaders(h())!.md5, md5);
  assert.equal(customerKeyFromHeaders(h({ 'x-amz-server-side-encryption-customer-key-md5': undefined }))!.md5, md5, 'the MD5 header is optional');
  assert.match(code(() => customerKeyFromHeaders(h({ 'x-amz-server-side-encryption-customer-key-md5': 'AAAAAAAAAAAAAAAAAAAAAA==' }))), /^400 InvalidArgument: The calculated MD5 hash of the key did not match/);
  assert.match(code(() => customerKeyFromHeaders(h({ 'x-amz-server-side-encryption-customer-algorithm': undefined }))), /^400 InvalidArgument: .*valid encryption algorithm/);
  assert.match(code(() => customerKeyFromHeaders(h({ 'x-amz-server-side-encryption-customer-key': undefined }))), /^400 InvalidArgument: .*appropriate secret key/);
  assert.match(code(() => customerKeyFromHeaders(h({ 'x-amz-server-side-encryption-customer-algorithm': 'AES128' }))), /^400 InvalidEncryptionAlgorithmError/);
  assert.match(code(() => customerKeyFromHeaders(h({ 'x-amz-server-side-encryption-customer-key': randomBytes(16).toString('base64'), 'x-amz-server-side-encryption-customer-key-md5': undefined }))), /^400 InvalidArgument: The secret key was invalid/);
  const copy = { [`${COPY_SOURCE}algorithm`]: 'AES256', [`${COPY_SOURCE}key`]: key.toString('base64') };
  assert.equal(customerKeyFromHeaders(copy, COPY_SOURCE)!.md5, md5, 'copy-source headers use their own prefix');
});

test('reading: the stored MD5 decides between 400 (missing or not applicable) and 403 (wrong key)', () => {
  const given = { key, md5 };
  assert.equal(code(() => checkCustomerKey(undefined, undefined)), 'ok');
  assert.equal(code(() => checkCustomerKey(md5, given)), 'ok');
  assert.match(code(() => checkCustomerKey(md5, undefined)), /^400 InvalidRequest/);
  assert.match(code(() => checkCustomerKey(undefined, given)), /^400 InvalidRequest/);
  assert.match(code(() => checkCustomerKey('other', given)), /^403 AccessDenied/);
});
