/**
 * The advanceable business clock (docs/decisions.md): `POST /_meridian/clock` exists only on a
 * server started with MERIDIAN_TEST_CLOCK=on, and clients with real clocks keep working after it
 * moves, because signatures are checked against the wall clock.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { s3Client } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { advanceClock, DAY } from '../support/test-clock.js';
import { bucketName } from './helpers.js';

let withClock: MeridianProcess;
let without: MeridianProcess;

before(async () => {
  [withClock, without] = await Promise.all([
    startMeridianProcess({ tls: false, env: { MERIDIAN_TEST_CLOCK: 'on' } }),
    startMeridianProcess({ tls: false }),
  ]);
});
after(async () => {
  await Promise.all([withClock?.stop(), without?.stop()]);
});

test('advancing the clock moves object timestamps; signed requests still verify against the wall clock', async () => {
  const s3 = s3Client(withClock);
  const bucket = bucketName('clock');
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const { offsetMs } = await advanceClock(withClock, 40 * DAY);
  assert.equal(offsetMs, 40 * DAY * 1000);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' }));
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }));
  const ahead = head.LastModified!.getTime() - Date.now();
  assert.ok(ahead > 39 * DAY * 1000 && ahead < 41 * DAY * 1000, `LastModified should be 40 days ahead, is ${ahead} ms`);
});

test('the endpoint rejects going backwards, and does not exist without MERIDIAN_TEST_CLOCK', async () => {
  const bad = await fetch(`${withClock.httpEndpoint}/_meridian/clock`, { method: 'POST', body: '{"advanceSeconds": -5}' });
  assert.equal(bad.status, 400);
  const res = await fetch(`${without.httpEndpoint}/_meridian/clock`, { method: 'POST', body: '{"advanceSeconds": 5}' });
  // Without MERIDIAN_TEST_CLOCK there is no clock endpoint: the request is refused and nothing moves.
  assert.notEqual(res.status, 200);
  assert.doesNotMatch(await res.text(), /offsetMs/);
});
