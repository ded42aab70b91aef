/**
 * Runs the real `aws` CLI (v1) against a test server, the way a user would: named profiles in a
 * private config file whose `endpoint_url` points at Meridian, credentials in a private
 * credentials file, nothing inherited from the developer's environment.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MeridianProcess } from './meridian-process.js';

export interface Profile {
  name: string;
  region: string;
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Extra lines for the profile's config section, e.g. 's3 =\n    signature_version = s3v4'. */
  extra?: string;
  /** Temporary credentials (from `aws sts assume-role`). */
  sessionToken?: string;
}

export class AwsCli {
  readonly dir: string;
  private readonly env: NodeJS.ProcessEnv;

  private readonly binary: string;
  private readonly endpointUrl: string | undefined;

  /**
   * `binary`: another aws CLI (Debian's v2 is /usr/bin/aws). `endpointUrl`: pass --endpoint-url on
   * every command, for CLIs that predate `endpoint_url` in profiles (v2 before 2.13).
   */
  constructor(profiles: Profile[], opts: { caBundle?: string; binary?: string; endpointUrl?: string } = {}) {
    this.binary = opts.binary ?? 'aws';
    this.endpointUrl = opts.endpointUrl;
    this.dir = mkdtempSync(join(tmpdir(), 'meridian-cli-'));
    const config = profiles
      .map((p) => `[profile ${p.name}]\nregion = ${p.region}\noutput = json\nendpoint_url = ${p.endpoint}\n${opts.caBundle ? `ca_bundle = ${opts.caBundle}\n` : ''}${p.extra ? `${p.extra}\n` : ''}`)
      .join('\n');
    const credentials = profiles
      .map((p) => `[${p.name}]\naws_access_key_id = ${p.accessKeyId}\naws_secret_access_key = ${p.secretAccessKey}\n${p.sessionToken ? `aws_session_token = ${p.sessionToken}\n` : ''}`)
      .join('\n');
    writeFileSync(join(this.dir, 'config'), config);
    writeFileSync(join(this.dir, 'credentials'), credentials);
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
    env.AWS_CONFIG_FILE = join(this.dir, 'config');
    env.AWS_SHARED_CREDENTIALS_FILE = join(this.dir, 'credentials');
    env.AWS_PAGER = '';
    this.env = env;
  }

  /** A file in the CLI's working directory (for file:// arguments). */
  file(name: string, content: string | Buffer): string {
    const p = join(this.dir, name);
    writeFileSync(p, content);
    return p;
  }

  /** Run `aws <args>`; resolves with stdout (parsed as JSON when it is JSON), rejects with stderr on failure. */
  run(args: string[]): Promise<{ stdout: string; json: any }> {
    return new Promise((resolve, reject) => {
      const argv = this.endpointUrl ? [...args, '--endpoint-url', this.endpointUrl] : args;
      execFile(this.binary, argv, { env: this.env, cwd: this.dir, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
        if (err) {
          reject(new AwsCliError(args, stderr || String(err)));
          return;
        }
        let json: any;
        try {
          json = stdout.trim() ? JSON.parse(stdout) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ stdout, json });
      });
    });
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class AwsCliError extends Error {
  constructor(
    readonly args: string[],
    readonly stderr: string,
  ) {
    super(`aws ${args.join(' ')} failed: ${stderr.trim()}`);
  }
}

/** Profiles `src_profile` (us-east-1) and `dest_profile` (us-east-2) as in the walkthrough, both on one endpoint. */
export function walkthroughProfiles(m: MeridianProcess, endpoint: string): Profile[] {
  const base = { endpoint, accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey };
  return [
    { name: 'src_profile', region: 'us-east-1', ...base },
    { name: 'dest_profile', region: 'us-east-2', ...base },
  ];
}
