/**
 * The benchmark's baseline: the floor of what any HTTP server can do on this machine.
 *
 * A trivial node:http server, run in its own process exactly as Meridian is. PUT reads the body to
 * the end (counting bytes, nothing else) and answers 200 with an ETag; GET answers with as many
 * bytes as the last PUT of that path sent, straight from one preallocated 64 MiB buffer (repeated for
 * larger sizes); HEAD answers the headers only. Every other request gets 200 and an empty body. No
 * signature check, no hashing, no encryption, no disk: whatever Meridian does beyond this is what the
 * ratio measures.
 *
 * Started by bench/run.ts; prints `baseline listening on http://127.0.0.1:<port>` when ready.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const MAX_BODY = 64 * 1024 * 1024;
// Preallocated once; GET bodies are slices of it (contents are irrelevant to the client).
const DATA = Buffer.alloc(MAX_BODY, 0x5a);
const sizes = new Map<string, number>();
let etagCounter = 0;

const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => {
  const path = (req.url ?? '/').split('?')[0]!;
  if (req.method === 'PUT' || req.method === 'POST') {
    let size = 0;
    req.on('data', (c: Buffer) => (size += c.length));
    req.on('end', () => {
      sizes.set(path, size);
      const etag = `"${(++etagCounter).toString(16).padStart(32, '0')}"`;
      res.writeHead(200, { etag, 'content-length': '0' });
      res.end();
    });
    return;
  }
  if (req.method === 'GET' || req.method === 'HEAD') {
    // Drain (GET has no body, but be correct about it).
    req.resume();
    const size = sizes.get(path) ?? 0;
    res.writeHead(200, { 'content-length': String(size), 'content-type': 'binary/octet-stream', etag: '"0"' });
    if (req.method === 'HEAD' || size === 0) {
      res.end();
      return;
    }
    // Up to 64 MiB in one write; larger bodies repeat the buffer, waiting for the socket to drain.
    let left = size;
    const pump = (): void => {
      while (left > 0) {
        const n = Math.min(left, MAX_BODY);
        left -= n;
        if (left === 0) {
          res.end(DATA.subarray(0, n));
          return;
        }
        if (!res.write(DATA.subarray(0, n))) {
          res.once('drain', pump);
          return;
        }
      }
    };
    pump();
    return;
  }
  req.resume();
  res.writeHead(200, { 'content-length': '0' });
  res.end();
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`baseline listening on http://127.0.0.1:${port}\n`);
});

const stop = (): void => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
