/**
 * The peer protocol (split mode), version 1: how Meridian processes authenticate what they send
 * each other. Nothing here trusts the network between peers.
 *
 * - Keys: HKDF-SHA256 of the shared MERIDIAN_PEER_SECRET, one per direction (requests, responses)
 *   and one per purpose (MAC, encryption of internal RPC bodies), so a MAC made for a request never
 *   verifies as a response and no key serves two purposes.
 * - Every request carries `x-meridian-peer-*` headers: version, date, a random nonce, the body's
 *   SHA-256 (or how the body is authenticated instead), the forwarded client (proxied requests),
 *   and an HMAC over all of them plus method, path and query.
 * - The receiver refuses a date outside ±WINDOW_MS, a date before its own start (a restart forgets
 *   nonces), and a nonce it has already seen within the window: a captured request cannot be replayed.
 * - Every response carries an HMAC bound to the request's MAC (so an old response cannot answer a
 *   new request) over its status, the headers it names and its body's SHA-256; the caller refuses
 *   a response that does not verify.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

export const PEER_PROTOCOL_VERSION = '1';
/** How far a peer request's date may be from this process's clock. Peers' clocks must agree within it. */
export const WINDOW_MS = 60_000;

export const H = {
  version: 'x-meridian-peer',
  date: 'x-meridian-peer-date',
  nonce: 'x-meridian-peer-nonce',
  content: 'x-meridian-peer-content-sha256',
  client: 'x-meridian-peer-client',
  signature: 'x-meridian-peer-signature',
  responseSignature: 'x-meridian-peer-response-signature',
  responseHeaders: 'x-meridian-peer-signed-headers',
  /** A streamed answer: its length (content-length gives way to chunked encoding) and its closing tag (a trailer). */
  length: 'x-meridian-peer-content-length',
  bodyTag: 'x-meridian-peer-body-tag',
} as const;

/** The body is not covered (a proxied request: the client's own SigV4 covers its payload). */
export const UNSIGNED = 'UNSIGNED-PAYLOAD';
/** Replica bodies: `TAG:<envelope sha256>`; the whole body's SHA-256 is in a closing tag (see bodyTag). */
export const TAG_PREFIX = 'TAG:';
/** A streamed answer: the body's SHA-256 is in a trailer, HMAC'd (see responseBodyTag). */
export const TRAILER = 'TRAILER';

export interface PeerKeys {
  requestMac: Buffer;
  responseMac: Buffer;
  requestEnc: Buffer;
  responseEnc: Buffer;
}

export function derivePeerKeys(secret: string): PeerKeys {
  const key = (info: string) => Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), 'meridian-peer', `meridian-peer/${PEER_PROTOCOL_VERSION} ${info}`, 32));
  return { requestMac: key('request mac'), responseMac: key('response mac'), requestEnc: key('request encryption'), responseEnc: key('response encryption') };
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The original client of a proxied request, as the first process saw it. */
export interface ForwardedClient {
  address: string;
  secure: boolean;
}

export function encodeClient(c: ForwardedClient): string {
  return `addr=${c.address};proto=${c.secure ? 'https' : 'http'}`;
}

export function decodeClient(v: string): ForwardedClient | undefined {
  const m = /^addr=([0-9A-Fa-f.:]{1,64});proto=(https?)$/.exec(v);
  return m ? { address: m[1]!, secure: m[2] === 'https' } : undefined;
}

export interface PeerRequestParts {
  method: string;
  path: string;
  query: string;
  /** Hex SHA-256 of the body, UNSIGNED, or TAG:<hex>. */
  content: string;
  client?: ForwardedClient;
}

function requestStringToSign(p: PeerRequestParts, date: string, nonce: string, client: string): string {
  return ['MERIDIAN-PEER-1 request', p.method.toUpperCase(), p.path, p.query, date, nonce, p.content, client].join('\n');
}

function hmac(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text).digest('hex');
}

function equalHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === 32 && x.length === y.length && timingSafeEqual(x, y);
}

/** The headers that authenticate a request to a peer. `signature` binds the response to it. */
export function signPeerRequest(keys: PeerKeys, p: PeerRequestParts, now = Date.now()): { headers: Record<string, string>; signature: string } {
  const date = String(now);
  const nonce = randomBytes(16).toString('hex');
  const client = p.client ? encodeClient(p.client) : '';
  const signature = hmac(keys.requestMac, requestStringToSign(p, date, nonce, client));
  const headers: Record<string, string> = { [H.version]: PEER_PROTOCOL_VERSION, [H.date]: date, [H.nonce]: nonce, [H.content]: p.content, [H.signature]: signature };
  if (client) headers[H.client] = client;
  return { headers, signature };
}

/** A request that came from an authenticated peer. */
export interface VerifiedPeerRequest {
  signature: string;
  content: string;
  /** The request's nonce and date (ms), for a replay check shared with other gateways (shared-nonces.ts). */
  nonce: string;
  date: number;
  client?: ForwardedClient;
}

export class PeerAuthError extends Error {
  /** The request may succeed if sent again (signed anew): a clock or restart window, not a forgery. */
  retryable = false;
}

function one(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return typeof v === 'string' ? v : undefined;
}

/** Whether a request claims to come from a peer (then it must verify, or be refused). */
export function claimsPeer(headers: Record<string, string | string[] | undefined>): boolean {
  return headers[H.signature] !== undefined || headers[H.version] !== undefined;
}

/**
 * Nonces seen within the window, in time buckets so expiry is a cheap drop of whole buckets.
 * Nonces dated before the process started are refused outright (a restart empties this).
 */
export class NonceCache {
  private readonly buckets = new Map<number, Set<string>>();
  private static readonly BUCKET_MS = 10_000;

  /** Record a nonce; false if it was already seen. */
  remember(nonce: string, date: number, now: number): boolean {
    // Older dates are refused by the window check before a nonce is looked at.
    const oldest = Math.floor((now - WINDOW_MS) / NonceCache.BUCKET_MS) - 1;
    for (const b of this.buckets.keys()) if (b < oldest) this.buckets.delete(b);
    for (const set of this.buckets.values()) if (set.has(nonce)) return false;
    const b = Math.floor(date / NonceCache.BUCKET_MS);
    let set = this.buckets.get(b);
    if (!set) this.buckets.set(b, (set = new Set()));
    set.add(nonce);
    return true;
  }
}

export class PeerVerifier {
  private readonly nonces = new NonceCache();

  constructor(
    readonly keys: PeerKeys,
    /** Requests dated before this are refused: their nonces may have been seen by a previous run. */
    private readonly startedAt = Date.now(),
    private readonly now: () => number = Date.now,
  ) {}

  /** Check a request's peer headers (its body, when covered, is checked by the caller against `content`). */
  verify(method: string, path: string, query: string, headers: Record<string, string | string[] | undefined>): VerifiedPeerRequest {
    const version = one(headers, H.version);
    if (version !== PEER_PROTOCOL_VERSION) throw new PeerAuthError(`unsupported peer protocol version '${version ?? ''}' (this process speaks ${PEER_PROTOCOL_VERSION})`);
    const date = one(headers, H.date);
    const nonce = one(headers, H.nonce);
    const content = one(headers, H.content);
    const signature = one(headers, H.signature);
    const client = one(headers, H.client) ?? '';
    if (!date || !/^\d{1,16}$/.test(date) || !nonce || !/^[0-9a-f]{32}$/.test(nonce) || !content || !signature || !/^[0-9a-f]{64}$/.test(signature)) {
      throw new PeerAuthError('missing or malformed peer authentication headers');
    }
    const parts: PeerRequestParts = { method, path, query, content };
    if (!equalHex(signature, hmac(this.keys.requestMac, requestStringToSign(parts, date, nonce, client)))) throw new PeerAuthError('the peer signature does not match the request');
    const now = this.now();
    const at = Number(date);
    if (Math.abs(now - at) > WINDOW_MS) throw new PeerAuthError(`the peer request is dated ${Math.round((now - at) / 1000)} s from this process's clock (at most ${WINDOW_MS / 1000} s): check both clocks`);
    if (at < this.startedAt - 1000) {
      const e = new PeerAuthError('the peer request was signed before this process started (or the peer\'s clock is behind): send it again');
      e.retryable = true;
      throw e;
    }
    if (!this.nonces.remember(nonce, at, now)) throw new PeerAuthError('the peer request was already received once (replayed nonce)');
    const out: VerifiedPeerRequest = { signature, content, nonce, date: at };
    if (client) {
      const c = decodeClient(client);
      if (!c) throw new PeerAuthError('malformed forwarded client');
      out.client = c;
    }
    return out;
  }
}

/** Response headers a signature may cover: the ones describing the answer, not the hop. */
const UNSIGNABLE_RESPONSE = new Set(['connection', 'keep-alive', 'transfer-encoding', 'date', 'server', H.responseSignature, H.responseHeaders]);

function responseStringToSign(requestSignature: string, status: number, names: string[], headers: Record<string, string>, content: string): string {
  return ['MERIDIAN-PEER-1 response', requestSignature, String(status), content, ...names.map((n) => `${n}:${headers[n] ?? ''}`)].join('\n');
}

/** Sign a response to a peer: status, the headers given, and `content` (the body's SHA-256 or UNSIGNED). */
export function signPeerResponse(keys: PeerKeys, requestSignature: string, status: number, headers: Record<string, string>, content: string): Record<string, string> {
  const out: Record<string, string> = { ...headers, [H.content]: content };
  const names = Object.keys(out)
    .map((n) => n.toLowerCase())
    .filter((n) => !UNSIGNABLE_RESPONSE.has(n))
    .sort();
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(out)) lower[k.toLowerCase()] = v;
  out[H.responseHeaders] = names.join(';');
  out[H.responseSignature] = hmac(keys.responseMac, responseStringToSign(requestSignature, status, names, lower, content));
  return out;
}

/**
 * Verify a peer's response head. Returns the signed headers only (anything a relay added is
 * dropped) and the body's declared SHA-256 (or UNSIGNED) for the caller to check.
 */
export function verifyPeerResponse(keys: PeerKeys, requestSignature: string, status: number, headers: Record<string, string | string[] | undefined>): { headers: Record<string, string>; content: string } {
  const signature = one(headers, H.responseSignature);
  const list = one(headers, H.responseHeaders);
  const content = one(headers, H.content);
  if (!signature || list === undefined || !content) throw new PeerAuthError('the peer response is not authenticated');
  const names = list === '' ? [] : list.split(';');
  const flat: Record<string, string> = {};
  for (const n of names) {
    if (UNSIGNABLE_RESPONSE.has(n)) throw new PeerAuthError(`the peer response signs an unsignable header ${n}`);
    const v = headers[n];
    flat[n] = Array.isArray(v) ? v.join(', ') : (v ?? '');
  }
  if (!equalHex(signature, hmac(keys.responseMac, responseStringToSign(requestSignature, status, names, flat, content)))) {
    throw new PeerAuthError('the peer response signature does not match (altered or not from a peer)');
  }
  delete flat[H.content];
  return { headers: flat, content };
}

/** The closing tag of a framed body (replicas): HMAC over the request's signature and the SHA-256 of everything before the tag. */
export function bodyTag(keys: PeerKeys, requestSignature: string, bodySha256: Buffer): Buffer {
  return createHmac('sha256', keys.requestMac).update(`MERIDIAN-PEER-1 body\n${requestSignature}\n`).update(bodySha256).digest();
}

/** The trailer closing a streamed answer: HMAC (response key) over the request's signature and the body's SHA-256. */
export function responseBodyTag(keys: PeerKeys, requestSignature: string, bodySha256: Buffer): string {
  return createHmac('sha256', keys.responseMac).update(`MERIDIAN-PEER-1 response body\n${requestSignature}\n`).update(bodySha256).digest('hex');
}

export function checkResponseBodyTag(keys: PeerKeys, requestSignature: string, bodySha256: Buffer, tag: string | undefined): boolean {
  return typeof tag === 'string' && equalHex(tag, responseBodyTag(keys, requestSignature, bodySha256));
}

export function checkBodyTag(keys: PeerKeys, requestSignature: string, bodySha256: Buffer, tag: Buffer): boolean {
  const expected = bodyTag(keys, requestSignature, bodySha256);
  return tag.length === expected.length && timingSafeEqual(tag, expected);
}

/**
 * Internal RPC bodies (global stores, bucket records) carry secrets (secret access keys, session
 * tokens): AES-256-GCM with a per-direction key, the IV first, the tag last. The MAC covers the
 * ciphertext like any body.
 */
export function sealRpc(key: Buffer, plaintext: Buffer): Buffer {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([iv, body, c.getAuthTag()]);
}

export function openRpc(key: Buffer, sealed: Buffer): Buffer {
  if (sealed.length < 28) throw new PeerAuthError('sealed peer body too short');
  const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  try {
    return Buffer.concat([d.update(sealed.subarray(12, sealed.length - 16)), d.final()]);
  } catch {
    throw new PeerAuthError('the sealed peer body does not decrypt (altered or another secret)');
  }
}
