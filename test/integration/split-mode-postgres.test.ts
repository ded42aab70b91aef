/**
 * Split mode on PostgreSQL, on one machine: two gateways of the home region share one database. A
 * peer request that one gateway accepted cannot be replayed to the other (the nonces are the
 * database's, not each process's).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migratePostgresMetadata } from '../../src/storage/index.js';
import { derivePeerKeys, sealRpc, sha256Hex, signPeerRequest } from '../../src/server/peer-protocol.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { postgresUnavailable, startThrowawayPostgres, type ThrowawayPostgres } from '../support/postgres.js';
import { freePort } from '../support/split-mode.js';

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
