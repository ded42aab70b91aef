/**
 * Lifecycle expiration run twice over the same history at once (two gateways whose leadership
 * overlapped, or a sweep and a takeover): the current version expires once, leaving one delete
 * marker, because the marker is written only if the version judged due is still current at commit.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { createFsBlobStore, openRegionMetadataStore } from '../../storage/index.js';
import { applyLifecycle } from './lifecycle.js';
import type { LifecycleRule } from './lifecycle-config.js';
import type { S3Context } from './s3-context.js';

const DAY_MS = 86_400_000;

it('two concurrent expiration runs over one versioned key write one delete marker', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-lifecycle-'));
  const meta = openRegionMetadataStore(join(dir, 'meta.db'), 'us-east-1');
  const blobs = createFsBlobStore(join(dir, 'blobs'));
  try {
    const now = 10 * DAY_MS;
    const bucket = { name: 'expiring', region: 'us-east-1', ownerAccountId: '111122223333', createdAt: 0, versioning: 'Enabled' as const, locationConstraint: '' };
    await meta.createBucket(bucket);
    await meta.putObjectVersion({
      bucket: bucket.name,
      key: 'old',
      versionId: 'v1',
      isDeleteMarker: false,
      lastModified: 0,
      size: 0,
      etag: 'd41d8cd98f00b204e9800998ecf8427e',
      ownerAccountId: bucket.ownerAccountId,
      storageClass: 'STANDARD',
      systemMetadata: {},
      userMetadata: {},
      parts: [],
    });
    const rules: LifecycleRule[] = [{ id: 'expire', status: 'Enabled', expiration: { days: 1 }, transitions: [], noncurrentTransitions: [] }];
    // The parts of S3Context expiration uses: the store, the blobs and the clock (delete markers made by lifecycle are not replicated).
    const ctx = { region: 'us-east-1', meta, blobs, clock: { now: () => now }, replicationQueued: () => undefined } as unknown as S3Context;
    const [a, b] = await Promise.all([applyLifecycle(ctx, bucket, rules, now), applyLifecycle(ctx, bucket, rules, now)]);
    assert.equal(a.expired + b.expired, 1, 'one run expired the object, the other found it already expired');
    const versions = await meta.listVersions(bucket.name, { limit: 10 });
    assert.deepEqual(
      versions.map((v) => [v.versionId === 'v1' ? 'v1' : 'marker', v.isDeleteMarker]),
      [
        ['marker', true],
        ['v1', false],
      ],
    );
  } finally {
    await meta.close();
    await blobs.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
