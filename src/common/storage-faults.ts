/**
 * Faults of the disk under the data directory, as clients should see them. A full disk or quota
 * (ENOSPC, EDQUOT, SQLite's SQLITE_FULL) is temporary from the client's side: 503
 * ServiceUnavailable, which AWS SDKs retry, and the server serves again once space is freed. An I/O
 * error (EIO, SQLITE_IOERR*) stays a 500 InternalError, logged as a disk fault. A metadata database
 * that another process kept locked past the busy timeout (SQLITE_BUSY) is contention: 503 SlowDown, as
 * S3 answers when a prefix is written faster than it can take. Either way the
 * write failed as a whole: blob writers remove their temporary files and the metadata transaction
 * rolls back, so nothing half-written is visible.
 */
import { ServiceError } from './errors.js';

export type StorageFault = 'full' | 'io' | 'unavailable' | 'busy';

const FULL = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);

/** The disk fault behind an error (looking through `cause` chains), if any. */
export function storageFaultOf(e: unknown): StorageFault | undefined {
  for (let cur = e, depth = 0; cur && depth < 8; cur = (cur as { cause?: unknown }).cause, depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    if (FULL.has(code)) return 'full';
    // The metadata database (PostgreSQL) cannot be reached: as temporary as a full disk.
    if (code === 'METADATA_UNAVAILABLE') return 'unavailable';
    if (code === 'EIO' || code.startsWith('SQLITE_IOERR')) return 'io';
    if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_')) return 'busy';
  }
  return undefined;
}

/** The client-facing error for a full disk, an unreachable or a locked metadata database (undefined for anything else, which stays an internal error). */
export function storageFullError(e: unknown): ServiceError | undefined {
  const fault = storageFaultOf(e);
  if (fault === 'unavailable') return new ServiceError('ServiceUnavailable', 503, 'The metadata database is unreachable. Please retry later.', {}, { 'retry-after': '1' });
  if (fault === 'busy') return new ServiceError('SlowDown', 503, 'Please reduce your request rate. (The metadata database stayed locked by another writer past the busy timeout.)', {}, { 'retry-after': '1' });
  if (fault !== 'full') return undefined;
  return new ServiceError('ServiceUnavailable', 503, 'The server is out of storage space for this request. Please retry later.', {}, { 'retry-after': '5' });
}
