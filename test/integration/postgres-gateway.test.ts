/**
 * `meridian serve` with MERIDIAN_METADATA_URL: real server processes on a throwaway PostgreSQL.
 * A gateway refuses a database without this build's schema (and says to run `meridian migrate`),
 * `meridian migrate` creates it, and two gateways on the same database and data directory serve
 * the same objects: written through one, read, listed and conditionally overwritten through the other.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, CreateBucketCommand } from '@aws-sdk/client-s3';
import { eventually, s3Client } from '../support/clients.js';
import { meridianOnDataDir } from '../support/meridian-cli.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { postgresUnavailable, startThrowawayPostgres, type ThrowawayPostgres } from '../support/postgres.js';

const skip = postgresUnavailable();

describe('gateways on PostgreSQL (MERIDIAN_METADATA_URL)', { skip }, () => {
  let pg: ThrowawayPostgres;
  let dataDir: string;
  const running: MeridianProcess[] = [];
  const keys = { accessKeyId: 'AKIAPGGATEWAYTEST001', secretAccessKey: 'pg-gateway-test-secret-key-0123456789abc' };

  before(async () => {
    pg = await startThrowawayPostgres();
    dataDir = mkdtempSync(join(tmpdir(), 'meridian-pg-gw-'));
  });
  after(async () => {
    for (const m of running) await m.stop({ keepData: true });
    await pg?.destroy();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const gateway = async (url: string) => {
    const m = await startMeridianProcess({ dataDir, env: { MERIDIAN_METADATA_URL: url }, tls: false, ...keys });
    running.push(m);
    return m;
  };

  it('refuses to start on a database without the schema and names `meridian migrate`', async () => {
    const url = await pg.createDatabase();
    await assert.rejects(gateway(url), /schema version 0.*run `meridian migrate`/s);
  });

  it('refuses a schema newer than it knows', async () => {
    const url = await pg.createDatabase();
    assert.equal((await meridianOnDataDir(['migrate', '--metadata-url', url], dataDir)).code, 0);
    await pg.psql(`INSERT INTO schema_version (version, description) VALUES (1000, 'from a newer Meridian')`, new URL(url).pathname.slice(1));
    await assert.rejects(gateway(url), /schema version 1000, newer than this build/);
  });

  it('after `meridian migrate`, two gateways on one database and data directory serve the same objects', async () => {
    const url = await pg.createDatabase();
    const migrated = await meridianOnDataDir(['migrate', '--metadata-url', url], dataDir);
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.match(migrated.stdout, /schema version 0 -> \d+/);
    assert.match((await meridianOnDataDir(['migrate', '--metadata-url', url], dataDir)).stdout, /up to date/);

    const a = await gateway(url);
    const s3a = s3Client(a);
    await s3a.send(new CreateBucketCommand({ Bucket: 'shared' }));
    await s3a.send(new PutObjectCommand({ Bucket: 'shared', Key: 'dir/one', Body: 'written through A' }));
    const b = await gateway(url);
    const s3b = s3Client(b);
    const got = await s3b.send(new GetObjectCommand({ Bucket: 'shared', Key: 'dir/one' }));
    assert.equal(await got.Body!.transformToString(), 'written through A');
    await s3b.send(new PutObjectCommand({ Bucket: 'shared', Key: 'top', Body: 'written through B' }));
    const listed = await s3a.send(new ListObjectsV2Command({ Bucket: 'shared', Delimiter: '/' }));
    assert.deepEqual(listed.CommonPrefixes?.map((p) => p.Prefix), ['dir/']);
    assert.deepEqual(listed.Contents?.map((c) => c.Key), ['top']);
    // A conditional create decided in the database: the second gateway's attempt fails with 412.
    await s3a.send(new PutObjectCommand({ Bucket: 'shared', Key: 'once', Body: 'a', IfNoneMatch: '*' }));
    await assert.rejects(s3b.send(new PutObjectCommand({ Bucket: 'shared', Key: 'once', Body: 'b', IfNoneMatch: '*' })), (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode === 412);
    // A key PostgreSQL text cannot hold (U+0000): 400, not a 500.
    await assert.rejects(s3a.send(new PutObjectCommand({ Bucket: 'shared', Key: 'nul\u0000key', Body: 'x' })), (e: { name?: string; $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode === 400 && e.name === 'InvalidArgument');

    // PostgreSQL down: requests fail fast with 503 (SDKs retry that); back up, the gateways reconnect by themselves.
    const once = s3Client(a);
    once.config.maxAttempts = async () => 1;
    await pg.stop();
    try {
      await assert.rejects(once.send(new GetObjectCommand({ Bucket: 'shared', Key: 'top' })), (e: { name?: string; $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode === 503 && e.name === 'ServiceUnavailable');
      await assert.rejects(s3Client(b).send(new PutObjectCommand({ Bucket: 'shared', Key: 'during', Body: 'x' })), (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode === 503);
    } finally {
      await pg.start();
    }
    const back = await eventually(async () => {
      try {
        return await (await once.send(new GetObjectCommand({ Bucket: 'shared', Key: 'top' }))).Body!.transformToString();
      } catch {
        return undefined;
      }
    });
    assert.equal(back, 'written through B');
    assert.equal(a.child.exitCode, null, 'gateway A kept running');
    assert.equal(b.child.exitCode, null, 'gateway B kept running');

    // The bucket name is taken for both gateways, in every region.
    await assert.rejects(
      s3Client(b, 'eu-west-1').send(new CreateBucketCommand({ Bucket: 'shared', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } })),
      (e: Error) => e.name === 'BucketAlreadyOwnedByYou',
    );
  });
});
