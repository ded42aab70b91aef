/**
 * Replication wake-ups across gateways: the transaction that inserts outbox tasks also runs
 * pg_notify(OUTBOX_CHANNEL, region), so PostgreSQL tells every gateway LISTENing, at commit, that a
 * region has new tasks. Only a wake-up: the workers still poll (a notification is lost while a
 * gateway is disconnected), and what they claim comes from the outbox itself, never from an id
 * carried here (ids commit out of order).
 *
 * LISTEN needs a connection of its own, outside the pool, kept open; when it breaks (PostgreSQL
 * restarted, network) it is reopened with backoff, and after every (re-)LISTEN the subscribers are
 * told "every region" once, to catch up on whatever was committed while nobody listened.
 */
import pg from 'pg';

export const OUTBOX_CHANNEL = 'meridian_outbox';

/** Inside the outbox insert's transaction: delivered to the listeners when (and only if) it commits. */
export const NOTIFY_OUTBOX_SQL = `SELECT pg_notify('${OUTBOX_CHANNEL}', $1)`;

/** Called with the region that has new tasks, or undefined for "any region may" (after a reconnect). */
export type OutboxWakeUp = (region: string | undefined) => void;

const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 5_000;

export class OutboxNotificationListener {
  private readonly subscribers = new Set<OutboxWakeUp>();
  private client: pg.Client | undefined;
  private closed = false;
  private retryMs = RETRY_MIN_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  /** LISTEN sessions opened so far (1 after start, +1 per reconnect); for tests and logs. */
  sessions = 0;

  constructor(
    private readonly url: string,
    private readonly applicationName: string,
  ) {}

  subscribe(fn: OutboxWakeUp): () => void {
    this.subscribers.add(fn);
    if (!this.client && !this.retryTimer && !this.closed) void this.connect();
    return () => this.subscribers.delete(fn);
  }

  private emit(region: string | undefined): void {
    for (const fn of this.subscribers) {
      try {
        fn(region);
      } catch {
        // a subscriber's failure is its own; the others still hear the news
      }
    }
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.url, application_name: `${this.applicationName} (listen)`, connectionTimeoutMillis: 5_000, keepAlive: true });
    this.client = client;
    let lost = false;
    const onLost = () => {
      if (lost) return;
      lost = true;
      if (this.client === client) this.client = undefined;
      client.end().catch(() => undefined);
      this.scheduleReconnect();
    };
    client.on('error', onLost);
    client.on('end', onLost);
    client.on('notification', (n) => {
      if (n.channel === OUTBOX_CHANNEL) this.emit(n.payload || undefined);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
    } catch {
      onLost();
      return;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.retryMs = RETRY_MIN_MS;
    this.sessions++;
    // Whatever committed before this LISTEN was not heard: every region polls once now.
    this.emit(undefined);
  }

  private scheduleReconnect(): void {
    if (this.closed || this.retryTimer) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, delay);
    this.retryTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
