/**
 * Leader election for the time-driven background work across gateways: a session-level advisory
 * lock held on a connection of its own (not the pool's: pooled connections come and go). PostgreSQL
 * releases the lock when that connection ends, including when the gateway is SIGKILLed or its host
 * vanishes (the server sees the socket close, or TCP keepalive gives up), so another gateway, which
 * tries again every `retryMs`, takes over within about retryMs of the database noticing.
 *
 * While leading, the connection is checked every `retryMs` (a trivial query): a lost connection
 * means the lock may already be someone else's, so this gateway steps down at once and competes again.
 */
import pg from 'pg';
import type { BackgroundLeadership } from '../types.js';

/** The one lock all gateways of a database compete for (hashed as the per-key locks are: another key space in practice). */
const LEADER_LOCK = 'meridian: time-driven background work';

export interface PgLeadershipOptions {
  url: string;
  /** How often a follower tries to take the lead, and a leader checks its connection (ms). */
  retryMs: number;
  applicationName?: string;
  /** Told why a connection failed (logging); the election goes on. */
  onError?: (e: unknown) => void;
}

export class PgLeadership implements BackgroundLeadership {
  private isLeader = false;
  private client: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private started = false;
  private onChange: (leader: boolean) => void = () => undefined;
  private attempt: Promise<void> | undefined;

  constructor(private readonly opts: PgLeadershipOptions) {}

  get leader(): boolean {
    return this.isLeader;
  }

  start(onChange: (leader: boolean) => void): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.onChange = onChange;
    this.tick();
  }

  private tick(): void {
    if (this.closed) return;
    this.attempt = this.round().finally(() => {
      this.attempt = undefined;
      if (this.closed) return;
      this.timer = setTimeout(() => this.tick(), this.opts.retryMs);
      this.timer.unref();
    });
  }

  /** One round: connect if needed, then take the lock (follower) or check the connection (leader). */
  private async round(): Promise<void> {
    try {
      if (!this.client) {
        const client = new pg.Client({ connectionString: this.opts.url, application_name: this.opts.applicationName ?? 'meridian leader', keepAlive: true, connectionTimeoutMillis: 10_000 });
        // A connection that breaks while idle must not crash the process; the next round notices.
        client.on('error', (e) => this.lost(client, e));
        client.on('end', () => this.lost(client));
        this.client = client;
        await client.connect();
      }
      const client = this.client;
      if (this.isLeader) {
        await client.query('SELECT 1');
        return;
      }
      const { rows } = await client.query<{ got: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS got', [LEADER_LOCK]);
      if (rows[0]?.got && !this.closed && this.client === client) this.set(true);
    } catch (e) {
      if (this.client) this.lost(this.client, e);
    }
  }

  /** The lock's connection is gone: so is the lock. Step down and compete again with a new connection. */
  private lost(client: pg.Client, e?: unknown): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => undefined);
    if (e !== undefined && !this.closed) this.opts.onError?.(e);
    if (this.isLeader) this.set(false);
  }

  private set(leader: boolean): void {
    this.isLeader = leader;
    this.onChange(leader);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.attempt;
    const client = this.client;
    this.client = undefined;
    this.isLeader = false;
    // Ending the session releases the lock; a follower takes it at its next try.
    if (client) await client.end().catch(() => undefined);
  }
}
