/** AWS SDK v3 clients pointed at a test server (path-style: plain localhost has no wildcard DNS). */
import { S3Client } from '@aws-sdk/client-s3';
import { KMSClient } from '@aws-sdk/client-kms';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import type { MeridianProcess } from './meridian-process.js';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

function creds(m: MeridianProcess, c?: Credentials): Credentials {
  return c ?? { accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey };
}

export function s3Client(m: MeridianProcess, region = 'us-east-1', c?: Credentials): S3Client {
  return new S3Client({ endpoint: m.httpEndpoint, region, forcePathStyle: true, credentials: creds(m, c), maxAttempts: 1 });
}

export function kmsClient(m: MeridianProcess, region = 'us-east-1', c?: Credentials): KMSClient {
  return new KMSClient({ endpoint: m.httpEndpoint, region, credentials: creds(m, c), maxAttempts: 1 });
}

export function iamClient(m: MeridianProcess, c?: Credentials): IAMClient {
  return new IAMClient({ endpoint: m.httpEndpoint, region: 'us-east-1', credentials: creds(m, c), maxAttempts: 1 });
}

export function stsClient(m: MeridianProcess, region = 'us-east-1', c?: Credentials): STSClient {
  return new STSClient({ endpoint: m.httpEndpoint, region, credentials: creds(m, c), maxAttempts: 1 });
}

/** Poll until `check` returns a value (not undefined) or the deadline passes. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 15_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${lastError ? `: ${String(lastError)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
