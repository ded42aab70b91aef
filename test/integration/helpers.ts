/** Small shared helpers for the integration tests (not a test file itself). */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../../src/server/auth/test-support.js';
import type { MeridianProcess } from '../support/meridian-process.js';

/** What an SDK v3 service exception carries that the tests look at. */
export interface SdkError extends Error {
  name: string;
  message: string;
  $metadata: { httpStatusCode?: number; requestId?: string };
  $response?: { statusCode: number; headers: Record<string, string> };
  [field: string]: unknown;
}

/**
 * The blob files of a region in a data directory (the fan-out directories under blobs/): finished
 * blobs and the files of writes in progress, which are created under their final name.
 */
export function blobFileIds(dataDir: string, region = 'us-east-1'): string[] {
  const dir = join(dataDir, region, 'blobs');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((sub) => /^[0-9a-f]{2}$/.test(sub))
    .flatMap((sub) => readdirSync(join(dir, sub)))
    .sort();
}

/**
 * Await a call that must fail with AWS error `name` (the wire error code, which SDK v3 puts in
 * `name`) and HTTP `status`; returns the error for further assertions.
 */
export async function rejects(call: Promise<unknown>, name: string, status: number): Promise<SdkError> {
  try {
    await call;
  } catch (e) {
    const err = e as SdkError;
    assert.equal(err.name, name, `expected ${name}, got ${err.name}: ${err.message}`);
    assert.equal(err.$metadata?.httpStatusCode, status, `expected HTTP ${status} for ${name}`);
    return err;
  }
  assert.fail(`expected ${name} (${status}) but the call succeeded`);
}

/** A fresh, valid, DNS-compatible bucket name. */
export function bucketName(prefix = 'it'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

/** Read a GetObject body (SDK v3 stream mixin) fully. */
export async function bytes(body: unknown): Promise<Buffer> {
  const b = body as { transformToByteArray(): Promise<Uint8Array> } | undefined;
  if (!b) return Buffer.alloc(0);
  return Buffer.from(await b.transformToByteArray());
}

export interface PresignOptions {
  query?: Record<string, string>;
  expiresIn?: number;
  signingDate?: Date;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/**
 * A SigV4 presigned URL for `/<bucket>/<key>` on a test server, made with @smithy/signature-v4 the
 * way @aws-sdk/s3-request-presigner drives it (that package is not installed).
 */
export async function presignedUrl(m: MeridianProcess, method: string, bucket: string, key: string, opts: PresignOptions = {}): Promise<string> {
  const url = new URL(m.httpEndpoint);
  const signer = new SignatureV4({
    service: 's3',
    region: opts.region ?? 'us-east-1',
    credentials: opts.credentials ?? { accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey },
    sha256: NodeSha256,
    uriEscapePath: false,
  });
  const path = `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
  const signed = await signer.presign(
    { method, protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path, query: opts.query ?? {}, headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } },
    { expiresIn: opts.expiresIn ?? 300, ...(opts.signingDate ? { signingDate: opts.signingDate } : {}) },
  );
  const query = Object.entries(signed.query ?? {})
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  return `${m.httpEndpoint}${signed.path}?${query}`;
}
