import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { inWorkerProcess } from '../common/buffer-release-testing.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

describe('joining the request body to its consumer', () => {
  it("in a worker process, hands over the chunks of an HTTP request's body (Node made them for this request alone), and never those of a body built from a buffer", () => {
    const out = inWorkerProcess(`
      const { joinBody } = await import(${JSON.stringify(here('./request-body.ts'))});
      const { isReleasable } = await import(${JSON.stringify(here('../common/buffer-release.ts'))});
      const { PassThrough, Readable } = await import('node:stream');
      const http = await import('node:http');
      const count = (sink) => new Promise((resolve) => {
        const seen = { large: 0, releasable: 0, bytes: 0 };
        sink.on('data', (c) => {
          seen.bytes += c.length;
          if (c.length >= 16384) seen.large++;
          if (isReleasable(c)) seen.releasable++;
        });
        sink.on('end', () => resolve(seen));
      });
      const server = http.createServer(async (req, res) => {
        const seen = await count(joinBody(req, new PassThrough()));
        res.end(JSON.stringify(seen));
      });
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      const fromHttp = await new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: server.address().port, method: 'PUT', headers: { 'content-length': 4 << 20 } }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d)).on('end', () => resolve(JSON.parse(body)));
        });
        req.on('error', reject);
        const mib = Buffer.alloc(1 << 20, 1);
        for (let i = 0; i < 4; i++) req.write(mib);
        req.end();
      });
      server.close();
      const buffered = Buffer.alloc(1 << 20, 2);
      const fromBuffer = await count(joinBody(Readable.from([buffered]), new PassThrough()));
      console.log(JSON.stringify({ fromHttp, fromBuffer, bufferIntact: buffered.length }));
    `);
    const { fromHttp, fromBuffer, bufferIntact } = JSON.parse(out) as { fromHttp: { large: number; releasable: number; bytes: number }; fromBuffer: { releasable: number; bytes: number }; bufferIntact: number };
    assert.equal(fromHttp.bytes, 4 << 20);
    assert.ok(fromHttp.large > 0 && fromHttp.releasable === fromHttp.large, `every large request chunk is handed over: ${JSON.stringify(fromHttp)}`);
    assert.deepEqual({ releasable: fromBuffer.releasable, bytes: fromBuffer.bytes, bufferIntact }, { releasable: 0, bytes: 1 << 20, bufferIntact: 1 << 20 });
  });
});
