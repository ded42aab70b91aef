/**
 * Reads Meridian's Prometheus metrics (/_meridian/metrics) for the replication dashboard: the
 * pending gauges per rule and destination, and lag percentiles per sampling interval estimated from
 * the meridian_replication_latency_seconds histogram (the difference between two scrapes, then
 * Prometheus's histogram_quantile interpolation).
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parsePrometheus(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    out.push({ name: m[1]!, labels, value });
  }
  return out;
}

/** A replication rule's series: source bucket, destination bucket, rule id. */
export interface RuleKey {
  source: string;
  destination: string;
  ruleId: string;
}

export function ruleKeyString(k: RuleKey): string {
  return `${k.source}\u0000${k.destination}\u0000${k.ruleId}`;
}

function ruleKeyOf(labels: Record<string, string>): RuleKey {
  return { source: labels.SourceBucket ?? '', destination: labels.DestinationBucket ?? '', ruleId: labels.RuleId ?? '' };
}

/** Cumulative histogram buckets per rule: upper bound → count (le="+Inf" included). */
export type Histograms = Map<string, { key: RuleKey; buckets: Map<number, number> }>;

export function latencyHistograms(samples: Sample[], source?: string): Histograms {
  const out: Histograms = new Map();
  for (const s of samples) {
    if (s.name !== 'meridian_replication_latency_seconds_bucket') continue;
    if (source !== undefined && s.labels.SourceBucket !== source) continue;
    const key = ruleKeyOf(s.labels);
    const id = ruleKeyString(key);
    let h = out.get(id);
    if (!h) out.set(id, (h = { key, buckets: new Map() }));
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    h.buckets.set(le, s.value);
  }
  return out;
}

/** Prometheus's histogram_quantile over cumulative buckets; undefined when the histogram is empty. */
export function histogramQuantile(q: number, buckets: Map<number, number>): number | undefined {
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  if (sorted.length === 0) return undefined;
  const total = sorted[sorted.length - 1]![1];
  if (!(total > 0)) return undefined;
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (const [bound, count] of sorted) {
    if (count >= rank) {
      // The open top bucket has no upper bound: answer its lower bound, as Prometheus does.
      if (bound === Infinity) return prevBound;
      if (count === prevCount) return bound;
      return prevBound + (bound - prevBound) * ((rank - prevCount) / (count - prevCount));
    }
    prevBound = bound;
    prevCount = count;
  }
  return prevBound;
}

/** What happened between two scrapes: per rule, the buckets' increase (a reset counts from zero). */
export function histogramDelta(before: Histograms | undefined, after: Histograms): Histograms {
  const out: Histograms = new Map();
  for (const [id, h] of after) {
    const prev = before?.get(id);
    const buckets = new Map<number, number>();
    let reset = false;
    for (const [le, count] of h.buckets) if (prev && count < (prev.buckets.get(le) ?? 0)) reset = true;
    for (const [le, count] of h.buckets) buckets.set(le, reset || !prev ? count : count - (prev.buckets.get(le) ?? 0));
    out.set(id, { key: h.key, buckets });
  }
  return out;
}

export interface LagPoint {
  /** Milliseconds since the epoch of the scrape. */
  t: number;
  /** Replications completed in the interval. */
  count: number;
  p50Ms?: number;
  p99Ms?: number;
}

export function lagPoint(t: number, delta: Map<number, number>): LagPoint {
  const total = Math.max(0, ...delta.values());
  const p: LagPoint = { t, count: total };
  const p50 = histogramQuantile(0.5, delta);
  const p99 = histogramQuantile(0.99, delta);
  if (p50 !== undefined) p.p50Ms = p50 * 1000;
  if (p99 !== undefined) p.p99Ms = p99 * 1000;
  return p;
}

/** A gauge's value per rule (OperationsPendingReplication, BytesPendingReplication, ReplicationLatency). */
export function gaugeByRule(samples: Sample[], name: string, source?: string): Map<string, { key: RuleKey; value: number }> {
  const out = new Map<string, { key: RuleKey; value: number }>();
  for (const s of samples) {
    if (s.name !== name || (source !== undefined && s.labels.SourceBucket !== source)) continue;
    const key = ruleKeyOf(s.labels);
    out.set(ruleKeyString(key), { key, value: s.value });
  }
  return out;
}
