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
  /** Another region's S3 context (its store, blobs and SSE engine), if served here: cross-region copy sources. */
  region?(region: string): Promise<S3Context | undefined>;
  /** A bucket's record in any region, served here or (split mode) by a peer process. */
  bucket?(region: string, name: string): Promise<BucketRecord | undefined>;
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
  /** Tests only (MERIDIAN_TEST_MIN_PART_SIZE): the minimum size of parts but the last; AWS's 5 MiB otherwise. */
  minPartSize?: number;
}

/**
 * Authorization of further actions a request implies beyond its operation's own (DeleteObjects
 * authorizes s3:DeleteObject per key; CopyObject s3:GetObject on the source). Goes through the
 * same path as the operation's check, with the named bucket's policy.
 */
export interface RequestAuthorizer {
  require(action: string, bucket: BucketRecord, key?: string, store?: RegionMetadataStore): Promise<void>;
}

export type S3Handler = (ctx: S3Context, req: S3Request, bucket: BucketRecord | undefined, auth: RequestAuthorizer) => Promise<ServiceResponse>;
