/** The benchmark's side of the load client process (bench/load-client.ts): start it, give it jobs. */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Job, LoopResult, RequestShape, Target, TransferResult } from './load-client.js';
import { workerMallocEnv } from '../src/server/malloc-tuning.js';

const ROOT = new URL('..', import.meta.url).pathname;

type JobBody<K extends Job['kind']> = Omit<Extract<Job, { kind: K }>, 'id' | 'kind'>;

export class LoadClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();

  private constructor(readonly child: ChildProcess) {
    child.on('message', (m: { id?: number; result?: unknown; error?: string }) => {
      if (m.id === undefined) return;
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.error !== undefined) p?.reject(new Error(`load client: ${m.error}`));
      else p?.resolve(m.result);
    });
    child.once('exit', (code, signal) => {
      for (const p of this.pending.values()) p.reject(new Error(`load client exited (${code ?? signal})`));
      this.pending.clear();
    });
  }

  /** Its process id (its CPU time is the client's). */
  get pid(): number {
    return this.child.pid!;
  }

  static async start(): Promise<LoadClient> {
    // Same launcher as the servers (node + tsx loader). The client is the instrument: with glibc's
    // default malloc, whether its 1 MiB buffers were fresh mappings (page faults) or reused heap
    // varied from run to run, and with it what the same server measured (a trivial server's 1 MiB
    // GET 130–1,600 MB/s, 2,000–2,800 with these settings). It runs with Meridian's worker settings.
    const env = { ...process.env, ...workerMallocEnv(process.env) };
    const child = spawn(process.execPath, [ROOT + 'bin/run-ts.mjs', ROOT + 'bench/load-client.ts'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env });
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: { ready?: boolean }) => {
        if (!m.ready) return;
        child.off('message', onMessage);
        resolve();
      };
      child.on('message', onMessage);
      child.once('exit', (code) => reject(new Error(`load client exited with ${code} before it was ready`)));
    });
    return new LoadClient(child);
  }

  private run<T>(job: Job): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.set(job.id, { resolve: resolve as (r: unknown) => void, reject });
      this.child.send(job);
    });
  }

  loop(body: JobBody<'loop'>): Promise<LoopResult> {
    return this.run({ id: this.nextId++, kind: 'loop', ...body });
  }

  transfers(target: Target, shapes: RequestShape[]): Promise<TransferResult> {
    return this.run({ id: this.nextId++, kind: 'transfers', target, shapes });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.send({ id: 0, kind: 'close' });
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(t);
  }
}

export type { LoopResult, RequestShape, Target, TransferResult };
