/** Contract: buckets and their configurations, replication status aggregation (RegionMetadataStore suite). */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { RegionMetadataStore } from '../types.js';
import { bucketRecord, deleteMarker, objectVersion, upload, withStore, type StoreFactory } from './fixtures.js';

export function bucketCases(make: StoreFactory<RegionMetadataStore>): void {
  it('creates, reads, patches and deletes bucket records', async () => {
    await withStore(make, async (s) => {
      const b = bucketRecord('photos', { versioning: 'Unversioned', locationConstraint: 'EU', objectOwnership: 'BucketOwnerEnforced' });
      await s.createBucket(b);
      assert.deepEqual(await s.getBucket('photos'), b);
      assert.equal(await s.getBucket('nope'), undefined);
      await s.updateBucket('photos', { versioning: 'Enabled' });
      assert.deepEqual(await s.getBucket('photos'), { ...b, versioning: 'Enabled' });
      await s.deleteBucket('photos');
      assert.equal(await s.getBucket('photos'), undefined);
    });
  });

  it('listBuckets lists every bucket of the region by name', async () => {
    await withStore(make, async (s) => {
      assert.deepEqual(await s.listBuckets(), []);
      await s.createBucket(bucketRecord('zeta'));
      await s.createBucket(bucketRecord('alpha'));
      assert.deepEqual((await s.listBuckets()).map((b) => b.name), ['alpha', 'zeta']);
    });
  });

  it('keeps JSON configurations per (bucket, kind); deleting the bucket deletes them', async () => {
    await withStore(make, async (s) => {
      await s.createBucket(bucketRecord('b1'));
      await s.createBucket(bucketRecord('b2'));
      const repl = { Role: 'arn:aws:iam::1:role/r', Rules: [{ ID: 'r1', Priority: 1 }] };
      await s.putBucketConfig('b1', 'replication', repl);
      await s.putBucketConfig('b1', 'policy', { Version: '2012-10-17' });
      assert.deepEqual(await s.getBucketConfig('b1', 'replication'), repl);
      assert.equal(await s.getBucketConfig('b2', 'replication'), undefined);
      await s.putBucketConfig('b1', 'policy', { Version: '2008-10-17' });
      assert.deepEqual(await s.getBucketConfig('b1', 'policy'), { Version: '2008-10-17' });
      await s.deleteBucketConfig('b1', 'policy');
      assert.equal(await s.getBucketConfig('b1', 'policy'), undefined);
      await s.deleteBucket('b1');
      await s.createBucket(bucketRecord('b1'));
      assert.equal(await s.getBucketConfig('b1', 'replication'), undefined);
    });
  });

  it('bucketHasContent counts versions, delete markers and uploads', async () => {
    await withStore(make, async (s) => {
      await s.createBucket(bucketRecord('b'));
      assert.equal(await s.bucketHasContent('b'), false);
      await s.putObjectVersion(objectVersion('b', 'k', 'v1'));
      assert.equal(await s.bucketHasContent('b'), true);
      await s.putObjectVersion(deleteMarker('b', 'k', 'dm'));
      await s.deleteObjectVersion('b', 'k', 'v1');
      assert.equal(await s.bucketHasContent('b'), true, 'a lone delete marker is content');
      await s.deleteObjectVersion('b', 'k', 'dm');
      assert.equal(await s.bucketHasContent('b'), false);
      await s.createUpload(upload('u1', 'b', 'k'));
      assert.equal(await s.bucketHasContent('b'), true, 'an upload in progress is content');
      await s.abortUpload('u1');
      assert.equal(await s.bucketHasContent('b'), false);
    });
  });
}

export function replicationStatusCases(make: StoreFactory<RegionMetadataStore>): void {
  it('aggregates per-destination replication states: FAILED > PENDING > COMPLETED', async () => {
    await withStore(make, async (s) => {
      await s.createBucket(bucketRecord('src'));
      await s.putObjectVersion(
        objectVersion('src', 'k', 'v1', {
          replicationStatus: 'PENDING',
          replicationDetail: { d1: { status: 'PENDING', ruleId: 'r1' }, d2: { status: 'PENDING', ruleId: 'r2' } },
        }),
      );
      const get = () => s.getObjectVersion('src', 'k', 'v1');
      await s.updateReplication('src', 'k', 'v1', { status: 'COMPLETED', destination: 'd1' });
      assert.equal((await get())?.replicationStatus, 'PENDING');
      assert.deepEqual((await get())?.replicationDetail?.d1, { status: 'COMPLETED', ruleId: 'r1' }, 'ruleId is kept');
      await s.updateReplication('src', 'k', 'v1', { status: 'COMPLETED', destination: 'd2' });
      assert.equal((await get())?.replicationStatus, 'COMPLETED');
      await s.updateReplication('src', 'k', 'v1', { status: 'FAILED', destination: 'd2', failureReason: 'DstKmsKeyNotFound' });
      assert.equal((await get())?.replicationStatus, 'FAILED');
      assert.deepEqual((await get())?.replicationDetail?.d2, { status: 'FAILED', failureReason: 'DstKmsKeyNotFound', ruleId: 'r2' });
      // a new destination merges in beside the others
      await s.updateReplication('src', 'k', 'v1', { status: 'PENDING', destination: 'd3', ruleId: 'r3' });
      assert.deepEqual(Object.keys((await get())!.replicationDetail!).sort(), ['d1', 'd2', 'd3']);
      assert.equal((await get())?.replicationStatus, 'FAILED');
      // without a destination the status is set as given
      await s.updateReplication('src', 'k', 'v1', { status: 'COMPLETED' });
      assert.equal((await get())?.replicationStatus, 'COMPLETED');
      // a version that is gone is ignored
      await s.updateReplication('src', 'gone', 'v1', { status: 'COMPLETED', destination: 'd1' });
    });
  });

  it('a REPLICA stays REPLICA whatever its destinations report', async () => {
    await withStore(make, async (s) => {
      await s.createBucket(bucketRecord('dst'));
      await s.putObjectVersion(objectVersion('dst', 'k', 'v1', { replicationStatus: 'REPLICA' }));
      await s.updateReplication('dst', 'k', 'v1', { status: 'FAILED', destination: 'back' });
      const v = await s.getObjectVersion('dst', 'k', 'v1');
      assert.equal(v?.replicationStatus, 'REPLICA');
      assert.equal(v?.replicationDetail?.back?.status, 'FAILED');
    });
  });
}
