/**
 * A peer call that gets no answer — refused, a connection that is not accepted in time, a peer that
 * accepted and says nothing, a pooled keep-alive connection gone silent — ends within the peer
 * timeouts as a DependencyUnavailableError (503 ServiceUnavailable, Retry-After) naming the peer,
 * never as a plain error (which clients would see as 500) and never after the old 30 s.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect as netConnect, createServer as createNetServer, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DependencyUnavailableError } from '../common/errors.js';
import { derivePeerKeys, openRpc, PeerVerifier, sealRpc, sha256Hex, signPeerResponse } from './peer-protocol.js';
import { PEER_IDLE_SOCKET_MS, peerCall } from './peers.js';
import { loadOrCreateCertificate } from './tls.js';

const keys = derivePeerKeys('a shared secret of some length');
const timeouts = { connectMs: 300, rpcMs: 600 };
const split = { keys, timeouts };
const PATH = '/_meridian/internal/global';

/** A home that answers peer RPCs with their own payload, or holds them unanswered while `hang` is set. */
function echoHome(tls?: { cert: string; key: string }) {
  const verifier = new PeerVerifier(keys, Date.now() - 1000);
  const connections = new Set<Socket>();
  const held: ServerResponse[] = [];
  let hang = false;
  let accepted = 0;
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (hang) {
        held.push(res);
        return;
      }
      const peer = verifier.verify(req.method!, req.url!, '', req.headers);
      const payload = JSON.parse(openRpc(keys.requestEnc, Buffer.concat(chunks)).toString('utf8')) as unknown;
      const body = sealRpc(keys.responseEnc, Buffer.from(JSON.stringify({ result: payload })));
      res.writeHead(200, signPeerResponse(keys, peer.signature, 200, { 'content-type': 'application/octet-stream' }, sha256Hex(body)));
      res.end(body);
    });
  };
  const server: Server = tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, handler) : createHttpServer(handler);
  server.on('connection', (s: Socket) => {
    accepted++;
    connections.add(s);
    s.on('close', () => connections.delete(s));
  });
  return {
    server,
    get accepted() {
      return accepted;
    },
    set hang(v: boolean) {
      hang = v;
    },
    async listen(): Promise<string> {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as { port: number }).port}`;
    },
    async close(): Promise<void> {
      for (const s of connections) s.destroy();
      for (const r of held) r.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function unavailable(peer: string): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof DependencyUnavailableError, `a DependencyUnavailableError, got ${String(e)}`);
    assert.equal(e.code, 'ServiceUnavailable');
    assert.equal(e.status, 503);
    assert.equal(e.headers['retry-after'], '1');
    assert.match(e.message, new RegExp(peer));
    return true;
  };
}

describe('peer calls without an answer', () => {
  const home = echoHome();
  let url: string;

  before(async () => {
    url = await home.listen();
  });

  after(async () => {
    await home.close();
  });

  it('a peer that answers: the call returns its result', async () => {
    assert.deepEqual(await peerCall(url, split, PATH, { method: 'lookup' }, 'the home'), { method: 'lookup' });
  });

  it('a refused connection (the process gone) is a 503 naming the peer', async () => {
    const port = await closedPort();
    await assert.rejects(peerCall(`http://127.0.0.1:${port}`, split, PATH, {}, 'the home region us-east-1\'s process'), unavailable("The home region us-east-1's process is not reachable \\(.*ECONNREFUSED"));
  });

  it('a peer that accepts the connection and never answers (a stopped process) is a 503 after the RPC timeout', async () => {
    // A listening socket nobody reads: the kernel accepts the connection, nothing answers.
    const silent = createNetServer(() => undefined);
    const sockets: Socket[] = [];
    silent.on('connection', (s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as { port: number }).port;
      await assert.rejects(peerCall(`http://127.0.0.1:${port}`, split, PATH, {}, 'the home'), unavailable(`no answer within ${timeouts.rpcMs} ms`));
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it('behind a balancer whose other backend just died (a connection reset during the TLS handshake), the call is sent again on a new connection and answered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meridian-peer-tls-'));
    const tls = await loadOrCreateCertificate(dir);
    const live = echoHome(tls);
    const liveUrl = new URL(await live.listen());
    // Round robin over a dead backend and the live one: the dead one's turn resets the connection.
    let turn = 0;
    const sockets = new Set<Socket>();
    const balancer = createNetServer((client) => {
      sockets.add(client);
      client.on('close', () => sockets.delete(client));
      if (turn++ % 2 === 0) {
        client.resetAndDestroy();
        return;
      }
      const upstream = netConnect(Number(liveUrl.port), '127.0.0.1');
      sockets.add(upstream);
      client.pipe(upstream).pipe(client);
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((r) => balancer.listen(0, '127.0.0.1', r));
    try {
      const url = `https://127.0.0.1:${(balancer.address() as { port: number }).port}`;
      const tlsSplit = { keys, timeouts, ca: Buffer.from(tls.cert) };
      assert.deepEqual(await peerCall(url, tlsSplit, PATH, { n: 1 }, 'the home'), { n: 1 });
      assert.equal(turn, 2, 'the first connection was reset, the second reached the live backend');
      assert.deepEqual(await peerCall(url, tlsSplit, PATH, { n: 2 }, 'the home'), { n: 2 });
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => balancer.close(() => r()));
      await live.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a refused connection is tried once more, then the peer counts as away', async () => {
    const port = await closedPort();
    const started = Date.now();
    await assert.rejects(peerCall(`http://127.0.0.1:${port}`, split, PATH, {}, 'the home'), unavailable('ECONNREFUSED'));
    assert.ok(Date.now() - started < 1000);
  });

  it('an https peer whose TLS handshake never completes is a 503 after the connect timeout', async () => {
    const silent = createNetServer(() => undefined);
    const sockets: Socket[] = [];
    silent.on('connection', (s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as { port: number }).port;
      await assert.rejects(peerCall(`https://127.0.0.1:${port}`, { keys, timeouts: { connectMs: 300, rpcMs: 60_000 } }, PATH, {}, 'the home'), unavailable('no connection within 300 ms'));
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it('a pooled keep-alive connection that goes silent does not hold the next call: 503 after the RPC timeout', async () => {
    await peerCall(url, split, PATH, { n: 1 }, 'the home');
    const before = home.accepted;
    await peerCall(url, split, PATH, { n: 2 }, 'the home');
    assert.equal(home.accepted, before, 'the second call reused the first one\'s connection');
    home.hang = true;
    try {
      await assert.rejects(peerCall(url, split, PATH, { n: 3 }, 'the home'), unavailable('no answer within'));
      assert.equal(home.accepted, before, 'the call that met the silence was sent on the pooled connection');
    } finally {
      home.hang = false;
    }
    // The silent connection was dropped: the next call opens a new one and is answered.
    assert.deepEqual(await peerCall(url, split, PATH, { n: 4 }, 'the home'), { n: 4 });
    assert.equal(home.accepted, before + 1);
  });

  it('a connection idle longer than PEER_IDLE_SOCKET_MS is not reused (one left across a partition may be dead): the next call opens a new one', async () => {
    await peerCall(url, split, PATH, { n: 1 }, 'the home');
    const before = home.accepted;
    await new Promise((r) => setTimeout(r, PEER_IDLE_SOCKET_MS + 300));
    assert.deepEqual(await peerCall(url, split, PATH, { n: 2 }, 'the home'), { n: 2 });
    assert.equal(home.accepted, before + 1, 'the call after the quiet spell came on a new connection');
    assert.deepEqual(await peerCall(url, split, PATH, { n: 3 }, 'the home'), { n: 3 });
    assert.equal(home.accepted, before + 1, 'calls close together share it');
  });
});
