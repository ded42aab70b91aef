import type { Clock } from '../../common/clock.js';
import type { BlobStore, BucketDirectory, BucketRecord, RegionMetadataStore } from '../../storage/types.js';
import type { Authorizer } from '../iam/authorizer.js';
import type { KmsService } from '../kms/kms-service.js';
import type { ServiceResponse } from '../protocol/response.js';
import type { S3Request } from './s3-request.js';
import type { SseEngine } from './sse.js';

/** What other regions look like to a region's S3 (in-process today, over HTTP in split mode). */
export interface S3Peers {
  /** The metadata store of the region that owns a bucket, if served here. */
  regionStore(region: string): Promise<RegionMetadataStore | undefined>;
}

/** Everything a region's S3 handlers use. Passed in: no module-level state. */
export interface S3Context {
  region: string;
  meta: RegionMetadataStore;
  blobs: BlobStore;
  kms: KmsService;
  sse: SseEngine;
  directory: BucketDirectory;
  authorizer: Authorizer;
  clock: Clock;
  peers: S3Peers;
  /** Called after a commit that queued replication work, so the worker starts at once. */
  replicationQueued(): void;
}

export type S3Handler = (ctx: S3Context, req: S3Request, bucket: BucketRecord | undefined) => Promise<ServiceResponse>;
