/** Lag p50/p99 over time as a small hand-drawn SVG line chart (no charting library). */
import type { LagPoint } from '../lib/metrics';
import { ms } from '../lib/format';

const W = 560;
const H = 160;
const PAD = { left: 52, right: 10, top: 10, bottom: 24 };

export function LagChart({ points, label }: { points: LagPoint[]; label: string }) {
  const withData = points.filter((p) => p.p99Ms !== undefined || p.p50Ms !== undefined);
  if (points.length < 2) return <p class="muted small">Collecting samples… (one every few seconds while this page is open)</p>;
  const t0 = points[0]!.t;
  const t1 = points[points.length - 1]!.t;
  const maxV = Math.max(1, ...withData.map((p) => p.p99Ms ?? p.p50Ms ?? 0));
  const x = (t: number) => PAD.left + ((t - t0) / Math.max(1, t1 - t0)) * (W - PAD.left - PAD.right);
  const y = (v: number) => H - PAD.bottom - (v / maxV) * (H - PAD.top - PAD.bottom);
  const line = (pick: (p: LagPoint) => number | undefined) => {
    let d = '';
    let pen = false;
    for (const p of points) {
      const v = pick(p);
      if (v === undefined) {
        pen = false; // no completions in that interval: a gap, not a zero
        continue;
      }
      d += `${pen ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(v).toFixed(1)} `;
      pen = true;
    }
    return d.trim();
  };
  const last = withData[withData.length - 1];
  const summary = last ? `latest interval: p50 ${ms(last.p50Ms)}, p99 ${ms(last.p99Ms)}, ${last.count} replication(s)` : 'no replication completed in the sampled intervals';
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${label}: ${summary}`} preserveAspectRatio="none">
        <line x1={PAD.left} y1={H - PAD.bottom} x2={W - PAD.right} y2={H - PAD.bottom} class="axis" />
        <line x1={PAD.left} y1={PAD.top} x2={PAD.left} y2={H - PAD.bottom} class="axis" />
        <text x={PAD.left - 4} y={PAD.top + 8} class="tick" text-anchor="end">
          {ms(maxV)}
        </text>
        <text x={PAD.left - 4} y={H - PAD.bottom} class="tick" text-anchor="end">
          0
        </text>
        <text x={PAD.left} y={H - 6} class="tick">
          {new Date(t0).toLocaleTimeString()}
        </text>
        <text x={W - PAD.right} y={H - 6} class="tick" text-anchor="end">
          {new Date(t1).toLocaleTimeString()}
        </text>
        <path d={line((p) => p.p99Ms)} class="p99" fill="none" />
        <path d={line((p) => p.p50Ms)} class="p50" fill="none" />
        {points.map((p) =>
          p.p99Ms !== undefined ? <circle key={`a${p.t}`} cx={x(p.t)} cy={y(p.p99Ms)} r="2.5" class="p99" /> : null,
        )}
        {points.map((p) =>
          p.p50Ms !== undefined ? <circle key={`b${p.t}`} cx={x(p.t)} cy={y(p.p50Ms)} r="2.5" class="p50" /> : null,
        )}
      </svg>
      <figcaption>
        <span class="key p50">p50</span> <span class="key p99">p99</span> — {summary}
      </figcaption>
    </figure>
  );
}
