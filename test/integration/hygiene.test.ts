/**
 * Resource hygiene: orphaned blob files are swept at start and periodically, expired STS sessions
 * are deleted, a changed root key revokes the previous one; and an anonymous SSE-KMS write gets
 * AWS's 400, not a server error.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, PutRolePolicyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { CreateBucketCommand, DeletePublicAccessBlockCommand, GetObjectCommand, ListBucketsCommand, PutBucketPolicyCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { eventually, iamClient, s3Client, stsClient } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { advanceClock } from '../support/test-clock.js';
import { bucketName, bytes, rejects } from './helpers.js';

const started: MeridianProcess[] = [];
async function start(...args: Parameters<typeof startMeridianProcess>): Promise<MeridianProcess> {
  const m = await startMeridianProcess(...args);
  started.push(m);
  return m;
}
after(async () => {
  for (const m of started) await m.stop().catch(() => undefined);
});

/** A file in the region's blob directory that no metadata references, as a crash would leave it. */
function plantOrphan(m: MeridianProcess): string {
  const id = randomBytes(16).toString('hex');
  const path = join(m.dataDir, 'us-east-1', 'blobs', id.slice(0, 2), id);
  writeFileSync(path, randomBytes(1000));
  return path;
}

describe('orphaned blob files', () => {
  test('are removed when the region opens at start; referenced files stay', async () => {
    const env = { MERIDIAN_BLOB_ORPHAN_GRACE_MS: '0', MERIDIAN_BLOB_SWEEP_INTERVAL_MS: '0' };
    const first = await start({ env });
    const s3 = s3Client(first);
    const bucket = bucketName('sweep');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const big = randomBytes(512 * 1024); // a file blob, not inline
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kept', Body: big }));
    await first.stop({ keepData: true });
    const orphan = plantOrphan(first);
    const again = await start({ env, dataDir: first.dataDir, accessKeyId: first.accessKeyId, secretAccessKey: first.secretAccessKey });
    await eventually(async () => (existsSync(orphan) ? undefined : true));
    assert.ok((await bytes((await s3Client(again).send(new GetObjectCommand({ Bucket: bucket, Key: 'kept' }))).Body)).equals(big));
    await eventually(async () => (/orphaned blob files removed/.test(again.logs()) ? true : undefined));
  });

  test('are removed periodically while the server runs (MERIDIAN_BLOB_SWEEP_INTERVAL_MS)', async () => {
    const m = await start({ env: { MERIDIAN_BLOB_ORPHAN_GRACE_MS: '0', MERIDIAN_BLOB_SWEEP_INTERVAL_MS: '200' } });
    const s3 = s3Client(m);
    const bucket = bucketName('sweep');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const orphan = plantOrphan(m);
    await eventually(async () => (existsSync(orphan) ? undefined : true));
  });
});

describe('expired STS sessions', () => {
  test('are deleted once past their expiry; live ones stay', async () => {
    const m = await start({ env: { MERIDIAN_TEST_CLOCK: 'on' } });
    const iam = iamClient(m);
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${m.accountId}:root` }, Action: 'sts:AssumeRole' }] };
    const role = (await iam.send(new CreateRoleCommand({ RoleName: 'short', AssumeRolePolicyDocument: JSON.stringify(trust) }))).Role!.Arn!;
    await iam.send(new PutRolePolicyCommand({ RoleName: 'short', PolicyName: 'p', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }) }));
    // Roles are assumed by users (never by a root account).
    await iam.send(new CreateUserCommand({ UserName: 'assumer' }));
    await iam.send(new PutUserPolicyCommand({ UserName: 'assumer', PolicyName: 'p', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }] }) }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'assumer' }))).AccessKey!;
    const sts = stsClient(m, 'us-east-1', { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! });
    await sts.send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'first', DurationSeconds: 900 }));
    await sts.send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'second', DurationSeconds: 3600 }));
    const sessions = (): number => {
      const db = new Database(join(m.dataDir, 'global', 'global.db'), { readonly: true });
      try {
        return (db.prepare('SELECT COUNT(*) AS n FROM iam_access_keys WHERE expires_at IS NOT NULL').get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    assert.equal(sessions(), 2);
    await advanceClock(m, 1800); // the 15-minute session has expired, the hour-long one not
    assert.equal(sessions(), 1);
    await advanceClock(m, 3600);
    assert.equal(sessions(), 0);
  });
});

describe('root credentials', () => {
  test('changing MERIDIAN_ROOT_ACCESS_KEY_ID revokes the previous root key', async () => {
    const first = await start();
    await s3Client(first).send(new ListBucketsCommand({}));
    await first.stop({ keepData: true });
    const second = await start({ dataDir: first.dataDir });
    assert.notEqual(second.accessKeyId, first.accessKeyId);
    await s3Client(second).send(new ListBucketsCommand({}));
    const old = s3Client(second, 'us-east-1', { accessKeyId: first.accessKeyId, secretAccessKey: first.secretAccessKey });
    await rejects(old.send(new ListBucketsCommand({})), 'InvalidAccessKeyId', 403);
  });
});

describe('anonymous SSE-KMS writes', () => {
  test('to a publicly writable bucket: 400 InvalidArgument (SSE-KMS needs a signed request), nothing stored', async () => {
    const m = await start();
    const s3 = s3Client(m);
    const bucket = bucketName('public-w');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucket })); // new buckets block public policies, as on AWS
    const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:PutObject', Resource: `arn:aws:s3:::${bucket}/*` }] };
    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) }));
    const plain = await fetch(`${m.httpEndpoint}/${bucket}/plain.txt`, { method: 'PUT', body: 'x' });
    assert.equal(plain.status, 200, 'the bucket is publicly writable');
    const r = await fetch(`${m.httpEndpoint}/${bucket}/kms.txt`, { method: 'PUT', body: 'x', headers: { 'x-amz-server-side-encryption': 'aws:kms' } });
    const text = await r.text();
    assert.equal(r.status, 400, text);
    assert.match(text, /<Code>InvalidArgument<\/Code><Message>Requests specifying Server Side Encryption with AWS KMS managed keys require AWS Signature Version 4.<\/Message>/);
    assert.match(text, /<ArgumentName>Authorization<\/ArgumentName><ArgumentValue>null<\/ArgumentValue>/);
    await rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'kms.txt' })), 'NoSuchKey', 404);
  });
});
