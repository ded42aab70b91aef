/**
 * Split mode on PostgreSQL, on one machine. Each region's process has a database of its own; the
 * home's also holds the global data, which the other uses over the peer protocol and never keeps.
 * Two gateways of the home region share one database: a peer request that one gateway accepted
 * cannot be replayed to the other (the nonces are the database's, not each process's).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migratePostgresMetadata } from '../../src/storage/index.js';
import { derivePeerKeys, sealRpc, sha256Hex, signPeerRequest } from '../../src/server/peer-protocol.js';
import pg from 'pg';
import { CreateBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { CreateUserCommand, GetUserCommand } from '@aws-sdk/client-iam';
import { iamClient, s3Client } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { postgresUnavailable, startThrowawayPostgres, type ThrowawayPostgres } from '../support/postgres.js';
import { freePort, startSplitPair, type SplitPair } from '../support/split-mode.js';

const BUCKET_RPC = '/_meridian/internal/bucket';

describe('split mode on PostgreSQL: two gateways of one region', { skip: postgresUnavailable() }, () => {
  let pg: ThrowawayPostgres;
  const gateways: MeridianProcess[] = [];
  const secret = randomBytes(24).toString('hex');

  before(async () => {
    pg = await startThrowawayPostgres();
    const url = await pg.createDatabase();
    await migratePostgresMetadata(url);
    const dataDir = mkdtempSync(join(tmpdir(), 'meridian-splitpg-'));
    // us-east-2's process is never started: these calls stay within the home's gateways.
    const env = { MERIDIAN_METADATA_URL: url, MERIDIAN_REGIONS: 'us-east-1', MERIDIAN_PEERS: `us-east-2=http://127.0.0.1:${await freePort()}`, MERIDIAN_PEER_SECRET: secret };
    const first = await startMeridianProcess({ dataDir, env });
    gateways.push(first);
    gateways.push(await startMeridianProcess({ dataDir, env, accessKeyId: first.accessKeyId, secretAccessKey: first.secretAccessKey }));
  });

  after(async () => {
    for (const g of gateways) await g.stop({ keepData: true });
    await pg?.destroy();
  });

  async function send(gateway: MeridianProcess, headers: Record<string, string>, body: Buffer): Promise<{ status: number; text: string }> {
    const res = await fetch(gateway.httpEndpoint + BUCKET_RPC, { method: 'POST', headers, body });
    return { status: res.status, text: await res.text() };
  }

  it('a peer request accepted by one gateway is refused when replayed to the other', async () => {
    const keys = derivePeerKeys(secret);
    const body = sealRpc(keys.requestEnc, Buffer.from(JSON.stringify({ region: 'us-east-1', name: 'no-such-bucket' })));
    const signed = signPeerRequest(keys, { method: 'POST', path: BUCKET_RPC, query: '', content: sha256Hex(body) });
    const headers = { 'content-type': 'application/octet-stream', ...signed.headers };

    const first = await send(gateways[0]!, headers, body);
    assert.equal(first.status, 200, `the genuine call is answered: ${first.text}`);
    const replayed = await send(gateways[1]!, headers, body);
    assert.equal(replayed.status, 403, `the replay to the other gateway is refused: ${replayed.text}`);
    assert.match(replayed.text, /replayed nonce/);

    // A fresh call goes through either gateway.
    const again = signPeerRequest(keys, { method: 'POST', path: BUCKET_RPC, query: '', content: sha256Hex(body) });
    assert.equal((await send(gateways[1]!, { 'content-type': 'application/octet-stream', ...again.headers }, body)).status, 200);
  });
});

describe('split mode on PostgreSQL: a database per region process', { skip: postgresUnavailable() }, () => {
  let pgServer: ThrowawayPostgres;
  let pair: SplitPair;
  const urls: Record<'east1' | 'east2', string> = { east1: '', east2: '' };

  before(async () => {
    pgServer = await startThrowawayPostgres();
    for (const side of ['east1', 'east2'] as const) {
      urls[side] = await pgServer.createDatabase();
      await migratePostgresMetadata(urls[side]);
    }
    pair = await startSplitPair({}, { sideEnv: { east1: { MERIDIAN_METADATA_URL: urls.east1 }, east2: { MERIDIAN_METADATA_URL: urls.east2 } } });
  });

  after(async () => {
    await pair?.stop();
    await pgServer?.destroy();
  });

  async function count(side: 'east1' | 'east2', sql: string): Promise<number> {
    const c = new pg.Client({ connectionString: urls[side] });
    await c.connect();
    try {
      return Number((await c.query<{ n: string }>(sql)).rows[0]!.n);
    } finally {
      await c.end();
    }
  }

  it('buckets and users made through the non-home process live in the home database; its own holds only its region', async () => {
    const bucket = `splitpg-${randomBytes(4).toString('hex')}`;
    await s3Client(pair.east2, 'us-east-2').send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: 'us-east-2' } }));
    await s3Client(pair.east1, 'us-east-2').send(new HeadBucketCommand({ Bucket: bucket }));
    const user = `splitpg-${randomBytes(3).toString('hex')}`;
    await iamClient(pair.east2).send(new CreateUserCommand({ UserName: user }));
    assert.equal((await iamClient(pair.east1).send(new GetUserCommand({ UserName: user }))).User!.UserName, user);

    assert.equal(await count('east1', `SELECT count(*) AS n FROM bucket_directory WHERE name = '${bucket}'`), 1, 'the home knows the name');
    assert.equal(await count('east2', 'SELECT count(*) AS n FROM bucket_directory'), 0, 'no bucket names at the non-home');
    assert.equal(await count('east2', 'SELECT count(*) AS n FROM iam_users'), 0, 'no IAM users at the non-home');
    assert.equal(await count('east2', 'SELECT count(*) AS n FROM iam_accounts'), 0, 'no accounts at the non-home');
    assert.equal(await count('east2', `SELECT count(*) AS n FROM buckets WHERE name = '${bucket}' AND region = 'us-east-2'`), 1, "the bucket's own record is in its region's database");
    assert.equal(await count('east1', 'SELECT count(*) AS n FROM buckets'), 0, 'and not in the home region\'s');
  });
});
