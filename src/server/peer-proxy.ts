/**
 * Split mode: a request for a region another process serves is passed to that process as it came
 * (same method, path, headers — Host included, so its SigV4 signature still verifies — and body),
 * and its answer is passed back. The peer authenticates and authorizes it; this process only relays.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { ServiceError } from '../common/errors.js';
import type { ServiceResponse } from '../services/protocol/response.js';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-authenticate']);

export interface ProxiedRequest {
  method: string;
  rawPath: string;
  rawQuery: string;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
}

export async function proxyToPeer(baseUrl: string, req: ProxiedRequest, ca?: Buffer): Promise<ServiceResponse> {
  const base = new URL(baseUrl);
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
  const https = base.protocol === 'https:';
  const upstream = await new Promise<IncomingMessage>((resolve, reject) => {
    const r = (https ? httpsRequest : httpRequest)(
      { protocol: base.protocol, hostname: base.hostname, port: base.port, method: req.method, path: req.rawPath + (req.rawQuery ? `?${req.rawQuery}` : ''), headers, ...(https && ca ? { ca } : {}) },
      resolve,
    );
    r.on('error', reject);
    req.body.on('error', (e) => r.destroy(e));
    req.body.pipe(r);
  }).catch((e: unknown) => {
    throw new ServiceError('ServiceUnavailable', 503, `The region's process at ${baseUrl} is not reachable: ${e instanceof Error ? e.message : String(e)}`);
  });
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(upstream.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return { status: upstream.statusCode ?? 502, headers: out, body: upstream };
}
