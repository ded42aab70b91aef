/**
 * Split mode: a request for a region another process serves is passed to that process as it came
 * (same method, path, headers — Host included, so its SigV4 signature still verifies — and body),
 * and its answer is passed back. The peer authenticates and authorizes it; this process only relays.
 *
 * The hop is authenticated both ways (peer-protocol.ts): the request carries the original client's
 * address and transport in its signed peer headers, so the peer's policies (aws:SourceIp,
 * aws:SecureTransport, SSE-KMS over plain HTTP) see the client, not this process; the answer's
 * status and headers, and its body when the peer answered from memory (errors, listings, XML),
 * must verify or the client gets 502 instead. A streamed body (object data) is checked against a
 * signed trailer before its last chunk is passed on (peer-streams.ts). A request body up to 1 MiB is
 * read whole and its digest signed; a larger one streams, covered by the client's own SigV4 payload
 * hash or checksum when it sends one: use https between peers (MERIDIAN_PEER_CA) to protect it, and
 * to keep object data private in transit.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { pipeline, type Readable } from 'node:stream';
import { DependencyUnavailableError, ServiceError } from '../common/errors.js';
import type { ServiceResponse } from '../services/protocol/response.js';
import { H, PeerAuthError, sha256Hex, signPeerRequest, TRAILER, UNSIGNED, verifyPeerResponse, type ForwardedClient, type PeerKeys } from './peer-protocol.js';
import { verifiedStream } from './peer-streams.js';
import { boundConnect } from './peer-timeouts.js';
import { DEFAULT_PEER_TIMEOUTS, type PeerTimeouts } from './peers.js';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-authenticate']);
/** A signed body is one the peer built in memory; anything near this size is not. */
const MAX_SIGNED_BODY = 64 * 1024 * 1024;
/**
 * Request bodies up to this size (policies, XML documents, KMS/IAM calls, small objects) are read
 * whole and their digest signed; larger ones stream (their integrity is the client's payload hash or
 * checksum, or TLS between peers).
 */
export const SIGNED_REQUEST_BODY = 1024 * 1024;

/** The client's body whole, when it declares a small Content-Length (or none, without chunking). */
async function smallBody(req: ProxiedRequest): Promise<Buffer | undefined> {
  const declared = req.headers['content-length'];
  if (req.headers['transfer-encoding'] !== undefined) return undefined;
  if (declared !== undefined && (typeof declared !== 'string' || !/^\d{1,10}$/.test(declared) || Number(declared) > SIGNED_REQUEST_BODY)) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  // Never destroyed on the way out: the client is still owed an answer.
  for await (const c of req.body.iterator({ destroyOnReturn: false })) {
    size += (c as Buffer).length;
    if (size > SIGNED_REQUEST_BODY) throw new ServiceError('IncompleteBody', 400, 'The request body is longer than its Content-Length');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

export interface ProxiedRequest {
  method: string;
  rawPath: string;
  rawQuery: string;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
  /** The client as this process saw it. */
  client: ForwardedClient;
}

export async function proxyToPeer(baseUrl: string, req: ProxiedRequest, keys: PeerKeys, ca?: Buffer, timeouts: PeerTimeouts = DEFAULT_PEER_TIMEOUTS): Promise<ServiceResponse> {
  const base = new URL(baseUrl);
  const headers: Record<string, string | string[]> = {};
  // A client's own x-meridian-peer-* headers never pass: only this process speaks for the hop.
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k) && !k.startsWith('x-meridian-peer')) headers[k] = v;
  const small = await smallBody(req);
  const signed = signPeerRequest(keys, { method: req.method, path: req.rawPath, query: req.rawQuery, content: small ? sha256Hex(small) : UNSIGNED, client: req.client });
  Object.assign(headers, signed.headers);
  const https = base.protocol === 'https:';
  const upstream = await new Promise<IncomingMessage>((resolve, reject) => {
    const r = (https ? httpsRequest : httpRequest)(
      { protocol: base.protocol, hostname: base.hostname, port: base.port, method: req.method, path: req.rawPath + (req.rawQuery ? `?${req.rawQuery}` : ''), headers, ...(https && ca ? { ca } : {}) },
      resolve,
    );
    r.on('error', reject);
    // Only the connection is bounded here: how long the answer takes depends on the body's size.
    boundConnect(r, https, timeouts.connectMs, base.origin);
    if (small) {
      r.end(small);
    } else {
      pipeline(req.body, r, (e) => {
        if (e) r.destroy(e);
      });
    }
  }).catch((e: unknown) => {
    throw new DependencyUnavailableError(`The region's process at ${baseUrl} is not reachable: ${e instanceof Error ? e.message : String(e)}`, baseUrl);
  });
  const refuse = (e: unknown): never => {
    upstream.destroy();
    throw new ServiceError('BadGateway', 502, `The answer of the region's process at ${baseUrl} failed peer authentication: ${e instanceof Error ? e.message : String(e)}`);
  };
  let verified: ReturnType<typeof verifyPeerResponse>;
  try {
    verified = verifyPeerResponse(keys, signed.signature, upstream.statusCode ?? 0, upstream.headers);
  } catch (e) {
    return refuse(e);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(verified.headers)) if (!HOP_BY_HOP.has(k) && !k.startsWith('x-meridian-peer')) out[k] = v;
  const status = upstream.statusCode ?? 502;
  const length = verified.headers[H.length];
  if (length !== undefined) out['content-length'] = length;
  if (req.method === 'HEAD') return { status, headers: out, body: upstream };
  if (verified.content === TRAILER) {
    return { status, headers: out, body: verifiedStream(keys, signed.signature, upstream, length !== undefined) };
  }
  if (!/^[0-9a-f]{64}$/.test(verified.content)) return refuse(new PeerAuthError('unknown body digest'));
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const c of upstream) {
      size += (c as Buffer).length;
      if (size > MAX_SIGNED_BODY) throw new PeerAuthError('signed body too large');
      chunks.push(c as Buffer);
    }
  } catch (e) {
    return refuse(e);
  }
  const body = Buffer.concat(chunks);
  if (sha256Hex(body) !== verified.content) return refuse(new PeerAuthError('the body does not match its signed digest'));
  return { status, headers: out, body };
}
