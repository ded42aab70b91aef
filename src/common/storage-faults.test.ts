/** Which disk faults clients see as a temporary 503 and which stay internal errors. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { storageFaultOf, storageFullError } from './storage-faults.js';

const err = (code: string, cause?: unknown) => Object.assign(new Error(code, cause === undefined ? {} : { cause }), { code });

describe('storage faults', () => {
  it('a full disk or quota, from the file system or SQLite, is "full": 503 ServiceUnavailable', () => {
    for (const code of ['ENOSPC', 'EDQUOT', 'SQLITE_FULL']) {
      assert.equal(storageFaultOf(err(code)), 'full', code);
      const e = storageFullError(err(code));
      assert.equal(e?.code, 'ServiceUnavailable');
      assert.equal(e?.status, 503);
    }
  });

  it('found through cause chains (a group commit failing every write of its batch wraps the cause)', () => {
    const wrapped = new Error('transaction rolled back by a failing operation in the same batch', { cause: err('SQLITE_FULL') });
    assert.equal(storageFaultOf(wrapped), 'full');
  });

  it('a database another process kept locked past the busy timeout is "busy": 503 SlowDown, which SDKs retry', () => {
    for (const code of ['SQLITE_BUSY', 'SQLITE_BUSY_TIMEOUT']) {
      assert.equal(storageFaultOf(err(code)), 'busy', code);
      const e = storageFullError(err(code));
      assert.equal(e?.code, 'SlowDown');
      assert.equal(e?.status, 503);
    }
  });

  it('I/O errors are "io" and stay internal errors; anything else is no disk fault', () => {
    for (const code of ['EIO', 'SQLITE_IOERR', 'SQLITE_IOERR_WRITE', 'SQLITE_IOERR_FSYNC']) {
      assert.equal(storageFaultOf(err(code)), 'io', code);
      assert.equal(storageFullError(err(code)), undefined);
    }
    assert.equal(storageFaultOf(err('ENOENT')), undefined);
    assert.equal(storageFaultOf(new Error('plain')), undefined);
    assert.equal(storageFaultOf(undefined), undefined);
  });
});
