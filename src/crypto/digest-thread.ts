/**
 * MD5 and SHA-256 of large request bodies on a helper thread, so that hashing (MD5 alone costs about
 * 1.4 ms per MiB, more than encrypting it) runs on the second core while the event loop decrypts,
 * encrypts and writes. One thread per process, started on first use, shared by every body in flight.
 *
 * Bytes cross in batches copied into reusable ArrayBuffers that are transferred (not cloned) to the
 * thread and transferred back once hashed; a body may have only a few batches out at a time, and
 * `update` says when the caller must wait (the body's backpressure). Messages on one port arrive in
 * order, so a digest request sent after the last batch covers every byte.
 */
import { Worker } from 'node:worker_threads';

export type OffloadedAlgorithm = 'md5' | 'sha256';

/** Bytes per batch handed to the thread: big enough that a hand-off (tens of µs) is noise. */
export const DIGEST_BATCH_BYTES = 256 * 1024;
/** Batches one body may have at the thread before its producer waits. */
const MAX_BATCHES_IN_FLIGHT = 4;
/** Spare batch buffers kept for reuse (fresh ones cost page faults). */
const MAX_SPARE_BUFFERS = 16;
/**
 * A thread with no body for this long is stopped, its spare buffers dropped: a thread costs about
 * 20 MB of RSS (its V8 isolate and malloc arena), worth paying only while large bodies arrive.
 */
let idleStopMs = 30_000;

// Plain JavaScript evaluated in the thread: no module resolution, so it runs the same from dist/ and
// from the TypeScript sources.
const THREAD_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
// Per body: algorithm -> Hash, for the algorithms still wanted.
const bodies = new Map();
const hashesOf = (m) => {
  let hashes = bodies.get(m.id);
  if (!hashes) bodies.set(m.id, (hashes = new Map(m.algorithms.map((a) => [a, createHash(a)]))));
  return hashes;
};
parentPort.on('message', (m) => {
  if (m.op === 'update') {
    const bytes = new Uint8Array(m.buffer, 0, m.length);
    for (const h of hashesOf(m).values()) h.update(bytes);
    parentPort.postMessage({ op: 'updated', id: m.id, buffer: m.buffer }, [m.buffer]);
  } else if (m.op === 'digest') {
    const hashes = hashesOf(m);
    bodies.delete(m.id);
    // A forgotten algorithm's digest is empty.
    parentPort.postMessage({ op: 'digest', id: m.id, digests: m.algorithms.map((a) => hashes.get(a)?.digest() ?? new Uint8Array(0)) });
  } else if (m.op === 'forget') {
    hashesOf(m).delete(m.algorithm);
  } else if (m.op === 'drop') {
    bodies.delete(m.id);
  }
});
`;

interface BodyCallbacks {
  updated(buffer: ArrayBuffer): void;
  digested(digests: Uint8Array[]): void;
  failed(error: Error): void;
}

type ThreadMessage =
  | { op: 'updated'; id: number; buffer: ArrayBuffer }
  | { op: 'digest'; id: number; digests: Uint8Array[] };

class DigestThread {
  private worker: Worker | undefined;
  private readonly bodies = new Map<number, BodyCallbacks>();
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | undefined;
  readonly spare: ArrayBuffer[] = [];

  register(callbacks: BodyCallbacks): number {
    const id = this.nextId++;
    this.bodies.set(id, callbacks);
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.ensureWorker();
    return id;
  }

  unregister(id: number, tellThread: boolean): void {
    this.bodies.delete(id);
    if (tellThread) this.worker?.postMessage({ op: 'drop', id });
    if (this.bodies.size > 0 || !this.worker) return;
    this.worker.unref();
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.stopIdle(), idleStopMs).unref();
  }

  private stopIdle(): void {
    this.idleTimer = undefined;
    const worker = this.worker;
    if (!worker || this.bodies.size > 0) return;
    this.worker = undefined; // before terminate: its exit is not a crash
    this.spare.length = 0;
    void worker.terminate();
  }

  post(message: object, transfer?: ArrayBuffer[]): void {
    this.ensureWorker().postMessage(message, transfer);
  }

  takeBuffer(): ArrayBuffer {
    return this.spare.pop() ?? new ArrayBuffer(DIGEST_BATCH_BYTES);
  }

  returnBuffer(buffer: ArrayBuffer): void {
    if (this.spare.length < MAX_SPARE_BUFFERS) this.spare.push(buffer);
  }

  private ensureWorker(): Worker {
    if (this.worker) {
      this.worker.ref();
      return this.worker;
    }
    // A small young generation: the thread allocates little beyond its messages.
    const worker = new Worker(THREAD_SOURCE, { eval: true, name: 'meridian-digests', resourceLimits: { maxYoungGenerationSizeMb: 1 } });
    worker.on('message', (m: ThreadMessage) => {
      const body = this.bodies.get(m.id);
      if (m.op === 'updated') {
        this.returnBuffer(m.buffer);
        body?.updated(m.buffer);
      } else if (m.op === 'digest') {
        this.unregister(m.id, false);
        body?.digested(m.digests);
      }
    });
    // A thread that dies takes its bodies' hash state with it: those requests fail (500), the next
    // body starts a new thread.
    const lost = (error: Error): void => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      const bodies = [...this.bodies.values()];
      this.bodies.clear();
      for (const body of bodies) body.failed(error);
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`the digest thread exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }

  get running(): boolean {
    return this.worker !== undefined;
  }

  get bodyCount(): number {
    return this.bodies.size;
  }

  /** For tests: end the thread as a crash would. */
  async terminateForTest(): Promise<void> {
    await this.worker?.terminate();
  }
}

let shared: DigestThread | undefined;
function thread(): DigestThread {
  return (shared ??= new DigestThread());
}

/** Whether the helper thread is up (it starts with the first large body and stops when idle). */
export function digestThreadRunning(): boolean {
  return shared?.running ?? false;
}

/** Bodies the thread holds state for (each request's is dropped when it ends, however it ends). */
export function digestThreadBodies(): number {
  return shared?.bodyCount ?? 0;
}

/** For tests: how long an idle thread lives. */
export function setDigestThreadIdleStopMsForTest(ms: number): void {
  idleStopMs = ms;
}

/** For tests: stop the shared thread as if it had crashed. */
export async function terminateDigestThreadForTest(): Promise<void> {
  await shared?.terminateForTest();
}

/**
 * The digests of one body, computed on the helper thread. Call `update` with each chunk in order (it
 * copies), wait when it returns a promise, then `digest()` once; `discard()` if the body is abandoned.
 */
export class OffloadedDigests {
  private readonly thread = thread();
  private readonly id: number;
  private batch: Uint8Array | undefined;
  private fill = 0;
  private inFlight = 0;
  private resume: (() => void) | undefined;
  private failure: Error | undefined;
  private result: { resolve(d: Buffer[]): void; reject(e: Error): void } | undefined;
  private state: 'open' | 'digesting' | 'done' = 'open';

  constructor(private readonly algorithms: readonly OffloadedAlgorithm[]) {
    this.id = this.thread.register({
      updated: () => {
        this.inFlight--;
        this.wake();
      },
      digested: (digests) => {
        this.state = 'done';
        this.result?.resolve(digests.map((d) => Buffer.from(d.buffer, d.byteOffset, d.byteLength)));
      },
      failed: (error) => {
        this.failure = error;
        this.state = 'done';
        this.wake();
        this.result?.reject(error);
      },
    });
  }

  private wake(): void {
    const resume = this.resume;
    if (resume && (this.inFlight < MAX_BATCHES_IN_FLIGHT || this.failure)) {
      this.resume = undefined;
      resume();
    }
  }

  /** Adds bytes. Returns a promise when the caller should wait for the thread before sending more. */
  update(chunk: Uint8Array): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    if (this.state !== 'open') throw new Error('digest already requested');
    let offset = 0;
    while (offset < chunk.length) {
      this.batch ??= new Uint8Array(this.thread.takeBuffer());
      const n = Math.min(chunk.length - offset, this.batch.length - this.fill);
      this.batch.set(chunk.subarray(offset, offset + n), this.fill);
      this.fill += n;
      offset += n;
      if (this.fill === this.batch.length) this.send();
    }
    if (this.inFlight < MAX_BATCHES_IN_FLIGHT) return undefined;
    return new Promise<void>((resolve, reject) => {
      this.resume = () => (this.failure ? reject(this.failure) : resolve());
    });
  }

  private send(): void {
    const buffer = this.batch!.buffer as ArrayBuffer;
    const length = this.fill;
    this.batch = undefined;
    this.fill = 0;
    this.inFlight++;
    this.thread.post({ op: 'update', id: this.id, algorithms: this.algorithms, buffer, length }, [buffer]);
  }

  /** The digests, in the order of the algorithms given, once the thread has hashed every byte. */
  digest(): Promise<Buffer[]> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.state !== 'open') return Promise.reject(new Error('digest already requested'));
    this.state = 'digesting';
    if (this.fill > 0) this.send();
    else if (this.batch) this.thread.returnBuffer(this.batch.buffer as ArrayBuffer);
    this.batch = undefined;
    return new Promise<Buffer[]>((resolve, reject) => {
      this.result = { resolve, reject };
      this.thread.post({ op: 'digest', id: this.id, algorithms: this.algorithms });
    });
  }

  /**
   * Stop computing one of the algorithms for the rest of the body (bytes sent from now on are not
   * hashed with it); its digest comes back empty. For an SSE-KMS body whose SHA-256 is still checked:
   * its MD5 was computed to the end for nothing, about as much CPU again as the SHA-256.
   */
  forget(algorithm: OffloadedAlgorithm): void {
    if (this.state !== 'open' || !this.algorithms.includes(algorithm)) return;
    this.thread.post({ op: 'forget', id: this.id, algorithms: this.algorithms, algorithm });
  }

  /** Forget the body (an aborted request, or one whose digests are no longer wanted): the thread drops its state. */
  discard(): void {
    if (this.state === 'done') return;
    this.state = 'done';
    // A producer waiting for the thread goes on: nothing it sends is hashed any more.
    const resume = this.resume;
    this.resume = undefined;
    resume?.();
    if (this.batch) this.thread.returnBuffer(this.batch.buffer as ArrayBuffer);
    this.batch = undefined;
    this.thread.unregister(this.id, true);
  }
}
