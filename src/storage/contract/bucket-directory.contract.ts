/** The BucketDirectory contract: one global namespace of bucket names. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BucketDirectory } from '../types.js';
import { withStore, type StoreFactory } from './fixtures.js';

export function runBucketDirectoryContract(name: string, make: StoreFactory<BucketDirectory>): void {
  describe(`BucketDirectory contract: ${name}`, () => {
    it('claims, looks up, lists by owner and releases names', async () => {
      await withStore(make, async (d) => {
        assert.equal(await d.claim({ name: 'zeta', region: 'us-east-2', ownerAccountId: 'A' }), true);
        assert.equal(await d.claim({ name: 'alpha', region: 'us-east-1', ownerAccountId: 'A' }), true);
        assert.equal(await d.claim({ name: 'other', region: 'eu-west-1', ownerAccountId: 'B' }), true);
        assert.deepEqual(await d.lookup('zeta'), { name: 'zeta', region: 'us-east-2', ownerAccountId: 'A' });
        assert.equal(await d.lookup('nope'), undefined);
        assert.deepEqual((await d.listByOwner('A')).map((e) => e.name), ['alpha', 'zeta']);
        assert.equal(await d.claim({ name: 'zeta', region: 'us-east-1', ownerAccountId: 'B' }), false, 'taken by anyone is taken');
        await d.release('zeta');
        assert.equal(await d.lookup('zeta'), undefined);
        assert.equal(await d.claim({ name: 'zeta', region: 'us-east-1', ownerAccountId: 'B' }), true);
      });
    });

    it('of concurrent claims of one name exactly one wins', async () => {
      await withStore(make, async (d) => {
        for (let round = 0; round < 5; round++) {
          const name = `race-${round}`;
          const results = await Promise.all(
            Array.from({ length: 10 }, (_, i) => d.claim({ name, region: `r${i}`, ownerAccountId: `acct${i}` })),
          );
          assert.equal(results.filter(Boolean).length, 1);
          const winner = results.indexOf(true);
          assert.deepEqual(await d.lookup(name), { name, region: `r${winner}`, ownerAccountId: `acct${winner}` });
        }
      });
    });
  });
}
