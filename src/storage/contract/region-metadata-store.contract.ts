/**
 * The RegionMetadataStore contract: every implementation (SQLite now, PostgreSQL later) runs it.
 * Cases are grouped by concern in the sibling *.contract.ts files.
 */
import { describe } from 'node:test';
import type { RegionMetadataStore } from '../types.js';
import type { StoreFactory } from './fixtures.js';
import { bucketCases, replicationStatusCases } from './region-buckets-replication.contract.js';
import { historyPropertyCases } from './region-history.contract.js';
import { conditionCases } from './region-conditions.contract.js';
import { multipartCases, outboxCases } from './region-multipart-outbox.contract.js';
import { objectVersionCases } from './region-objects.contract.js';

export function runRegionMetadataStoreContract(name: string, make: StoreFactory<RegionMetadataStore>): void {
  describe(`RegionMetadataStore contract: ${name}`, () => {
    describe('buckets', () => bucketCases(make));
    describe('object versions', () => objectVersionCases(make));
    describe('version history (property)', () => historyPropertyCases(make));
    describe('replication status', () => replicationStatusCases(make));
    describe('multipart uploads', () => multipartCases(make));
    describe('replication outbox', () => outboxCases(make));
    describe('conditional writes and completion checks', () => conditionCases(make));
  });
}
