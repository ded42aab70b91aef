/**
 * While the home is known to be unreachable, calls fail at once with its 503, one at a time goes
 * through as a probe, and the first answer ends it; an answer that is an error of the home's own
 * (not unavailability) also shows it is reachable.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DependencyUnavailableError, ServiceError } from '../common/errors.js';
import { PeerReachability } from './peer-reachability.js';

const away = () => new DependencyUnavailableError('The home is not reachable (no answer within 5000 ms). Please retry later.', 'http://home');

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('peer reachability', () => {
  it('after a call finds the home away, others fail at once while one probe is out; the probe\'s answer ends it', async () => {
    const changes: unknown[] = [];
    let now = 1000;
    const r = new PeerReachability((c) => changes.push(c.reachable ? { reachable: true, downMs: c.downMs } : { reachable: false }), () => now);
    await assert.rejects(r.call(async () => Promise.reject(away())), DependencyUnavailableError);
    assert.deepEqual(changes, [{ reachable: false }]);

    let calls = 0;
    const probe = deferred<string>();
    const probing = r.call(() => {
      calls++;
      return probe.promise;
    });
    // While the probe is out, a call is not even tried.
    await assert.rejects(
      r.call(async () => {
        calls++;
        return 'never';
      }),
      (e) => e instanceof DependencyUnavailableError && e.status === 503 && /The home is not reachable/.test(e.message),
    );
    assert.equal(calls, 1);
    now = 4000;
    probe.resolve('answered');
    assert.equal(await probing, 'answered');
    assert.deepEqual(changes, [{ reachable: false }, { reachable: true, downMs: 3000 }]);
    assert.equal(await r.call(async () => 'next'), 'next');
  });

  it('a failed probe lets the next call probe again; the outage is reported once', async () => {
    const changes: boolean[] = [];
    const r = new PeerReachability((c) => changes.push(c.reachable));
    for (let i = 0; i < 3; i++) await assert.rejects(r.call(async () => Promise.reject(away())), DependencyUnavailableError);
    assert.deepEqual(changes, [false]);
    assert.equal(await r.call(async () => 'back'), 'back');
    assert.deepEqual(changes, [false, true]);
  });

  it('an error the home answered is not unavailability: nothing fails fast after it', async () => {
    const r = new PeerReachability();
    await assert.rejects(r.call(async () => Promise.reject(new ServiceError('NoSuchEntity', 404, 'no such role'))), /no such role/);
    const slow = deferred<string>();
    const first = r.call(() => slow.promise);
    assert.equal(await r.call(async () => 'concurrent'), 'concurrent');
    slow.resolve('done');
    assert.equal(await first, 'done');
  });
});
