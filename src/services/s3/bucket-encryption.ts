/**
 * Bucket default encryption (reference §5.6): the ServerSideEncryptionConfiguration document, and the
 * encryption a write gets from its headers or, without SSE headers, from the bucket default.
 */
import { ServiceError } from '../../common/errors.js';
import type { RegionMetadataStore } from '../../storage/types.js';
import { child, children, malformedXml, parseXml, text, token, type XmlObject } from '../protocol/xml.js';
import { invalidArgument } from './s3-errors.js';
import { customerKeyFromHeaders } from './sse-customer.js';
import { encryptionFromHeaders, type EncryptionRequest, type SseAlgorithm } from './sse.js';

export interface BucketEncryptionConfig {
  algorithm: SseAlgorithm;
  /** As given (a key id, ARN or alias): S3 echoes it unchanged and resolves it at object PUT. */
  kmsMasterKeyId?: string;
  bucketKeyEnabled: boolean;
  /** 'SSE-C' blocks writes with customer keys; 'NONE' (or nothing) allows them. */
  blockedEncryptionTypes?: string[];
}

export const DEFAULT_BUCKET_ENCRYPTION: BucketEncryptionConfig = { algorithm: 'AES256', bucketKeyEnabled: false };
const CONFIG_KIND = 'encryption';

export function parseBucketEncryptionXml(body: string): BucketEncryptionConfig {
  const { root, value } = parseXml(body);
  if (root !== 'ServerSideEncryptionConfiguration') throw malformedXml();
  const rules = children(value, 'Rule');
  if (rules.length !== 1) throw malformedXml();
  const rule = rules[0]!;
  const apply = child(rule, 'ApplyServerSideEncryptionByDefault');
  const algorithm = apply ? token(apply, 'SSEAlgorithm') : 'AES256';
  if (algorithm === undefined) throw malformedXml();
  if (!['AES256', 'aws:kms', 'aws:kms:dsse'].includes(algorithm)) {
    throw invalidArgument('The server side encryption algorithm provided is not valid.', 'ApplyServerSideEncryptionByDefault', algorithm);
  }
  const config: BucketEncryptionConfig = { algorithm: algorithm as SseAlgorithm, bucketKeyEnabled: false };
  const keyId = apply ? text(apply, 'KMSMasterKeyID') : undefined;
  if (keyId !== undefined && keyId !== '') {
    if (algorithm === 'AES256') {
      throw invalidArgument('a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse', 'ApplyServerSideEncryptionByDefault');
    }
    config.kmsMasterKeyId = keyId;
  }
  const bucketKey = token(rule, 'BucketKeyEnabled');
  if (bucketKey !== undefined) {
    if (bucketKey !== 'true' && bucketKey !== 'false') throw malformedXml();
    config.bucketKeyEnabled = bucketKey === 'true';
  }
  const blocked = child(rule, 'BlockedEncryptionTypes');
  if (blocked) {
    const raw = blocked.EncryptionType;
    const types = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map((t) => (typeof t === 'string' ? t : ''));
    for (const t of types) if (t !== 'SSE-C' && t !== 'NONE') throw invalidArgument('The encryption type provided is not valid.', 'EncryptionType', t);
    config.blockedEncryptionTypes = types;
  }
  return config;
}

export function bucketEncryptionXml(config: BucketEncryptionConfig): XmlObject {
  const apply: XmlObject = { SSEAlgorithm: config.algorithm };
  if (config.kmsMasterKeyId !== undefined) apply.KMSMasterKeyID = config.kmsMasterKeyId;
  const rule: XmlObject = { ApplyServerSideEncryptionByDefault: apply, BucketKeyEnabled: config.bucketKeyEnabled };
  if (config.blockedEncryptionTypes) rule.BlockedEncryptionTypes = { EncryptionType: config.blockedEncryptionTypes };
  return { Rule: rule };
}

export async function bucketEncryption(meta: RegionMetadataStore, bucket: string): Promise<BucketEncryptionConfig> {
  return (await meta.getBucketConfig<BucketEncryptionConfig>(bucket, CONFIG_KIND)) ?? DEFAULT_BUCKET_ENCRYPTION;
}

export async function putBucketEncryptionConfig(meta: RegionMetadataStore, bucket: string, config: BucketEncryptionConfig): Promise<void> {
  await meta.putBucketConfig(bucket, CONFIG_KIND, config);
}

export async function deleteBucketEncryptionConfig(meta: RegionMetadataStore, bucket: string): Promise<void> {
  await meta.deleteBucketConfig(bucket, CONFIG_KIND);
}

/**
 * The encryption of a new object (PutObject, CreateMultipartUpload, CopyObject target): request
 * headers win; without SSE headers, the bucket default applies. A bucket default's BucketKeyEnabled
 * also applies to SSE-KMS requests that do not say otherwise. SSE-C may be blocked by the bucket.
 */
export async function resolveWriteEncryption(meta: RegionMetadataStore, bucket: string, headers: Record<string, string | undefined>): Promise<EncryptionRequest> {
  const customer = customerKeyFromHeaders(headers);
  const config = await bucketEncryption(meta, bucket);
  if (customer) {
    if (headers['x-amz-server-side-encryption'] !== undefined) {
      customer.key.fill(0);
      throw invalidArgument('Server Side Encryption with Customer provided key is incompatible with the encryption method specified', 'x-amz-server-side-encryption', headers['x-amz-server-side-encryption']);
    }
    if (config.blockedEncryptionTypes?.includes('SSE-C')) {
      customer.key.fill(0);
      throw new ServiceError('AccessDenied', 403, 'Requests specifying Server Side Encryption with Customer provided keys are blocked for this bucket by its default encryption configuration (BlockedEncryptionTypes).');
    }
    return { algorithm: 'AES256', fromHeaders: true, customer };
  }
  const fromHeaders = encryptionFromHeaders(headers);
  if (fromHeaders.fromHeaders) {
    if (fromHeaders.algorithm === 'aws:kms' && fromHeaders.bucketKeyEnabled === undefined && config.bucketKeyEnabled) fromHeaders.bucketKeyEnabled = true;
    return fromHeaders;
  }
  const req: EncryptionRequest = { algorithm: config.algorithm, fromHeaders: false };
  if (config.kmsMasterKeyId !== undefined) req.kmsKeyId = config.kmsMasterKeyId;
  // Bucket Keys are not supported for DSSE-KMS (reference §5.6).
  if (config.bucketKeyEnabled && config.algorithm === 'aws:kms') req.bucketKeyEnabled = true;
  const bucketKeyHeader = headers['x-amz-server-side-encryption-bucket-key-enabled'];
  if (bucketKeyHeader !== undefined && config.algorithm === 'aws:kms') req.bucketKeyEnabled = bucketKeyHeader.toLowerCase() === 'true';
  return req;
}
