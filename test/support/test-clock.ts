/**
 * Advancing a test server's business clock (the server must run with MERIDIAN_TEST_CLOCK=on; see
 * docs/decisions.md "An advanceable clock for tests"). Time-driven work has run when this resolves.
 */
import type { MeridianProcess } from './meridian-process.js';

export async function advanceClock(m: MeridianProcess, seconds: number): Promise<{ nowMs: number; offsetMs: number }> {
  const res = await fetch(`${m.httpEndpoint}/_meridian/clock`, { method: 'POST', body: JSON.stringify({ advanceSeconds: seconds }) });
  if (res.status !== 200) throw new Error(`advancing the clock failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as { nowMs: number; offsetMs: number };
}

export const DAY = 24 * 3600;
