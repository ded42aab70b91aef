/**
 * Split mode: which regions this process serves, where the others are, and who owns the global
 * stores (IAM/STS, accounts, bucket names). Processes trust each other's internal store calls
 * through a shared secret (MERIDIAN_PEER_SECRET): an HMAC over method, path, time and body. Replica
 * writes do NOT use it: they are signed with the replication role's own credentials (SigV4) and
 * authorized by the destination like any request.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { isKnownRegion } from '../regions/known-regions.js';

export interface SplitConfig {
  /** Regions this process serves. */
  regions: string[];
  /** Region → base URL of the process serving it. */
  peers: Record<string, string>;
  /** The region whose process owns the global stores. */
  home: string;
  secret: string;
}

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
export function splitConfig(regions: string[], peers: Record<string, string>, home: string | undefined, secret: string | undefined): SplitConfig {
  for (const r of regions) if (!isKnownRegion(r)) throw new Error(`unknown region '${r}' in --regions`);
  for (const r of Object.keys(peers)) if (regions.includes(r)) throw new Error(`region ${r} is both served here and a peer`);
  const h = home ?? (regions.includes('us-east-1') || peers['us-east-1'] ? 'us-east-1' : regions[0]!);
  if (!regions.includes(h) && !peers[h]) throw new Error(`the home region ${h} (IAM, accounts, bucket names) is neither served here nor a --peer`);
  if (!secret || secret.length < 16) throw new Error('split mode needs MERIDIAN_PEER_SECRET (at least 16 characters), the same in every process');
  return { regions, peers, home: h, secret };
}

const MAX_SKEW_MS = 5 * 60 * 1000;

function mac(secret: string, method: string, path: string, time: string, body: string): string {
  return createHmac('sha256', secret).update(`${method}\n${path}\n${time}\n`).update(body).digest('hex');
}

/** Headers for an internal call between peers. */
export function peerAuthHeaders(secret: string, method: string, path: string, body: string): Record<string, string> {
  const time = String(Date.now());
  return { 'x-meridian-peer-time': time, 'x-meridian-peer-signature': mac(secret, method, path, time, body) };
}

export function verifyPeerAuth(secret: string, method: string, path: string, body: string, headers: Record<string, string | string[] | undefined>): boolean {
  const time = headers['x-meridian-peer-time'];
  const sig = headers['x-meridian-peer-signature'];
  if (typeof time !== 'string' || typeof sig !== 'string' || !/^\d+$/.test(time)) return false;
  if (Math.abs(Date.now() - Number(time)) > MAX_SKEW_MS) return false;
  const expected = Buffer.from(mac(secret, method, path, time, body), 'hex');
  const given = Buffer.from(sig, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** A JSON call to a peer's internal endpoint, authenticated with the shared secret. */
export async function peerCall<T>(baseUrl: string, secret: string, path: string, payload: unknown): Promise<T> {
  const body = JSON.stringify(payload);
  const res = await fetch(baseUrl + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...peerAuthHeaders(secret, 'POST', path, body) },
    body,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  const parsed = text ? (JSON.parse(text) as { result?: T; error?: { message: string } }) : {};
  if (!res.ok || parsed.error) throw new Error(`peer ${baseUrl}${path}: ${parsed.error?.message ?? `HTTP ${res.status}`}`);
  return parsed.result as T;
}
