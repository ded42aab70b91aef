/**
 * Role sessions S3 holds for replication: one AssumeRole per role and source bucket, reused until
 * shortly before it expires (as S3 does; it does not assume the role for every object).
 */
import type { Clock } from '../common/clock.js';
import type { RoleCredentials } from './ports.js';

const REFRESH_BEFORE_EXPIRY_MS = 5 * 60 * 1000;
/** Reuse at most this long, so trust-policy changes take effect within a minute. */
const MAX_REUSE_MS = 60 * 1000;

export class RoleSessionCache {
  private readonly sessions = new Map<string, { creds: RoleCredentials; obtainedAt: number }>();

  constructor(private readonly clock: Clock) {}

  async get(roleArn: string, sourceAccount: string, sourceBucket: string, assume: () => Promise<RoleCredentials>): Promise<RoleCredentials> {
    const cacheKey = `${roleArn}\n${sourceAccount}\n${sourceBucket}`;
    const now = this.clock.now();
    const hit = this.sessions.get(cacheKey);
    if (hit && hit.creds.expiresAt - now > REFRESH_BEFORE_EXPIRY_MS && now - hit.obtainedAt < MAX_REUSE_MS) return hit.creds;
    this.sessions.delete(cacheKey);
    const creds = await assume();
    this.sessions.set(cacheKey, { creds, obtainedAt: now });
    return creds;
  }

  /** Forget a session whose use failed with a permission error (the role may have changed). */
  invalidate(roleArn: string): void {
    for (const k of this.sessions.keys()) if (k.startsWith(`${roleArn}\n`)) this.sessions.delete(k);
  }
}
