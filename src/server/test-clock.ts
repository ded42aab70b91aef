/**
 * The test clock endpoint: `GET /_meridian/clock` reports the business clock, `POST /_meridian/clock`
 * with `{"advanceSeconds": n}` (or `"advanceMs"`) moves it forward and runs the time-driven work at
 * once (KMS key deletion and rotation, lifecycle). Served only when MERIDIAN_TEST_CLOCK=on and only to
 * loopback clients, unsigned; otherwise the path belongs to the signed /_meridian/ admin API
 * (admin-api.ts), which has no clock. `_` cannot start a bucket name, so it never shadows a bucket.
 */
import { OffsetClock } from '../common/clock.js';
import type { ServiceResponse } from '../services/protocol/response.js';

export const TEST_CLOCK_PATH = '/_meridian/clock';

function json(status: number, body: unknown): ServiceResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

export async function handleTestClock(clock: OffsetClock, method: string, body: Buffer): Promise<ServiceResponse> {
  if (method === 'POST') {
    let ms: number;
    try {
      const input = JSON.parse(body.toString('utf8') || '{}') as { advanceSeconds?: unknown; advanceMs?: unknown };
      ms = typeof input.advanceMs === 'number' ? input.advanceMs : Number(input.advanceSeconds) * 1000;
    } catch {
      return json(400, { error: 'body must be JSON: {"advanceSeconds": n} or {"advanceMs": n}' });
    }
    if (!Number.isFinite(ms) || ms < 0) return json(400, { error: 'advance by a non-negative number of seconds (advanceSeconds) or milliseconds (advanceMs)' });
    await clock.advance(ms);
  } else if (method !== 'GET') {
    return json(405, { error: 'GET or POST' });
  }
  return json(200, { nowMs: clock.now(), offsetMs: clock.offsetMs });
}

export function isTestClockRequest(clock: unknown, enabled: boolean, loopback: boolean, rawPath: string): clock is OffsetClock {
  return enabled && loopback && rawPath === TEST_CLOCK_PATH && clock instanceof OffsetClock;
}
