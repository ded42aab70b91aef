/**
 * The live fuzz driver: sends generated requests (request-generator.ts) to a running server over raw
 * sockets, a few per keep-alive connection, for a bounded time, and records what a robust server
 * must never do: die, leave a request unanswered, answer with a 5xx (501 NotImplemented is an
 * answer S3 itself gives), or hold more descriptors afterwards than before.
 */
import { connect, type Socket } from 'node:net';
import { readdirSync } from 'node:fs';
import { generate, serialize, type FuzzRequest, type Target } from './request-generator.js';

export interface FuzzOptions {
  host: string;
  port: number;
  /** The server's process id, for its descriptor count and liveness. */
  pid: number;
  seconds: number;
  seed: number;
  concurrency: number;
  target: Target;
  /** How long one request may go unanswered. */
  answerTimeoutMs?: number;
}

export interface FuzzFinding {
  index: number;
  label: string;
  problem: string;
  request: string;
}

export interface FuzzReport {
  seed: number;
  requests: number;
  statuses: Record<string, number>;
  findings: FuzzFinding[];
  fdBefore: number;
  fdAfter: number;
  alive: boolean;
}

export function openDescriptors(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Response {
  status: number;
  close: boolean;
}

/**
 * Reads one HTTP response off the socket: status line, headers, then the body by Content-Length,
 * chunked framing, or to the end of the connection. Bytes past the response stay in `buffer`.
 */
class ResponseReader {
  private buffer = Buffer.alloc(0);
  private ended = false;
  private waiting: (() => void) | undefined;
  constructor(socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, d]);
      this.waiting?.();
    });
    socket.on('end', () => {
      this.ended = true;
      this.waiting?.();
    });
    socket.on('close', () => {
      this.ended = true;
      this.waiting?.();
    });
    socket.on('error', () => {
      this.ended = true;
      this.waiting?.();
    });
  }

  private async more(): Promise<boolean> {
    if (this.ended) return false;
    await new Promise<void>((r) => (this.waiting = r));
    this.waiting = undefined;
    return true;
  }

  async read(method: string): Promise<Response | undefined> {
    let headEnd: number;
    while ((headEnd = this.buffer.indexOf('\r\n\r\n')) < 0) if (!(await this.more()) && this.buffer.indexOf('\r\n\r\n') < 0) return undefined;
    const head = this.buffer.subarray(0, headEnd).toString('latin1').split('\r\n');
    this.buffer = this.buffer.subarray(headEnd + 4);
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0]!)?.[1] ?? 0);
    const headers = new Map<string, string>();
    for (const line of head.slice(1)) {
      const i = line.indexOf(':');
      headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
    }
    const close = headers.get('connection')?.toLowerCase() === 'close';
    if (status === 100) return this.read(method);
    const noBody = method === 'HEAD' || status === 204 || status === 304;
    if (noBody) return { status, close };
    if (headers.get('transfer-encoding')?.toLowerCase().includes('chunked')) {
      for (;;) {
        let lineEnd: number;
        while ((lineEnd = this.buffer.indexOf('\r\n')) < 0) if (!(await this.more())) return { status, close: true };
        const size = parseInt(this.buffer.subarray(0, lineEnd).toString('latin1'), 16);
        while (this.buffer.length < lineEnd + 2 + size + 2) if (!(await this.more())) return { status, close: true };
        this.buffer = this.buffer.subarray(lineEnd + 2 + size + 2);
        if (size === 0) return { status, close };
      }
    }
    const length = headers.has('content-length') ? Number(headers.get('content-length')) : undefined;
    if (length === undefined) {
      while (await this.more());
      return { status, close: true };
    }
    while (this.buffer.length < length) if (!(await this.more())) return { status, close: true };
    this.buffer = this.buffer.subarray(length);
    return { status, close };
  }
}

function describe(req: FuzzRequest): string {
  const head = serialize(req, true).toString('latin1');
  return head.length > 1500 ? head.slice(0, 1500) + `… (${head.length} bytes)` : head;
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const answerTimeoutMs = o.answerTimeoutMs ?? 15_000;
  const report: FuzzReport = { seed: o.seed, requests: 0, statuses: {}, findings: [], fdBefore: openDescriptors(o.pid), fdAfter: 0, alive: true };
  const deadline = Date.now() + o.seconds * 1000;
  let next = 0;

  async function connection(): Promise<void> {
    const socket = connect({ host: o.host, port: o.port });
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => {
      socket.once('connect', () => resolve());
      socket.once('error', () => resolve());
    });
    const reader = new ResponseReader(socket);
    const perConnection = 1 + (next % 3);
    try {
      for (let i = 0; i < perConnection && Date.now() < deadline; i++) {
        const index = next++;
        const req = await generate(o.seed, index, o.target);
        const last = i === perConnection - 1;
        socket.write(serialize(req, !last));
        report.requests++;
        let timer: NodeJS.Timeout | undefined;
        const res = await Promise.race([reader.read(req.method), new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), answerTimeoutMs)))]);
        clearTimeout(timer);
        if (res === 'timeout' || res === undefined) {
          report.findings.push({ index, label: req.label, problem: res === 'timeout' ? `no answer in ${answerTimeoutMs} ms` : 'connection closed without an answer', request: describe(req) });
          return;
        }
        report.statuses[res.status] = (report.statuses[res.status] ?? 0) + 1;
        if (res.status >= 500 && res.status !== 501) report.findings.push({ index, label: req.label, problem: `answered ${res.status}`, request: describe(req) });
        if (res.status === 0) report.findings.push({ index, label: req.label, problem: 'no HTTP status line', request: describe(req) });
        if (res.close) return;
      }
    } finally {
      socket.destroy();
    }
  }

  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      while (Date.now() < deadline && alive(o.pid)) await connection();
    }),
  );
  report.alive = alive(o.pid);
  if (!report.alive) return report;
  // Let the server close what it lingers on (drained bodies, keep-alive sockets) before counting.
  const settleUntil = Date.now() + 10_000;
  do {
    await new Promise((r) => setTimeout(r, 250));
    report.fdAfter = openDescriptors(o.pid);
  } while (report.fdAfter > report.fdBefore && Date.now() < settleUntil);
  return report;
}
