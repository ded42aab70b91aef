/**
 * Errors a store raises for conditions its callers must tell apart (and answer as AWS does): they
 * are decided inside the store's commit, where nothing can change between the check and the write.
 */
import type { WriteCondition } from './types.js';

/** A conditional write (If-None-Match / If-Match) whose condition did not hold at commit. Nothing was written. */
export class WriteConditionFailed extends Error {
  constructor(
    readonly condition: WriteCondition,
    /** What the key held at commit: a current object (with its ETag) or none (nothing, or a delete marker). */
    readonly current: { etag: string } | undefined,
  ) {
    super(`conditional write failed: ${condition.kind}${condition.kind === 'if-match' ? ` ${condition.etag}` : ''}, current ${current ? `ETag ${current.etag}` : 'object missing'}`);
    this.name = 'WriteConditionFailed';
  }
}

/** The multipart upload does not exist (never did, completed or aborted). Nothing was written. */
export class UploadNotFound extends Error {
  constructor(readonly uploadId: string) {
    super(`no such upload: ${uploadId}`);
    this.name = 'UploadNotFound';
  }
}

/**
 * CompleteMultipartUpload named a part whose record changed since the caller read it (an UploadPart
 * of the same number replaced it meanwhile). Nothing was written; the caller re-reads the parts.
 */
export class UploadPartChanged extends Error {
  constructor(
    readonly uploadId: string,
    readonly partNumber: number,
  ) {
    super(`part ${partNumber} of upload ${uploadId} changed during completion`);
    this.name = 'UploadPartChanged';
  }
}

/**
 * The metadata database cannot be reached (PostgreSQL down, restarting, refusing connections, or
 * the connection dropped mid-statement). Temporary from the client's side: the S3 layer answers
 * 503 and the pool reconnects by itself. If it happened during COMMIT the write may or may not have
 * committed; the caller's retry is answered from whatever state it left.
 */
export class MetadataUnavailable extends Error {
  readonly code = 'METADATA_UNAVAILABLE';
  constructor(cause: unknown) {
    super(`metadata database unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'MetadataUnavailable';
  }
}
