/**
 * Split mode with listeners of their own for peer traffic (MERIDIAN_PEER_PORT): each process's
 * --peer URL names the other's peer port, never its clients' port, and everything that crosses
 * between them — the global stores at the home, replica writes, requests passed on to the region's
 * process — goes there. Clients keep using the ordinary port of either process. The https variant
 * (MERIDIAN_PEER_TLS_PORT) serves the server's certificate, checked against MERIDIAN_PEER_CA.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { generate } from 'selfsigned';
import { eventually, s3Client } from '../support/clients.js';
import { setUpReplication } from '../support/replication-setup.js';
import { freePort, startSplitPair, type SplitPair } from '../support/split-mode.js';

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

describe('split mode: peers on listeners of their own', () => {
  let pair: SplitPair;

  before(async () => {
    pair = await startSplitPair({}, { peerListeners: true });
  });

  after(async () => {
    await pair?.stop();
  });

  it('replicates across processes whose peers know only each other\'s peer ports', async () => {
    const ports = pair.peerPorts!;
    assert.ok(!pair.east1.httpEndpoint.endsWith(`:${ports.east1}`) && !pair.east2.httpEndpoint.endsWith(`:${ports.east2}`), 'peer ports differ from the clients\' ports');
    // The role and keys are created at the home (us-east-1); us-east-2 resolves them there, over the peer port.
    const s = await setUpReplication(pair.east1);
    const src = s3Client(pair.east1, 'us-east-1');
    const put = await src.send(new PutObjectCommand({ Bucket: s.src, Key: 'via-peer-port.txt', Body: 'through the peer listener', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: s.srcKeyArn }));
    await eventually(async () => ((await src.send(new HeadObjectCommand({ Bucket: s.src, Key: 'via-peer-port.txt' }))).ReplicationStatus === 'COMPLETED' ? true : undefined), 30_000);
    // Read from us-east-2's own port, and through us-east-1's (passed on to us-east-2's peer port).
    for (const m of [pair.east2, pair.east1]) {
      const replica = await s3Client(m, 'us-east-2').send(new GetObjectCommand({ Bucket: s.dest, Key: 'via-peer-port.txt' }));
      assert.equal(replica.ReplicationStatus, 'REPLICA');
      assert.equal(replica.VersionId, put.VersionId);
      assert.equal(replica.SSEKMSKeyId, s.destKeyArn);
      assert.equal(await replica.Body!.transformToString(), 'through the peer listener');
    }
  });

  it('closes the peer listeners with the process', async () => {
    const ports = pair.peerPorts!;
    assert.equal(await refused(ports.east2), false, 'listening while running');
    await pair.east2.stop({ keepData: true });
    assert.equal(await refused(ports.east2), true, 'closed once stopped');
    await pair.start('east2');
    assert.equal(await refused(ports.east2), false, 'listening again after a restart');
  });
});

describe('split mode: peers on https listeners of their own (MERIDIAN_PEER_TLS_PORT)', () => {
  let pair: SplitPair;
  let dir: string;

  before(async () => {
    // One certificate for both processes (a CA certificate for 127.0.0.1): their HTTPS listeners, the
    // peer ones included, serve it, and MERIDIAN_PEER_CA trusts it.
    dir = mkdtempSync(join(tmpdir(), 'meridian-peer-tls-'));
    const pems = await generate([{ name: 'commonName', value: 'meridian peers' }], {
      keySize: 2048,
      algorithm: 'sha256',
      extensions: [
        { name: 'basicConstraints', cA: true },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
        { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
      ],
    });
    writeFileSync(join(dir, 'ca.pem'), pems.cert);
    const peerTls = { east1: await freePort(), east2: await freePort() };
    pair = await startSplitPair(
      { MERIDIAN_PEER_CA: join(dir, 'ca.pem') },
      {
        tls: { east1: true, east2: true },
        sideEnv: { east1: { MERIDIAN_PEER_TLS_PORT: String(peerTls.east1) }, east2: { MERIDIAN_PEER_TLS_PORT: String(peerTls.east2) } },
        via: { east1: `https://127.0.0.1:${peerTls.east1}`, east2: `https://127.0.0.1:${peerTls.east2}` },
        prepare: (_side, dataDir) => {
          mkdirSync(join(dataDir, 'tls'), { recursive: true });
          writeFileSync(join(dataDir, 'tls', 'cert.pem'), pems.cert);
          writeFileSync(join(dataDir, 'tls', 'key.pem'), pems.private, { mode: 0o600 });
        },
      },
    );
  });

  after(async () => {
    await pair?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('replicates over https to the peer listener, whose certificate chains to MERIDIAN_PEER_CA', async () => {
    const s = await setUpReplication(pair.east1);
    const src = s3Client(pair.east1, 'us-east-1');
    await src.send(new PutObjectCommand({ Bucket: s.src, Key: 'tls-peer-port.txt', Body: 'over tls to the peer port', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: s.srcKeyArn }));
    await eventually(async () => ((await src.send(new HeadObjectCommand({ Bucket: s.src, Key: 'tls-peer-port.txt' }))).ReplicationStatus === 'COMPLETED' ? true : undefined), 30_000);
    const replica = await s3Client(pair.east1, 'us-east-2').send(new GetObjectCommand({ Bucket: s.dest, Key: 'tls-peer-port.txt' }));
    assert.equal(await replica.Body!.transformToString(), 'over tls to the peer port');
  });
});
