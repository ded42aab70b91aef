/**
 * Starts a real Meridian server process on ephemeral loopback ports with its own data directory,
 * for integration and end-to-end tests. Stop what you start: call stop() (or kill() for crash tests).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

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
  /** SIGKILL: no chance to flush anything. The data directory is kept. */
  kill(): Promise<void>;
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

export async function startMeridianProcess(opts: StartOptions = {}): Promise<MeridianProcess> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'meridian-test-'));
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
    ...opts.env,
  };
  const argv = [process.execPath, join(ROOT, 'bin/meridian.mjs'), 'serve', ...(opts.args ?? [])];
  const [command, ...rest] = [...(opts.launcher ?? []), ...argv];
  const child = spawn(command!, rest, { env, stdio: ['ignore', 'pipe', 'pipe'] });
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
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
  if (ready.https) proc.httpsEndpoint = ready.https;
  if (ready.cert) proc.certFile = ready.cert;
  return proc;
}
