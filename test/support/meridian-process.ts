/**
 * Starts a real Meridian server process on ephemeral loopback ports with its own data directory,
 * for integration and end-to-end tests. Stop what you start: call stop() (or kill() for crash tests).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { migratePostgresMetadata } from '../../src/storage/index.js';
import { startThrowawayPostgres, type ThrowawayPostgres } from './postgres.js';

const ROOT = new URL('../..', import.meta.url).pathname;

export interface MeridianProcess {
  httpEndpoint: string;
  httpsEndpoint?: string;
  certFile?: string;
  dataDir: string;
  accountId: string;
  accessKeyId: string;
  secretAccessKey: string;
  child: ChildProcess;
  /** Everything the process wrote to stderr (JSON logs), for assertions and debugging. */
  logs(): string;
  /** Graceful stop (SIGTERM) and, unless keepData, remove the data directory. */
  stop(opts?: { keepData?: boolean }): Promise<void>;
  /** SIGKILL of the process and, with several workers, of every worker with it (the whole group). The data directory is kept. */
  kill(): Promise<void>;
  /** With MERIDIAN_WORKERS > 1: the worker processes' pids (children of the primary), now. */
  workerPids(): number[];
}

/**
 * Workers per test server: 1 unless the test asks (env MERIDIAN_WORKERS) or the run does
 * (MERIDIAN_TEST_WORKERS=2 npm test -- … runs those files against 2 workers).
 */
const DEFAULT_WORKERS = process.env.MERIDIAN_TEST_WORKERS ?? '1';

/** The child processes of pid (Linux /proc). */
export function childPids(pid: number): number[] {
  try {
    const out: number[] = [];
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      out.push(...readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
    }
    return out;
  } catch {
    return [];
  }
}

export interface StartOptions {
  dataDir?: string;
  env?: Record<string, string>;
  tls?: boolean;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Extra arguments to `meridian serve` (e.g. split mode's --regions and --peer). */
  args?: string[];
  /**
   * A command that runs the server for us, e.g. `['ip', 'netns', 'exec', NS]` to start it inside a
   * network namespace; it must exec the program (so the child's pid is the server's own).
   */
  launcher?: string[];
}

/**
 * MERIDIAN_TEST_BACKEND=postgres npm test -- <files>: every test server keeps its metadata in
 * PostgreSQL (one throwaway cluster per test process, one migrated database per data directory, so
 * a restart on the same directory finds its data again). A test that sets MERIDIAN_METADATA_URL itself,
 * or runs split mode, keeps its own setting.
 */
const TEST_BACKEND = process.env.MERIDIAN_TEST_BACKEND ?? 'sqlite';
let testPostgres: Promise<ThrowawayPostgres> | undefined;
const databaseOf = new Map<string, Promise<string>>();

function metadataUrlFor(dataDir: string): Promise<string> {
  let url = databaseOf.get(dataDir);
  if (!url) {
    testPostgres ??= startThrowawayPostgres();
    url = (async () => {
      const created = await (await testPostgres!).createDatabase();
      await migratePostgresMetadata(created);
      return created;
    })();
    databaseOf.set(dataDir, url);
  }
  return url;
}

/** The PostgreSQL database the test servers of this data directory use (MERIDIAN_TEST_BACKEND=postgres), if any. */
export function testMetadataUrl(dataDir: string): Promise<string | undefined> {
  return databaseOf.get(dataDir) ?? Promise.resolve(undefined);
}

export async function startMeridianProcess(opts: StartOptions = {}): Promise<MeridianProcess> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'meridian-test-'));
  if (TEST_BACKEND === 'postgres' && !opts.env?.MERIDIAN_METADATA_URL && !opts.env?.MERIDIAN_REGIONS && !opts.args?.includes('--regions')) {
    opts = { ...opts, env: { ...opts.env, MERIDIAN_METADATA_URL: await metadataUrlFor(dataDir) } };
  }
  const accessKeyId = opts.accessKeyId ?? 'AKIA' + randomBytes(8).toString('hex').toUpperCase();
  const secretAccessKey = opts.secretAccessKey ?? randomBytes(30).toString('base64').slice(0, 40);
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    MERIDIAN_HOST: '127.0.0.1',
    MERIDIAN_PORT: '0',
    MERIDIAN_TLS_PORT: opts.tls === false ? 'off' : '0',
    MERIDIAN_DATA_DIR: dataDir,
    MERIDIAN_ROOT_ACCESS_KEY_ID: accessKeyId,
    MERIDIAN_ROOT_SECRET_ACCESS_KEY: secretAccessKey,
    MERIDIAN_REPLICATION_POLL_MS: '200',
    MERIDIAN_WORKERS: DEFAULT_WORKERS,
    ...opts.env,
  };
  const argv = [process.execPath, join(ROOT, 'bin/meridian.mjs'), 'serve', ...(opts.args ?? [])];
  const [command, ...rest] = [...(opts.launcher ?? []), ...argv];
  // Its own process group, so kill() can SIGKILL the primary and its workers at once.
  const child = spawn(command!, rest, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const ready = await new Promise<{ http: string; https?: string; cert?: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Meridian did not start in time.\nstdout: ${stdout}\nstderr: ${stderr}`)), 30_000);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const m = /listening on (http:\/\/[\d.:]+)(?: and (https:\/\/[\d.:]+))?/.exec(stdout);
      const cert = /TLS certificate \((?:for AWS_CA_BUNDLE|MERIDIAN_TLS_CERT)\): (\S+)/.exec(stdout);
      if (m && (!m[2] || cert)) {
        clearTimeout(timer);
        const r: { http: string; https?: string; cert?: string } = { http: m[1]! };
        if (m[2]) r.https = m[2];
        if (cert) r.cert = cert[1]!;
        resolve(r);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Meridian exited with ${code} before it was ready.\nstdout: ${stdout}\nstderr: ${stderr}`));
    });
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const proc: MeridianProcess = {
    httpEndpoint: ready.http,
    dataDir,
    accountId: env.MERIDIAN_ACCOUNT_ID ?? '000000000000',
    accessKeyId,
    secretAccessKey,
    child,
    logs: () => stderr,
    async stop(o = {}) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      if (!o.keepData && !opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
    async kill() {
      const group = [child.pid!, ...this.workerPids()];
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
        await exited;
      }
      // Wait until every process of the group is gone (their files closed, their locks released).
      for (let i = 0; i < 250 && group.some((pid) => isRunning(pid)); i++) await new Promise((r) => setTimeout(r, 20));
    },
    workerPids: () => childPids(child.pid!).filter((pid) => isMeridian(pid)),
  };
  if (ready.https) proc.httpsEndpoint = ready.https;
  if (ready.cert) proc.certFile = ready.cert;
  return proc;
}

/** Running (a zombie waiting to be reaped counts as gone). */
export function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** A Meridian worker, not a helper the primary runs (tsx's esbuild service). */
function isMeridian(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('meridian.mjs');
  } catch {
    return false;
  }
}
