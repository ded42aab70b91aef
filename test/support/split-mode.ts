/** Two Meridian processes in split mode: us-east-1 (home of IAM, accounts, bucket names) and us-east-2. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMeridianProcess, type MeridianProcess } from './meridian-process.js';

/** A loopback port free right now (bound and released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface SplitPair {
  east1: MeridianProcess;
  east2: MeridianProcess;
  /** With `peerListeners`: the port each side listens on for the other. */
  peerPorts?: Record<'east1' | 'east2', number>;
  /** (Re)start one side on its port and data directory. */
  start(side: 'east1' | 'east2'): Promise<MeridianProcess>;
  stop(): Promise<void>;
}

export interface SplitPairOptions {
  /** Environment of one side only. */
  sideEnv?: Partial<Record<'east1' | 'east2', Record<string, string>>>;
  /** Serve HTTPS too on this side (its httpsEndpoint and certFile). */
  tls?: Partial<Record<'east1' | 'east2', boolean>>;
  /** The URL the other process uses to reach this side (default: its own port), e.g. a relay in between. */
  via?: Partial<Record<'east1' | 'east2', string>>;
  /** Called with each side's data directory before its first start (e.g. to place a certificate). */
  prepare?: (side: 'east1' | 'east2', dataDir: string) => void;
  /** The ports to listen on (default: free ones). */
  ports?: Record<'east1' | 'east2', number>;
  /** The regions each side serves (default: us-east-1 on east1, the home; us-east-2 on east2). */
  regions?: Partial<Record<'east1' | 'east2', string[]>>;
  /**
   * Each side also listens for its peer on a port of its own (MERIDIAN_PEER_PORT), and the other
   * side's --peer URL names that port instead of the clients' one.
   */
  peerListeners?: boolean;
}

export async function startSplitPair(env: Record<string, string> = {}, opts: SplitPairOptions = {}): Promise<SplitPair> {
  const ports = opts.ports ?? { east1: await freePort(), east2: await freePort() };
  const dirs = { east1: mkdtempSync(join(tmpdir(), 'meridian-east1-')), east2: mkdtempSync(join(tmpdir(), 'meridian-east2-')) };
  const accessKeyId = 'AKIA' + randomBytes(8).toString('hex').toUpperCase();
  const secretAccessKey = randomBytes(30).toString('base64').slice(0, 40);
  const secret = randomBytes(24).toString('hex');
  opts.prepare?.('east1', dirs.east1);
  opts.prepare?.('east2', dirs.east2);
  const regionsOf = { east1: opts.regions?.east1 ?? ['us-east-1'], east2: opts.regions?.east2 ?? ['us-east-2'] };
  const other = { east1: 'east2', east2: 'east1' } as const;
  const pair = {} as SplitPair;
  const peerPorts = opts.peerListeners ? { east1: await freePort(), east2: await freePort() } : undefined;
  if (peerPorts) pair.peerPorts = peerPorts;
  const peerPortOf = peerPorts ?? ports;
  pair.start = async (side) => {
    const peer = other[side];
    const m = await startMeridianProcess({
      dataDir: dirs[side],
      tls: opts.tls?.[side] ?? false,
      accessKeyId,
      secretAccessKey,
      args: ['--regions', regionsOf[side].join(','), ...regionsOf[peer].flatMap((r) => ['--peer', `${r}=${opts.via?.[peer] ?? `http://127.0.0.1:${peerPortOf[peer]}`}`]), '--home', 'us-east-1'],
      env: { MERIDIAN_PORT: String(ports[side]), ...(peerPorts ? { MERIDIAN_PEER_PORT: String(peerPorts[side]) } : {}), MERIDIAN_PEER_SECRET: secret, ...env, ...opts.sideEnv?.[side] },
    });
    pair[side] = m;
    return m;
  };
  pair.stop = async () => {
    await pair.east2?.stop();
    await pair.east1?.stop();
    rmSync(dirs.east1, { recursive: true, force: true });
    rmSync(dirs.east2, { recursive: true, force: true });
  };
  // The home (IAM, accounts, bucket names) first: the other process asks it for its root account.
  await pair.start('east1');
  await pair.start('east2');
  return pair;
}
