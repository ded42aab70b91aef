/**
 * A man in the middle between two Meridian processes (split mode), for tests of the peer
 * protocol: it passes requests and answers on whole, and lets a test alter a request or an answer,
 * answer in the peer's place, or send a captured request again (a replay).
 */
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Relayed {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface RelayedAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** HTTP trailers after a chunked body. */
  trailers?: Record<string, string>;
}

const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding']);

export class PeerRelay {
  /** Every request passed on, in order. */
  readonly seen: Relayed[] = [];
  /** Change a request before it is passed on (return the changed one), or leave it. */
  alterRequest: ((r: Relayed) => Relayed | undefined) | undefined;
  /** Change an answer before it is passed back. */
  alterAnswer: ((r: Relayed, a: RelayedAnswer) => RelayedAnswer | undefined) | undefined;
  /** Answer in the peer's place, without passing the request on. */
  forge: ((r: Relayed) => RelayedAnswer | undefined) | undefined;

  private constructor(
    private readonly server: Server,
    private readonly target: () => number,
  ) {}

  static async start(target: () => number): Promise<PeerRelay> {
    const server = createServer();
    const relay = new PeerRelay(server, target);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let r: Relayed = { method: req.method!, path: req.url!, headers: req.headers, body: Buffer.concat(chunks) };
        r = relay.alterRequest?.(r) ?? r;
        relay.seen.push(r);
        const forged = relay.forge?.(r);
        const answer = forged ? Promise.resolve(forged) : relay.send(r);
        answer.then(
          (a) => {
            const out = relay.alterAnswer?.(r, a) ?? a;
            const headers: IncomingHttpHeaders = {};
            for (const [k, v] of Object.entries(out.headers)) if (!HOP.has(k)) headers[k] = v;
            const trailers = out.trailers && Object.keys(out.trailers).length ? out.trailers : undefined;
            // Trailers need a chunked body; anything else goes with its length.
            if (!trailers) headers['content-length'] = String(out.body.length);
            else delete headers['content-length'];
            res.writeHead(out.status, headers as Record<string, string>);
            if (trailers) {
              res.write(out.body);
              res.addTrailers(trailers);
              res.end();
            } else {
              res.end(out.body);
            }
          },
          () => res.destroy(),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return relay;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Send a request to the peer behind the relay, as captured (a replay) or changed. */
  send(r: Relayed): Promise<RelayedAnswer> {
    return new Promise((resolve, reject) => {
      const headers: IncomingHttpHeaders = {};
      for (const [k, v] of Object.entries(r.headers)) if (!HOP.has(k)) headers[k] = v;
      headers['content-length'] = String(r.body.length);
      const up = request({ host: '127.0.0.1', port: this.target(), method: r.method, path: r.path, headers: headers as Record<string, string> }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), trailers: res.trailers as Record<string, string> }));
        res.on('error', reject);
      });
      up.on('error', reject);
      up.end(r.body);
    });
  }

  /** Stop altering, forging and recording. */
  behave(): void {
    this.alterRequest = undefined;
    this.alterAnswer = undefined;
    this.forge = undefined;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A copy of `b` with one byte flipped at `at` (from the end if negative). */
export function flipByte(b: Buffer, at: number): Buffer {
  const out = Buffer.from(b);
  const i = at < 0 ? out.length + at : at;
  out[i] = out[i]! ^ 0x01;
  return out;
}
