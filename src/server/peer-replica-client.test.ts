/**
 * The sending side of split mode against a peer the test plays: bundles of small replicas, and a
 * peer of an older version that does not know bundles, which then gets its replicas one by one.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { PeerReplicaClient } from './peer-replica-client.js';
import { decodeBundle, REPLICA_BUNDLE_PATH, REPLICA_PATH } from '../services/s3/replica-wire.js';
import { derivePeerKeys, H, sha256Hex, signPeerResponse } from './peer-protocol.js';
import type { SourceVersion } from '../replication/ports.js';
import type { ObjectVersion } from '../storage/types.js';

const keys = derivePeerKeys('a peer secret for this test');
const creds = { roleArn: 'arn:aws:iam::111122223333:role/replication', accessKeyId: 'ASIATESTTESTTESTTEST', secretAccessKey: 'secret', sessionToken: 'token', expiresAt: Date.now() + 3_600_000 };
const destination = { name: 'dest', region: 'us-east-2', ownerAccountId: '111122223333' };

function source(key: string): SourceVersion {
  const bytes = Buffer.from(`the bytes of ${key}`);
  const version = { key, versionId: `v-${key}`, size: bytes.length, etag: 'e', lastModified: 0, isDeleteMarker: false, parts: [] } as unknown as ObjectVersion;
  return { version, parts: [{ partNumber: 1, size: bytes.length, open: () => Readable.from([bytes]), bytes: () => bytes }] };
}

/** A peer that answers as the test says, signing its answers with the shared keys. */
class TestPeer {
  server!: Server;
  readonly requests: { path: string; keys: string[] }[] = [];
  knowsBundles = true;
  deny = new Set<string>();

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        let status = 200;
        let answer: unknown = {};
        if (req.url === REPLICA_BUNDLE_PATH && this.knowsBundles) {
          const items = decodeBundle(body);
          this.requests.push({ path: req.url, keys: items.map((i) => i.envelope.version!.key) });
          answer = { results: items.map((i) => (this.deny.has(i.envelope.version!.key) ? { error: { code: 'ReplicationFailure', reason: 'DstPutObjectNotPermitted', message: 'denied' } } : {})) };
        } else if (req.url === REPLICA_PATH) {
          const envelope = JSON.parse(body.subarray(4, 4 + body.readUInt32BE(0)).toString('utf8')) as { version: { key: string } };
          this.requests.push({ path: req.url, keys: [envelope.version.key] });
        } else {
          this.requests.push({ path: req.url ?? '', keys: [] });
          status = 404;
          answer = { error: { code: 'NotFound', message: `No internal endpoint PUT ${req.url}` } };
        }
        const text = JSON.stringify(answer);
        const headers = signPeerResponse(keys, String(req.headers[H.signature]), status, { 'content-type': 'application/json' }, sha256Hex(text));
        res.writeHead(status, headers).end(text);
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
}

describe('sending replicas to a peer process', () => {
  const peer = new TestPeer();
  let url: string;
  before(async () => {
    url = await peer.start();
  });
  after(() => peer.server.close());

  it('small replicas written at once share a request, and each gets its own outcome', async () => {
    peer.requests.length = 0;
    peer.deny = new Set(['b']);
    const client = new PeerReplicaClient(url, { keys });
    const outcomes = await Promise.allSettled(['a', 'b', 'c'].map((k) => client.writeReplica(creds, destination, {}, source(k))));
    assert.deepEqual(peer.requests, [{ path: REPLICA_BUNDLE_PATH, keys: ['a', 'b', 'c'] }]);
    assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.equal(((outcomes[1] as PromiseRejectedResult).reason as { reason?: string }).reason, 'DstPutObjectNotPermitted', 'a permanent failure keeps its reason');
  });

  it('a peer that does not know bundles (an older version) gets the replicas one by one, from then on directly', async () => {
    peer.requests.length = 0;
    peer.deny = new Set();
    peer.knowsBundles = false;
    const client = new PeerReplicaClient(url, { keys });
    await Promise.all(['a', 'b'].map((k) => client.writeReplica(creds, destination, {}, source(k))));
    await client.writeReplica(creds, destination, {}, source('c'));
    assert.deepEqual(
      peer.requests.map((r) => [r.path, r.keys.join()]),
      [
        [REPLICA_BUNDLE_PATH, ''],
        [REPLICA_PATH, 'a'],
        [REPLICA_PATH, 'b'],
        [REPLICA_PATH, 'c'],
      ],
    );
  });
});
