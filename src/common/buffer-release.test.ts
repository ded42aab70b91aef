import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { serverV8Flags } from '../server/v8-tuning.js';
import { handOver, isReleasable, releaseBuffer } from './buffer-release.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** Runs `code` (an ES module) in a node process started with a cluster worker's V8 flags; returns its stdout. */
function inWorkerProcess(code: string): string {
  const r = spawnSync(process.execPath, [...serverV8Flags(), '--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', cwd: here('../..') });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

describe('releasing buffers early', () => {
  it('never frees a buffer nobody handed over, a slice, or a small buffer, whatever the runtime', () => {
    const plain = Buffer.alloc(65536, 1);
    releaseBuffer(plain);
    assert.equal(plain.length, 65536);
    assert.equal(plain[65535], 1);

    const whole = Buffer.alloc(65536, 2);
    const slice = handOver(whole.subarray(0, 32768));
    assert.equal(isReleasable(slice), false, 'a slice shares its memory');
    releaseBuffer(slice);
    assert.equal(whole[65535], 2);

    const small = handOver(Buffer.alloc(1024, 3));
    assert.equal(isReleasable(small), false);
    releaseBuffer(small);
    assert.equal(small[1023], 3);
  });

  it("in a worker process, a handed-over buffer's memory is freed and every view of it is left empty", () => {
    const out = inWorkerProcess(`
      const { canReleaseBuffers, handOver, isReleasable, releaseBuffer } = await import(${JSON.stringify(here('./buffer-release.ts'))});
      const b = handOver(Buffer.alloc(65536, 7));
      const view = new Uint8Array(b.buffer);
      const before = isReleasable(b);
      releaseBuffer(b);
      releaseBuffer(b); // a second call is harmless
      const other = Buffer.alloc(65536, 9);
      releaseBuffer(other);
      const shared = handOver(Buffer.from(new SharedArrayBuffer(65536)).fill(5)); // memory of several threads: never
      releaseBuffer(shared);
      console.log(JSON.stringify({ canReleaseBuffers, before, after: b.length, view: view.length, detached: b.buffer.byteLength, other: other[65535], shared: shared[65535] }));
    `);
    assert.deepEqual(JSON.parse(out), { canReleaseBuffers: true, before: true, after: 0, view: 0, detached: 0, other: 9, shared: 5 });
  });

  it('in a worker process, a streamed response frees handed-over chunks only once written, and the client gets every byte', () => {
    const out = inWorkerProcess(`
      const http = await import('node:http');
      const { Readable } = await import('node:stream');
      const { handOver } = await import(${JSON.stringify(here('./buffer-release.ts'))});
      const { sendStream } = await import(${JSON.stringify(here('../server/http-adapter.ts'))});
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
});
