/**
 * Issue 12's targets, checked against one run's rows: one line per target, PASS or FAIL (or n/a
 * when the run did not measure it, or measured it at a lower load than the target names).
 */
import type { BenchResult, Row } from './benchmark.js';

export interface TargetCheck {
  target: string;
  measured: string;
  verdict: 'PASS' | 'FAIL' | 'n/a';
}

/**
 * The workloads whose ratio is "Meridian ÷ the baseline doing the same requests": throughput rows
 * without a baseline note (listings compare with a static body, replication with Meridian's own PUT,
 * SSE-KMS with SSE-S3, so they are left out).
 */
export function ratioRows(rows: Row[]): Row[] {
  return rows.filter((r) => (r.unit === 'ops/s' || r.unit === 'MB/s') && !r.baselineNote && !r.id.startsWith('sse-kms-vs-s3') && Number.isFinite(r.ratio) && r.ratio > 0);
}

export function geometricMean(xs: number[]): number {
  return xs.length === 0 ? NaN : Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
}

const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : String(x));

export function summarise(result: BenchResult): TargetCheck[] {
  const rows = result.rows;
  const out: TargetCheck[] = [];
  const byId = (id: string) => rows.find((r) => r.id === id);
  const check = (target: string, found: Row[], value: (r: Row) => number, ok: (v: number) => boolean, show: (v: number) => string) => {
    if (found.length === 0) {
      out.push({ target, measured: 'not measured in this run', verdict: 'n/a' });
      return;
    }
    const vs = found.map(value);
    out.push({ target, measured: found.map((r, i) => `${show(vs[i]!)} (${r.id})`).join(', '), verdict: vs.every((v) => Number.isFinite(v) && ok(v)) ? 'PASS' : 'FAIL' });
  };
  const ratioAtLeast = (target: string, pattern: RegExp, min: number) =>
    check(target, rows.filter((r) => pattern.test(r.id)), (r) => r.ratio, (v) => v >= min, (v) => `${f2(v)}×`);
  const small = (verb: string) => new RegExp(`^${verb}-4096-sse-(s3|kms)$`);

  ratioAtLeast('4 KiB PUT ≥ 0.35× the baseline', small('put'), 0.35);
  ratioAtLeast('4 KiB GET ≥ 0.5×', small('get'), 0.5);
  ratioAtLeast('4 KiB HEAD ≥ 0.6×', small('head'), 0.6);
  const us = (r: Row) => Number(r.detail?.meridianServerUsPerRequest);
  check('server CPU ≤ 250 µs per 4 KiB PUT', rows.filter((r) => small('put').test(r.id)), us, (v) => v <= 250, (v) => `${v.toFixed(0)} µs`);
  check('server CPU ≤ 150 µs per 4 KiB GET', rows.filter((r) => small('get').test(r.id)), us, (v) => v <= 150, (v) => `${v.toFixed(0)} µs`);
  ratioAtLeast('1 MiB PUT ≥ 0.6×', /^put-1048576-sse-(s3|kms)$/, 0.6);
  ratioAtLeast('1 MiB GET ≥ 0.8×', /^get-1048576-sse-(s3|kms)$/, 0.8);
  const large = result.settings.largeSize;
  ratioAtLeast(`${large / 1048576} MiB PUT, 1 stream ≥ 0.8×`, new RegExp(`^put-${large}-sse-(s3|kms)$`), 0.8);
  ratioAtLeast(`${large / 1048576} MiB GET, 1 stream ≥ 0.9×`, new RegExp(`^get-${large}-sse-(s3|kms)$`), 0.9);
  check(
    `${result.settings.largeStreams} × ${large / 1048576} MiB streams at once ≥ 1.6× the single stream's MB/s`,
    rows.filter((r) => typeof r.detail?.meridianTimesSingleStream === 'number'),
    (r) => Number(r.detail!.meridianTimesSingleStream),
    (v) => v >= 1.6,
    (v) => `${f2(v)}×`,
  );
  check('ListObjectsV2 ≥ 150,000 keys/s (1000-key pages)', rows.filter((r) => r.id === 'list-v2'), (r) => r.meridian, (v) => v >= 150_000, (v) => `${Math.round(v)} keys/s`);
  check('ListObjectVersions ≥ 150,000 keys/s', rows.filter((r) => r.id === 'list-versions'), (r) => r.meridian, (v) => v >= 150_000, (v) => `${Math.round(v)} keys/s`);

  // SSE-KMS within 10 % of SSE-S3: the sse group's rows, and each pair of rows in the main table.
  const kmsPairs: Row[] = [];
  for (const r of rows) {
    if (!/-sse-kms(-x\d+)?$/.test(r.id)) continue;
    const s3 = byId(r.id.replace('-sse-kms', '-sse-s3'));
    if (s3) kmsPairs.push({ ...r, ratio: r.meridian / s3.meridian });
  }
  check('SSE-KMS within 10 % of SSE-S3 on every row', [...rows.filter((r) => r.id.startsWith('sse-kms-vs-s3')), ...kmsPairs], (r) => r.ratio, (v) => v >= 0.9, (v) => f2(v));

  const rss = rows.filter((r) => r.id.startsWith('peak-rss-streams-'));
  check(`RSS < 300 MB while ${result.settings.rssClients} clients stream large objects in and out (the target: 16 clients, 1 GiB; summed over the server's processes)`, rss, (r) => (r.meridian * 1048576) / 1e6, (v) => v < 300, (v) => `${v.toFixed(0)} MB`);
  if (rss.some((r) => Number(r.detail?.meridianPeakPssMiB) > 0)) {
    // With several processes the sum of RSS counts shared pages once per process; PSS does not.
    check('… the same as PSS (shared pages counted once)', rss, (r) => (Number(r.detail!.meridianPeakPssMiB) * 1048576) / 1e6, (v) => v < 300, (v) => `${v.toFixed(0)} MB`);
  }
  if (rss.length >= 2) {
    const first = rss[0]!.meridian;
    const last = rss[rss.length - 1]!.meridian;
    out.push({ target: 'RSS flat in object size (largest within 20 % of smallest)', measured: `${first.toFixed(0)} → ${last.toFixed(0)} MiB`, verdict: last <= first * 1.2 ? 'PASS' : 'FAIL' });
  }
  for (const [id, where] of [['1p', 'one process'], ['2p', 'two processes']] as const) {
    const r = byId(`replication-steady-${id}-p99`);
    const rate = Number(r?.detail?.rate ?? result.settings.steadyRate);
    const achieved = Number(r?.detail?.achievedRate ?? NaN);
    const target = `replication lag p99 < 1 s at a sustained 500 PUT/s (4 KiB SSE-KMS), ${where}`;
    // Sustained: the PUTs were acknowledged at (within 5 % of) the rate they were sent at.
    if (!r) out.push({ target, measured: 'not measured in this run', verdict: 'n/a' });
    else out.push({ target, measured: `p99 ${r.meridian.toFixed(0)} ms; ${rate} PUT/s sent, ${achieved.toFixed(0)} acknowledged per second`, verdict: rate < 500 ? 'n/a' : r.meridian < 1000 && achieved >= rate * 0.95 ? 'PASS' : 'FAIL' });
  }
  const ratios = ratioRows(rows);
  // Three decimals: two showed 0.498 as a failing 0.50.
  const gm = geometricMean(ratios.map((r) => r.ratio));
  out.push({ target: 'geometric mean of the ratio workloads ≥ 0.5×', measured: ratios.length ? `${gm.toFixed(3)}× over ${ratios.length} workloads` : 'not measured in this run', verdict: ratios.length === 0 ? 'n/a' : gm >= 0.5 ? 'PASS' : 'FAIL' });
  return out;
}
