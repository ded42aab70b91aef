/**
 * AWS SDK v3 clients pointed at the page's own origin (Meridian serves S3, KMS, IAM and STS on one
 * endpoint): the browser signs every request itself with the signed-in credentials. The region of a
 * client is the region its requests are signed for, which is how Meridian routes them.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import type { Credentials } from './session';

export const endpoint = (): string => window.location.origin;

let creds: Credentials | undefined;
const s3Clients = new Map<string, S3Client>();

export function setCredentials(c: Credentials | undefined): void {
  creds = c;
  s3Clients.clear();
}

export function currentCredentials(): Credentials {
  if (!creds) throw new Error('Not signed in');
  return creds;
}

export const common = () => ({ endpoint: endpoint(), credentials: currentCredentials(), maxAttempts: 1 });

export function s3(region: string): S3Client {
  let c = s3Clients.get(region);
  if (!c) {
    c = new S3Client({
      ...common(),
      region,
      forcePathStyle: true,
      // Checksums only where S3 requires them: uploads stream from the file without a second read.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    s3Clients.set(region, c);
  }
  return c;
}

export function sts(c: Credentials): STSClient {
  return new STSClient({ endpoint: endpoint(), credentials: c, maxAttempts: 1, region: 'us-east-1' });
}

/** An AWS error as a person reads it: the service's code, HTTP status, message and request id. */
export interface AwsError {
  code: string;
  status?: number;
  message: string;
  requestId?: string;
}

export function awsError(e: unknown): AwsError {
  if (e && typeof e === 'object') {
    const o = e as { name?: string; Code?: string; message?: string; $metadata?: { httpStatusCode?: number; requestId?: string }; status?: number; code?: string; requestId?: string };
    const out: AwsError = { code: o.Code ?? o.code ?? o.name ?? 'Error', message: o.message ?? String(e) };
    const status = o.$metadata?.httpStatusCode ?? o.status;
    if (status !== undefined) out.status = status;
    const rid = o.$metadata?.requestId ?? o.requestId;
    if (rid) out.requestId = rid;
    return out;
  }
  return { code: 'Error', message: String(e) };
}
