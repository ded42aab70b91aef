/**
 * The cache of the global stores a split-mode process reads from the home process: answers are
 * reused for at most 2 s after the RPC that fetched them was sent, refreshed in the background
 * from 1 s on (so steady traffic never waits for the home), never cached when "not found", and
 * dropped by any write made through this process.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RemoteStores, type GlobalRpc } from './remote-global-stores.js';

/** A scripted home process: answers from `values`, each RPC held until released when `hold` is set. */
function home() {
  const calls: GlobalRpc[] = [];
  const values = new Map<string, unknown>();
  let hold: Promise<void> | undefined;
  const rpc = async (call: GlobalRpc) => {
    calls.push(call);
    const answer = values.get(call.method);
    if (hold) await hold;
    return answer;
  };
  return {
    calls,
    values,
    hold(): () => void {
      let release!: () => void;
      hold = new Promise<void>((r) => (release = r));
      return () => {
        hold = undefined;
        release();
      };
    },
    rpc,
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('remote global stores cache', () => {
  it('reuses an answer for reads within a second, without asking the home again', async () => {
    const h = home();
    let now = 0;
    const stores = new RemoteStores(h.rpc, () => now);
    h.values.set('getRole', { name: 'r1' });
    assert.deepEqual(await stores.call('iam', 'getRole', ['r']), { name: 'r1' });
    now = 900;
    assert.deepEqual(await stores.call('iam', 'getRole', ['r']), { name: 'r1' });
    assert.equal(h.calls.length, 1);
  });

  it('from 1 s on, answers at once from the cache and refreshes in the background', async () => {
    const h = home();
    let now = 0;
    const stores = new RemoteStores(h.rpc, () => now);
    h.values.set('changeToken', 'token-1');
    await stores.call('iam', 'changeToken', []);
    h.values.set('changeToken', 'token-2');
    now = 1500;
    const release = h.hold();
    // The home is slow: the read does not wait for it.
    assert.equal(await stores.call('iam', 'changeToken', []), 'token-1');
    assert.equal(await stores.call('iam', 'changeToken', []), 'token-1');
    assert.equal(h.calls.length, 2, 'one background refresh, not one per read');
    release();
    await tick();
    assert.equal(await stores.call('iam', 'changeToken', []), 'token-2');
    // The refreshed answer counts from when its RPC was sent (1500): still fresh at 3400.
    now = 3400;
    assert.equal(await stores.call('iam', 'changeToken', []), 'token-2');
    assert.equal(h.calls.length, 3, 'a refresh started at 3400 (1.9 s after the last RPC was sent)');
  });

  it('never returns an answer fetched more than 2 s ago', async () => {
    const h = home();
    let now = 0;
    const stores = new RemoteStores(h.rpc, () => now);
    h.values.set('getRole', { name: 'old' });
    await stores.call('iam', 'getRole', ['r']);
    h.values.set('getRole', { name: 'new' });
    now = 2000;
    assert.deepEqual(await stores.call('iam', 'getRole', ['r']), { name: 'new' });
    assert.equal(h.calls.length, 2);
  });

  it('does not cache "not found", so a new session key works at once', async () => {
    const h = home();
    const stores = new RemoteStores(h.rpc, () => 0);
    assert.equal(await stores.call('iam', 'getAccessKey', ['ASIA1']), undefined);
    h.values.set('getAccessKey', { accessKeyId: 'ASIA1' });
    assert.deepEqual(await stores.call('iam', 'getAccessKey', ['ASIA1']), { accessKeyId: 'ASIA1' });
    assert.equal(h.calls.length, 2);
  });

  it('a write drops the cache, and a refresh sent before the write does not bring the old answer back', async () => {
    const h = home();
    let now = 0;
    const stores = new RemoteStores(h.rpc, () => now);
    h.values.set('getRole', { name: 'before' });
    await stores.call('iam', 'getRole', ['r']);
    now = 1200;
    const release = h.hold();
    await stores.call('iam', 'getRole', ['r']); // starts a refresh that will answer "before"
    release();
    await stores.call('iam', 'putRolePolicy', ['r', 'p', '{}']);
    await tick();
    h.values.set('getRole', { name: 'after' });
    assert.deepEqual(await stores.call('iam', 'getRole', ['r']), { name: 'after' });
  });
});
