/**
 * Faults an operator injects to test a replication setup (MERIDIAN_FAULTS=on only): what each kind
 * does, its scope, and the validation of a fault as the API and the schedule file state it.
 */

export type FaultKind = 'unreachable' | 'slow' | 'flaky' | 'throttle' | 'kms-disabled' | 'enospc' | 'pause-workers';

export const FAULT_KINDS: Record<FaultKind, string> = {
  unreachable: 'replica writes to the destination region (or one bucket) fail as a refused connection',
  slow: 'replica writes to the destination wait `latency` first',
  flaky: 'replica writes to the destination fail with HTTP 500 at `errorRate` (seeded)',
  throttle: 'replica writes to the destination are refused with 503 SlowDown at `errorRate` (default 1)',
  'kms-disabled': 'a KMS key behaves as Disabled (KMS.DisabledException) for every cryptographic use',
  enospc: "blob writes in a region fail with ENOSPC (no space left on device)",
  'pause-workers': "a region's replication workers claim nothing",
};

/** Faults on the path to a destination region. */
export const DESTINATION_KINDS: readonly FaultKind[] = ['unreachable', 'slow', 'flaky', 'throttle'];

export interface FaultSpec {
  kind: FaultKind;
  /**
   * Destination kinds: the destination region; enospc: the region whose blobs fail; pause-workers:
   * the source region whose workers pause. Absent: every region.
   */
  region?: string;
  /** Destination kinds only: just this destination bucket. */
  bucket?: string;
  /** kms-disabled: the key (ARN, or key id in any region). */
  key?: string;
  /** How long the fault lasts (business clock: a test clock advance ends it). */
  durationMs: number;
  /** slow: added to every replica write. */
  latencyMs?: number;
  /** flaky, throttle: the fraction of writes that fail, in (0, 1]. */
  errorRate?: number;
}

export interface Fault extends FaultSpec {
  id: string;
  /** Epoch ms (business clock). */
  startedAt: number;
  endsAt: number;
  /** Operations the fault changed so far. */
  injected: number;
}

export class FaultSpecError extends Error {}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "30s", "15m", "24h", "1500ms", "2d", or a number of milliseconds. */
export function parseDuration(value: unknown, what: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return Math.round(value);
  const m = typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(value) : null;
  if (!m) throw new FaultSpecError(`${what} must be a duration such as 30s, 15m, 24h or 500ms; got ${JSON.stringify(value)}`);
  return Math.round(Number(m[1]) * UNITS[m[2]!]!);
}

export function formatDuration(ms: number): string {
  if (ms % 86_400_000 === 0 && ms > 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** A fault as sent (JSON from the API, the CLI or a schedule file) → a checked spec, or FaultSpecError saying what to fix. */
export function parseFaultSpec(input: unknown, isRegion: (r: string) => boolean): FaultSpec {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new FaultSpecError('a fault is a JSON object: {"kind": …, "duration": …}');
  const o = input as Record<string, unknown>;
  const known = new Set(['kind', 'region', 'bucket', 'key', 'duration', 'durationMs', 'latency', 'latencyMs', 'errorRate', 'after', 'afterMs']);
  for (const k of Object.keys(o)) if (!known.has(k)) throw new FaultSpecError(`unknown fault field '${k}'`);
  const kind = o.kind;
  if (typeof kind !== 'string' || !(kind in FAULT_KINDS)) throw new FaultSpecError(`kind must be one of ${Object.keys(FAULT_KINDS).join(', ')}; got ${JSON.stringify(kind)}`);
  const spec: FaultSpec = { kind: kind as FaultKind, durationMs: parseDuration(o.durationMs ?? o.duration, 'duration') };
  if (spec.durationMs <= 0) throw new FaultSpecError('duration must be more than 0');
  if (o.region !== undefined) {
    if (typeof o.region !== 'string' || !isRegion(o.region)) throw new FaultSpecError(`region must be a region Meridian knows; got ${JSON.stringify(o.region)}`);
    spec.region = o.region;
  }
  if (o.bucket !== undefined) {
    if (typeof o.bucket !== 'string' || !o.bucket) throw new FaultSpecError('bucket must be a bucket name');
    if (!DESTINATION_KINDS.includes(spec.kind)) throw new FaultSpecError(`bucket applies only to ${DESTINATION_KINDS.join(', ')} faults`);
    spec.bucket = o.bucket;
  }
  if (spec.kind === 'kms-disabled') {
    if (typeof o.key !== 'string' || !o.key) throw new FaultSpecError('a kms-disabled fault needs key: the key ARN or key id');
    spec.key = o.key;
  } else if (o.key !== undefined) {
    throw new FaultSpecError('key applies only to kms-disabled faults');
  }
  if (spec.kind === 'slow') {
    spec.latencyMs = parseDuration(o.latencyMs ?? o.latency, 'latency');
    if (spec.latencyMs <= 0) throw new FaultSpecError('a slow fault needs a latency of more than 0');
  } else if (o.latency !== undefined || o.latencyMs !== undefined) {
    throw new FaultSpecError('latency applies only to slow faults');
  }
  if (spec.kind === 'flaky' || spec.kind === 'throttle') {
    const rate = o.errorRate ?? (spec.kind === 'throttle' ? 1 : undefined);
    if (typeof rate !== 'number' || !(rate > 0 && rate <= 1)) throw new FaultSpecError(`errorRate must be a number in (0, 1]; got ${JSON.stringify(o.errorRate)}`);
    spec.errorRate = rate;
  } else if (o.errorRate !== undefined) {
    throw new FaultSpecError('errorRate applies only to flaky and throttle faults');
  }
  return spec;
}

/** One line for a fault: what, where, how long. */
export function describeFault(f: FaultSpec): string {
  const where = [f.region ?? 'every region', f.bucket ? `bucket ${f.bucket}` : undefined, f.key ? `key ${f.key}` : undefined].filter(Boolean).join(', ');
  const extra = f.latencyMs !== undefined ? ` +${formatDuration(f.latencyMs)}` : f.errorRate !== undefined ? ` ${Math.round(f.errorRate * 100)}%` : '';
  return `${f.kind}${extra} (${where}) for ${formatDuration(f.durationMs)}`;
}
