/**
 * A TCP proxy that adds latency: every chunk read from one side is written to the other `delayMs`
 * later, in order, in both directions — a stand-in for the distance between hosts where the kernel
 * has no netem. It forwards bytes untouched (TLS passes through), propagates half-closes and
 * resets, and bounds what it holds per direction (the reading side is paused above highWaterBytes).
 * It adds no bandwidth limit and no loss.
 *
 * Run it in-process (`TcpDelayProxy.start`), or as a program inside a namespace:
 *   node --import tsx test/support/tcp-delay-proxy.ts <listenHost> <listenPort> <targetHost> <targetPort> <delayMs>
 * which prints "listening on <host>:<port>" when ready.
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

export interface DelayProxyOptions {
  listenHost: string;
  /** 0 (default): an ephemeral port. */
  listenPort?: number;
  targetHost: string;
  targetPort: number;
  /**
   * Several targets instead (e.g. a region's gateways): each new connection goes to the next one in
   * turn, like a round-robin load balancer without health checks (targetHost/targetPort are ignored).
   */
  targets?: { host: string; port: number }[];
  /** Added to each direction. */
  delayMs: number;
  /** Bytes held per direction before the reading side is paused (default 4 MiB). */
  highWaterBytes?: number;
}

/** One direction of a connection: chunks wait in a queue until their time, then are written in order. */
class DelayedPipe {
  private readonly queue: { at: number; chunk: Buffer }[] = [];
  private held = 0;
  private timer: NodeJS.Timeout | undefined;
  private ended = false;

  constructor(
    private readonly from: Socket,
    private readonly to: Socket,
    private readonly delay: () => number,
    private readonly highWater: number,
  ) {
    from.on('data', (chunk: Buffer) => {
      this.queue.push({ at: Date.now() + this.delay(), chunk });
      this.held += chunk.length;
      if (this.held > this.highWater) from.pause();
      this.schedule();
    });
    from.on('end', () => {
      this.ended = true;
      this.schedule();
    });
    to.on('drain', () => this.flush());
  }

  private schedule(): void {
    if (this.timer) return;
    const head = this.queue[0];
    if (!head) {
      if (this.ended && !this.to.destroyed) this.to.end();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, Math.max(0, head.at - Date.now()));
  }

  private flush(): void {
    if (this.to.destroyed) return;
    const now = Date.now();
    while (this.queue.length > 0 && this.queue[0]!.at <= now) {
      const { chunk } = this.queue.shift()!;
      this.held -= chunk.length;
      if (!this.to.write(chunk)) break; // resumes on 'drain'
    }
    if (this.held <= this.highWater && this.from.isPaused() && !this.from.destroyed) this.from.resume();
    if (this.to.writableNeedDrain) return;
    this.schedule();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }
}

export class TcpDelayProxy {
  private delayMs: number;
  private readonly sockets = new Set<Socket>();
  private next = 0;
  /** Connections accepted so far. */
  accepted = 0;

  private constructor(
    private readonly server: Server,
    private readonly opts: DelayProxyOptions,
  ) {
    this.delayMs = opts.delayMs;
  }

  static async start(opts: DelayProxyOptions): Promise<TcpDelayProxy> {
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true });
    const proxy = new TcpDelayProxy(server, opts);
    server.on('connection', (client) => proxy.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.listenPort ?? 0, opts.listenHost, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return proxy;
  }

  /** Where it listens. */
  get host(): string {
    return this.opts.listenHost;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The delay for chunks read from now on (each direction). */
  setDelay(ms: number): void {
    this.delayMs = ms;
  }

  /** Connections open right now. */
  get open(): number {
    return this.sockets.size / 2;
  }

  private accept(client: Socket): void {
    this.accepted++;
    const targets = this.opts.targets?.length ? this.opts.targets : [{ host: this.opts.targetHost, port: this.opts.targetPort }];
    const target = targets[this.next++ % targets.length]!;
    const upstream = connect({ host: target.host, port: target.port, allowHalfOpen: true });
    const highWater = this.opts.highWaterBytes ?? 4 * 1024 * 1024;
    const delay = () => this.delayMs;
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      this.sockets.add(s);
    }
    const pipes = [new DelayedPipe(client, upstream, delay, highWater), new DelayedPipe(upstream, client, delay, highWater)];
    // Bytes may arrive before the target answers the connect: they wait in the queue (written once connected).
    client.resume();
    const teardown = (reset: boolean) => {
      for (const p of pipes) p.stop();
      for (const s of [client, upstream]) {
        this.sockets.delete(s);
        // A reset on one side (or a target that cannot be reached) resets the other, as a cut path would.
        if (reset) s.resetAndDestroy();
        else s.destroy();
      }
    };
    client.on('error', () => teardown(true));
    upstream.on('error', () => teardown(true));
    let closed = 0;
    const onClose = () => {
      if (++closed === 2) teardown(false);
    };
    // Both sides fully closed (each direction ended and flushed): done.
    client.on('close', onClose);
    upstream.on('close', onClose);
  }

  /** Stop listening and cut every open connection (reset, so neither end waits on a half-close). */
  async close(): Promise<void> {
    for (const s of this.sockets) s.resetAndDestroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

// As a program (e.g. inside a namespace): node --import tsx tcp-delay-proxy.ts host port targetHost targetPort delayMs
if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  const [listenHost, listenPort, targetHost, targetPort, delayMs] = process.argv.slice(2);
  if (!listenHost || !listenPort || !targetHost || !targetPort || !delayMs) {
    console.error('usage: tcp-delay-proxy.ts <listenHost> <listenPort> <targetHost> <targetPort> <delayMs>');
    process.exit(2);
  }
  const proxy = await TcpDelayProxy.start({ listenHost, listenPort: Number(listenPort), targetHost, targetPort: Number(targetPort), delayMs: Number(delayMs) });
  console.log(`listening on ${proxy.host}:${proxy.port}`);
  process.once('SIGTERM', () => void proxy.close().then(() => process.exit(0)));
}
