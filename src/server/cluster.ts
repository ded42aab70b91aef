/**
 * MERIDIAN_WORKERS > 1: a primary process and N worker processes (node:cluster) sharing the HTTP and
 * HTTPS listening sockets, over the same data directory (SQLite in WAL mode; each worker has its own
 * connections and group commit, and waits for the others' write lock through busy_timeout).
 *
 * The primary serves no request. It has the first start done once (root credentials, the TLS
 * certificate: first-start.ts, in a child process), picks the ports when 0 was asked, forks the workers, restarts one that dies, names the
 * worker that runs the background work (worker-group.ts) and names another when that one dies, and
 * relays the workers' messages. SIGTERM or SIGINT to it stops every worker gracefully.
 */
import cluster, { type Worker } from 'node:cluster';
import { createServer } from 'node:net';
import type { ReplicationEvent } from '../replication/worker.js';
import type { RootCredentials } from './accounts.js';
import type { Config } from './config.js';
import { firstStartInChild } from './first-start.js';
import { workerMallocEnv } from './malloc-tuning.js';
import { serverV8Flags } from './v8-tuning.js';
import type { WorkerGroup } from './worker-group.js';

type Message =
  /** worker → primary: listening. */
  | { meridian: 'ready' }
  /** primary → worker: you run the background work from now on. */
  | { meridian: 'background' }
  /** worker → primary → background worker. */
  | { meridian: 'region-work'; region: string }
  /** background worker → primary → the other workers. */
  | { meridian: 'replication-event'; region: string; event: ReplicationEvent };

function isMessage(m: unknown): m is Message {
  return typeof m === 'object' && m !== null && typeof (m as { meridian?: unknown }).meridian === 'string';
}

/** Whether this process is a cluster worker forked by runPrimary. */
export function isClusterWorker(): boolean {
  return cluster.isWorker;
}

export interface PrimaryStarted {
  httpPort: number;
  httpsPort?: number;
  /** Never set here: peer listeners are split mode's, which runs one process (config.ts workersFor). */
  peerPort?: number;
  peerTlsPort?: number;
  certFile?: string;
  operatorCert?: boolean;
  root: RootCredentials;
  rootGenerated: boolean;
  /** Stop every worker gracefully (SIGTERM each, SIGKILL after the timeout). */
  close(): Promise<void>;
}

export interface PrimaryOptions {
  workers: number;
  /** A line for the operator (stdout). */
  out: (line: string) => void;
  /** How long a stopping worker may take before it is killed. */
  stopTimeoutMs?: number;
}

/** A free TCP port on host, for a listener configured with port 0 (every worker must bind the same one). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export async function runPrimary(config: Config, opts: PrimaryOptions): Promise<PrimaryStarted> {
  // First start, once, before any worker exists: nothing here can race. In a child process, so this
  // one never loads the stores (first-start.ts).
  const { credentials, generated, certFile } = await firstStartInChild();
  // Workers asking for port 0 would each get their own; the primary picks one port per listener for all.
  const httpPort = config.port === 0 ? await freePort(config.host) : config.port;
  const httpsPort = config.tlsPort === null ? undefined : config.tlsPort === 0 ? await freePort(config.host) : config.tlsPort;
  // Workers keep freed buffer memory for reuse instead of mapping it afresh (server/malloc-tuning.ts).
  const env: Record<string, string> = { ...workerMallocEnv(process.env), MERIDIAN_PORT: String(httpPort) };
  if (httpsPort !== undefined) env.MERIDIAN_TLS_PORT = String(httpsPort);

  let stopping = false;
  let background: Worker | undefined;
  const ready = new Set<number>();
  /** Recent deaths, to slow down restarting a worker that dies at once every time. */
  let recentDeaths: number[] = [];

  /**
   * A message to a worker that may have died a moment ago: its channel closing is no error of the
   * primary's (the 'exit' event follows), and must never crash it.
   */
  const send = (w: Worker | undefined, m: Message): void => {
    if (!w || w.isDead() || !w.isConnected()) return;
    try {
      w.send(m, undefined, () => undefined);
    } catch {
      // closed in between
    }
  };

  const nameBackground = (): void => {
    if (stopping || (background && !background.isDead())) return;
    // A worker that is serving: it has its message listener (a message sent earlier would be lost).
    background = Object.values(cluster.workers ?? {}).find((w): w is Worker => w !== undefined && !w.isDead() && ready.has(w.id));
    send(background, { meridian: 'background' });
  };

  // One GC thread per worker: with a worker per core, V8's parallel GC helpers only compete with the
  // other workers for the same cores (measured: GET 1 MiB 2.6 ms of CPU instead of 2.8–3.2 ms).
  // And the request path optimized sooner after a start (server/v8-tuning.ts).
  cluster.setupPrimary({ execArgv: [...process.execArgv, '--single-threaded-gc', ...serverV8Flags()] });
  const fork = (): Worker => {
    const w = cluster.fork(env);
    w.on('error', () => undefined); // a send to a worker that just died; its exit is handled below
    w.on('message', (m: unknown) => {
      if (!isMessage(m)) return;
      if (m.meridian === 'ready') {
        ready.add(w.id);
        nameBackground();
      } else if (m.meridian === 'region-work') {
        if (background !== w) send(background, m);
      } else if (m.meridian === 'replication-event') {
        for (const other of Object.values(cluster.workers ?? {})) if (other !== w) send(other, m);
      }
    });
    return w;
  };

  cluster.on('exit', (w, code, signal) => {
    ready.delete(w.id);
    if (stopping) return;
    opts.out(`worker ${w.process.pid} exited (${signal ?? `code ${code}`}); starting another`);
    if (background === w) {
      background = undefined;
      nameBackground();
    }
    const now = Date.now();
    recentDeaths = [...recentDeaths.filter((t) => now - t < 10_000), now];
    // A worker that cannot start (bad configuration, disk) would otherwise be restarted in a tight loop.
    const delay = recentDeaths.length > opts.workers * 3 ? 5_000 : 0;
    setTimeout(() => {
      if (!stopping) fork();
    }, delay).unref();
  });

  const firstReady = new Promise<void>((resolve, reject) => {
    const onMessage = (w: Worker, m: unknown) => {
      if (!isMessage(m) || m.meridian !== 'ready') return;
      ready.add(w.id);
      if (ready.size >= opts.workers) {
        cluster.off('message', onMessage);
        cluster.off('exit', onEarlyExit);
        resolve();
      }
    };
    const onEarlyExit = (w: Worker, code: number) => {
      if (ready.size === 0) {
        cluster.off('message', onMessage);
        cluster.off('exit', onEarlyExit);
        stopping = true;
        for (const other of Object.values(cluster.workers ?? {})) other?.process.kill('SIGTERM');
        reject(new Error(`worker ${w.process.pid} exited with code ${code} before serving (see its log above)`));
      }
    };
    cluster.on('message', onMessage);
    cluster.on('exit', onEarlyExit);
  });
  for (let i = 0; i < opts.workers; i++) fork();
  await firstReady;

  const started: PrimaryStarted = {
    httpPort,
    root: credentials,
    rootGenerated: generated,
    close: async () => {
      stopping = true;
      const timeout = opts.stopTimeoutMs ?? 10_000;
      await Promise.all(
        Object.values(cluster.workers ?? {}).map(
          (w) =>
            new Promise<void>((resolve) => {
              if (!w || w.isDead()) return resolve();
              const kill = setTimeout(() => w.process.kill('SIGKILL'), timeout);
              w.once('exit', () => {
                clearTimeout(kill);
                resolve();
              });
              w.process.kill('SIGTERM');
            }),
        ),
      );
    },
  };
  if (httpsPort !== undefined && certFile) {
    started.httpsPort = httpsPort;
    started.certFile = certFile;
    started.operatorCert = config.tlsCertFile !== undefined;
  }
  return started;
}

/** The worker side of the group: messages to and from the primary. */
export class ClusterWorkerGroup implements WorkerGroup {
  private isBackground = false;
  private readonly backgroundListeners: (() => void)[] = [];
  private readonly workListeners: ((region: string) => void)[] = [];
  private readonly eventListeners: ((region: string, e: ReplicationEvent) => void)[] = [];
  /** Regions already announced to the background worker and not yet delivered (one message per region per tick). */
  private readonly pendingWork = new Set<string>();

  constructor() {
    process.on('message', (m: unknown) => {
      if (!isMessage(m)) return;
      if (m.meridian === 'background') {
        if (this.isBackground) return;
        this.isBackground = true;
        for (const fn of this.backgroundListeners) fn();
      } else if (m.meridian === 'region-work') {
        for (const fn of this.workListeners) fn(m.region);
      } else if (m.meridian === 'replication-event') {
        for (const fn of this.eventListeners) fn(m.region, m.event);
      }
    });
  }

  get background(): boolean {
    return this.isBackground;
  }

  onBackground(fn: () => void): void {
    this.backgroundListeners.push(fn);
  }

  regionWork(region: string): void {
    // A burst of PUTs in one tick is one message.
    if (this.pendingWork.has(region)) return;
    this.pendingWork.add(region);
    queueMicrotask(() => {
      this.pendingWork.delete(region);
      this.send({ meridian: 'region-work', region });
    });
  }

  onRegionWork(fn: (region: string) => void): void {
    this.workListeners.push(fn);
  }

  replicationEvent(region: string, event: ReplicationEvent): void {
    this.send({ meridian: 'replication-event', region, event });
  }

  onReplicationEvent(fn: (region: string, e: ReplicationEvent) => void): void {
    this.eventListeners.push(fn);
  }

  /** Tell the primary this worker is listening. */
  ready(): void {
    this.send({ meridian: 'ready' });
  }

  private send(m: Message): void {
    // The primary is gone (the worker is exiting): nothing to tell.
    if (process.connected) process.send?.(m, undefined, undefined, () => undefined);
  }
}
