/**
 * Why a replication attempt did not succeed. Permanent failures carry AWS's failure reason
 * (reference §3.5) and end FAILED; transient ones keep the version PENDING and are retried.
 */
export type FailureReason =
  | 'AssumeRoleNotPermitted'
  | 'DstBucketNotFound'
  | 'DstBucketUnversioned'
  | 'DstDelObjNotPermitted'
  | 'DstKmsKeyInvalidState'
  | 'DstKmsKeyNotFound'
  | 'DstPutObjectNotPermitted'
  | 'DstPutTaggingNotPermitted'
  | 'DstVersionNotFound'
  | 'SrcBucketNotFound'
  | 'SrcBucketReplicationConfigMissing'
  | 'SrcGetObjectNotPermitted'
  | 'SrcGetTaggingNotPermitted'
  | 'SrcKmsKeyInvalidState'
  | 'SrcObjectNotEligible'
  | 'SrcVersionNotFound';

export class ReplicationFailure extends Error {
  constructor(
    readonly reason: FailureReason,
    message: string,
    /** The policy explanation or KMS message behind the failure, for `meridian replication status` and logs. */
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'ReplicationFailure';
  }
}

/** A problem expected to pass (destination region unreachable, throttling): retry later, stay PENDING. */
export class TransientReplicationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransientReplicationError';
  }
}

/**
 * The destination did not answer (connection refused or reset, timeout, 5xx, throttling), or
 * something needed to reach it could not be reached (split mode: the home region's process): the
 * whole destination backs off and is probed, rather than each of its tasks on its own timer.
 */
export class DestinationUnavailableError extends TransientReplicationError {
  constructor(
    readonly destinationBucket: string,
    /** Unknown when what failed was finding out (the home region's process, which knows, away). */
    readonly region: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'DestinationUnavailableError';
  }
}
