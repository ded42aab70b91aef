/** Contract: multipart uploads and the replication outbox (RegionMetadataStore suite). */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { NewOutboxTask, ObjectVersion, RegionMetadataStore } from '../types.js';
import { bucketRecord, fileId, filePart, objectVersion, upload, withStore, type StoreFactory } from './fixtures.js';

const B = 'mp';

function task(key: string, versionId: string, over: Partial<NewOutboxTask> = {}): NewOutboxTask {
  return { bucket: B, key, versionId, operation: 'put', destinationBucket: 'dst', ruleId: 'r1', ...over };
}

export function multipartCases(make: StoreFactory<RegionMetadataStore>): void {
  it('stores parts, replaces a part number and returns the old one, lists in order with a marker', async () => {
    await withStore(make, async (s) => {
      await s.createBucket(bucketRecord(B));
      const u = upload('u1', B, 'big', { contentType: 'video/mp4', userMetadata: { a: 'b' }, checksumAlgorithm: 'CRC32', checksumType: 'COMPOSITE',
        encryption: { algorithm: 'aws:kms', kmsKeyArn: 'arn:k', wrappedKey: Buffer.from('wk') } });
      await s.createUpload(u);
      assert.deepEqual(await s.getUpload('u1'), u);
      assert.equal(await s.getUpload('nope'), undefined);
      const originals = new Map([3, 1, 2].map((n) => [n, filePart(n, fileId(n))]));
      for (const p of originals.values()) assert.deepEqual(await s.putPart('u1', p), {});
      const inline = { partNumber: 4, size: 2, etag: 'e4', lastModified: 5, checksum: { CRC32: 'x' }, blob: { kind: 'inline' as const, data: Buffer.from('hi') } };
      await s.putPart('u1', inline);
      const again = filePart(2, fileId(22));
      const { replaced } = await s.putPart('u1', again);
      assert.deepEqual(replaced, originals.get(2));
      const parts = await s.listParts('u1');
      assert.deepEqual(parts.map((p) => p.partNumber), [1, 2, 3, 4]);
      assert.deepEqual(parts[1], again);
      assert.deepEqual(parts[3], inline);
      assert.deepEqual((await s.listParts('u1', { partNumberMarker: 1, limit: 2 })).map((p) => p.partNumber), [2, 3]);
      assert.equal(await s.isBlobReferenced(fileId(22)), true, 'parts count as references');
      await assert.rejects(s.putPart('nope', filePart(1, fileId(99))));
    });
  });

  it('lists uploads by key then creation, with prefix and both markers', async () => {
    await withStore(make, async (s) => {
      await s.createBucket(bucketRecord(B));
      for (const [id, key] of [['u1', 'b'], ['u2', 'a'], ['u3', 'b'], ['u4', 'c/x'], ['u5', 'b']]) await s.createUpload(upload(id!, B, key!));
      const list = async (o: { prefix?: string; keyMarker?: string; uploadIdMarker?: string; limit?: number }) =>
        (await s.listUploads(B, { limit: 100, ...o })).map((u) => u.uploadId);
      assert.deepEqual(await list({}), ['u2', 'u1', 'u3', 'u5', 'u4']);
      assert.deepEqual(await list({ keyMarker: 'a' }), ['u1', 'u3', 'u5', 'u4']);
      assert.deepEqual(await list({ keyMarker: 'b', uploadIdMarker: 'u1' }), ['u3', 'u5', 'u4']);
      assert.deepEqual(await list({ keyMarker: 'b', uploadIdMarker: 'u3', limit: 1 }), ['u5']);
      assert.deepEqual(await list({ prefix: 'c/' }), ['u4']);
      assert.deepEqual(await list({ limit: 2 }), ['u2', 'u1']);
    });
  });

  it('completeUpload stores the version with its outbox tasks, removes the upload and returns unused parts', async () => {
    await withStore(make, async (s) => {
      await s.createBucket(bucketRecord(B));
      await s.putObjectVersion(objectVersion(B, 'big', 'null'));
      await s.createUpload(upload('u1', B, 'big'));
      for (const n of [1, 2, 3]) await s.putPart('u1', filePart(n, fileId(n)));
      const version: ObjectVersion = objectVersion(B, 'big', 'null', {
        size: 10 * 1024 * 1024,
        etag: 'abc-2',
        parts: [1, 3].map((n) => ({ partNumber: n, size: 5 * 1024 * 1024, etag: `etag${n}`.padEnd(32, '0'), blob: { kind: 'file' as const, id: fileId(n), size: 5 * 1024 * 1024 } })),
      });
      const result = await s.completeUpload('u1', version, [task('big', 'null')]);
      assert.deepEqual(result.unusedParts.map((p) => p.partNumber), [2]);
      assert.equal(result.displaced?.versionId, 'null');
      assert.deepEqual((await s.getObjectVersion(B, 'big'))?.parts, version.parts);
      assert.equal(await s.getUpload('u1'), undefined);
      assert.deepEqual(await s.listParts('u1'), []);
      assert.equal(await s.countOutboxTasks(B), 1);
      assert.equal(await s.isBlobReferenced(fileId(1)), true, 'moved into the version');
      assert.equal(await s.isBlobReferenced(fileId(2)), false, 'unused part no longer referenced');
      await assert.rejects(s.completeUpload('u1', version), 'a second completion of the same upload fails');
    });
  });

  it('abortUpload returns the parts, or undefined for an unknown upload', async () => {
    await withStore(make, async (s) => {
      await s.createBucket(bucketRecord(B));
      await s.createUpload(upload('u1', B, 'k'));
      await s.putPart('u1', filePart(1, fileId(1)));
      assert.deepEqual((await s.abortUpload('u1'))?.map((p) => p.partNumber), [1]);
      assert.equal(await s.getUpload('u1'), undefined);
      assert.equal(await s.abortUpload('u1'), undefined);
      assert.equal(await s.isBlobReferenced(fileId(1)), false);
    });
  });
}

export function outboxCases(make: StoreFactory<RegionMetadataStore>): void {
  it('tasks commit with their version; claim orders by notBefore then id and leases', async () => {
    await withStore(make, async (s) => {
      await s.createBucket(bucketRecord(B));
      await s.putObjectVersion(objectVersion(B, 'a', 'v1'), [task('a', 'v1', { notBefore: 100 }), task('a', 'v1', { destinationBucket: 'dst2', notBefore: 50 })]);
      await s.putObjectVersion(objectVersion(B, 'b', 'v1'), [task('b', 'v1', { notBefore: 50, operation: 'delete-marker' })]);
      assert.equal(await s.countOutboxTasks(), 3);
      assert.equal(await s.countOutboxTasks('elsewhere'), 0);

      assert.deepEqual(await s.claimOutboxTasks(10, 10, 1000), [], 'nothing due yet');
      const first = await s.claimOutboxTasks(60, 10, 1000);
      assert.deepEqual(first.map((t) => [t.key, t.destinationBucket, t.operation]), [['a', 'dst2', 'put'], ['b', 'dst', 'delete-marker']]);
      assert.equal(first[0]!.attempts, 0);
      assert.equal(first[0]!.versionId, 'v1');
      assert.ok(first[0]!.id < first[1]!.id);
      const second = await s.claimOutboxTasks(200, 10, 1000);
      assert.deepEqual(second.map((t) => t.destinationBucket), ['dst'], 'leased tasks are hidden');
      await s.completeOutboxTask(second[0]!.id);
      // lease expiry: the first two come back after 60 + 1000
      const again = await s.claimOutboxTasks(1061, 10, 1000);
      assert.deepEqual(again.map((t) => t.id), first.map((t) => t.id));
      // retry: attempts + 1, new notBefore, lastError, lease released
      await s.retryOutboxTask(first[0]!.id, 5000, 'connect ECONNREFUSED');
      await s.completeOutboxTask(first[1]!.id);
      assert.equal(await s.countOutboxTasks(B), 1);
      assert.deepEqual(await s.claimOutboxTasks(4000, 10, 1000), [], 'not due before its new notBefore');
      const retried = await s.claimOutboxTasks(5000, 10, 1000);
      assert.equal(retried.length, 1);
      assert.equal(retried[0]!.attempts, 1);
      assert.equal(retried[0]!.lastError, 'connect ECONNREFUSED');
      assert.equal(retried[0]!.notBefore, 5000);
      // limit
      await s.retryOutboxTask(retried[0]!.id, 0, 'x');
      assert.equal((await s.claimOutboxTasks(9000, 1, 1000)).length, 1);
    });
  });

  it('a parked task is never claimed; a probe claims one parked task of its destination, round robin; release makes them due oldest first', async () => {
    await withStore(make, async (s) => {
      await s.createBucket(bucketRecord(B));
      await s.putObjectVersion(objectVersion(B, 'a', 'v1'), [task('a', 'v1', { notBefore: 0 }), task('a', 'v1', { destinationBucket: 'other', notBefore: 0 })]);
      await s.putObjectVersion(objectVersion(B, 'b', 'v1'), [task('b', 'v1', { notBefore: 0 })]);
      await s.putObjectVersion(objectVersion(B, 'a', 'v2'), [task('a', 'v2', { notBefore: 0 })]);
      const [a, other, b, ...rest] = await s.claimOutboxTasks(10, 10, 1000);
      assert.deepEqual([a!.key, other!.destinationBucket, b!.key], ['a', 'other', 'b']);
      assert.deepEqual(rest, [], 'a@v2 waits while a@v1 is in the outbox for its destination (per-key order)');
      const a2 = (await s.listOutboxTasks({ bucket: B, limit: 10 })).find((t) => t.versionId === 'v2');
      await s.parkOutboxTask(a!.id, 'connect ECONNREFUSED');
      await s.parkOutboxTask(b!.id, 'connect ECONNREFUSED');
      await s.parkOutboxTask(a2!.id, 'connect ECONNREFUSED');
      await s.retryOutboxTask(other!.id, 0, 'x');
      // Parked tasks are never due, whatever the time; the other destination's task is.
      assert.deepEqual((await s.claimOutboxTasks(10_000_000, 10, 1000)).map((t) => t.destinationBucket), ['other']);
      assert.deepEqual(await s.parkedOutboxDestinations(), [{ destinationBucket: 'dst', tasks: 3 }]);
      const listed = await s.listOutboxTasks({ bucket: B, limit: 10 });
      assert.deepEqual(listed.filter((t) => t.parked).map((t) => [t.key, t.attempts, t.lastError]), [['a', 1, 'connect ECONNREFUSED'], ['b', 1, 'connect ECONNREFUSED'], ['a', 1, 'connect ECONNREFUSED']]);
      assert.equal(await s.countOutboxTasks(B), 4, 'parked tasks are still pending work');

      // Probing: the oldest first, then the next after the last one probed, wrapping around; never a
      // version whose key has an older task for the destination (a@v2 waits for a@v1).
      const p1 = await s.claimParkedOutboxTask('dst', 0, 100, 1000);
      assert.equal(p1?.key, 'a');
      assert.equal(p1?.parked, true);
      assert.equal((await s.claimParkedOutboxTask('dst', p1!.id, 100, 1000))?.key, 'b');
      assert.equal(await s.claimParkedOutboxTask('dst', 0, 200, 1000), undefined, 'both held by their probe leases');
      assert.equal((await s.claimParkedOutboxTask('dst', b!.id, 2000, 1000))?.versionId, 'v1', 'wraps around after the last, skipping a@v2');
      assert.equal(await s.claimParkedOutboxTask('nowhere', 0, 2000, 1000), undefined);
      await s.parkOutboxTask(p1!.id, 'still down');

      assert.equal(await s.releaseParkedOutboxTasks('dst', 5000), 3);
      assert.deepEqual(await s.parkedOutboxDestinations(), []);
      assert.deepEqual(await s.claimOutboxTasks(4999, 10, 1000), [], 'due from the release time');
      const released = await s.claimOutboxTasks(5000, 10, 1000);
      // a@v2 is due too, but waits until a@v1 leaves the outbox (per-key order).
      assert.deepEqual(released.map((t) => [t.key, t.versionId, t.attempts, t.parked]), [['a', 'v1', 2, undefined], ['b', 'v1', 1, undefined]]);
      assert.equal(await s.releaseParkedOutboxTasks('dst', 6000), 0);
      // A retry (trouble before the destination) takes a probed task out of the parked set.
      await s.parkOutboxTask(released[1]!.id, 'down');
      const probed = await s.claimParkedOutboxTask('dst', 0, 7000, 1000);
      await s.retryOutboxTask(probed!.id, 7000, 'rule disabled');
      assert.deepEqual(await s.parkedOutboxDestinations(), []);
      assert.deepEqual((await s.claimOutboxTasks(20_000, 10, 1000)).map((t) => [t.key, t.versionId, t.notBefore]), [['a', 'v1', 5000], ['b', 'v1', 7000]]);
      await s.completeOutboxTask(released[0]!.id);
      assert.deepEqual((await s.claimOutboxTasks(20_500, 10, 1000)).map((t) => [t.key, t.versionId]), [['a', 'v2']], 'a@v1 done: a@v2 is claimed');
    });
  });

  it('releaseOutboxClaims makes leased tasks claimable at once (a new process owning the store)', async () => {
    await withStore(make, async (s) => {
      await s.createBucket(bucketRecord(B));
      await s.putObjectVersion(objectVersion(B, 'a', 'v1'), [task('a', 'v1', { notBefore: 0 })]);
      assert.equal((await s.claimOutboxTasks(10, 10, 1_000_000)).length, 1);
      assert.equal((await s.claimOutboxTasks(20, 10, 1_000_000)).length, 0, 'held by its lease');
      assert.equal(await s.releaseOutboxClaims(), 1);
      const again = await s.claimOutboxTasks(30, 10, 1_000_000);
      assert.equal(again.length, 1);
      assert.equal(again[0]!.attempts, 0, 'releasing a claim is not a failed attempt');
    });
  });

  it('a write that fails leaves neither the version nor any of its tasks', async () => {
    await withStore(make, async (s) => {
      await s.createBucket(bucketRecord(B));
      const bad = { ...task('k', 'v1', { destinationBucket: 'ok' }), destinationBucket: undefined as unknown as string };
      await assert.rejects(s.putObjectVersion(objectVersion(B, 'k', 'v1'), [task('k', 'v1'), bad]));
      assert.equal(await s.getObjectVersion(B, 'k', 'v1'), undefined);
      assert.equal(await s.countOutboxTasks(), 0);
      await assert.rejects(s.putObjectVersion(objectVersion('no-such-bucket', 'k', 'v1'), [task('k', 'v1', { bucket: 'no-such-bucket' })]));
      assert.equal(await s.countOutboxTasks(), 0);
      // the same store keeps working
      await s.putObjectVersion(objectVersion(B, 'k', 'v2'), [task('k', 'v2')]);
      assert.equal(await s.countOutboxTasks(), 1);
    });
  });

  it('a failing completeUpload keeps the upload and adds no task', async () => {
    await withStore(make, async (s) => {
      await s.createBucket(bucketRecord(B));
      await s.createUpload(upload('u1', B, 'k'));
      await s.putPart('u1', filePart(1, fileId(1)));
      const bad = { ...task('k', 'v1'), ruleId: undefined as unknown as string };
      await assert.rejects(s.completeUpload('u1', objectVersion(B, 'k', 'v1'), [bad]));
      assert.ok(await s.getUpload('u1'));
      assert.equal((await s.listParts('u1')).length, 1);
      assert.equal(await s.getObjectVersion(B, 'k'), undefined);
      assert.equal(await s.countOutboxTasks(), 0);
    });
  });

  it('backlog groups pending work by bucket, destination and rule, with bytes of object versions only', async () => {
    await withStore(make, async (s) => {
      await s.createBucket(bucketRecord(B));
      await s.putObjectVersion(objectVersion(B, 'a', 'v1', { size: 100 }), [task('a', 'v1'), task('a', 'v1', { destinationBucket: 'dst2', ruleId: 'r2' })]);
      await s.putObjectVersion(objectVersion(B, 'b', 'v1', { size: 50 }), [task('b', 'v1')]);
      await s.putObjectVersion(objectVersion(B, 'c', 'v1', { isDeleteMarker: true, size: 0, parts: [] }), [task('c', 'v1', { operation: 'delete-marker' })]);
      await s.putObjectTags(B, 'b', 'v1', { t: '1' }, [task('b', 'v1', { operation: 'tags' })]);
      const backlog = await s.replicationBacklog(B);
      assert.deepEqual(
        backlog.map((b) => [b.destinationBucket, b.ruleId, b.operations, b.bytes]),
        [['dst', 'r1', 4, 150], ['dst2', 'r2', 1, 100]],
      );
      assert.ok(backlog.every((b) => b.bucket === B && b.oldestCreatedAt > 0));
      assert.deepEqual(await s.replicationBacklog('other'), []);
      assert.equal((await s.replicationBacklog()).length, 2);
      const listed = await s.listOutboxTasks({ bucket: B, limit: 10 });
      assert.deepEqual(listed.map((t) => [t.key, t.operation]), [['a', 'put'], ['a', 'put'], ['b', 'put'], ['c', 'delete-marker'], ['b', 'tags']]);
      assert.equal((await s.listOutboxTasks({ limit: 2 })).length, 2);
      assert.deepEqual(await s.listOutboxTasks({ createdBefore: 0, limit: 10 }), []);
      // Retrying: only tasks that already failed once, oldest first.
      assert.deepEqual(await s.listOutboxTasks({ bucket: B, retrying: true, limit: 10 }), []);
      await s.retryOutboxTask(listed[2]!.id, 0, 'peer timed out');
      await s.parkOutboxTask(listed[0]!.id, 'destination unreachable');
      const retrying = await s.listOutboxTasks({ bucket: B, retrying: true, limit: 10 });
      assert.deepEqual(retrying.map((t) => [t.id, t.attempts, t.lastError]), [[listed[0]!.id, 1, 'destination unreachable'], [listed[2]!.id, 1, 'peer timed out']]);
      assert.equal((await s.listOutboxTasks({ bucket: B, retrying: true, limit: 1 })).length, 1);
    });
  });

  it('putObjectTags with tasks marks the version PENDING for their destinations, in the same write', async () => {
    await withStore(make, async (s) => {
      await s.createBucket(bucketRecord(B));
      await s.putObjectVersion(objectVersion(B, 'k', 'v1', { replicationStatus: 'COMPLETED', replicationDetail: { dst: { status: 'COMPLETED', ruleId: 'r1' } } }));
      await s.putObjectTags(B, 'k', 'v1', { a: 'b' }, [task('k', 'v1', { operation: 'tags' })]);
      const v = await s.getObjectVersion(B, 'k', 'v1');
      assert.deepEqual(v?.tags, { a: 'b' });
      assert.equal(v?.replicationStatus, 'PENDING');
      assert.deepEqual(v?.replicationDetail, { dst: { status: 'PENDING', ruleId: 'r1' } });
      assert.equal(await s.countOutboxTasks(B), 1);
    });
  });

  it('queueReplication marks an existing version PENDING (a replica stays REPLICA) and refuses a missing one', async () => {
    await withStore(make, async (s) => {
      await s.createBucket(bucketRecord(B));
      await s.putObjectVersion(objectVersion(B, 'k', 'v1', { replicationStatus: 'FAILED', replicationDetail: { dst: { status: 'FAILED', failureReason: 'DstBucketNotFound', ruleId: 'r1' } } }));
      await s.putObjectVersion(objectVersion(B, 'r', 'v1', { replicationStatus: 'REPLICA' }));
      assert.equal(await s.queueReplication(B, 'k', 'v1', [task('k', 'v1'), task('k', 'v1', { destinationBucket: 'dst2' })]), true);
      const v = await s.getObjectVersion(B, 'k', 'v1');
      assert.equal(v?.replicationStatus, 'PENDING');
      assert.deepEqual(v?.replicationDetail, { dst: { status: 'PENDING', ruleId: 'r1' }, dst2: { status: 'PENDING', ruleId: 'r1' } });
      assert.equal(await s.queueReplication(B, 'r', 'v1', [task('r', 'v1')]), true);
      assert.equal((await s.getObjectVersion(B, 'r', 'v1'))?.replicationStatus, 'REPLICA');
      assert.equal(await s.queueReplication(B, 'gone', 'v1', [task('gone', 'v1')]), false);
      assert.equal(await s.countOutboxTasks(B), 3);
    });
  });

  it('replicationFailures counts FAILED destinations by reason', async () => {
    await withStore(make, async (s) => {
      await s.createBucket(bucketRecord(B));
      const failed = (reason: string, other?: string) => ({
        replicationStatus: 'FAILED' as const,
        replicationDetail: { dst: { status: 'FAILED' as const, failureReason: reason, ruleId: 'r1' }, ...(other ? { dst2: { status: 'FAILED' as const, failureReason: other } } : { dst2: { status: 'COMPLETED' as const } }) },
      });
      await s.putObjectVersion(objectVersion(B, 'a', 'v1', failed('DstPutObjectNotPermitted')));
      await s.putObjectVersion(objectVersion(B, 'b', 'v1', failed('DstPutObjectNotPermitted', 'DstBucketNotFound')));
      await s.putObjectVersion(objectVersion(B, 'c', 'v1', { replicationStatus: 'COMPLETED', replicationDetail: { dst: { status: 'COMPLETED' } } }));
      const counts = (await s.replicationFailures(B)).map((c) => [c.destinationBucket, c.reason, c.count, c.ruleId]).sort();
      assert.deepEqual(counts, [['dst', 'DstPutObjectNotPermitted', 2, 'r1'], ['dst2', 'DstBucketNotFound', 1, undefined]]);
    });
  });

  it('completeOutboxTask with an outcome records the state and removes the task in one write', async () => {
    await withStore(make, async (s) => {
      await s.createBucket(bucketRecord(B));
      await s.putObjectVersion(objectVersion(B, 'k', 'v1', { replicationStatus: 'PENDING', replicationDetail: { dst: { status: 'PENDING', ruleId: 'r1' }, dst2: { status: 'PENDING', ruleId: 'r1' } } }), [task('k', 'v1'), task('k', 'v1', { destinationBucket: 'dst2' })]);
      const [a, b] = await s.claimOutboxTasks(Date.now() + 1000, 10, 1000);
      await s.completeOutboxTask(a!.id, { bucket: B, key: 'k', versionId: 'v1', status: 'COMPLETED', destination: a!.destinationBucket, ruleId: 'r1' });
      assert.equal((await s.getObjectVersion(B, 'k', 'v1'))?.replicationStatus, 'PENDING', 'one destination still pending');
      await s.completeOutboxTask(b!.id, { bucket: B, key: 'k', versionId: 'v1', status: 'FAILED', destination: b!.destinationBucket, failureReason: 'DstBucketNotFound' });
      const v = await s.getObjectVersion(B, 'k', 'v1');
      assert.equal(v?.replicationStatus, 'FAILED');
      assert.deepEqual(v?.replicationDetail?.[b!.destinationBucket], { status: 'FAILED', failureReason: 'DstBucketNotFound', ruleId: 'r1' });
      assert.equal(await s.countOutboxTasks(), 0);
    });
  });
}
