/**
 * Role sessions S3 holds for replication: one AssumeRole per role and source bucket, reused until
 * shortly before it expires (as S3 does; it does not assume the role for every object).
 *
 * Tasks that need a session while none is cached share one AssumeRole. Before, each of them assumed
 * the role itself: at 500 PUT/s the tens of tasks started before the first answer each created a
 * session (a write to the IAM store), and in split mode the destination then had to look up every
 * one of those keys at the home process, which was busy with the same burst: the first few hundred
 * replicas waited 0.3–1 s, at the start of replication and again each time the sessions were renewed.
 */
import type { Clock } from '../common/clock.js';
import type { RoleCredentials } from './ports.js';

const REFRESH_BEFORE_EXPIRY_MS = 5 * 60 * 1000;
/** Reuse at most this long, so trust-policy changes take effect within a minute. */
const MAX_REUSE_MS = 60 * 1000;

export class RoleSessionCache {
  private readonly sessions = new Map<string, { creds: RoleCredentials; obtainedAt: number }>();
  /** AssumeRole calls in flight, by cache key: later callers wait for the same answer. */
  private readonly assuming = new Map<string, Promise<RoleCredentials>>();

  constructor(private readonly clock: Clock) {}

  async get(roleArn: string, sourceAccount: string, sourceBucket: string, assume: () => Promise<RoleCredentials>): Promise<RoleCredentials> {
    const cacheKey = `${roleArn}\n${sourceAccount}\n${sourceBucket}`;
    const now = this.clock.now();
    const hit = this.sessions.get(cacheKey);
    if (hit && hit.creds.expiresAt - now > REFRESH_BEFORE_EXPIRY_MS && now - hit.obtainedAt < MAX_REUSE_MS) return hit.creds;
    this.sessions.delete(cacheKey);
    const inFlight = this.assuming.get(cacheKey);
    if (inFlight) return inFlight;
    // A failure is not kept: every waiter gets it, and the next call asks again.
    const call: Promise<RoleCredentials> = assume()
      .then((creds) => {
        // Not cached if invalidate() ran meanwhile: the answer may predate the change behind it.
        if (this.assuming.get(cacheKey) === call) this.sessions.set(cacheKey, { creds, obtainedAt: now });
        return creds;
      })
      .finally(() => {
        if (this.assuming.get(cacheKey) === call) this.assuming.delete(cacheKey);
      });
    this.assuming.set(cacheKey, call);
    return call;
  }

  /** Forget a session whose use failed with a permission error (the role may have changed). */
  invalidate(roleArn: string): void {
    for (const k of this.sessions.keys()) if (k.startsWith(`${roleArn}\n`)) this.sessions.delete(k);
    for (const k of this.assuming.keys()) if (k.startsWith(`${roleArn}\n`)) this.assuming.delete(k);
  }
}
