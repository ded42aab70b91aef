/**
 * Row <-> record conversions shared by the SQLite stores. JSON columns hold structured fields;
 * Buffers inside them travel as base64. Inline blob bytes never go through JSON: they live in a
 * BLOB column and the parts JSON records each inline part's offset and length in it.
 */
import type { BlobRef, ObjectEncryption, ObjectPart } from '../types.js';

export function toJson(value: unknown): string {
  return JSON.stringify(value);
}

export function fromJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

export function optionalJson(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

/** Copy `value` into `target[name]` unless it is null/undefined (records omit absent optionals). */
export function setIf<T extends object, K extends keyof T>(target: T, name: K, value: T[K] | null | undefined): void {
  if (value !== null && value !== undefined) target[name] = value;
}

// ---------------------------------------------------------------------------------------------
// Encryption

interface EncryptionJson {
  algorithm: ObjectEncryption['algorithm'];
  kmsKeyArn?: string;
  bucketKeyEnabled?: boolean;
  context?: Record<string, string>;
  wrappedKey: string; // base64
  customerKeyMd5?: string;
  customerWrapLabel?: string;
}

export function encodeEncryption(e: ObjectEncryption | undefined): string | null {
  if (!e) return null;
  const j: EncryptionJson = { algorithm: e.algorithm, wrappedKey: e.wrappedKey.toString('base64') };
  setIf(j, 'kmsKeyArn', e.kmsKeyArn);
  setIf(j, 'bucketKeyEnabled', e.bucketKeyEnabled);
  setIf(j, 'context', e.context);
  setIf(j, 'customerKeyMd5', e.customerKeyMd5);
  setIf(j, 'customerWrapLabel', e.customerWrapLabel);
  return toJson(j);
}

export function decodeEncryption(text: string | null): ObjectEncryption | undefined {
  if (text === null) return undefined;
  const j = fromJson<EncryptionJson>(text);
  const e: ObjectEncryption = { algorithm: j.algorithm, wrappedKey: Buffer.from(j.wrappedKey, 'base64') };
  setIf(e, 'kmsKeyArn', j.kmsKeyArn);
  setIf(e, 'bucketKeyEnabled', j.bucketKeyEnabled);
  setIf(e, 'context', j.context);
  setIf(e, 'customerKeyMd5', j.customerKeyMd5);
  setIf(e, 'customerWrapLabel', j.customerWrapLabel);
  return e;
}

// ---------------------------------------------------------------------------------------------
// Object parts

type StoredBlob = { kind: 'inline'; offset: number; length: number } | { kind: 'file'; id: string; size: number };

interface PartJson {
  partNumber: number;
  size: number;
  etag?: string;
  checksum?: Record<string, string>;
  blob: StoredBlob;
}

export interface EncodedParts {
  json: string;
  /** All inline parts' bytes, concatenated (null when no part is inline). */
  inline: Buffer | null;
  /** File blob ids, for the blob-reference index. */
  fileIds: string[];
}

export function encodeParts(parts: ObjectPart[]): EncodedParts {
  const chunks: Buffer[] = [];
  let offset = 0;
  const fileIds: string[] = [];
  const out: PartJson[] = parts.map((p) => {
    let blob: StoredBlob;
    if (p.blob.kind === 'inline') {
      blob = { kind: 'inline', offset, length: p.blob.data.length };
      chunks.push(p.blob.data);
      offset += p.blob.data.length;
    } else {
      blob = { kind: 'file', id: p.blob.id, size: p.blob.size };
      fileIds.push(p.blob.id);
    }
    const j: PartJson = { partNumber: p.partNumber, size: p.size, blob };
    setIf(j, 'etag', p.etag);
    setIf(j, 'checksum', p.checksum);
    return j;
  });
  const anyInline = parts.some((p) => p.blob.kind === 'inline');
  return { json: toJson(out), inline: anyInline ? Buffer.concat(chunks) : null, fileIds };
}

/**
 * Decode parts. `inline` supplies the concatenated inline bytes: listings pass a loader that reads
 * them only if someone touches an inline part's `data` (a page of 1,000 small objects would
 * otherwise pull up to 128 MB of bytes nobody asked for).
 */
export function decodeParts(json: string, inline: Buffer | null | (() => Buffer | null)): ObjectPart[] {
  return fromJson<PartJson[]>(json).map((j) => {
    const p: ObjectPart = { partNumber: j.partNumber, size: j.size, blob: decodeBlob(j.blob, inline) };
    setIf(p, 'etag', j.etag);
    setIf(p, 'checksum', j.checksum);
    return p;
  });
}

function decodeBlob(b: StoredBlob, inline: Buffer | null | (() => Buffer | null)): BlobRef {
  if (b.kind === 'file') return { kind: 'file', id: b.id, size: b.size };
  if (typeof inline !== 'function') {
    if (inline === null) throw new Error('inline blob bytes missing');
    return { kind: 'inline', data: inline.subarray(b.offset, b.offset + b.length) };
  }
  const ref = { kind: 'inline' } as { kind: 'inline'; data: Buffer };
  let cached: Buffer | undefined;
  Object.defineProperty(ref, 'data', {
    enumerable: true,
    get(): Buffer {
      if (cached === undefined) {
        const all = inline();
        if (all === null) throw new Error('inline blob bytes missing');
        cached = all.subarray(b.offset, b.offset + b.length);
      }
      return cached;
    },
  });
  return ref;
}

/** A loader that calls `load` at most once. */
export function lazy(load: () => Buffer | null): () => Buffer | null {
  let done = false;
  let value: Buffer | null = null;
  return () => {
    if (!done) {
      value = load();
      done = true;
    }
    return value;
  };
}
