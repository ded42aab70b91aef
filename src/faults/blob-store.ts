/**
 * Blob writes that fail with ENOSPC while an enospc fault is in force in the region: the error a
 * full disk gives (code ENOSPC, errno -28), so what handles a real full disk handles this one. A
 * thin wrapper around the region's blob store, put in place only when faults are on.
 */
import type { BlobRef, BlobStore, BlobWriter } from '../storage/types.js';
import type { Fault } from './spec.js';

export function enospcError(f: Fault): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`ENOSPC: no space left on device, write (injected fault ${f.id})`);
  e.code = 'ENOSPC';
  e.errno = -28;
  e.syscall = 'write';
  return e;
}

export function withEnospcFaults(blobs: BlobStore, fault: () => Fault | undefined, injected: (f: Fault) => void): BlobStore {
  const check = (): void => {
    const f = fault();
    if (!f) return;
    injected(f);
    throw enospcError(f);
  };
  return {
    get inlineThreshold() {
      return blobs.inlineThreshold;
    },
    createWriter(): BlobWriter {
      const w = blobs.createWriter();
      return {
        async write(chunk: Buffer): Promise<void> {
          check();
          return w.write(chunk);
        },
        async finish(): Promise<BlobRef> {
          try {
            check();
          } catch (e) {
            await w.abort().catch(() => undefined);
            throw e;
          }
          return w.finish();
        },
        abort: () => w.abort(),
      };
    },
    openRead: (ref, range) => blobs.openRead(ref, range),
    readChunks: (ref, range) => blobs.readChunks(ref, range),
    delete: (refs) => blobs.delete(refs),
    sweepOrphans: (isReferenced) => blobs.sweepOrphans(isReferenced),
    retain: (refs) => blobs.retain(refs),
    close: () => blobs.close(),
  };
}
