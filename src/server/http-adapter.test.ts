/**
 * Requests that arrive in one turn of the event loop start together, in a read epoch that begins after
 * the last of them arrived: what another process committed before any of them arrived is seen by all
 * of them, and the cached-row check is made once for the batch.
 */
import assert from 'node:assert/strict';
import { createServer, get, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { setTimeout as delay, setImmediate as nextTurn } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { currentReadEpoch } from '../common/read-epoch.js';
import { sendStream, startTogether } from './http-adapter.js';
import { serverV8Flags } from './v8-tuning.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** Runs `code` (an ES module) in a node process started with a cluster worker's V8 flags; returns its stdout. */
function inWorkerProcess(code: string): string {
  const r = spawnSync(process.execPath, [...serverV8Flags(), '--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', cwd: here('../..') });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

describe('requests start together', () => {
  it('requests arriving in one turn start in one epoch, newer than any epoch in use when they arrived', async () => {
    const schedule = startTogether();
    const atArrival = currentReadEpoch();
    const started: number[] = [];
    schedule(() => started.push(currentReadEpoch()));
    schedule(() => started.push(currentReadEpoch()));
    schedule(() => started.push(currentReadEpoch()));
    assert.deepEqual(started, [], 'nothing starts inside the arrival callback');
    await nextTurn();
    assert.equal(started.length, 3);
    assert.ok(started.every((e) => e === started[0]), `one epoch for the batch: ${started.join(', ')}`);
    assert.ok(started[0]! > atArrival, 'begun after the arrivals');
  });

  it('a request arriving in a later turn starts in a later epoch', async () => {
    const schedule = startTogether();
    const epochs: number[] = [];
    schedule(() => epochs.push(currentReadEpoch()));
    await nextTurn();
    schedule(() => epochs.push(currentReadEpoch()));
    await nextTurn();
    assert.equal(epochs.length, 2);
    assert.ok(epochs[1]! > epochs[0]!);
  });
});

/**
 * A streamed response body (an object's plaintext) reaches the client whole, in as few writes as the
 * body's turns, while a client that stops reading still holds the body back.
 */
describe('streamed response bodies', () => {
  const SEGMENT = 64 * 1024;

  /** A server whose one response is `makeBody()`, sent with sendStream; resolves with its port and what sendStream settled as. */
  async function serveOnce(makeBody: () => Readable): Promise<{ port: number; server: Server; sent: Promise<string>; writes: () => number }> {
    let writes = 0;
    let settled!: (s: string) => void;
    const sent = new Promise<string>((r) => (settled = r));
    const server = createServer((_req, res) => {
      const socket = res.socket as Socket & { _write: Function; _writev: Function };
      // Counts the writes the socket hands to the kernel (the stream implementer's hooks).
      const write = socket._write.bind(socket);
      const writev = socket._writev.bind(socket);
      socket._write = (...a: unknown[]) => (writes++, write(...a));
      socket._writev = (...a: unknown[]) => (writes++, writev(...a));
      res.writeHead(200);
      sendStream(makeBody(), res, true).then(
        () => settled('sent'),
        (e: Error) => {
          // As the adapter does: with the headers gone, cutting the connection is the only signal left.
          res.destroy();
          settled(`failed: ${e.message}`);
        },
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { port: (server.address() as AddressInfo).port, server, sent, writes: () => writes };
  }

  it('the chunks a body produces in one turn leave in one write', async () => {
    const turns = 8;
    const { port, server, sent, writes } = await serveOnce(() =>
      Readable.from(
        (async function* () {
          for (let t = 0; t < turns; t++) {
            await nextTurn();
            for (let i = 0; i < 16; i++) yield Buffer.alloc(SEGMENT, t * 16 + i);
          }
        })(),
      ),
    );
    try {
      const body = await new Promise<Buffer>((resolve, reject) => {
        get({ host: '127.0.0.1', port, path: '/' }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks)));
        }).on('error', reject);
      });
      assert.equal(await sent, 'sent');
      assert.equal(body.length, turns * 16 * SEGMENT);
      for (let i = 0; i < turns * 16; i++) assert.equal(body[i * SEGMENT], i, `segment ${i} in place`);
      // One write for the headers, one per turn (and the chunked encoding's end); piped, it was one per chunk.
      assert.ok(writes() <= turns + 3, `${writes()} writes for ${turns} turns of 16 chunks`);
    } finally {
      server.close();
      server.closeAllConnections();
    }
  });

  it('a client that stops reading holds the body back: it is read only as far as the buffers reach', async () => {
    let produced = 0;
    const total = 256 * 1024 * 1024;
    const { port, server, sent } = await serveOnce(() =>
      Readable.from(
        (async function* () {
          while (produced < total) {
            await nextTurn();
            for (let i = 0; i < 16; i++) {
              produced += SEGMENT;
              yield Buffer.alloc(SEGMENT);
            }
          }
        })(),
      ),
    );
    const socket = connect(port, '127.0.0.1');
    try {
      socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      socket.pause(); // never reads
      await delay(1000);
      const held = produced;
      await delay(300);
      assert.equal(produced, held, 'the body stopped: it waits for the client');
      // The kernel's socket buffers (a few MiB each way on loopback) and one turn's worth on each side of them.
      assert.ok(held < 32 * 1024 * 1024, `${held} bytes produced for a client that read nothing`);
      socket.destroy();
      assert.match(await sent, /^failed: /, 'a client gone away fails the send (and destroys the body)');
    } finally {
      socket.destroy();
      server.close();
      server.closeAllConnections();
    }
  });

  it('a body that produces from memory without ever waiting is held too, within its turn', async () => {
    let produced = 0;
    const total = 256 * 1024 * 1024;
    const { port, server, sent } = await serveOnce(() =>
      Readable.from(
        (function* () {
          while (produced < total) {
            produced += SEGMENT;
            yield Buffer.alloc(SEGMENT);
          }
        })(),
        { objectMode: false },
      ),
    );
    const socket = connect(port, '127.0.0.1');
    try {
      socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      socket.pause();
      await delay(1000);
      assert.ok(produced < 32 * 1024 * 1024, `${produced} bytes produced for a client that read nothing`);
      socket.destroy();
      assert.match(await sent, /^failed: /);
    } finally {
      socket.destroy();
      server.close();
      server.closeAllConnections();
    }
  });

  it('in a worker process, a streamed response frees handed-over chunks only once written, and the client gets every byte', () => {
    const out = inWorkerProcess(`
      const http = await import('node:http');
      const { Readable } = await import('node:stream');
      const { handOver } = await import(${JSON.stringify(here('../common/buffer-release.ts'))});
      const { sendStream } = await import(${JSON.stringify(here('./http-adapter.ts'))});
      // 64 chunks of 64 KiB (4 MiB, more than a socket takes at once), each filled with its index.
      const chunks = Array.from({ length: 64 }, (_, i) => handOver(Buffer.alloc(65536, i)));
      const kept = Buffer.alloc(65536, 200); // not handed over: must survive
      const server = http.createServer((req, res) => {
        res.writeHead(200, { 'content-length': String(65 * 65536) });
        sendStream(Readable.from([...chunks, kept]), res, true).catch((e) => console.error(e));
      });
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      const received = await new Promise((resolve, reject) => {
        http.get({ host: '127.0.0.1', port: server.address().port, path: '/' }, (res) => {
          const parts = [];
          // Read slowly at first, so that writes wait on a full socket.
          res.pause();
          setTimeout(() => res.resume(), 100);
          res.on('data', (c) => parts.push(c));
          res.on('end', () => resolve(Buffer.concat(parts)));
          res.on('error', reject);
        }).on('error', reject);
      });
      server.close();
      let intact = received.length === 65 * 65536;
      for (let i = 0; i < 65 && intact; i++) {
        const want = i < 64 ? i : 200;
        const part = received.subarray(i * 65536, (i + 1) * 65536);
        intact = part.every((x) => x === want);
      }
      console.log(JSON.stringify({ intact, freed: chunks.filter((c) => c.length === 0).length, kept: kept.length }));
    `);
    assert.deepEqual(JSON.parse(out), { intact: true, freed: 64, kept: 65536 });
  });

  it('a body that fails part-way fails the send', async () => {
    const { port, server, sent } = await serveOnce(() =>
      Readable.from(
        (async function* () {
          yield Buffer.alloc(SEGMENT);
          await nextTurn();
          throw new Error('segment 1 failed its tag');
        })(),
      ),
    );
    try {
      await new Promise<void>((resolve) => {
        get({ host: '127.0.0.1', port, path: '/' }, (res) => res.on('data', () => undefined).on('error', () => resolve()).on('close', () => resolve())).on('error', () => resolve());
      });
      assert.equal(await sent, 'failed: segment 1 failed its tag');
    } finally {
      server.close();
      server.closeAllConnections();
    }
  });
});
