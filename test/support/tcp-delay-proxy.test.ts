/**
 * The delay proxy between test hosts: bytes pass untouched and in order both ways, each direction
 * arrives no sooner than the delay, half-closes and failures of the target reach the client, and
 * close() cuts what is open.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { TcpDelayProxy } from './tcp-delay-proxy.js';
import { freePort } from './split-mode.js';

const PROXY_TS = new URL('./tcp-delay-proxy.ts', import.meta.url).pathname;

/** A loopback server: echoes (default), or runs `handler` per connection. */
async function server(handler: (s: Socket) => void = (s) => s.pipe(s)): Promise<{ server: Server; port: number }> {
  const srv = createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => {}); // a proxy cutting the connection resets it
    handler(s);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { server: srv, port: (srv.address() as AddressInfo).port };
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const c = connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => resolve(c));
    c.once('error', reject);
  });
}

/** Everything a socket sends until it ends. */
function readAll(s: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.once('end', () => resolve(Buffer.concat(chunks)));
    s.once('error', reject);
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('TCP delay proxy', () => {
  let echo: { server: Server; port: number };

  before(async () => {
    echo = await server();
  });

  after(() => {
    echo.server.close();
  });

  it('passes 8 MiB through and back untouched and in order, holding little at a time', async () => {
    const proxy = await TcpDelayProxy.start({ listenHost: '127.0.0.1', targetHost: '127.0.0.1', targetPort: echo.port, delayMs: 5, highWaterBytes: 64 * 1024 });
    try {
      const payload = randomBytes(8 * 1024 * 1024);
      const c = await open(proxy.port);
      const back = readAll(c);
      c.end(payload);
      const got = await back;
      assert.equal(got.length, payload.length);
      assert.equal(sha(got), sha(payload));
    } finally {
      await proxy.close();
    }
  });

  it('delays each direction: a round trip through a 100 ms proxy takes at least 200 ms', async () => {
    const proxy = await TcpDelayProxy.start({ listenHost: '127.0.0.1', targetHost: '127.0.0.1', targetPort: echo.port, delayMs: 100 });
    try {
      const c = await open(proxy.port);
      for (let i = 0; i < 3; i++) {
        const started = process.hrtime.bigint();
        const answered = new Promise<Buffer>((r) => c.once('data', r));
        c.write(`ping ${i}`);
        assert.equal((await answered).toString(), `ping ${i}`);
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        // A lower bound only: the proxy must never deliver early; late is the machine's business.
        assert.ok(ms >= 199, `round trip ${ms.toFixed(1)} ms`);
      }
      c.destroy();
    } finally {
      await proxy.close();
    }
  });

  it('passes a half-close on: the target reads to the end, then answers, then the client sees the end', async () => {
    const counting = await server((s) => {
      let n = 0;
      s.on('data', (d: Buffer) => (n += d.length));
      s.on('end', () => s.end(`read ${n} bytes`));
    });
    const proxy = await TcpDelayProxy.start({ listenHost: '127.0.0.1', targetHost: '127.0.0.1', targetPort: counting.port, delayMs: 20 });
    try {
      const c = await open(proxy.port);
      const back = readAll(c);
      c.write(randomBytes(1000));
      c.end(randomBytes(234));
      assert.equal((await back).toString(), 'read 1234 bytes');
    } finally {
      await proxy.close();
      counting.server.close();
    }
  });

  it('a target that refuses the connection closes the client\'s connection, it does not hang', async () => {
    const proxy = await TcpDelayProxy.start({ listenHost: '127.0.0.1', targetHost: '127.0.0.1', targetPort: await freePort(), delayMs: 10 });
    try {
      const c = await open(proxy.port);
      c.on('error', () => {});
      c.write('anyone there?');
      await new Promise((r) => c.once('close', r));
    } finally {
      await proxy.close();
    }
  });

  it('close() cuts the open connections and stops listening', async () => {
    const proxy = await TcpDelayProxy.start({ listenHost: '127.0.0.1', targetHost: '127.0.0.1', targetPort: echo.port, delayMs: 10 });
    const c = await open(proxy.port);
    c.on('error', () => {});
    const closed = new Promise((r) => c.once('close', r));
    c.write('x');
    await new Promise((r) => c.once('data', r));
    assert.equal(proxy.open, 1);
    const port = proxy.port;
    await proxy.close();
    await closed;
    await assert.rejects(open(port), /ECONNREFUSED/);
  });

  it('with several targets, sends each new connection to the next in turn', async () => {
    const named = await Promise.all(['a', 'b', 'c'].map((name) => server((s) => s.end(name))));
    const proxy = await TcpDelayProxy.start({ listenHost: '127.0.0.1', targetHost: '', targetPort: 0, targets: named.map((n) => ({ host: '127.0.0.1', port: n.port })), delayMs: 1 });
    try {
      const seen: string[] = [];
      for (let i = 0; i < 6; i++) {
        const c = await open(proxy.port);
        const answer = readAll(c);
        c.end();
        seen.push((await answer).toString());
      }
      assert.deepEqual(seen, ['a', 'b', 'c', 'a', 'b', 'c']);
    } finally {
      await proxy.close();
      for (const n of named) n.server.close();
    }
  });

  it('runs as a program (for use inside a namespace)', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', PROXY_TS, '127.0.0.1', String(port), '127.0.0.1', String(echo.port), '10'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout!.setEncoding('utf8').on('data', (d: string) => d.includes(`listening on 127.0.0.1:${port}`) && resolve());
        child.once('exit', (code) => reject(new Error(`exited with ${code}`)));
      });
      const c = await open(port);
      const back = readAll(c);
      c.end('through the program');
      assert.equal((await back).toString(), 'through the program');
    } finally {
      child.kill('SIGTERM');
    }
  });
});
