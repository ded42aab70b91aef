/**
 * Running the S3 clients people install from their distribution (rclone, restic, s3cmd, the aws CLI
 * v2) against a test server: a clean environment (nothing from the developer's AWS_* or client
 * configuration), a scratch directory, trees of files to upload and compare byte for byte.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import assert from 'node:assert/strict';

export class ClientError extends Error {
  constructor(
    readonly command: string,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(`${command} failed:\n${stderr || stdout}`);
  }
}

/** The environment a client runs with: PATH, HOME (a scratch one) and what the test gives, nothing else. */
export function cleanEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8', ...extra };
}

export interface RunOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
}

/** Run a client; resolves with its output, rejects with a ClientError carrying stderr. */
export function runClient(command: string, args: string[], opts: RunOptions): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env: opts.env, cwd: opts.cwd, maxBuffer: 64 * 1024 * 1024, timeout: opts.timeoutMs ?? 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new ClientError(`${command} ${args.join(' ')}`, stdout, stderr || String(err)));
      else resolve({ stdout, stderr });
    });
  });
}

/** Whether a client is installed (the test is skipped with a reason otherwise). */
export function installed(path: string): boolean {
  return existsSync(path);
}

export function scratchDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `meridian-${prefix}-`));
}

export function removeDir(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/** A tree of files: relative path → contents. */
export type Tree = Record<string, Buffer>;

/** Small files with awkward names beside one large file (17 MiB: three 5 MiB parts and a tail). */
export function sampleTree(): Tree {
  return {
    'small.txt': Buffer.from('hello from a small file\n'),
    'empty.bin': Buffer.alloc(0),
    'dir/with space é.txt': Buffer.from('spaces and UTF-8 in the key\n'),
    'dir/nested/plus+sign&amp.txt': randomBytes(3000),
    'large.bin': randomBytes(17 * 1024 * 1024 + 333),
  };
}

export function writeTree(dir: string, tree: Tree): void {
  for (const [name, data] of Object.entries(tree)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), data);
  }
}

export function readTree(dir: string): Tree {
  const out: Tree = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = readFileSync(p);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/** Same names, same bytes (compared as buffers, reported by name and size). */
export function assertSameTree(actual: Tree, expected: Tree, what: string): void {
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), `${what}: the same files`);
  for (const [name, data] of Object.entries(expected)) {
    assert.ok(actual[name]!.equals(data), `${what}: ${name} has the same ${data.length} bytes (got ${actual[name]!.length})`);
  }
}

/** The two ways every client test reaches the server. */
export const SCHEMES = ['http', 'https'] as const;
export type Scheme = (typeof SCHEMES)[number];

/** The server's endpoint for a scheme, and for https the self-signed certificate to trust. */
export function endpointOf(m: { httpEndpoint: string; httpsEndpoint?: string; certFile?: string }, scheme: Scheme): { endpoint: string; caFile?: string } {
  if (scheme === 'http') return { endpoint: m.httpEndpoint };
  assert.ok(m.httpsEndpoint && m.certFile, 'the server listens for HTTPS');
  return { endpoint: m.httpsEndpoint, caFile: m.certFile };
}
