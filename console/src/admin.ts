/**
 * Meridian's own endpoints under /_meridian/ (replication status, explain, events, metrics and the
 * policy simulator), signed with SigV4 in the browser like any AWS request (service s3).
 */
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@smithy/core/checksum';
import { currentCredentials } from './aws';

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export class AdminError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly requestId?: string,
  ) {
    super(message);
  }
}

type Query = Record<string, string | string[] | undefined>;

async function signedRequest(method: string, path: string, query: Query = {}, signal?: AbortSignal): Promise<Response> {
  const q: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q[k] = v;
  const signer = new SignatureV4({ service: 's3', region: 'us-east-1', credentials: currentCredentials(), sha256: Sha256, uriEscapePath: false });
  const { host, protocol, hostname, port } = window.location;
  const signed = await signer.sign({
    method,
    protocol,
    hostname,
    ...(port ? { port: Number(port) } : {}),
    path,
    query: q,
    headers: { host, 'x-amz-content-sha256': EMPTY_SHA256 },
  });
  const headers = new Headers();
  // The browser sets Host itself (it is what was signed).
  for (const [k, v] of Object.entries(signed.headers)) if (k.toLowerCase() !== 'host') headers.set(k, v);
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) for (const x of Array.isArray(v) ? v : [v]) qs.append(k, x);
  const search = qs.toString();
  const init: RequestInit = { method, headers, cache: 'no-store' };
  if (signal) init.signal = signal;
  return fetch(`${path}${search ? `?${search}` : ''}`, init);
}

async function failure(res: Response): Promise<AdminError> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string }; requestId?: string };
    return new AdminError(body.error?.code ?? `HTTP${res.status}`, res.status, body.error?.message ?? text, body.requestId ?? res.headers.get('x-amz-request-id') ?? undefined);
  } catch {
    return new AdminError(`HTTP${res.status}`, res.status, text.trim() || res.statusText, res.headers.get('x-amz-request-id') ?? undefined);
  }
}

export async function adminJson<T>(path: string, query: Query = {}, method = 'GET'): Promise<T> {
  const res = await signedRequest(method, path, query);
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

export async function adminText(path: string, query: Query = {}): Promise<string> {
  const res = await signedRequest('GET', path, query);
  if (!res.ok) throw await failure(res);
  return res.text();
}

/** Follows an NDJSON stream, calling onLine per parsed line, until aborted. Resolves when the stream ends. */
export async function adminStream(path: string, query: Query, onLine: (value: unknown) => void, signal: AbortSignal, onOpen?: () => void): Promise<void> {
  const res = await signedRequest('GET', path, query, signal);
  if (!res.ok) throw await failure(res);
  onOpen?.();
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffered += decoder.decode(value, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line) onLine(JSON.parse(line));
    }
  }
}
