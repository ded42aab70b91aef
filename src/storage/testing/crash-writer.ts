/**
 * Child process of the durability test: writes object versions (inline and file blobs, each with an
 * outbox task) as fast as it can and prints `ACK <key> <versionId> <sha256> <size>` for each one only
 * after its putObjectVersion promise resolved. The parent SIGKILLs it at a random moment.
 *
 * Usage: node --import tsx crash-writer.ts <data dir> <key prefix>
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { join } from 'node:path';
import { createFsBlobStore, openRegionMetadataStore } from '../index.js';

const [dir, prefix] = process.argv.slice(2);
if (!dir || !prefix) throw new Error('usage: crash-writer.ts <data dir> <key prefix>');

const BUCKET = 'crash';
const store = openRegionMetadataStore(join(dir, 'region.db'), 'us-east-1');
const blobs = createFsBlobStore(join(dir, 'blobs'), { inlineThreshold: 16 * 1024 });
if (!(await store.getBucket(BUCKET))) {
  await store.createBucket({ name: BUCKET, region: 'us-east-1', ownerAccountId: '1', createdAt: 0, versioning: 'Enabled', locationConstraint: '' });
}

let n = 0;
async function writeOne(): Promise<void> {
  const key = `${prefix}-${++n}`;
  const versionId = `v${n}`;
  const size = randomInt(10) < 7 ? randomInt(1, 16 * 1024) : randomInt(16 * 1024 + 1, 300 * 1024);
  const data = randomBytes(size);
  const w = blobs.createWriter();
  for (let i = 0; i < size; i += 64 * 1024) await w.write(data.subarray(i, i + 64 * 1024));
  const blob = await w.finish();
  await store.putObjectVersion(
    {
      bucket: BUCKET,
      key,
      versionId,
      isDeleteMarker: false,
      lastModified: Date.now(),
      size,
      etag: createHash('md5').update(data).digest('hex'),
      ownerAccountId: '1',
      storageClass: 'STANDARD',
      systemMetadata: {},
      userMetadata: {},
      parts: [{ partNumber: 0, size, blob }],
    },
    [{ bucket: BUCKET, key, versionId, operation: 'put', destinationBucket: 'dst', ruleId: 'r' }],
  );
  // Only now is the version durable: acknowledge it.
  process.stdout.write(`ACK ${key} ${versionId} ${createHash('sha256').update(data).digest('hex')} ${size}\n`);
}

async function worker(): Promise<never> {
  for (;;) await writeOne();
}

await Promise.all(Array.from({ length: 16 }, worker));
