/** Builders for contract tests: complete records with overridable fields. */
import type { BucketRecord, MultipartUpload, ObjectVersion, StoredObjectVersion, UploadedPart } from '../types.js';

/** Build a fresh store for one test, and how to dispose of it. */
export type StoreFactory<T> = () => Promise<{ store: T; cleanup?: () => Promise<void> }>;

/** Run `fn` against a fresh store, always cleaning up. */
export async function withStore<T>(make: StoreFactory<T>, fn: (store: T) => Promise<void>): Promise<void> {
  const { store, cleanup } = await make();
  try {
    await fn(store);
  } finally {
    await cleanup?.();
  }
}

export function bucketRecord(name: string, over: Partial<BucketRecord> = {}): BucketRecord {
  return {
    name,
    region: 'us-east-1',
    ownerAccountId: '111122223333',
    createdAt: 1_700_000_000_000,
    versioning: 'Enabled',
    locationConstraint: '',
    ...over,
  };
}

let clock = 1_700_000_000_000;

/** An object version with one inline part holding `body` (default: a string naming the version). */
export function objectVersion(bucket: string, key: string, versionId: string, over: Partial<ObjectVersion> = {}): ObjectVersion {
  const body = Buffer.from(`${key}@${versionId}`);
  return {
    bucket,
    key,
    versionId,
    isDeleteMarker: false,
    lastModified: ++clock,
    size: body.length,
    etag: 'd41d8cd98f00b204e9800998ecf8427e',
    ownerAccountId: '111122223333',
    storageClass: 'STANDARD',
    systemMetadata: {},
    userMetadata: {},
    parts: [{ partNumber: 0, size: body.length, blob: { kind: 'inline', data: body } }],
    ...over,
  };
}

export function deleteMarker(bucket: string, key: string, versionId: string): ObjectVersion {
  return objectVersion(bucket, key, versionId, { isDeleteMarker: true, size: 0, etag: '', parts: [] });
}

export function upload(uploadId: string, bucket: string, key: string, over: Partial<MultipartUpload> = {}): MultipartUpload {
  return {
    uploadId,
    bucket,
    key,
    initiated: ++clock,
    ownerAccountId: '111122223333',
    storageClass: 'STANDARD',
    systemMetadata: {},
    userMetadata: {},
    ...over,
  };
}

export function filePart(partNumber: number, fileId: string, size = 5 * 1024 * 1024): UploadedPart {
  return { partNumber, size, etag: `etag${partNumber}`.padEnd(32, '0'), lastModified: ++clock, blob: { kind: 'file', id: fileId, size } };
}

/** 32 hex characters, distinct per n (blob file ids look like this). */
export function fileId(n: number): string {
  return n.toString(16).padStart(32, 'a');
}

/** The stored record without its history fields, to compare with what was put. */
export function withoutHistory(v: StoredObjectVersion | undefined): ObjectVersion | undefined {
  if (!v) return undefined;
  const { seq: _seq, isLatest: _isLatest, ...rest } = v;
  return { ...rest, parts: rest.parts.map((p) => ({ ...p, blob: p.blob.kind === 'inline' ? { kind: 'inline', data: p.blob.data } : p.blob })) };
}

/** S3 key order: UTF-8 bytes. */
export function byUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
