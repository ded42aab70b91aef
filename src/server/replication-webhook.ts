/**
 * Delivers replication events to a webhook, as S3 delivers event notifications: a POST whose JSON
 * body is `{"Records":[...]}`. In order, one at a time, retried with backoff; bounded, so a dead
 * webhook cannot grow memory (the oldest undelivered events are dropped, and the drop is logged).
 */
import type { ReplicationNotification } from '../replication/monitor.js';
import type { Logger } from './logger.js';

const MAX_QUEUE = 10_000;
const ATTEMPTS = 5;

export class ReplicationWebhook {
  private readonly queue: ReplicationNotification[] = [];
  private sending = false;
  private closed = false;
  private dropped = 0;

  constructor(
    private readonly url: string,
    private readonly log: Logger,
  ) {}

  push(n: ReplicationNotification): void {
    if (this.closed) return;
    if (this.queue.length >= MAX_QUEUE) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push(n);
    if (!this.sending) void this.drain();
  }

  close(): void {
    this.closed = true;
    this.queue.length = 0;
  }

  private async drain(): Promise<void> {
    this.sending = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        if (this.dropped > 0) {
          this.log.warn({ webhook: this.url, dropped: this.dropped }, 'replication webhook queue full: oldest events dropped');
          this.dropped = 0;
        }
        const n = this.queue[0]!;
        await this.deliver(n);
        this.queue.shift();
      }
    } finally {
      this.sending = false;
    }
  }

  private async deliver(n: ReplicationNotification): Promise<void> {
    const body = JSON.stringify({ Records: [n.record] });
    for (let attempt = 1; attempt <= ATTEMPTS && !this.closed; attempt++) {
      try {
        const res = await fetch(this.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(10_000) });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return;
        throw new Error(`HTTP ${res.status}`);
      } catch (e) {
        if (attempt === ATTEMPTS) {
          this.log.warn({ webhook: this.url, event: n.name, bucket: n.bucket, err: e instanceof Error ? e.message : String(e) }, 'replication webhook delivery failed; event dropped');
          return;
        }
        await new Promise((r) => setTimeout(r, 200 * 2 ** attempt).unref());
      }
    }
  }
}
