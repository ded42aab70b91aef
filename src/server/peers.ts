/**
 * Split mode: which regions this process serves, where the others are, and who owns the global
 * stores (IAM/STS, accounts, bucket names). Processes authenticate each other with keys derived
 * from a shared secret (MERIDIAN_PEER_SECRET) — see peer-protocol.ts. Replica writes carry, in
 * addition, the replication role's own SigV4 signature and are authorized by the destination like
 * any request.
 */
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { DependencyUnavailableError } from '../common/errors.js';
import { isKnownRegion } from '../regions/known-regions.js';
import { boundConnect, PeerUnreachableError } from './peer-timeouts.js';
import { derivePeerKeys, openRpc, PeerAuthError, sealRpc, sha256Hex, signPeerRequest, verifyPeerResponse, type PeerKeys } from './peer-protocol.js';

export interface SplitConfig {
  /** Regions this process serves. */
  regions: string[];
  /** Region → base URL of the process serving it. */
  peers: Record<string, string>;
  /** The region whose process owns the global stores. */
  home: string;
  secret: string;
  /** Per-direction keys derived from the secret. */
  keys: PeerKeys;
  /** CA certificate(s) that https peers' certificates must chain to (MERIDIAN_PEER_CA). */
  ca?: Buffer;
  /** How long a peer may take to accept a connection and to answer a small RPC (defaults: DEFAULT_PEER_TIMEOUTS). */
  timeouts?: PeerTimeouts;
}

export interface PeerTimeouts {
  /** TCP connect plus TLS handshake (MERIDIAN_PEER_CONNECT_TIMEOUT_MS). */
  connectMs: number;
  /**
   * A whole small RPC — global-store calls, bucket records — from sending to the last byte of the
   * answer (MERIDIAN_PEER_RPC_TIMEOUT_MS). Also what bounds a request sent on a pooled keep-alive
   * connection that died silently (a cut link, a stopped process): nothing else would notice it.
   */
  rpcMs: number;
}

/**
 * A few seconds: on a healthy link a connection is accepted in milliseconds and a global-store call
 * (an SQLite lookup at the home) answers in well under a second, even on a busy home.
 */
export const DEFAULT_PEER_TIMEOUTS: PeerTimeouts = { connectMs: 3000, rpcMs: 5000 };

export function parsePeers(list: string[]): Record<string, string> {
  const peers: Record<string, string> = {};
  for (const item of list) {
    const m = /^([a-z0-9-]+)=(https?:\/\/.+)$/.exec(item.trim());
    if (!m || !isKnownRegion(m[1]!)) throw new Error(`--peer must be <region>=<http(s) URL>, got '${item}'`);
    peers[m[1]!] = m[2]!.replace(/\/+$/, '');
  }
  return peers;
}

/** Validate a split configuration: served and peer regions known and disjoint, the home reachable. */
export function splitConfig(regions: string[], peers: Record<string, string>, home: string | undefined, secret: string | undefined, caFile?: string): SplitConfig {
  for (const r of regions) if (!isKnownRegion(r)) throw new Error(`unknown region '${r}' in --regions`);
  for (const r of Object.keys(peers)) if (regions.includes(r)) throw new Error(`region ${r} is both served here and a peer`);
  const h = home ?? (regions.includes('us-east-1') || peers['us-east-1'] ? 'us-east-1' : regions[0]!);
  if (!regions.includes(h) && !peers[h]) throw new Error(`the home region ${h} (IAM, accounts, bucket names) is neither served here nor a --peer`);
  if (!secret || secret.length < 16) throw new Error('split mode needs MERIDIAN_PEER_SECRET (at least 16 characters), the same in every process');
  const config: SplitConfig = { regions, peers, home: h, secret, keys: derivePeerKeys(secret) };
  if (caFile) {
    try {
      config.ca = readFileSync(caFile);
    } catch (e) {
      throw new Error(`MERIDIAN_PEER_CA: cannot read ${caFile}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return config;
}

const MAX_RPC_ANSWER = 64 * 1024 * 1024;

/**
 * How long an RPC connection may sit unused in the pool. Not long: a connection left idle across a
 * network partition may have been closed by the other side (a balancer whose backend died) without
 * this process hearing of it, the FIN lost with the link; the next call sent on it then waited out
 * the whole RPC timeout (5 s) after the link was back. Not too short either: a new connection to a
 * busy peer is not cheap. Node 20's libuv (since libuv PR #3696) accepts one connection per turn of
 * the event loop, so a new connection waits behind every client connection queued there first:
 * measured in split mode at 500 PUT/s, 200+ client connections queued at the home process and a
 * global-store call on a new connection took 0.9–2.2 s (the request written within 50 ms, seen by
 * the home 1–2 s later). At 1 s the cached reads' background refreshes (every second,
 * remote-global-stores.ts) always found their last connection gone; 3 s keeps it for them.
 */
export const PEER_IDLE_SOCKET_MS = 3000;
/**
 * Connections per peer for RPCs. RPCs are small and answered in milliseconds, so a burst waits for
 * one of a few warm connections rather than opening new ones, each of which a busy peer would
 * accept only after its queued client connections (PEER_IDLE_SOCKET_MS).
 */
export const PEER_RPC_SOCKETS = 4;
const rpcAgents = {
  http: new HttpAgent({ keepAlive: true, timeout: PEER_IDLE_SOCKET_MS, maxSockets: PEER_RPC_SOCKETS }),
  https: new HttpsAgent({ keepAlive: true, timeout: PEER_IDLE_SOCKET_MS, maxSockets: PEER_RPC_SOCKETS }),
};

/**
 * One request to a peer over http(s), its answer read whole (bounded). A peer that cannot be reached
 * — refused, reset, unreachable, no connection within `connectMs`, no whole answer within
 * `rpcMs` — is a PeerUnreachableError; anything it answered is returned as it is.
 */
export async function peerRequest(
  url: URL,
  init: { method: string; headers: Record<string, string>; body?: Buffer; ca?: Buffer; timeouts?: PeerTimeouts },
): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> {
  const https = url.protocol === 'https:';
  const { connectMs, rpcMs } = init.timeouts ?? DEFAULT_PEER_TIMEOUTS;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise((resolve, reject) => {
      const r = (https ? httpsRequest : httpRequest)(url, { method: init.method, headers: init.headers, agent: https ? rpcAgents.https : rpcAgents.http, ...(https && init.ca ? { ca: init.ca } : {}) });
      // The whole exchange, not socket inactivity: a dead pooled connection never goes idle in a way
      // the socket would notice before TCP gives up (minutes), and a trickling answer must end too.
      timer = setTimeout(() => {
        const late = new PeerUnreachableError(url.origin, `no answer within ${rpcMs} ms`, 'ETIMEDOUT');
        reject(late);
        r.destroy(late);
      }, rpcMs);
      boundConnect(r, https, connectMs, url.origin);
      // Whether the connection got up: an error before that means the request never left.
      let connecting = false;
      r.once('socket', (socket) => {
        if (r.reusedSocket || (!https && !socket.connecting)) return;
        connecting = true;
        socket.once(https ? 'secureConnect' : 'connect', () => (connecting = false));
      });
      r.on('error', (e) => {
        const err = PeerUnreachableError.from(url.origin, e);
        if (connecting && err.code !== 'ETIMEDOUT') err.beforeConnection = true;
        reject(err);
      });
      r.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_RPC_ANSWER) {
            res.destroy();
            reject(new Error(`peer ${url.origin} answered more than ${MAX_RPC_ANSWER} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('error', (e) => reject(PeerUnreachableError.from(url.origin, e)));
        res.on('close', () => {
          if (!res.complete) reject(new PeerUnreachableError(url.origin, 'the connection closed before the whole answer', 'ECONNRESET'));
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      r.end(init.body);
    });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A call to a peer's internal RPC endpoint: the JSON payload sealed (AES-256-GCM) and the request
 * signed; the answer refused unless its signature (bound to this request) and body digest verify.
 */
export async function peerCall<T>(
  baseUrl: string,
  split: Pick<SplitConfig, 'keys' | 'ca' | 'timeouts'>,
  path: string,
  payload: unknown,
  /** Who the peer is, for the message of an unavailability error (e.g. "the home region's process"). */
  peerName = `the peer process at ${baseUrl}`,
): Promise<T> {
  const { keys } = split;
  const body = sealRpc(keys.requestEnc, Buffer.from(JSON.stringify(payload)));
  const url = new URL(baseUrl + path);
  let signed: ReturnType<typeof signPeerRequest>;
  let res: Awaited<ReturnType<typeof peerRequest>>;
  for (let attempt = 1; ; attempt++) {
    signed = signPeerRequest(keys, { method: 'POST', path, query: '', content: sha256Hex(body) });
    const init: Parameters<typeof peerRequest>[1] = { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'content-length': String(body.length), ...signed.headers }, body };
    if (split.ca) init.ca = split.ca;
    if (split.timeouts) init.timeouts = split.timeouts;
    try {
      res = await peerRequest(url, init);
      break;
    } catch (e) {
      // Refused or reset while connecting: the request never left, so one more connection is tried
      // at once (a balancer in front of several gateways sends it to another) before the peer counts as away.
      if (e instanceof PeerUnreachableError && e.beforeConnection && attempt < 2) continue;
      if (e instanceof PeerUnreachableError) throw new DependencyUnavailableError(`${capitalized(peerName)} is not reachable (${e.message}). Please retry later.`, baseUrl);
      throw e;
    }
  }
  let verified: ReturnType<typeof verifyPeerResponse>;
  try {
    verified = verifyPeerResponse(keys, signed.signature, res.status, res.headers);
    if (verified.content !== sha256Hex(res.body)) throw new PeerAuthError('the peer response body does not match its signed digest');
  } catch (e) {
    // An unsigned 503 is the peer refusing a request from before its restart (a nonce it cannot
    // check yet) — or a forgery, which can do no more than a cut link: either way, not available.
    if (res.status === 503) throw new DependencyUnavailableError(`${capitalized(peerName)} is not accepting requests yet. Please retry later.`, baseUrl);
    throw new Error(`peer ${baseUrl}${path}: refused its answer (HTTP ${res.status}): ${e instanceof Error ? e.message : String(e)}`);
  }
  if (res.status !== 200) {
    let message = `HTTP ${res.status}`;
    try {
      message = (JSON.parse(res.body.toString('utf8')) as { error?: { message?: string } }).error?.message ?? message;
    } catch {
      /* not JSON */
    }
    // The peer is there but cannot serve now (its own disk or database away): as passing as unreachable.
    if (res.status === 503) throw new DependencyUnavailableError(`${capitalized(peerName)} cannot serve right now (${message}). Please retry later.`, baseUrl);
    throw new Error(`peer ${baseUrl}${path}: ${message}`);
  }
  const parsed = JSON.parse(openRpc(keys.responseEnc, res.body).toString('utf8')) as { result?: T };
  return parsed.result as T;
}

function capitalized(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
