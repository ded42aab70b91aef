/**
 * A SigV4-signed request (UNSIGNED-PAYLOAD) whose body is sent in two steps: the first half now,
 * the rest when the test says so. Lets a test make something happen while a write is in flight,
 * without timing: the server cannot commit before it has the whole body.
 */
import { request, type ClientRequest } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../../src/server/auth/test-support.js';
import type { MeridianProcess } from '../support/meridian-process.js';
import type { RawResponse } from './signed-fetch.js';

export interface HeldRequest {
  /** Send the rest of the body and wait for the response. */
  finish(): Promise<RawResponse>;
}

export async function heldRequest(m: MeridianProcess, method: string, path: string, body: Buffer, opts: { query?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<HeldRequest> {
  const url = new URL(m.httpEndpoint);
  const headers: Record<string, string> = {
    host: url.host,
    'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
    'content-length': String(body.length),
    ...(opts.headers ?? {}),
  };
  const signer = new SignatureV4({
    service: 's3',
    region: 'us-east-1',
    credentials: { accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey },
    sha256: NodeSha256,
    uriEscapePath: false,
  });
  const signed = await signer.sign({ method, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path, query: opts.query ?? {}, headers });
  const qs = new URLSearchParams(opts.query ?? {}).toString();
  let req!: ClientRequest;
  const response = new Promise<RawResponse>((resolve, reject) => {
    // A connection of its own (agent: false): nothing else is queued behind the held body.
    req = request({ agent: false, host: url.hostname, port: Number(url.port), method, path: qs ? `${path}?${qs}` : path, headers: signed.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const b = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: b.toString('utf8'), body: b });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  const half = Math.floor(body.length / 2);
  await new Promise<void>((resolve, reject) => req.write(body.subarray(0, half), (e) => (e ? reject(e) : resolve())));
  return {
    finish: () => {
      req.end(body.subarray(half));
      return response;
    },
  };
}
