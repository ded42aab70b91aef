/**
 * failureFrom turns an error into AWS's replication failure reason only when the error is a verdict
 * on the replica (a 4xx). A server fault — the home region's process unreachable, an internal error —
 * stays what it is, so the task is retried and the version stays PENDING, even where the stage has
 * a fallback reason for everything else.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DependencyUnavailableError, ServiceError } from '../../common/errors.js';
import { ReplicationFailure } from '../../replication/failure.js';
import { failureFrom } from './replica-writer.js';

describe('replication failure reasons from service errors', () => {
  it('a 4xx maps to its reason, or to the fallback', () => {
    const mapped = failureFrom(new ServiceError('NotFoundException', 400, "Key 'k' does not exist"), { NotFoundException: 'DstKmsKeyNotFound' });
    assert.ok(mapped instanceof ReplicationFailure && mapped.reason === 'DstKmsKeyNotFound');
    const fallback = failureFrom(new ServiceError('ValidationException', 400, 'bad id'), {}, 'DstKmsKeyNotFound');
    assert.ok(fallback instanceof ReplicationFailure && fallback.reason === 'DstKmsKeyNotFound');
  });

  it('an unreachable home is no reason, not even the fallback: the error itself comes back', () => {
    const away = new DependencyUnavailableError("The home region us-east-1's process is not reachable (connect ECONNREFUSED). Please retry later.", 'http://home');
    assert.equal(failureFrom(away, { ServiceUnavailable: 'DstKmsKeyNotFound' }, 'DstKmsKeyNotFound'), away);
    const internal = new ServiceError('InternalError', 500, 'We encountered an internal error. Please try again.');
    assert.equal(failureFrom(internal, {}, 'DstKmsKeyNotFound'), internal);
  });

  it('a plain error is not mapped', () => {
    const plain = new Error('socket hang up');
    assert.equal(failureFrom(plain, {}, 'DstKmsKeyNotFound'), plain);
  });
});
