/**
 * Server-side encryption decisions for S3: which mode a new object gets, where its data key comes
 * from (the region's KMS as the requester for SSE-KMS, the region's internal SSE-S3 key
 * otherwise), and how an existing object's data key is recovered. KMS failures become the S3
 * errors AWS returns (reference §5.4).
 */
import { isWellFormedText } from '../../common/unicode.js';
import { hkdfSync } from 'node:crypto';
import { secureRandomBytes as randomBytes } from '../../common/random.js';
import { ServiceError, isServiceError } from '../../common/errors.js';
import { KeyCache, ownCopy, reuseDerivedKeys, unwrapKey, wrapKey } from '../../crypto/index.js';
import type { ObjectEncryption } from '../../storage/types.js';
import { viaService, type Caller } from '../caller.js';
import type { KmsService } from '../kms/kms-service.js';
import { invalidArgument, invalidRequest } from './s3-errors.js';
import { checkCustomerKey, customerKeyHeaders, type CustomerKey } from './sse-customer.js';

export type SseAlgorithm = ObjectEncryption['algorithm'];

/** What a write request asks for, before any key is generated. */
export interface EncryptionRequest {
  algorithm: SseAlgorithm;
  kmsKeyId?: string;
  bucketKeyEnabled?: boolean;
  /** Caller-supplied context (x-amz-server-side-encryption-context), merged with aws:s3:arn. */
  extraContext?: Record<string, string>;
  /** True when the algorithm came from request headers (the s3:x-amz-server-side-encryption condition key exists then). */
  fromHeaders: boolean;
  /** SSE-C: the customer's key (algorithm is AES256). */
  customer?: CustomerKey;
}

export interface SseDeps {
  region: string;
  kms: KmsService;
  /** The region's internal SSE-S3 wrapping key. */
  sseS3Key: Buffer;
  /** Whether SSE-KMS is accepted over plain HTTP from this caller. */
  kmsOverHttpAllowed: (caller: Caller) => boolean;
}

const ALGORITHMS = new Set<string>(['AES256', 'aws:kms', 'aws:kms:dsse']);

/**
 * Parse the SSE-S3/SSE-KMS request headers of PutObject / CreateMultipartUpload / CopyObject (target).
 * SSE-C headers are read first, by resolveWriteEncryption (bucket-encryption.ts).
 */
export function encryptionFromHeaders(headers: Record<string, string | undefined>): EncryptionRequest {
  const algorithm = headers['x-amz-server-side-encryption'];
  const keyId = headers['x-amz-server-side-encryption-aws-kms-key-id'];
  const contextHeader = headers['x-amz-server-side-encryption-context'];
  const bucketKey = headers['x-amz-server-side-encryption-bucket-key-enabled'];
  if (algorithm === undefined) {
    if (keyId !== undefined) {
      throw invalidArgument(
        'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms',
        'x-amz-server-side-encryption-aws-kms-key-id',
        keyId,
      );
    }
    return { algorithm: 'AES256', fromHeaders: false };
  }
  if (!ALGORITHMS.has(algorithm)) {
    throw invalidArgument('The encryption method specified is not supported', 'x-amz-server-side-encryption', algorithm);
  }
  const req: EncryptionRequest = { algorithm: algorithm as SseAlgorithm, fromHeaders: true };
  if (algorithm === 'AES256') {
    if (keyId !== undefined) {
      throw invalidArgument(
        'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms',
        'x-amz-server-side-encryption-aws-kms-key-id',
        keyId,
      );
    }
    return req;
  }
  if (keyId !== undefined && keyId !== '') req.kmsKeyId = keyId;
  if (bucketKey !== undefined) req.bucketKeyEnabled = bucketKey.toLowerCase() === 'true';
  if (contextHeader !== undefined) req.extraContext = parseContextHeader(contextHeader);
  return req;
}

function parseContextHeader(value: string): Record<string, string> {
  const bad = () =>
    invalidArgument(
      'The header \'x-amz-server-side-encryption-context\' shall be Base64-encoded UTF-8 string holding JSON which represents a string-string map',
      'x-amz-server-side-encryption-context',
      value,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw bad();
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    // A JSON escape of an unpaired surrogate ("\ud800") is not UTF-8 text: refused like any bad header.
    if (typeof v !== 'string' || !isWellFormedText(k) || !isWellFormedText(v)) throw bad();
    out[k] = v;
  }
  return out;
}

/** S3's encryption context: the object ARN, or the bucket ARN with S3 Bucket Keys, plus the caller's pairs. */
export function s3EncryptionContext(bucket: string, key: string, req: Pick<EncryptionRequest, 'bucketKeyEnabled' | 'extraContext'>): Record<string, string> {
  const arn = req.bucketKeyEnabled ? `arn:aws:s3:::${bucket}` : `arn:aws:s3:::${bucket}/${key}`;
  return { ...(req.extraContext ?? {}), 'aws:s3:arn': arn };
}

function sseS3Label(bucket: string, key: string): string {
  return `sse-s3:${bucket}/${key}`;
}

function sseCLabel(bucket: string, key: string): string {
  return `sse-c:${bucket}/${key}`;
}

/**
 * The label an SSE-C object's data key is wrapped under: its own bucket and key, or for a replica
 * (which carries its source's wrapped key unchanged) the source's, as recorded.
 */
export function customerWrapLabelOf(bucket: string, key: string, encryption: Pick<ObjectEncryption, 'customerWrapLabel'>): string {
  return encryption.customerWrapLabel ?? sseCLabel(bucket, key);
}

/** Translate a KMS failure into what S3 answers (reference §5.4): AccessDenied is 403, the rest KMS.<Code> 400. */
export function kmsErrorForS3(e: unknown): unknown {
  if (!isServiceError(e)) return e;
  if (e.code === 'AccessDeniedException') return new ServiceError('AccessDenied', 403, e.message);
  if (['NotFoundException', 'DisabledException', 'KMSInvalidStateException', 'InvalidKeyUsageException', 'InvalidCiphertextException'].includes(e.code)) {
    // S3 quotes a malformed key id where KMS does not: `Invalid keyId '<id>'` (reference §5.4).
    const invalidId = e.code === 'NotFoundException' && /^Invalid keyId (.*)$/s.exec(e.message);
    return new ServiceError(`KMS.${e.code}`, 400, invalidId ? `Invalid keyId '${invalidId[1]}'` : e.message || e.code);
  }
  return e;
}

export class SseEngine {
  /** SSE-S3 data keys of recently read objects, by label and wrapped key (zeroed when evicted). */
  readonly #sseS3DataKeys = new KeyCache<Buffer>(4096, (k) => k.fill(0));

  constructor(private readonly deps: SseDeps) {}

  /**
   * An SSE-S3 object's data key, unwrapped once and then served from the cache: a hit needs the very
   * wrapped bytes and label that authenticated before under this region's SSE-S3 key.
   */
  #sseS3DataKey(bucket: string, key: string, wrapped: Buffer): Buffer {
    const label = sseS3Label(bucket, key);
    const id = `${label}\0${wrapped.toString('latin1')}`;
    const cached = this.#sseS3DataKeys.get(id);
    // The caller gets a copy of its own, which it zeroes when done.
    if (cached) return Buffer.from(cached);
    const dataKey = unwrapKey(this.deps.sseS3Key, wrapped, label);
    this.#sseS3DataKeys.set(id, ownCopy(dataKey));
    return dataKey;
  }

  private kmsCaller(caller: Caller): Caller {
    return viaService(caller, `s3.${this.deps.region}.amazonaws.com`);
  }

  requireSecureForKms(caller: Caller): void {
    // KMS acts as the requester; an anonymous request has nobody to act as (AWS answers this 400).
    if (caller.principal.type === 'Anonymous') {
      throw invalidArgument('Requests specifying Server Side Encryption with AWS KMS managed keys require AWS Signature Version 4.', 'Authorization', 'null');
    }
    if (caller.secureTransport || this.deps.kmsOverHttpAllowed(caller)) return;
    throw invalidArgument('Requests specifying Server Side Encryption with AWS KMS managed keys must be made over a secure connection.', 'Authorization', 'null');
  }

  /** SSE-C keys travel in headers: the same setting as SSE-KMS decides whether plain HTTP may carry them. */
  requireSecureForCustomerKey(caller: Caller): void {
    if (caller.secureTransport || this.deps.kmsOverHttpAllowed(caller)) return;
    throw invalidRequest('Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.');
  }

  /** A fresh data key for a new object, and how it is stored. */
  async newDataKey(caller: Caller, bucket: string, key: string, req: EncryptionRequest): Promise<{ dataKey: Buffer; encryption: ObjectEncryption }> {
    if (req.customer) {
      this.requireSecureForCustomerKey(caller);
      const dataKey = randomBytes(32);
      const wrappedKey = wrapKey(req.customer.key, dataKey, sseCLabel(bucket, key));
      return { dataKey, encryption: { algorithm: 'AES256', wrappedKey, customerKeyMd5: req.customer.md5 } };
    }
    if (req.algorithm === 'AES256') {
      const dataKey = randomBytes(32);
      return { dataKey, encryption: { algorithm: 'AES256', wrappedKey: wrapKey(this.deps.sseS3Key, dataKey, sseS3Label(bucket, key)) } };
    }
    this.requireSecureForKms(caller);
    const context = s3EncryptionContext(bucket, key, req);
    try {
      const kmsCaller = this.kmsCaller(caller);
      const keyId = req.kmsKeyId ?? (await this.deps.kms.awsManagedS3Key(caller.principal.accountId!)).arn;
      const { key: kmsKey, plaintext, ciphertext } = await this.deps.kms.generateDataKey(kmsCaller, keyId, 32, context);
      const encryption: ObjectEncryption = { algorithm: req.algorithm, kmsKeyArn: kmsKey.arn, context, wrappedKey: ciphertext };
      if (req.bucketKeyEnabled) encryption.bucketKeyEnabled = true;
      return { dataKey: plaintext, encryption };
    } catch (e) {
      throw kmsErrorForS3(e);
    }
  }

  /**
   * Encrypt a data key under a KMS key with kms:Encrypt (replication: the replica's key is
   * encrypted under ReplicaKmsKeyID as the replication role).
   */
  async wrapDataKeyWithKms(caller: Caller, bucket: string, key: string, kmsKeyId: string, algorithm: SseAlgorithm, dataKey: Buffer, bucketKeyEnabled?: boolean): Promise<ObjectEncryption> {
    const req: Pick<EncryptionRequest, 'bucketKeyEnabled'> = {};
    if (bucketKeyEnabled) req.bucketKeyEnabled = true;
    const context = s3EncryptionContext(bucket, key, req);
    try {
      const { key: kmsKey, ciphertext } = await this.deps.kms.encrypt(this.kmsCaller(caller), kmsKeyId, dataKey, context);
      const encryption: ObjectEncryption = { algorithm, kmsKeyArn: kmsKey.arn, context, wrappedKey: ciphertext };
      if (bucketKeyEnabled) encryption.bucketKeyEnabled = true;
      return encryption;
    } catch (e) {
      throw kmsErrorForS3(e);
    }
  }

  /** SSE-S3 wrapping of an existing data key (replicas of SSE-S3 objects). */
  wrapDataKeySseS3(bucket: string, key: string, dataKey: Buffer): ObjectEncryption {
    return { algorithm: 'AES256', wrappedKey: wrapKey(this.deps.sseS3Key, dataKey, sseS3Label(bucket, key)) };
  }

  /**
   * Recover the data key of a stored object: with the customer's key (SSE-C, which must then be
   * given), KMS Decrypt as the caller (via S3), or the SSE-S3 key.
   */
  async dataKeyOf(caller: Caller, bucket: string, key: string, encryption: ObjectEncryption, customer?: CustomerKey): Promise<Buffer> {
    checkCustomerKey(encryption.customerKeyMd5, customer);
    if (customer) {
      this.requireSecureForCustomerKey(caller);
      return unwrapKey(customer.key, encryption.wrappedKey, customerWrapLabelOf(bucket, key, encryption));
    }
    if (encryption.algorithm === 'AES256') return reuseDerivedKeys(this.#sseS3DataKey(bucket, key, encryption.wrappedKey));
    this.requireSecureForKms(caller);
    try {
      const { plaintext } = await this.deps.kms.decrypt(this.kmsCaller(caller), encryption.wrappedKey, encryption.context);
      return reuseDerivedKeys(plaintext);
    } catch (e) {
      throw kmsErrorForS3(e);
    }
  }
  /**
   * The data key of a stored object for the operator's own tools (`meridian fsck`), with no caller
   * and no authorization: only code running on the data directory itself calls this. Undefined for
   * SSE-C, whose key is never held here.
   */
  async dataKeyForMaintenance(bucket: string, key: string, encryption: ObjectEncryption): Promise<Buffer | undefined> {
    if (encryption.customerKeyMd5) return undefined;
    if (encryption.algorithm === 'AES256') return this.#sseS3DataKey(bucket, key, encryption.wrappedKey);
    const { key: kmsKey, materialId } = await this.deps.kms.keyOfBlob(encryption.wrappedKey);
    return this.deps.kms.open(kmsKey, materialId, encryption.wrappedKey, encryption.context);
  }

}

/** The region's SSE-S3 key: derived from its root key, a separate key for a separate purpose. */
export function sseS3KeyFor(rootKey: Buffer, region: string): Buffer {
  return Buffer.from(hkdfSync('sha256', rootKey, Buffer.from(region), 'meridian/sse-s3/v1', 32));
}

/** Response headers describing an object's encryption (PUT, GET, HEAD, multipart responses). */
export function encryptionHeaders(encryption: Pick<ObjectEncryption, 'algorithm' | 'kmsKeyArn' | 'bucketKeyEnabled' | 'customerKeyMd5'> | undefined): Record<string, string> {
  if (!encryption) return {};
  if (encryption.customerKeyMd5) return customerKeyHeaders(encryption.customerKeyMd5);
  const h: Record<string, string> = { 'x-amz-server-side-encryption': encryption.algorithm };
  if (encryption.kmsKeyArn) h['x-amz-server-side-encryption-aws-kms-key-id'] = encryption.kmsKeyArn;
  if (encryption.bucketKeyEnabled) h['x-amz-server-side-encryption-bucket-key-enabled'] = 'true';
  return h;
}
