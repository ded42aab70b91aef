/**
 * Contract: conditional writes and the checks CompleteMultipartUpload needs, decided inside the
 * store's commit (RegionMetadataStore suite). A failed check writes nothing.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { UploadNotFound, UploadPartChanged, WriteConditionFailed } from '../errors.js';
import type { ObjectVersion, RegionMetadataStore, UploadedPart } from '../types.js';
import { bucketRecord, deleteMarker, fileId, filePart, objectVersion, upload, withStore, type StoreFactory } from './fixtures.js';

const B = 'cond';

async function withBucket(make: StoreFactory<RegionMetadataStore>, fn: (s: RegionMetadataStore) => Promise<void>): Promise<void> {
  await withStore(make, async (s) => {
    await s.createBucket(bucketRecord(B));
    await fn(s);
  });
}

function failedWith(current: { etag: string } | undefined) {
  return (e: unknown) => {
    assert.ok(e instanceof WriteConditionFailed, String(e));
    assert.deepEqual(e.current, current);
    return true;
  };
}

function completed(key: string, versionId: string, parts: UploadedPart[]): ObjectVersion {
  return objectVersion(B, key, versionId, {
    etag: 'multi-1',
    size: parts.reduce((n, p) => n + p.size, 0),
    parts: parts.map((p) => ({ partNumber: p.partNumber, size: p.size, etag: p.etag, blob: p.blob })),
  });
}

export function conditionCases(make: StoreFactory<RegionMetadataStore>): void {
  it('if-none-match commits only while the key has no current object (a delete marker counts as none)', async () => {
    await withBucket(make, async (s) => {
      await s.putObjectVersion(objectVersion(B, 'k', 'v1', { etag: 'e1' }), [], { kind: 'if-none-match' });
      await assert.rejects(s.putObjectVersion(objectVersion(B, 'k', 'v2'), [], { kind: 'if-none-match' }), failedWith({ etag: 'e1' }));
      assert.equal((await s.getObjectVersion(B, 'k'))?.versionId, 'v1', 'nothing written');
      assert.equal(await s.getObjectVersion(B, 'k', 'v2'), undefined);
      await s.putObjectVersion(deleteMarker(B, 'k', 'dm'));
      await s.putObjectVersion(objectVersion(B, 'k', 'v3'), [], { kind: 'if-none-match' });
      assert.equal((await s.getObjectVersion(B, 'k'))?.versionId, 'v3');
    });
  });

  it('if-match commits only over a current object with that ETag', async () => {
    await withBucket(make, async (s) => {
      await assert.rejects(s.putObjectVersion(objectVersion(B, 'k', 'v1'), [], { kind: 'if-match', etag: 'e0' }), failedWith(undefined));
      await s.putObjectVersion(objectVersion(B, 'k', 'v1', { etag: 'e1' }));
      await assert.rejects(s.putObjectVersion(objectVersion(B, 'k', 'v2', { etag: 'e2' }), [], { kind: 'if-match', etag: 'e0' }), failedWith({ etag: 'e1' }));
      await s.putObjectVersion(objectVersion(B, 'k', 'v2', { etag: 'e2' }), [], { kind: 'if-match', etag: 'e1' });
      await s.putObjectVersion(deleteMarker(B, 'k', 'dm'));
      await assert.rejects(s.putObjectVersion(objectVersion(B, 'k', 'v3'), [], { kind: 'if-match', etag: 'e2' }), failedWith(undefined));
      assert.equal(await s.countOutboxTasks(), 0);
    });
  });

  it('of many if-none-match writes of one new key issued together, exactly one commits', async () => {
    await withBucket(make, async (s) => {
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => s.putObjectVersion(objectVersion(B, 'lock', `v${i}`, { etag: `e${i}` }), [], { kind: 'if-none-match' })),
      );
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      assert.equal(won.length, 1);
      for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof WriteConditionFailed);
      assert.equal((await s.getObjectVersion(B, 'lock'))?.versionId, `v${won[0]}`);
      assert.equal((await s.listVersions(B, { limit: 100 })).length, 1);
    });
  });

  it('completeUpload checks its condition at commit and keeps the upload when it fails', async () => {
    await withBucket(make, async (s) => {
      await s.putObjectVersion(objectVersion(B, 'k', 'v1', { etag: 'e1' }));
      await s.createUpload(upload('u1', B, 'k'));
      const part = filePart(1, fileId(1));
      await s.putPart('u1', part);
      await assert.rejects(s.completeUpload('u1', completed('k', 'v2', [part]), [], { kind: 'if-none-match' }), failedWith({ etag: 'e1' }));
      await assert.rejects(s.completeUpload('u1', completed('k', 'v2', [part]), [], { kind: 'if-match', etag: 'other' }), failedWith({ etag: 'e1' }));
      assert.ok(await s.getUpload('u1'));
      assert.equal((await s.getObjectVersion(B, 'k'))?.versionId, 'v1');
      await s.completeUpload('u1', completed('k', 'v2', [part]), [], { kind: 'if-match', etag: 'e1' });
      assert.equal((await s.getObjectVersion(B, 'k'))?.versionId, 'v2');
    });
  });

  it('completeUpload refuses an unknown upload and a part replaced since it was read', async () => {
    await withBucket(make, async (s) => {
      await assert.rejects(s.completeUpload('nope', completed('k', 'v1', [])), UploadNotFound);
      await s.createUpload(upload('u1', B, 'k'));
      const first = filePart(1, fileId(1));
      await s.putPart('u1', first);
      // An UploadPart of the same number lands between the caller's listParts and its commit.
      const { replaced } = await s.putPart('u1', filePart(1, fileId(2)));
      assert.deepEqual(replaced, first);
      await assert.rejects(s.completeUpload('u1', completed('k', 'v1', [first])), (e: unknown) => e instanceof UploadPartChanged && e.partNumber === 1);
      assert.ok(await s.getUpload('u1'), 'nothing written');
      assert.equal(await s.getObjectVersion(B, 'k'), undefined);
      await assert.rejects(s.completeUpload('u1', completed('k', 'v1', [filePart(2, fileId(3))])), UploadPartChanged, 'a part never uploaded');
      await s.completeUpload('u1', completed('k', 'v1', [filePart(1, fileId(2))]));
      assert.equal(await s.isBlobReferenced(fileId(2)), true);
      assert.equal(await s.isBlobReferenced(fileId(1)), false);
    });
  });

  it('completeUpload leaves a record of what it produced, until pruned; deleting the bucket drops it', async () => {
    await withBucket(make, async (s) => {
      await s.createUpload(upload('u1', B, 'k'));
      const part = filePart(1, fileId(1));
      await s.putPart('u1', part);
      const version = completed('k', 'v1', [part]);
      version.checksum = { algorithm: 'CRC32', value: 'AAAAAA==-1', type: 'COMPOSITE' };
      version.encryption = { algorithm: 'aws:kms', kmsKeyArn: 'arn:k', bucketKeyEnabled: true, wrappedKey: Buffer.from('secret'), context: { a: 'b' } };
      assert.equal(await s.getCompletedUpload('u1'), undefined);
      await s.completeUpload('u1', version);
      assert.deepEqual(await s.getCompletedUpload('u1'), {
        uploadId: 'u1',
        bucket: B,
        key: 'k',
        versionId: 'v1',
        etag: version.etag,
        checksum: version.checksum,
        encryption: { algorithm: 'aws:kms', kmsKeyArn: 'arn:k', bucketKeyEnabled: true },
        completedAt: version.lastModified,
      });
      assert.equal(await s.bucketHasContent(B), true);
      assert.equal(await s.pruneCompletedUploads(version.lastModified), 0, 'not older than the cutoff');
      assert.equal(await s.pruneCompletedUploads(version.lastModified + 1), 1);
      assert.equal(await s.getCompletedUpload('u1'), undefined);

      await s.createUpload(upload('u2', B, 'k2'));
      const p2 = filePart(1, fileId(2));
      await s.putPart('u2', p2);
      await s.completeUpload('u2', completed('k2', 'v2', [p2]));
      await s.deleteObjectVersion(B, 'k', 'v1');
      await s.deleteObjectVersion(B, 'k2', 'v2');
      assert.equal(await s.bucketHasContent(B), false, 'a completion record is not content');
      await s.deleteBucket(B);
      assert.equal(await s.getCompletedUpload('u2'), undefined);
    });
  });
}
