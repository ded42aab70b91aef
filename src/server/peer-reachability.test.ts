/**
 * While the home is known to be unreachable, calls fail at once with its 503 without being tried;
 * a background probe (one at a time, at most once a second) finds out when it is back, and then
 * calls go through again. An answer that is an error of the home's own is not unavailability.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DependencyUnavailableError, ServiceError } from '../common/errors.js';
import { PeerReachability, type ReachabilityChange } from './peer-reachability.js';

const away = () => new DependencyUnavailableError('The home is not reachable (no answer within 5000 ms). Please retry later.', 'http://home');

/** A scripted home: whether it answers, and how often it was asked (by calls and by probes). */
function home() {
  const h = {
    up: false,
    calls: 0,
    probes: 0,
    changes: [] as { reachable: boolean; downMs?: number }[],
    now: 1000,
    reachability: undefined as unknown as PeerReachability,
    async ask(value: string): Promise<string> {
      h.calls++;
      if (!h.up) throw away();
      return value;
    },
  };
  h.reachability = new PeerReachability(
    async () => {
      h.probes++;
      if (!h.up) throw away();
    },
    (c: ReachabilityChange) => h.changes.push(c.reachable ? { reachable: true, downMs: c.downMs } : { reachable: false }),
    () => h.now,
  );
  return h;
}

describe('peer reachability', () => {
  it('once a call finds the home away, calls fail at once without being tried, and one probe runs in the background', async () => {
    const h = home();
    await assert.rejects(h.reachability.call(() => h.ask('a')), DependencyUnavailableError);
    assert.deepEqual(h.changes, [{ reachable: false }]);
    for (let i = 0; i < 5; i++) {
      await assert.rejects(h.reachability.call(() => h.ask('b')), (e) => e instanceof DependencyUnavailableError && e.status === 503 && /The home is not reachable/.test(e.message));
    }
    assert.equal(h.calls, 1, 'only the first call was sent');
    await h.reachability.settled();
    assert.equal(h.probes, 1, 'one probe for the five calls');
  });

  it('probes at most once a second; the first that is answered ends the outage, and calls go through again', async () => {
    const h = home();
    await assert.rejects(h.reachability.call(() => h.ask('a')));
    await assert.rejects(h.reachability.call(() => h.ask('b')));
    await h.reachability.settled();
    assert.equal(h.probes, 1);
    h.now += 500;
    h.up = true;
    await assert.rejects(h.reachability.call(() => h.ask('c')), 'not yet probed again: still known away');
    await h.reachability.settled();
    assert.equal(h.probes, 1);
    h.now += 600;
    await assert.rejects(h.reachability.call(() => h.ask('d')), 'this call starts the probe; it does not wait for it');
    await h.reachability.settled();
    assert.equal(h.probes, 2);
    assert.deepEqual(h.changes, [{ reachable: false }, { reachable: true, downMs: 1100 }]);
    assert.equal(await h.reachability.call(() => h.ask('e')), 'e');
  });

  it('an error the home answered is not unavailability: nothing fails fast after it', async () => {
    const h = home();
    await assert.rejects(h.reachability.call(async () => Promise.reject(new ServiceError('NoSuchEntity', 404, 'no such role'))), /no such role/);
    h.up = true;
    assert.equal(await h.reachability.call(() => h.ask('next')), 'next');
    assert.deepEqual(h.changes, []);
  });

  it('a call that times out after a later call was answered does not mark the home away', async () => {
    const h = home();
    h.up = true;
    // Sent into a partition: its answer deadline ends seconds later, after the link is back.
    let timeOut!: () => void;
    const stale = h.reachability.call(() => new Promise<string>((_, reject) => (timeOut = () => reject(away()))));
    assert.equal(await h.reachability.call(() => h.ask('after the heal')), 'after the heal');
    timeOut();
    await assert.rejects(stale, DependencyUnavailableError);
    assert.deepEqual(h.changes, [], 'the home answered a newer call: not away');
    assert.equal(await h.reachability.call(() => h.ask('next')), 'next');
    assert.equal(h.probes, 0);
  });

  it('a failure newer than the last answer still marks the home away', async () => {
    const h = home();
    h.up = true;
    let answer!: () => void;
    const older = h.reachability.call(() => new Promise<string>((resolve) => (answer = () => resolve('older'))));
    h.up = false;
    await assert.rejects(h.reachability.call(() => h.ask('newer')), DependencyUnavailableError);
    answer();
    assert.equal(await older, 'older');
    // The older call's answer came after the failure: the home answered just now, so it is reachable.
    assert.deepEqual(h.changes, [{ reachable: false }, { reachable: true, downMs: 0 }]);
    await assert.rejects(h.reachability.call(() => h.ask('x')), DependencyUnavailableError);
    assert.deepEqual(h.changes, [{ reachable: false }, { reachable: true, downMs: 0 }, { reachable: false }]);
  });
});
