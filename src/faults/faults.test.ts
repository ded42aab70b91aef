/** The fault registry and schedules: faults end by themselves on the business clock; a seed replays the same faults and decisions. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OffsetClock } from '../common/clock.js';
import { FaultRegistry, type FaultChange } from './registry.js';
import { parseSchedule } from './schedule.js';
import { FaultSpecError, parseDuration, parseFaultSpec } from './spec.js';

const isRegion = (r: string) => /^[a-z]{2}-[a-z]+-\d$/.test(r);

describe('fault specs', () => {
  it('durations read as an operator writes them', () => {
    assert.deepEqual(['500ms', '30s', '15m', '24h', '2d', '1.5s'].map((d) => parseDuration(d, 'd')), [500, 30_000, 900_000, 86_400_000, 172_800_000, 1500]);
    assert.throws(() => parseDuration('soon', 'duration'), /duration must be a duration such as 30s/);
  });

  it('each kind takes only what applies to it', () => {
    assert.deepEqual(parseFaultSpec({ kind: 'throttle', region: 'us-east-2', duration: '1m' }, isRegion), { kind: 'throttle', region: 'us-east-2', durationMs: 60_000, errorRate: 1 });
    const cases: [unknown, RegExp][] = [
      [{ kind: 'slow', duration: '1m' }, /latency must be a duration/],
      [{ kind: 'flaky', duration: '1m' }, /errorRate must be a number in \(0, 1\]/],
      [{ kind: 'flaky', duration: '1m', errorRate: 1.5 }, /errorRate/],
      [{ kind: 'enospc', duration: '1m', bucket: 'b' }, /bucket applies only to unreachable, slow, flaky, throttle/],
      [{ kind: 'unreachable', duration: '0s' }, /more than 0/],
      [{ kind: 'unreachable', duration: '1m', region: 'mars-1' }, /region must be a region Meridian knows/],
      [{ kind: 'unreachable', duration: '1m', colour: 'red' }, /unknown fault field 'colour'/],
    ];
    for (const [input, message] of cases) assert.throws(() => parseFaultSpec(input, isRegion), (e: unknown) => e instanceof FaultSpecError && message.test(e.message));
  });
});

describe('fault registry', () => {
  it('a fault applies to its scope only, and ends by itself when the clock passes its end', async () => {
    const clock = new OffsetClock();
    const r = new FaultRegistry(clock, 1);
    const changes: FaultChange[] = [];
    r.onChange((c) => changes.push(c));
    const f = r.add({ kind: 'unreachable', region: 'us-east-2', bucket: 'dst', durationMs: 30_000 });
    assert.deepEqual(r.destination('us-east-2', 'dst').map((x) => x.id), [f.id]);
    assert.deepEqual(r.destination('us-east-2', 'other'), []);
    assert.deepEqual(r.destination('eu-west-1', 'dst'), []);
    assert.equal(r.workersPaused('us-east-1'), undefined);
    await clock.advance(29_000); // (real time moves on too: leave it a second)
    assert.equal(r.list().length, 1);
    await clock.advance(1000);
    assert.deepEqual(r.destination('us-east-2', 'dst'), [], 'not in force once its time is up, even before a tick');
    r.tick();
    assert.deepEqual(r.list(), []);
    assert.deepEqual(changes.map((c) => [c.type, c.reason]), [['started', undefined], ['ended', 'expired']]);
  });

  it('a KMS fault matches the key by ARN or by key id', () => {
    const r = new FaultRegistry(new OffsetClock(), 1);
    r.add({ kind: 'kms-disabled', key: '1234abcd-12ab-34cd-56ef-1234567890ab', durationMs: 1000 });
    assert.ok(r.kmsKeyDisabled('arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab'));
    assert.equal(r.kmsKeyDisabled('arn:aws:kms:us-east-1:000000000000:key/other'), undefined);
  });

  it('a schedule starts its faults in order at their offsets, and a clock advance past several replays each', async () => {
    const clock = new OffsetClock();
    const r = new FaultRegistry(clock, 1);
    const started: string[] = [];
    r.onChange((c) => c.type === 'started' && started.push(c.fault.kind));
    const schedule = parseSchedule(
      { seed: 3, faults: [{ after: '20s', kind: 'throttle', duration: '5s' }, { after: '0s', kind: 'pause-workers', duration: '5s' }, { after: '10s', kind: 'enospc', region: 'us-east-2', duration: '5s' }] },
      isRegion,
    );
    r.runSchedule(schedule);
    assert.deepEqual(started, ['pause-workers']);
    await clock.advance(60_000);
    r.tick();
    assert.deepEqual(started, ['pause-workers', 'enospc', 'throttle']);
    assert.deepEqual(r.list(), [], 'each ended at its own end');
  });

  it('the same seed generates the same faults and makes the same flaky decisions', () => {
    const input = { seed: 42, random: { count: 8, kinds: ['unreachable', 'slow', 'flaky', 'throttle', 'enospc', 'pause-workers'], regions: ['us-east-2', 'eu-west-1'], spacing: '1m', maxDuration: '45s' } };
    const a = parseSchedule(input, isRegion);
    const b = parseSchedule(input, isRegion);
    assert.deepEqual(a, b);
    assert.equal(a.faults.length, 8);
    assert.notDeepEqual(parseSchedule({ ...input, seed: 43 }, isRegion), a);
    const decisions = (seed: number) => {
      const r = new FaultRegistry(new OffsetClock(), 0);
      r.reseed(seed);
      return Array.from({ length: 16 }, () => r.chance() < 0.5);
    };
    assert.deepEqual(decisions(7), decisions(7));
    assert.notDeepEqual(decisions(7), decisions(8));
  });

  it('a schedule is checked before anything starts', () => {
    assert.throws(() => parseSchedule({ faults: [] }, isRegion), /seed must be an integer/);
    assert.throws(() => parseSchedule({ seed: 1, faults: [{ kind: 'slow', duration: '1m' }] }, isRegion), /faults\[0\]: latency/);
    assert.throws(() => parseSchedule({ seed: 1, random: { count: 2, kinds: ['kms-disabled'] } }, isRegion), /random.kinds/);
  });
});
