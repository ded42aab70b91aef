/** The KmsKeyStore contract. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KmsKeyRecord, KmsKeyStore } from '../types.js';
import { withStore, type StoreFactory } from './fixtures.js';

const A = '111122223333';

function key(keyId: string, over: Partial<KmsKeyRecord> = {}): KmsKeyRecord {
  return {
    keyId,
    arn: `arn:aws:kms:us-east-1:${A}:key/${keyId}`,
    accountId: A,
    region: 'us-east-1',
    createdAt: 1000,
    description: '',
    keyState: 'Enabled',
    keyUsage: 'ENCRYPT_DECRYPT',
    keySpec: 'SYMMETRIC_DEFAULT',
    origin: 'AWS_KMS',
    keyManager: 'CUSTOMER',
    multiRegion: false,
    policy: '{"Version":"2012-10-17","Statement":[]}',
    tags: [],
    rotationEnabled: false,
    materials: [{ id: 'a'.repeat(64), wrapped: Buffer.from([1, 2, 3, 0, 255]), createdAt: 1000 }],
    ...over,
  };
}

export function runKmsKeyStoreContract(name: string, make: StoreFactory<KmsKeyStore>): void {
  describe(`KmsKeyStore contract: ${name}`, () => {
    it('stores keys with their wrapped material and lists them per account, oldest first', async () => {
      await withStore(make, async (s) => {
        const k1 = key('k1', { createdAt: 2000, tags: [{ TagKey: 'a', TagValue: 'b' }], description: 'first' });
        const k2 = key('mrk-0123456789abcdef0123456789abcdef', { multiRegion: true });
        await s.createKey(k1);
        await s.createKey(k2);
        await s.createKey(key('other', { accountId: '999988887777' }));
        assert.deepEqual(await s.getKey(A, 'k1'), k1);
        assert.equal(await s.getKey('999988887777', 'k1'), undefined, 'keys are per account');
        assert.deepEqual((await s.listKeys(A)).map((k) => k.keyId), [k2.keyId, 'k1']);
        await assert.rejects(s.createKey(k1), 'duplicate key id');
      });
    });

    it('patches keys: state, deletion date, rotation, new material', async () => {
      await withStore(make, async (s) => {
        const k = key('k1');
        await s.createKey(k);
        await s.updateKey(A, 'k1', { keyState: 'PendingDeletion', deletionDate: 5000, pendingWindowInDays: 7 });
        assert.deepEqual(await s.getKey(A, 'k1'), { ...k, keyState: 'PendingDeletion', deletionDate: 5000, pendingWindowInDays: 7 });
        await s.updateKey(A, 'k1', { keyState: 'Enabled', deletionDate: undefined, pendingWindowInDays: undefined });
        assert.deepEqual(await s.getKey(A, 'k1'), k, 'undefined in a patch removes the field');
        const materials = [...k.materials, { id: 'b'.repeat(64), wrapped: Buffer.from('new'), createdAt: 3000, rotationType: 'ON_DEMAND' as const }];
        await s.updateKey(A, 'k1', { materials, rotationEnabled: true, rotationPeriodInDays: 365 });
        const got = await s.getKey(A, 'k1');
        assert.deepEqual(got?.materials, materials);
        assert.equal(got?.rotationPeriodInDays, 365);
      });
    });

    it('a conditional patch applies only while its predicate holds for the stored key: two rotations guarded by the date they saw, one wins', async () => {
      await withStore(make, async (s) => {
        const k = key('k1', { rotationEnabled: true, rotationPeriodInDays: 365, nextRotationAt: 5000 });
        await s.createKey(k);
        const rotation = (id: string) =>
          s.updateKey(A, 'k1', { nextRotationAt: 9000, materials: [...k.materials, { id, wrapped: Buffer.from(id), createdAt: 5000, rotationType: 'AUTOMATIC' }] }, (cur) => cur.nextRotationAt === 5000);
        const applied = await Promise.all([rotation('b'.repeat(64)), rotation('c'.repeat(64))]);
        assert.deepEqual(applied.filter(Boolean).length, 1, 'exactly one of two concurrent guarded rotations applies');
        const got = await s.getKey(A, 'k1');
        assert.equal(got?.materials.length, 2);
        assert.equal(got?.nextRotationAt, 9000);
        assert.equal(await s.updateKey(A, 'missing', { description: 'x' }), false, 'no such key');
        assert.equal(await s.updateKey(A, 'k1', { description: 'x' }), true);
      });
    });

    it('aliases: create once, retarget, list by name, delete; deleting a key drops its aliases', async () => {
      await withStore(make, async (s) => {
        await s.createKey(key('k1'));
        await s.createKey(key('k2'));
        const alias = { aliasName: 'alias/app', accountId: A, targetKeyId: 'k1', createdAt: 1, updatedAt: 1 };
        assert.equal(await s.createAlias(alias), true);
        assert.equal(await s.createAlias({ ...alias, targetKeyId: 'k2' }), false);
        assert.equal(await s.createAlias({ ...alias, aliasName: 'alias/a-first', targetKeyId: 'k2' }), true);
        assert.deepEqual(await s.getAlias(A, 'alias/app'), alias);
        assert.equal(await s.getAlias('999988887777', 'alias/app'), undefined);
        await s.updateAlias(A, 'alias/app', 'k2', 9);
        assert.deepEqual(await s.getAlias(A, 'alias/app'), { ...alias, targetKeyId: 'k2', updatedAt: 9 });
        assert.deepEqual((await s.listAliases(A)).map((a) => a.aliasName), ['alias/a-first', 'alias/app']);
        await s.deleteAlias(A, 'alias/a-first');
        assert.deepEqual((await s.listAliases(A)).map((a) => a.aliasName), ['alias/app']);
        await s.deleteKey(A, 'k2');
        assert.equal(await s.getKey(A, 'k2'), undefined);
        assert.deepEqual(await s.listAliases(A), []);
        assert.ok(await s.getKey(A, 'k1'));
      });
    });

    it('grants: per key, by token, by retiring principal; deleting a key drops its grants; every key of every account', async () => {
      await withStore(make, async (s) => {
        await s.createKey(key('k1'));
        await s.createKey(key('k2', { accountId: '999988887777' }));
        const g = {
          grantId: 'g'.repeat(64),
          grantToken: 'token-1',
          accountId: A,
          keyId: 'k1',
          createdAt: 5,
          granteePrincipal: `arn:aws:iam::${A}:role/app`,
          retiringPrincipal: `arn:aws:iam::${A}:role/ops`,
          issuingAccount: `arn:aws:iam::${A}:root`,
          operations: ['Decrypt', 'Encrypt'],
          constraints: { EncryptionContextSubset: { dept: 'a' } },
        };
        const g2 = { ...g, grantId: 'h'.repeat(64), grantToken: 'token-2', createdAt: 6, name: 'second' };
        delete (g2 as Partial<typeof g2>).retiringPrincipal;
        await s.createGrant(g);
        await s.createGrant(g2);
        await assert.rejects(s.createGrant({ ...g, grantId: 'i'.repeat(64) }), 'grant tokens are unique');
        assert.deepEqual(await s.listGrants(A, 'k1'), [g, g2]);
        assert.deepEqual(await s.getGrantByToken('token-2'), g2);
        assert.equal(await s.getGrantByToken('nope'), undefined);
        assert.deepEqual(await s.listRetirableGrants(`arn:aws:iam::${A}:role/ops`), [g]);
        assert.deepEqual((await s.listAllKeys()).map((k) => k.keyId).sort(), ['k1', 'k2']);
        assert.equal(await s.deleteGrant(A, 'k1', g.grantId), true);
        assert.equal(await s.deleteGrant(A, 'k1', g.grantId), false);
        await s.deleteKey(A, 'k1');
        assert.deepEqual(await s.listGrants(A, 'k1'), []);
        assert.equal(await s.getGrantByToken('token-2'), undefined);
      });
    });
  });
}
