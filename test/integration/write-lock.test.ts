/**
 * Another process holding a region database's write lock (another worker's long transaction, a tool
 * with the file open): the server keeps serving reads meanwhile, a write waits for the lock and lands
 * once it is free, and a write that cannot get it within the busy timeout (5 s) fails with 503
 * SlowDown, which SDKs retry. SQLite only: a PostgreSQL backend has no such file lock.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3Client } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { bucketName, rejects } from './helpers.js';

const skip = (process.env.MERIDIAN_TEST_BACKEND ?? 'sqlite') !== 'sqlite' ? 'the metadata is in PostgreSQL' : false;
let m: MeridianProcess;
let s3: S3Client;
const bucket = bucketName('lock');

before(async () => {
  if (skip) return;
  m = await startMeridianProcess({ env: { MERIDIAN_WORKERS: '1' } });
  s3 = s3Client(m);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'stored', Body: 'stored before the lock' }));
});
after(async () => {
  await m?.stop();
});

/** Holds the region database's write lock from this (test) process, as another worker's transaction would. */
function holdWriteLock(): Database.Database {
  const other = new Database(join(m.dataDir, 'us-east-1', 'meta.db'));
  other.exec('BEGIN IMMEDIATE');
  return other;
}

describe('another process holding the write lock', { skip }, () => {
  test('reads are served meanwhile; a waiting write lands once the lock is released', async () => {
    const other = holdWriteLock();
    try {
      const write = s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'waited', Body: 'written after the wait' }));
      await new Promise((r) => setTimeout(r, 300)); // the write is waiting for the lock by now
      // Before, SQLite's busy handler slept the server's event loop until the lock came free.
      const started = performance.now();
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'stored' }));
      assert.equal(await got.Body!.transformToString(), 'stored before the lock');
      assert.ok(performance.now() - started < 1000, `a GET took ${(performance.now() - started).toFixed(0)} ms while a write waited`);
      other.exec('COMMIT');
      await write;
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
    }
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'waited' }));
    assert.equal(await got.Body!.transformToString(), 'written after the wait');
  });

  test('a write that cannot get the lock within the busy timeout fails with 503 SlowDown and stores nothing', async () => {
    const other = holdWriteLock();
    try {
      await rejects(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'refused', Body: 'never stored' })), 'SlowDown', 503);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    await rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'refused' })), 'NoSuchKey', 404);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'refused', Body: 'stored once the lock is free' }));
  });
});
