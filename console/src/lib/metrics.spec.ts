import { describe, expect, it } from 'vitest';
import { gaugeByRule, histogramDelta, histogramQuantile, lagPoint, latencyHistograms, parsePrometheus } from './metrics';

const scrape = (counts: number[]) => `# HELP meridian_replication_latency_seconds Time from a version being written to its replica being written
# TYPE meridian_replication_latency_seconds histogram
${[0.1, 0.5, 1, '+Inf']
  .map((le, i) => `meridian_replication_latency_seconds_bucket{le="${le}",SourceBucket="src",DestinationBucket="dst",RuleId="rule-1"} ${counts[i]}`)
  .join('\n')}
meridian_replication_latency_seconds_bucket{le="+Inf",SourceBucket="other",DestinationBucket="x",RuleId="r"} 9
OperationsPendingReplication{SourceBucket="src",DestinationBucket="dst",RuleId="rule-1"} 3
`;

describe('Prometheus text', () => {
  it('parses names, labels (with escapes) and values', () => {
    const s = parsePrometheus('a_metric{x="1",y="q\\"uote"} 2.5\n# comment\nplain 7\nbad line here\ninf{le="+Inf"} +Inf');
    expect(s).toEqual([
      { name: 'a_metric', labels: { x: '1', y: 'q"uote' }, value: 2.5 },
      { name: 'plain', labels: {}, value: 7 },
      { name: 'inf', labels: { le: '+Inf' }, value: Infinity },
    ]);
  });

  it('keeps one histogram per rule of the source bucket, and gauges per rule', () => {
    const samples = parsePrometheus(scrape([1, 2, 3, 4]));
    const h = latencyHistograms(samples, 'src');
    expect([...h.values()].map((x) => x.key)).toEqual([{ source: 'src', destination: 'dst', ruleId: 'rule-1' }]);
    expect([...gaugeByRule(samples, 'OperationsPendingReplication', 'src').values()][0]!.value).toBe(3);
  });
});

describe('lag percentiles per interval', () => {
  it('interpolates inside the bucket as histogram_quantile does', () => {
    const b = new Map([
      [0.1, 0],
      [0.5, 10],
      [1, 10],
      [Infinity, 10],
    ]);
    expect(histogramQuantile(0.5, b)).toBeCloseTo(0.3);
    expect(histogramQuantile(0.99, b)).toBeCloseTo(0.496);
    expect(histogramQuantile(0.5, new Map([[Infinity, 0]]))).toBeUndefined();
  });

  it('answers the top finite bound for the open bucket', () => {
    expect(histogramQuantile(0.99, new Map([[1, 0], [Infinity, 5]]))).toBe(1);
  });

  it('takes the difference between two scrapes, and a counter reset as a fresh start', () => {
    const before = latencyHistograms(parsePrometheus(scrape([1, 2, 3, 4])), 'src');
    const after = latencyHistograms(parsePrometheus(scrape([1, 2, 5, 6])), 'src');
    const d = [...histogramDelta(before, after).values()][0]!;
    expect([...d.buckets.values()]).toEqual([0, 0, 2, 2]);
    const p = lagPoint(1000, d.buckets);
    expect(p.count).toBe(2);
    expect(p.p50Ms).toBeCloseTo(750);
    const reset = [...histogramDelta(after, latencyHistograms(parsePrometheus(scrape([0, 0, 1, 1])), 'src')).values()][0]!;
    expect([...reset.buckets.values()]).toEqual([0, 0, 1, 1]);
  });

  it('an interval without completions has no percentiles (a gap, not zero)', () => {
    const h = latencyHistograms(parsePrometheus(scrape([1, 2, 3, 4])), 'src');
    const p = lagPoint(1, [...histogramDelta(h, h).values()][0]!.buckets);
    expect(p).toEqual({ t: 1, count: 0 });
  });
});
