/** Runs every storage contract against the SQLite implementations, each test on fresh files. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBucketDirectoryContract } from './contract/bucket-directory.contract.js';
import { runIamStoreContract } from './contract/iam-store.contract.js';
import { runKmsKeyStoreContract } from './contract/kms-key-store.contract.js';
import { runRegionMetadataStoreContract } from './contract/region-metadata-store.contract.js';
import { openGlobalStores, openKmsKeyStore, openRegionMetadataStore } from './index.js';

async function tempDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-storage-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

runRegionMetadataStoreContract('sqlite', async () => {
  const t = await tempDir();
  const store = openRegionMetadataStore(join(t.dir, 'region.db'), 'us-east-1');
  return { store, cleanup: async () => (await store.close(), await t.remove()) };
});

runKmsKeyStoreContract('sqlite (in the region database)', async () => {
  const t = await tempDir();
  const region = openRegionMetadataStore(join(t.dir, 'region.db'), 'us-east-1');
  return { store: openKmsKeyStore(region), cleanup: async () => (await region.close(), await t.remove()) };
});

runBucketDirectoryContract('sqlite (global database)', async () => {
  const t = await tempDir();
  const g = openGlobalStores(join(t.dir, 'global.db'));
  return { store: g.directory, cleanup: async () => (await g.close(), await t.remove()) };
});

runIamStoreContract('sqlite (global database)', async () => {
  const t = await tempDir();
  const g = openGlobalStores(join(t.dir, 'global.db'));
  return { store: g.iam, cleanup: async () => (await g.close(), await t.remove()) };
});
