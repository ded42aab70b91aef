/**
 * A raw SigV4-signed HTTP request to a test server, for what SDKs will not send (malformed XML,
 * missing checksum headers, odd paths, OPTIONS preflights). Signed with @smithy/signature-v4.
 */
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../../src/server/auth/test-support.js';
import type { MeridianProcess } from '../support/meridian-process.js';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: Buffer;
}

export interface SignedFetchOptions {
  /** Raw query string without '?', e.g. 'delete' or 'tagging&versionId=x'. */
  query?: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** Add a Content-MD5 header for the body. */
  contentMd5?: boolean;
  region?: string;
  /** Send anonymously (no signature). */
  anonymous?: boolean;
  /** Host header to send (virtual-hosted style); the connection still goes to the test server. */
  host?: string;
  /** Another endpoint of the server (its https:// one), and the certificate to trust there. */
  endpoint?: string;
  ca?: string;
  /** x-amz-content-sha256 when it is not the body's hash (STREAMING-UNSIGNED-PAYLOAD-TRAILER, ...). */
  payloadHash?: string;
}

function parseQuery(q: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!q) return out;
  for (const part of q.split('&')) {
    const i = part.indexOf('=');
    const k = decodeURIComponent(i < 0 ? part : part.slice(0, i));
    out[k] = i < 0 ? '' : decodeURIComponent(part.slice(i + 1));
  }
  return out;
}

/** Send `method path?query` with a SigV4 header signature (path already percent-encoded as wanted on the wire). */
export async function signedFetch(m: MeridianProcess, method: string, path: string, opts: SignedFetchOptions = {}): Promise<RawResponse> {
  const url = new URL(opts.endpoint ?? m.httpEndpoint);
  const body = opts.body === undefined ? Buffer.alloc(0) : Buffer.from(opts.body);
  const host = opts.host ?? url.host;
  const headers: Record<string, string> = { host, ...(opts.headers ?? {}) };
  if (opts.contentMd5) headers['content-md5'] = createHash('md5').update(body).digest('base64');
  if (!opts.anonymous) {
    headers['x-amz-content-sha256'] = opts.payloadHash ?? createHash('sha256').update(body).digest('hex');
    const signer = new SignatureV4({
      service: 's3',
      region: opts.region ?? 'us-east-1',
      credentials: { accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey },
      sha256: NodeSha256,
      uriEscapePath: false,
    });
    const signed = await signer.sign({ method, protocol: url.protocol, hostname: host.replace(/:\d+$/, ''), port: Number(url.port), path, query: parseQuery(opts.query ?? ''), headers, body });
    Object.assign(headers, signed.headers);
  }
  if (body.length > 0 || ['PUT', 'POST'].includes(method)) headers['content-length'] = String(body.length);
  // A header value beyond Latin-1 goes on the wire as its UTF-8 bytes, as Go and curl send it (it
  // was signed as UTF-8); node:http would refuse it, sending one byte per character.
  for (const [k, v] of Object.entries(headers)) if (/[^\x00-\xff]/.test(v)) headers[k] = Buffer.from(v, 'utf8').toString('latin1');
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(
      { host: url.hostname, port: Number(url.port), method, path: opts.query ? `${path}?${opts.query}` : path, headers, ...(opts.ca ? { ca: opts.ca } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const b = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: b.toString('utf8'), body: b });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
