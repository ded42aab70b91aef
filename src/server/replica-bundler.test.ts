import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ReplicaBundler } from './replica-bundler.js';
import type { BundleItem } from '../services/s3/replica-wire.js';

const item = (key: string, size = 10): BundleItem => ({
  envelope: { op: 'object', destination: { name: 'dest', region: 'us-east-2', ownerAccountId: '111122223333' }, version: { key } as NonNullable<BundleItem['envelope']['version']> },
  data: Buffer.alloc(size),
});
const keysOf = (items: BundleItem[]) => items.map((i) => i.envelope.version!.key);
const tick = () => new Promise((r) => setImmediate(r));

/** A peer whose answers the test releases by hand. */
class ScriptedPeer {
  readonly sent: { creds: string; keys: string[]; answer(outcomes?: (Error | undefined)[]): void; fail(e: Error): void }[] = [];
  readonly send = (creds: string, items: BundleItem[]) =>
    new Promise<(Error | undefined)[]>((resolve, reject) => {
      this.sent.push({ creds, keys: keysOf(items), answer: (o) => resolve(o ?? items.map(() => undefined)), fail: reject });
    });
}

describe('replica bundles (split mode, sending side)', () => {
  it('a lone replica leaves at once, in a bundle of its own', async () => {
    const peer = new ScriptedPeer();
    const bundler = new ReplicaBundler(peer.send);
    const done = bundler.add('role', 'role', item('a'));
    await tick();
    assert.deepEqual(peer.sent.map((b) => b.keys), [['a']]);
    peer.sent[0]!.answer();
    await done;
  });

  it('replicas that arrive in the same turn leave together; those that arrive while bundles are out wait for one to come back', async () => {
    const peer = new ScriptedPeer();
    const bundler = new ReplicaBundler(peer.send, { maxInFlight: 1 });
    const first = ['a', 'b'].map((k) => bundler.add('role', 'role', item(k)));
    await tick();
    assert.deepEqual(peer.sent.map((b) => b.keys), [['a', 'b']]);
    const waiting = ['c', 'd', 'e'].map((k) => bundler.add('role', 'role', item(k)));
    await tick();
    assert.equal(peer.sent.length, 1, 'nothing more leaves while the one bundle allowed is out');
    peer.sent[0]!.answer();
    await Promise.all(first);
    await tick();
    assert.deepEqual(peer.sent.map((b) => b.keys), [['a', 'b'], ['c', 'd', 'e']]);
    peer.sent[1]!.answer();
    await Promise.all(waiting);
    assert.deepEqual(bundler.stats, { bundles: 2, items: 5 });
  });

  it('a bundle holds at most maxItems replicas and maxBytes of data; a larger replica goes alone', async () => {
    const peer = new ScriptedPeer();
    const bundler = new ReplicaBundler(peer.send, { maxItems: 3, maxBytes: 100, maxInFlight: 10 });
    const all = [item('a'), item('b'), item('c'), item('d'), item('big', 500), item('e', 60), item('f', 60)].map((i) => bundler.add('role', 'role', i));
    await tick();
    assert.deepEqual(peer.sent.map((b) => b.keys), [['a', 'b', 'c'], ['d'], ['big'], ['e'], ['f']]);
    for (const b of peer.sent) b.answer();
    await Promise.all(all);
  });

  it('each replica gets its own outcome; a bundle that fails as a whole fails every replica in it', async () => {
    const peer = new ScriptedPeer();
    const bundler = new ReplicaBundler(peer.send, { maxInFlight: 1 });
    const [a, b] = ['a', 'b'].map((k) => bundler.add('role', 'role', item(k)));
    await tick();
    peer.sent[0]!.answer([undefined, new Error('denied at the destination')]);
    await a;
    await assert.rejects(b!, /denied at the destination/);

    const [c, d] = ['c', 'd'].map((k) => bundler.add('role', 'role', item(k)));
    await tick();
    peer.sent[1]!.fail(new Error('peer down'));
    await assert.rejects(c!, /peer down/);
    await assert.rejects(d!, /peer down/);

    const [e, f] = ['e', 'f'].map((k) => bundler.add('role', 'role', item(k)));
    await tick();
    peer.sent[2]!.answer([undefined]);
    await assert.rejects(e!, /1 outcomes for a bundle of 2/);
    await assert.rejects(f!, /1 outcomes for a bundle of 2/);
  });

  it('replicas signed by different role sessions never share a bundle', async () => {
    const peer = new ScriptedPeer();
    const bundler = new ReplicaBundler(peer.send);
    const all = [bundler.add('one', 'one', item('a')), bundler.add('two', 'two', item('b')), bundler.add('one', 'one', item('c'))];
    await tick();
    assert.deepEqual(
      peer.sent.map((b) => [b.creds, b.keys]),
      [
        ['one', ['a', 'c']],
        ['two', ['b']],
      ],
    );
    for (const b of peer.sent) b.answer();
    await Promise.all(all);
  });
});
