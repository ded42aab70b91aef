/**
 * The benchmark's lean HTTP client: node:http with a keep-alive agent, SigV4 header signing with
 * Meridian's own `signRequest`, streaming request bodies and responses that are counted, not kept
 * (unless asked). The same client drives Meridian and the baseline server, so whatever it costs is
 * in both columns; the baseline ignores the signature.
 */
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { signRequest, type SigningCredentials } from '../src/server/auth/index.js';

export interface BenchRequest {
  method: string;
  /** Path and query, already percent-encoded as it goes on the wire (e.g. `/bucket/key?versioning`). */
  path: string;
  /** Signing scope; omitted = unsigned. */
  region?: string;
  service?: string;
  headers?: Record<string, string>;
  /** A body held in memory (small requests). Its SHA-256 is signed unless `unsignedPayload`. */
  body?: Buffer | string;
  /** A streamed body: `chunk` sent `repeat` times with backpressure (large PUTs). Always UNSIGNED-PAYLOAD. */
  stream?: { chunk: Buffer; repeat: number };
  unsignedPayload?: boolean;
  /** Keep the response body (small responses: XML, JSON). Otherwise it is only counted. */
  collect?: boolean;
  /** Also hand each response body chunk to this function (e.g. to hash a large body without keeping it). */
  onData?: (chunk: Buffer) => void;
}

export interface BenchResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Response body bytes received. */
  bytes: number;
  body?: Buffer;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what} answered ${status}: ${body.slice(0, 500)}`);
  }
}

export class BenchClient {
  readonly agent: Agent;
  private readonly host: string;
  private readonly port: number;

  constructor(
    readonly endpoint: string,
    private readonly creds: SigningCredentials,
    maxSockets = 64,
  ) {
    const u = new URL(endpoint);
    this.host = u.hostname;
    this.port = Number(u.port);
    // Keep-alive: one reused socket per request in flight, no connection set-up in the measurement.
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  close(): void {
    this.agent.destroy();
  }

  /** Send a request; resolves when the whole response has arrived. Never throws on HTTP status. */
  send(r: BenchRequest): Promise<BenchResponse> {
    let headers: Record<string, string> = { ...(r.headers ?? {}) };
    let length = 0;
    if (r.stream) length = r.stream.chunk.length * r.stream.repeat;
    else if (r.body !== undefined) length = Buffer.byteLength(r.body);
    if (r.method !== 'GET' && r.method !== 'HEAD') headers['content-length'] = String(length);
    if (r.region && r.service) {
      const url = new URL(this.endpoint + r.path);
      const body = r.stream || r.unsignedPayload ? 'UNSIGNED-PAYLOAD' : r.body;
      const signable: Parameters<typeof signRequest>[0] = { method: r.method, url, headers };
      if (body !== undefined) signable.body = body;
      headers = signRequest(signable, this.creds, r.region, r.service);
    }
    return new Promise<BenchResponse>((resolve, reject) => {
      const req = httpRequest({ agent: this.agent, host: this.host, port: this.port, method: r.method, path: r.path, headers }, (res) => {
        let bytes = 0;
        const chunks: Buffer[] = [];
        // Error bodies are always kept: they are small and they explain the failure.
        const keep = r.collect || (res.statusCode ?? 0) >= 300;
        res.on('data', (c: Buffer) => {
          bytes += c.length;
          if (keep) chunks.push(c);
          r.onData?.(c);
        });
        res.once('error', reject);
        res.once('end', () => {
          const out: BenchResponse = { status: res.statusCode ?? 0, headers: res.headers, bytes };
          if (keep) out.body = Buffer.concat(chunks);
          resolve(out);
        });
      });
      req.once('error', reject);
      if (r.stream) {
        const { chunk, repeat } = r.stream;
        let sent = 0;
        const pump = (): void => {
          while (sent < repeat) {
            sent++;
            if (!req.write(chunk)) {
              req.once('drain', pump);
              return;
            }
          }
          req.end();
        };
        pump();
      } else {
        req.end(r.body);
      }
    });
  }

  /** send(), and throw an HttpError unless the status is 2xx. */
  async ok(r: BenchRequest, what = `${r.method} ${r.path}`): Promise<BenchResponse> {
    const res = await this.send(r);
    if (res.status < 200 || res.status >= 300) throw new HttpError(res.status, res.body?.toString('utf8') ?? '', what);
    return res;
  }
}
