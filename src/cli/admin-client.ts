/**
 * A small SigV4-signing client for Meridian's /_meridian/ endpoints, used by `meridian replication`.
 * Endpoint: --endpoint, else MERIDIAN_ENDPOINT, AWS_ENDPOINT_URL, http://127.0.0.1:9000.
 * Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN), else the root
 * credentials a local server saved in its data directory. HTTPS trusts AWS_CA_BUNDLE if set.
 */
import { existsSync, readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join, resolve } from 'node:path';
import { signRequest, type SigningCredentials } from '../server/auth/sign.js';

export interface ClientOptions {
  endpoint?: string;
  region?: string;
}

export class AdminError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

function credentials(): SigningCredentials {
  const env = process.env;
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    const c: SigningCredentials = { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY };
    if (env.AWS_SESSION_TOKEN) c.sessionToken = env.AWS_SESSION_TOKEN;
    return c;
  }
  const file = join(resolve(env.MERIDIAN_DATA_DIR ?? './data'), 'global', 'root-credentials.json');
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { accessKeyId: string; secretAccessKey: string };
    return { accessKeyId: saved.accessKeyId, secretAccessKey: saved.secretAccessKey };
  }
  throw new Error('no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or run next to the server data directory)');
}

export class AdminClient {
  private readonly base: URL;
  private readonly region: string;
  private readonly creds: SigningCredentials;

  constructor(opts: ClientOptions = {}) {
    this.base = new URL(opts.endpoint ?? process.env.MERIDIAN_ENDPOINT ?? process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:9000');
    this.region = opts.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
    this.creds = credentials();
  }

  /** Send a signed request; resolves with the response (not yet read). */
  send(method: string, path: string, query: Record<string, string | undefined> = {}, body = ''): Promise<IncomingMessage> {
    const url = new URL(path, this.base);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
    const headers = signRequest({ method, url, headers: body ? { 'content-type': 'application/json' } : {}, body }, this.creds, this.region, 's3');
    const ca = process.env.AWS_CA_BUNDLE;
    const requestFn = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolveResponse, reject) => {
      const req = requestFn(url, { method, headers, ...(url.protocol === 'https:' && ca ? { ca: readFileSync(ca) } : {}) }, resolveResponse);
      req.on('error', reject);
      req.end(body || undefined);
    });
  }

  /** A JSON endpoint: the parsed body, or AdminError with the server's code and message. */
  async json<T>(method: string, path: string, query: Record<string, string | undefined> = {}, body = ''): Promise<T> {
    const res = await this.send(method, path, query, body);
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new AdminError(res.statusCode ?? 0, 'UnexpectedResponse', `HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
    }
    if ((res.statusCode ?? 500) >= 300) {
      const err = (parsed as { error?: { code: string; message: string } }).error;
      throw new AdminError(res.statusCode ?? 0, err?.code ?? 'Error', err?.message ?? text);
    }
    return parsed as T;
  }
}
