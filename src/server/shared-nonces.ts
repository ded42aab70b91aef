/**
 * The peer-protocol replay check shared by the gateways of one database (split mode on PostgreSQL):
 * a nonce any of them accepted is refused by all. Each gateway's own NonceCache still answers first.
 */
import type { PeerNonceStore } from '../storage/types.js';
import { PeerAuthError, WINDOW_MS, type VerifiedPeerRequest } from './peer-protocol.js';

export async function rememberShared(store: PeerNonceStore, peer: VerifiedPeerRequest): Promise<void> {
  let fresh: boolean;
  try {
    // Kept past the window on both sides of the date: gateways' clocks may differ a little.
    fresh = await store.remember(peer.nonce, peer.date + 2 * WINDOW_MS, Date.now());
  } catch (e) {
    // The database is unreachable: the request cannot be checked, so it is not run; the peer retries.
    const err = new PeerAuthError(`the peer request's nonce could not be checked (metadata database unavailable: ${e instanceof Error ? e.message : String(e)})`);
    err.retryable = true;
    throw err;
  }
  if (!fresh) throw new PeerAuthError('the peer request was already received once (replayed nonce, seen by another gateway)');
}
