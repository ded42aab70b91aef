/**
 * Conditional writes (If-None-Match: *, If-Match: <etag>) on PutObject, CopyObject and
 * CompleteMultipartUpload. The request only states the condition; the store checks it inside the
 * commit (WriteCondition), so of many concurrent conditional writes of one key exactly the ones the
 * key's state at commit allows succeed. AWS's answers: 412 PreconditionFailed when the condition
 * does not hold; for If-Match, 404 NoSuchKey when there was no object to match, and 409
 * ConditionalRequestConflict when the object was there at the start of the request but deleted
 * before its commit (the client should re-read the ETag and retry).
 */
import { ServiceError } from '../../common/errors.js';
import { WriteConditionFailed } from '../../storage/errors.js';
import type { WriteCondition } from '../../storage/types.js';
import type { S3Context } from './s3-context.js';
import type { S3Request } from './s3-request.js';
import { noSuchKey } from './s3-errors.js';

export interface ConditionalWrite {
  condition: WriteCondition;
  /** For If-Match: whether the key had a current object when the request began (409 vs 404). */
  existedAtStart: boolean;
}

export function preconditionFailed(condition: string): ServiceError {
  return new ServiceError('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold', { Condition: condition });
}

function conditionalRequestConflict(): ServiceError {
  return new ServiceError(
    'ConditionalRequestConflict',
    409,
    'The object was deleted while this conditional write was in progress. Read its current ETag and retry (a multipart upload must be started again).',
  );
}

/**
 * The write condition a request carries, if any. Only `*` is accepted in If-None-Match and one
 * ETag in If-Match, and not both together (AWS: 501 NotImplemented for the rest).
 */
export async function conditionalWriteOf(ctx: S3Context, req: S3Request, bucket: string, key: string): Promise<ConditionalWrite | undefined> {
  const ifNoneMatch = req.headers['if-none-match'];
  const ifMatch = req.headers['if-match'];
  if (ifNoneMatch === undefined && ifMatch === undefined) return undefined;
  if (ifNoneMatch !== undefined && ifMatch !== undefined) {
    throw new ServiceError('NotImplemented', 501, 'A header you provided implies functionality that is not implemented', { Header: 'If-Match' });
  }
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() !== '*') throw new ServiceError('NotImplemented', 501, 'A header you provided implies functionality that is not implemented', { Header: 'If-None-Match' });
    return { condition: { kind: 'if-none-match' }, existedAtStart: false };
  }
  const etag = ifMatch!.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
  const current = await ctx.meta.getObjectVersion(bucket, key);
  return { condition: { kind: 'if-match', etag }, existedAtStart: current !== undefined && !current.isDeleteMarker };
}

/** The AWS error for a condition the store found false at commit; other errors pass through. */
export function conditionalWriteError(e: unknown, write: ConditionalWrite | undefined, key: string): unknown {
  if (!(e instanceof WriteConditionFailed) || !write) return e;
  if (write.condition.kind === 'if-none-match') return preconditionFailed('If-None-Match');
  if (e.current) return preconditionFailed('If-Match');
  return write.existedAtStart ? conditionalRequestConflict() : noSuchKey(key);
}
