/**
 * A fault schedule file: a seed and faults at offsets from the schedule's start, replayed in the
 * same order every time. Faults may be listed, generated from the seed, or both:
 *   { "seed": 42,
 *     "faults": [ { "after": "0s", "kind": "unreachable", "region": "us-east-2", "duration": "30s" } ],
 *     "random": { "count": 5, "kinds": ["slow", "flaky"], "regions": ["us-east-2"], "spacing": "1m", "maxDuration": "45s" } }
 * The seed also seeds the flaky and throttle decisions, so a replay fails the same writes.
 */
import { seededRandom } from './seeded-random.js';
import { FAULT_KINDS, FaultSpecError, parseDuration, parseFaultSpec, type FaultKind, type FaultSpec } from './spec.js';

export interface ScheduledFault {
  afterMs: number;
  spec: FaultSpec;
}

export interface FaultSchedule {
  seed: number;
  faults: ScheduledFault[];
}

const MAX_FAULTS = 10_000;

export function parseSchedule(input: unknown, isRegion: (r: string) => boolean): FaultSchedule {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new FaultSpecError('a schedule is a JSON object: {"seed": n, "faults": [...], "random": {...}}');
  const o = input as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['seed', 'faults', 'random'].includes(k)) throw new FaultSpecError(`unknown schedule field '${k}'`);
  if (typeof o.seed !== 'number' || !Number.isInteger(o.seed) || o.seed < 0 || o.seed >= 2 ** 32) throw new FaultSpecError('seed must be an integer in [0, 2^32)');
  const faults: ScheduledFault[] = [];
  if (o.faults !== undefined) {
    if (!Array.isArray(o.faults)) throw new FaultSpecError('faults must be a list');
    o.faults.forEach((f, i) => {
      try {
        const after = (f as Record<string, unknown>)?.afterMs ?? (f as Record<string, unknown>)?.after ?? 0;
        faults.push({ afterMs: parseDuration(after, 'after'), spec: parseFaultSpec(f, isRegion) });
      } catch (e) {
        throw new FaultSpecError(`faults[${i}]: ${(e as Error).message}`);
      }
    });
  }
  if (o.random !== undefined) faults.push(...generate(o.seed, o.random, isRegion));
  if (faults.length > MAX_FAULTS) throw new FaultSpecError(`a schedule holds at most ${MAX_FAULTS} faults`);
  // Stable: faults at the same offset keep the file's order.
  faults.sort((a, b) => a.afterMs - b.afterMs);
  return { seed: o.seed, faults };
}

/** Faults drawn from the seed: the same seed, the same faults. */
function generate(seed: number, input: unknown, isRegion: (r: string) => boolean): ScheduledFault[] {
  if (typeof input !== 'object' || input === null) throw new FaultSpecError('random must be an object');
  const r = input as Record<string, unknown>;
  const count = r.count;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_FAULTS) throw new FaultSpecError(`random.count must be an integer from 1 to ${MAX_FAULTS}`);
  const kinds = (r.kinds ?? ['unreachable', 'slow', 'flaky', 'throttle']) as FaultKind[];
  if (!Array.isArray(kinds) || kinds.length === 0 || kinds.some((k) => !(k in FAULT_KINDS) || k === 'kms-disabled')) {
    throw new FaultSpecError(`random.kinds must list fault kinds other than kms-disabled (which needs a key); got ${JSON.stringify(r.kinds)}`);
  }
  const regions = r.regions as string[] | undefined;
  if (regions !== undefined && (!Array.isArray(regions) || regions.length === 0 || regions.some((x) => typeof x !== 'string' || !isRegion(x)))) throw new FaultSpecError('random.regions must list known regions');
  const spacing = parseDuration(r.spacing ?? '1m', 'random.spacing');
  const maxDuration = parseDuration(r.maxDuration ?? '30s', 'random.maxDuration');
  if (maxDuration < 1000) throw new FaultSpecError('random.maxDuration must be at least 1s');
  const rnd = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
  const out: ScheduledFault[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const kind = pick(kinds);
    const spec: FaultSpec = { kind, durationMs: 1000 * (1 + Math.floor(rnd() * (maxDuration / 1000))) };
    if (regions) spec.region = pick(regions);
    if (kind === 'slow') spec.latencyMs = 100 * (1 + Math.floor(rnd() * 20));
    if (kind === 'flaky') spec.errorRate = Math.round((0.1 + rnd() * 0.8) * 100) / 100;
    if (kind === 'throttle') spec.errorRate = 1;
    out.push({ afterMs: at, spec });
    at += Math.round(spacing * (0.5 + rnd()));
  }
  return out;
}
