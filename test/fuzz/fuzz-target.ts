/**
 * A live server prepared for fuzzing: a versioned bucket with a few objects (plain, SSE-KMS and
 * multipart-sized) and a KMS key, so mutated requests reach deep paths rather than NoSuchBucket.
 */
import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { kmsClient, s3Client } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import type { Target } from './request-generator.js';

export interface FuzzTarget {
  m: MeridianProcess;
  target: Target;
  host: string;
  port: number;
  pid: number;
}

export async function startFuzzTarget(env: Record<string, string> = {}): Promise<FuzzTarget> {
  return prepareFuzzTarget(await startMeridianProcess({ tls: false, env }));
}

/** Creates the fuzz bucket, its objects and a KMS key on a running server. */
export async function prepareFuzzTarget(m: MeridianProcess, bucket = 'fuzz-target'): Promise<FuzzTarget> {
  const s3 = s3Client(m);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  const key = await kmsClient(m).send(new CreateKeyCommand({ Description: 'fuzz' }));
  const kmsKeyId = key.KeyMetadata!.KeyId!;
  const keys = ['a', 'dir/b', 'kms', 'big', 'caf\u00e9 ü'];
  for (const k of keys) {
    const body = Buffer.alloc(k === 'big' ? 300 * 1024 : 1000, k);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: body, ...(k === 'kms' ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: kmsKeyId } : {}) }));
  }
  const url = new URL(m.httpEndpoint);
  return {
    m,
    host: url.hostname,
    port: Number(url.port),
    pid: m.child.pid!,
    target: { host: url.host, accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey, bucket, keys, kmsKeyId },
  };
}
