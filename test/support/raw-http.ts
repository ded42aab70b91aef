/**
 * HTTP/1.1 over a bare TCP socket, for what no well-behaved client sends: malformed framing, bodies
 * that stop half-way, header lines dribbled one at a time, many connections held open. Each
 * connection parses the server's responses as they arrive and records when the server closes it.
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../../src/server/auth/test-support.js';
import type { MeridianProcess } from './meridian-process.js';

export interface RawReply {
  status: number;
  /** Lower-case names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  body: Buffer;
  text: string;
}

export class RawConnection {
  private buffer = Buffer.alloc(0);
  private waiting: (() => void)[] = [];
  /** The server ended or reset the connection. */
  closed = false;
  /** Statuses of the interim (1xx) responses seen so far. */
  readonly interim: number[] = [];
  /** Resolves when the server closes the connection (or it fails). */
  readonly closing: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, d]);
      this.wake();
    });
    this.closing = new Promise((resolve) => {
      const done = () => {
        this.closed = true;
        this.wake();
        resolve();
      };
      socket.once('end', done);
      socket.once('close', done);
    });
    // A reset while the test is still writing is an outcome to assert on, not a crash.
    socket.on('error', () => undefined);
  }

  static open(endpoint: string, opts: { localAddress?: string } = {}): Promise<RawConnection> {
    const url = new URL(endpoint);
    return new Promise((resolve, reject) => {
      const socket = connect({ host: url.hostname, port: Number(url.port), ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
      socket.once('connect', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = [];
    for (const f of w) f();
  }

  /** Resolves once an interim response (e.g. 100 Continue) or a final one has arrived. */
  async firstAnswer(): Promise<'interim' | 'final' | 'closed'> {
    for (;;) {
      const text = this.buffer.toString('latin1');
      if (/^HTTP\/1\.1 1\d\d /.test(text) && text.includes('\r\n\r\n')) return 'interim';
      if (/^HTTP\/1\.1 [2-5]\d\d /.test(text)) return 'final';
      if (!(await this.more())) return 'closed';
    }
  }

  private async more(): Promise<boolean> {
    if (this.closed) return false;
    await new Promise<void>((r) => this.waiting.push(r));
    return true;
  }

  /** Write and wait until the bytes are handed to the kernel; false if the connection is gone. */
  write(data: string | Buffer): Promise<boolean> {
    if (this.socket.destroyed || !this.socket.writable) return Promise.resolve(false);
    return new Promise((resolve) => this.socket.write(data, (err) => resolve(!err)));
  }

  /** The next complete response (Content-Length, chunked, or close-delimited body); undefined if the connection closed first. */
  async response(opts: { head?: boolean } = {}): Promise<RawReply | undefined> {
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end >= 0) {
        const [statusLine, ...lines] = this.buffer.subarray(0, end).toString('latin1').split('\r\n');
        const status = Number(statusLine!.split(' ')[1]);
        const headers: Record<string, string> = {};
        for (const line of lines) {
          const i = line.indexOf(':');
          const name = line.slice(0, i).trim().toLowerCase();
          const value = line.slice(i + 1).trim();
          headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
        }
        // Interim responses (100 Continue) come before the real one.
        if (status >= 100 && status < 200) {
          this.interim.push(status);
          this.buffer = this.buffer.subarray(end + 4);
          continue;
        }
        const rest = this.buffer.subarray(end + 4);
        const body = opts.head || status === 204 || status === 304 ? Buffer.alloc(0) : this.bodyOf(headers, rest);
        if (body) {
          this.buffer = rest.subarray(this.consumed);
          return { status, headers, body, text: body.toString('utf8') };
        }
      }
      if (!(await this.more())) {
        if (this.buffer.length === 0) return undefined;
        throw new Error(`connection closed inside a response: ${JSON.stringify(this.buffer.toString('latin1').slice(0, 300))}`);
      }
    }
  }

  private consumed = 0;

  /** The body if complete in `rest` (sets `consumed`), else undefined. */
  private bodyOf(headers: Record<string, string>, rest: Buffer): Buffer | undefined {
    if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      if (rest.length < n) return undefined;
      this.consumed = n;
      return rest.subarray(0, n);
    }
    if (headers['transfer-encoding']?.includes('chunked')) {
      const parts: Buffer[] = [];
      let pos = 0;
      for (;;) {
        const eol = rest.indexOf('\r\n', pos);
        if (eol < 0) return undefined;
        const size = parseInt(rest.subarray(pos, eol).toString('latin1'), 16);
        if (rest.length < eol + 2 + size + 2) return undefined;
        if (size === 0) {
          this.consumed = eol + 4;
          return Buffer.concat(parts);
        }
        parts.push(rest.subarray(eol + 2, eol + 2 + size));
        pos = eol + 2 + size + 2;
      }
    }
    if (!this.closed) return undefined;
    this.consumed = rest.length;
    return rest;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A request head: request line, headers, blank line. */
export function head(method: string, target: string, headers: Record<string, string>): string {
  return `${method} ${target} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
}

/** Send one request on a new connection and read its response (undefined if the server closed without one). */
export async function rawExchange(endpoint: string, request: string | Buffer, opts: { head?: boolean } = {}): Promise<{ reply: RawReply | undefined; connection: RawConnection }> {
  const c = await RawConnection.open(endpoint);
  await c.write(request);
  const reply = await c.response(opts);
  return { reply, connection: c };
}

export interface SignOptions {
  query?: Record<string, string>;
  region?: string;
  /** Sent as x-amz-content-sha256 (and signed over); default: the SHA-256 of `body`. */
  payloadHash?: string;
  body?: Buffer | string;
  /** Headers the signature leaves out (added after signing). */
  unsigned?: Record<string, string>;
  /** Headers present but left out of SignedHeaders. */
  unsignable?: string[];
}

/** SigV4 header-signed request headers for a raw request to a test server (service s3). */
export async function signedHeaders(m: MeridianProcess, method: string, path: string, headers: Record<string, string>, opts: SignOptions = {}): Promise<Record<string, string>> {
  const url = new URL(m.httpEndpoint);
  const body = Buffer.from(opts.body ?? '');
  const all: Record<string, string> = { host: url.host, ...headers, 'x-amz-content-sha256': opts.payloadHash ?? createHash('sha256').update(body).digest('hex') };
  const signer = new SignatureV4({
    service: 's3',
    region: opts.region ?? 'us-east-1',
    credentials: { accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey },
    sha256: NodeSha256,
    uriEscapePath: false,
  });
  const signed = await signer.sign({ method, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path, query: opts.query ?? {}, headers: all, body }, { unsignableHeaders: new Set(opts.unsignable ?? []) });
  return { ...(signed.headers as Record<string, string>), ...(opts.unsigned ?? {}) };
}

/** Open descriptors of a process (Linux /proc), for leak checks. */
export async function openDescriptors(pid: number): Promise<number> {
  return readdirSync(`/proc/${pid}/fd`).length;
}
