/**
 * A throwaway PostgreSQL server for tests, from the machine's PostgreSQL binaries (Debian's
 * postgresql package): initdb into a fresh temporary directory, trust authentication on loopback,
 * a random 127.0.0.1 port plus a unix socket in the data directory, pg_ctl start; destroy() stops it
 * (immediate) and removes the directory. No docker, no network.
 *
 * The cluster's default collation is ICU's root locale ('und'), not C, so that a query or column
 * that forgets COLLATE "C" lists keys in the wrong order and the storage tests notice (S3 lists in
 * UTF-8 byte order). initdb refuses to run as root: as root, every PostgreSQL binary runs as the
 * `postgres` user (runuser), which owns the directory.
 *
 * It lives under src/ (not test/support/) because the storage layer's own tests use it and src/ may
 * not import from outside src/; test/support/postgres.ts re-exports it for the integration tests.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The directory holding initdb, pg_ctl and postgres, or undefined when PostgreSQL is not installed. */
export function postgresBinDir(): string | undefined {
  const fromEnv = process.env['MERIDIAN_TEST_PG_BIN'];
  if (fromEnv) return existsSync(join(fromEnv, 'initdb')) ? fromEnv : undefined;
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => existsSync(join(base, v, 'bin', 'initdb')) && existsSync(join(base, v, 'bin', 'pg_ctl')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(base, versions[0], 'bin');
  }
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    if (dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  }
  return undefined;
}

/** Why PostgreSQL tests cannot run here (a skip message), or undefined when they can. */
export function postgresUnavailable(): string | undefined {
  if (postgresBinDir() === undefined) {
    return 'PostgreSQL binaries (initdb, pg_ctl) not found: install Debian\'s postgresql package (.ci/run does) or set MERIDIAN_TEST_PG_BIN';
  }
  if (process.getuid?.() === 0) {
    try {
      execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
    } catch {
      return 'running as root but there is no postgres user to run initdb as (initdb refuses root)';
    }
  }
  return undefined;
}

export interface ThrowawayPostgresOptions {
  /** fsync and synchronous commit on (durability tests). Default off: tests do not survive power cuts anyway. */
  durable?: boolean;
  /** Extra postgresql.conf settings. */
  settings?: Record<string, string | number>;
  /**
   * A command prefix the PostgreSQL binaries run under, e.g. `['ip', 'netns', 'exec', NS]` so the
   * server lives in a test host's network namespace (its 127.0.0.1 is then that namespace's own;
   * the unix socket in the data directory stays reachable from anywhere on the machine).
   */
  launcher?: string[];
}

export interface ThrowawayPostgres {
  readonly host: string;
  readonly port: number;
  /** The unix socket directory (inside the data directory). */
  readonly socketDir: string;
  readonly dataDir: string;
  /** URL of the `postgres` database (superuser `postgres`, trust auth). */
  readonly url: string;
  /** URL of another database of this server. */
  urlFor(database: string): string;
  /** Create a fresh empty database (default collation ICU 'und', like the cluster) and return its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Run one SQL statement in the `postgres` database through psql (setup only). */
  psql(sql: string, database?: string): Promise<string>;
  /** Stop the server (fast shutdown: connections are closed; committed data stays). */
  stop(): Promise<void>;
  /** Start it again on the same port and data (after stop()). */
  start(): Promise<void>;
  /** stop() then start(). */
  restart(): Promise<void>;
  readonly running: boolean;
  /** Stop at once (immediate) and remove the data directory. Safe to call twice. */
  destroy(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

let databases = 0;

/** Start a throwaway PostgreSQL. Throws with the server log when it cannot start. */
export async function startThrowawayPostgres(options: ThrowawayPostgresOptions = {}): Promise<ThrowawayPostgres> {
  const unavailable = postgresUnavailable();
  if (unavailable) throw new Error(unavailable);
  const bin = postgresBinDir()!;
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? Number(execFileSync('id', ['-u', 'postgres']).toString().trim()) : undefined;
  const group = asRoot ? Number(execFileSync('id', ['-g', 'postgres']).toString().trim()) : undefined;
  const root = mkdtempSync(join(tmpdir(), 'meridian-pg-'));
  const dataDir = join(root, 'data');
  if (owner !== undefined && group !== undefined) chownSync(root, owner, group);

  /** Run a PostgreSQL binary as the directory's owner. */
  const pg = (tool: string, args: string[]) => {
    const [command, ...rest] = [...(options.launcher ?? []), ...(asRoot ? ['runuser', '-u', 'postgres', '--'] : []), join(bin, tool), ...args];
    return run(command!, rest);
  };

  const port = await freePort();
  const host = '127.0.0.1';
  const settings: Record<string, string | number> = {
    listen_addresses: host,
    port,
    unix_socket_directories: root,
    max_connections: 200,
    fsync: options.durable ? 'on' : 'off',
    synchronous_commit: options.durable ? 'on' : 'off',
    full_page_writes: options.durable ? 'on' : 'off',
    // A transaction left open by a crashed test must not hold locks forever.
    idle_in_transaction_session_timeout: '60s',
    ...options.settings,
  };
  const serverArgs = Object.entries(settings)
    .map(([k, v]) => `-c ${k}=${String(v)}`)
    .join(' ');

  try {
    await pg('initdb', [
      '-D', dataDir,
      '-U', 'postgres',
      '--auth=trust',
      '--encoding=UTF8',
      '--locale=C.UTF-8',
      '--locale-provider=icu',
      '--icu-locale=und',
      '--no-sync',
    ]);
  } catch (e) {
    rmSync(root, { recursive: true, force: true });
    throw new Error(`initdb failed: ${(e as { stderr?: string }).stderr ?? String(e)}`);
  }

  const logFile = join(root, 'server.log');
  let running = false;
  let destroyed = false;
  const start = async () => {
    try {
      await pg('pg_ctl', ['-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', serverArgs, 'start']);
      running = true;
    } catch (e) {
      const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-4000) : '';
      throw new Error(`pg_ctl start failed: ${(e as { stderr?: string }).stderr ?? String(e)}\n${log}`);
    }
  };
  const stopSync = () => {
    if (!running) return;
    running = false;
    try {
      const args = ['-D', dataDir, '-w', '-m', 'immediate', 'stop'];
      if (asRoot) execFileSync('runuser', ['-u', 'postgres', '--', join(bin, 'pg_ctl'), ...args], { stdio: 'ignore' });
      else execFileSync(join(bin, 'pg_ctl'), args, { stdio: 'ignore' });
    } catch {
      // already gone
    }
  };
  // A test process that dies without destroy() must not leave a server behind.
  const onExit = () => {
    stopSync();
    rmSync(root, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  await start();

  const urlFor = (database: string) => `postgres://postgres@${host}:${port}/${encodeURIComponent(database)}`;
  const psql = async (sql: string, database = 'postgres') => {
    const args = ['-h', root, '-p', String(port), '-U', 'postgres', '-d', database, '-v', 'ON_ERROR_STOP=1', '-At', '-c', sql];
    const { stdout } = await pg('psql', args);
    return stdout;
  };

  return {
    host,
    port,
    socketDir: root,
    dataDir,
    url: urlFor('postgres'),
    urlFor,
    psql,
    async createDatabase(name?: string) {
      const db = name ?? `t${process.pid}_${++databases}`;
      await psql(`CREATE DATABASE "${db.replace(/"/g, '""')}"`);
      return urlFor(db);
    },
    async stop() {
      if (!running) return;
      await pg('pg_ctl', ['-D', dataDir, '-w', '-m', 'fast', 'stop']);
      running = false;
    },
    start,
    async restart() {
      if (running) {
        await pg('pg_ctl', ['-D', dataDir, '-w', '-m', 'fast', 'stop']);
        running = false;
      }
      await start();
    },
    get running() {
      return running;
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      process.removeListener('exit', onExit);
      onExit();
    },
  };
}
