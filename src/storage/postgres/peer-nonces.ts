/**
 * Peer-protocol nonces shared by every gateway on one database (split mode): a signed request that
 * any gateway has accepted is refused by all of them for as long as its date is acceptable, so two
 * gateways behind one address do not each accept the same captured request once.
 */
import type { PeerNonceStore } from '../types.js';
import type { PgDatabase } from './database.js';

/** How often a gateway deletes expired nonces (at most; the first remember after it does). */
const PRUNE_EVERY_MS = 10_000;

export class PgPeerNonceStore implements PeerNonceStore {
  private lastPrune = 0;

  constructor(private readonly db: PgDatabase) {}

  async remember(nonce: string, expiresAt: number, now: number): Promise<boolean> {
    if (now - this.lastPrune >= PRUNE_EVERY_MS) {
      this.lastPrune = now;
      // Not awaited: a failed prune only leaves rows for the next one.
      this.db.execute('DELETE FROM peer_nonces WHERE expires_at < $1', [now]).catch(() => undefined);
    }
    const n = await this.db.execute('INSERT INTO peer_nonces (nonce, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING', [nonce, expiresAt]);
    return n === 1;
  }
}
