/**
 * How a replica travels between processes in split mode: its metadata as a JSON envelope, then its
 * parts' plaintext one after another (server/replica-framing.ts frames and authenticates the body). The sending
 * process decrypted with its KMS; the receiving one encrypts with its own, so no key leaves its
 * region. An SSE-C object travels sealed instead: its stored parts as the body and its data key as
 * the customer's key wrapped it, which nobody but the customer can open. Shared by the sender (server/peer-replica-client.ts) and the receiver (server/internal-api.ts).
 */
import { Readable } from 'node:stream';
import { ServiceError } from '../../common/errors.js';
import { encryptedSize } from '../../crypto/index.js';
import type { DestinationBucket, SourceVersion } from '../../replication/ports.js';
import type { ObjectVersion } from '../../storage/types.js';
import type { ReplicaSettings } from './replica-writer.js';

export const REPLICA_PATH = '/_meridian/internal/replica';

export type ReplicaOperation = 'object' | 'delete-marker' | 'tags';

export interface ReplicaEnvelope {
  op: ReplicaOperation;
  destination: DestinationBucket;
  dryRun?: boolean;
  /** object, delete-marker: the version's metadata (no blobs, no wrapped key). */
  version?: Omit<ObjectVersion, 'parts' | 'encryption' | 'replicationStatus' | 'replicationDetail'> & { encryption?: { algorithm: NonNullable<ObjectVersion['encryption']>['algorithm']; bucketKeyEnabled?: boolean } };
  parts?: { partNumber: number; size: number; etag?: string; checksum?: Record<string, string> }[];
  settings?: ReplicaSettings;
  /** object, SSE-C: the customer-wrapped data key (base64) and what identifies it; the body is the stored parts. */
  sealed?: { wrappedKey: string; customerKeyMd5: string; wrapLabel: string };
  /** object: tags the role could read; tags: the new tag set (absent = removed). */
  tags?: Record<string, string>;
  key?: string;
  versionId?: string;
}

export function encodeEnvelope(e: ReplicaEnvelope): Buffer {
  return Buffer.from(JSON.stringify(e));
}

export function decodeEnvelope(json: Buffer): ReplicaEnvelope {
  let e: ReplicaEnvelope;
  try {
    e = JSON.parse(json.toString('utf8')) as ReplicaEnvelope;
  } catch {
    throw new ServiceError('MalformedJSON', 400, 'The replica envelope is not JSON');
  }
  return checkEnvelope(e);
}

function checkEnvelope(e: ReplicaEnvelope): ReplicaEnvelope {
  if (!e || typeof e !== 'object' || !['object', 'delete-marker', 'tags'].includes(e.op) || !e.destination || typeof e.destination.region !== 'string') {
    throw new ServiceError('InvalidRequest', 400, 'The replica envelope lacks its operation or destination');
  }
  return e;
}

/**
 * A bundle: several small object replicas in one request between peers, so that the per-request
 * work (HTTP, the role's SigV4, the peer signatures, the answer) is paid once for all of them:
 *
 *   u32 big-endian index length │ index (JSON: { items: [{ envelope, length }] }) │ each item's data, in order
 *
 * The whole body is small, so the peer signature covers its SHA-256 directly (checked before anything
 * is parsed). Each item is written, authorized and answered on its own.
 */
export const REPLICA_BUNDLE_PATH = '/_meridian/internal/replicas';
/** Items in one bundle at most (the receiver refuses more). */
export const BUNDLE_MAX_ITEMS = 256;
/** A bundle's body at most (the receiver refuses more). */
export const BUNDLE_MAX_BYTES = 8 * 1024 * 1024;

export interface BundleItem {
  envelope: ReplicaEnvelope;
  /** The object's body: its parts' plaintext (sealed: stored bytes), one after another. */
  data: Buffer;
}

export function encodeBundle(items: readonly BundleItem[]): Buffer {
  const index = Buffer.from(JSON.stringify({ items: items.map((i) => ({ envelope: i.envelope, length: i.data.length })) }));
  const head = Buffer.alloc(4);
  head.writeUInt32BE(index.length);
  return Buffer.concat([head, index, ...items.map((i) => i.data)]);
}

/** The items of a bundle body (already authenticated); malformed bundles are refused whole. */
export function decodeBundle(body: Buffer): BundleItem[] {
  const malformed = (why: string) => new ServiceError('InvalidRequest', 400, `Malformed replica bundle: ${why}`);
  if (body.length > BUNDLE_MAX_BYTES) throw new ServiceError('RequestEntityTooLarge', 413, `A replica bundle is at most ${BUNDLE_MAX_BYTES} bytes`);
  if (body.length < 4) throw malformed('it ends inside its index length');
  const indexLength = body.readUInt32BE(0);
  if (4 + indexLength > body.length) throw malformed('it ends inside its index');
  let index: { items?: unknown };
  try {
    index = JSON.parse(body.subarray(4, 4 + indexLength).toString('utf8')) as { items?: unknown };
  } catch {
    throw new ServiceError('MalformedJSON', 400, 'The replica bundle index is not JSON');
  }
  const entries = index?.items;
  if (!Array.isArray(entries) || entries.length === 0) throw malformed('its index lists no items');
  if (entries.length > BUNDLE_MAX_ITEMS) throw malformed(`${entries.length} items (at most ${BUNDLE_MAX_ITEMS})`);
  let offset = 4 + indexLength;
  const items = entries.map((entry: { envelope?: ReplicaEnvelope; length?: unknown }, n) => {
    const length = entry?.length;
    if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) throw malformed(`item ${n} has no valid length`);
    if (offset + length > body.length) throw malformed(`item ${n} ends beyond the body`);
    const envelope = checkEnvelope(entry.envelope as ReplicaEnvelope);
    // Bundles carry object replicas only; dry runs, delete markers and tag changes go one by one.
    if (envelope.op !== 'object' || envelope.dryRun) throw malformed(`item ${n} is not an object replica`);
    const data = body.subarray(offset, offset + length);
    offset += length;
    return { envelope, data };
  });
  if (offset !== body.length) throw malformed(`${body.length - offset} bytes after its last item`);
  return items;
}

/** The metadata of a version as sent: everything but blobs, wrapped keys and source-side state. */
export function versionForWire(v: ObjectVersion): NonNullable<ReplicaEnvelope['version']> {
  const { parts: _parts, encryption, replicationStatus: _s, replicationDetail: _d, ...rest } = v;
  const out: NonNullable<ReplicaEnvelope['version']> = rest;
  if (encryption) {
    out.encryption = { algorithm: encryption.algorithm };
    if (encryption.bucketKeyEnabled) out.encryption.bucketKeyEnabled = true;
  }
  for (const k of ['seq', 'isLatest'] as const) delete (out as Record<string, unknown>)[k];
  return out;
}

/** Rebuild the version the destination writer expects (the wrapped key is never used there). */
export function versionFromWire(e: ReplicaEnvelope): ObjectVersion {
  const { encryption, ...rest } = e.version!;
  const v: ObjectVersion = { ...rest, parts: [] };
  if (encryption) {
    v.encryption = { algorithm: encryption.algorithm, wrappedKey: Buffer.alloc(0) };
    if (encryption.bucketKeyEnabled) v.encryption.bucketKeyEnabled = true;
  }
  return v;
}

/** How many body bytes a part takes: its plaintext size, or sealed (SSE-C) its stored size. */
export function wirePartSize(sealed: boolean, plainSize: number): number {
  return sealed ? encryptedSize(plainSize) : plainSize;
}

/** The sealed form of an SSE-C source, for the envelope. */
export function sealedForWire(source: SourceVersion): ReplicaEnvelope['sealed'] {
  const s = source.sealed;
  return s && { wrappedKey: s.wrappedKey.toString('base64'), customerKeyMd5: s.customerKeyMd5, wrapLabel: s.wrapLabel };
}

/** The body of an object replica: each part's plaintext (sealed: stored bytes) in order. */
export function replicaBody(source: SourceVersion): Readable {
  return Readable.from(
    (async function* () {
      for (const p of source.parts) for await (const chunk of p.open()) yield chunk as Buffer;
    })(),
    { objectMode: false },
  );
}

/** The same body as one Buffer when every part's bytes are in memory (a small object); else undefined. */
export function replicaBytes(source: SourceVersion): Buffer | undefined {
  if (!source.parts.every((p) => p.bytes)) return undefined;
  const pieces = source.parts.map((p) => p.bytes!());
  return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
}

/**
 * The receiving side for a body received whole (and already authenticated): each part's bytes are
 * a slice of `data`, which must hold exactly the declared parts.
 */
export function sourceFromWireBytes(e: ReplicaEnvelope, data: Buffer): SourceVersion {
  const sealed = e.sealed !== undefined;
  let offset = 0;
  const parts = (e.parts ?? []).map((p) => {
    const size = wirePartSize(sealed, p.size);
    if (offset + size > data.length) throw new ServiceError('IncompleteBody', 400, 'The replica body ended before its declared parts');
    const bytes = data.subarray(offset, offset + size);
    offset += size;
    const part: SourceVersion['parts'][number] = { partNumber: p.partNumber, size: p.size, open: () => Readable.from([bytes], { objectMode: false }), bytes: () => bytes };
    if (p.etag !== undefined) part.etag = p.etag;
    if (p.checksum) part.checksum = p.checksum;
    return part;
  });
  if (offset !== data.length) throw new ServiceError('IncompleteBody', 400, `The replica body is ${data.length - offset} bytes longer than its declared parts`);
  const source: SourceVersion = { version: versionFromWire(e), parts };
  if (e.tags) source.tags = e.tags;
  if (e.sealed) source.sealed = { wrappedKey: Buffer.from(e.sealed.wrappedKey, 'base64'), customerKeyMd5: e.sealed.customerKeyMd5, wrapLabel: e.sealed.wrapLabel };
  return source;
}

/**
 * The receiving side: a SourceVersion whose parts read their bytes off the request body, in order.
 * Its `verify` (run before the replica is committed) reads the body to its end — refusing any byte
 * beyond the declared parts — and then runs `check` (the body's authentication).
 */
export function sourceFromWire(e: ReplicaEnvelope, body: Readable, check: () => void | Promise<void> = () => undefined): SourceVersion {
  const it = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let leftover: Buffer | undefined;
  const take = (size: number): Readable =>
    Readable.from(
      (async function* () {
        let remaining = size;
        while (remaining > 0) {
          let chunk = leftover;
          leftover = undefined;
          if (!chunk) {
            const r = await it.next();
            if (r.done) throw new ServiceError('IncompleteBody', 400, 'The replica body ended before its declared parts');
            chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
          }
          if (chunk.length > remaining) {
            leftover = chunk.subarray(remaining);
            chunk = chunk.subarray(0, remaining);
          }
          remaining -= chunk.length;
          yield chunk;
        }
      })(),
      { objectMode: false },
    );
  const verify = async () => {
    let extra = leftover?.length ?? 0;
    for (let r = await it.next(); !r.done; r = await it.next()) extra += r.value.length;
    if (extra > 0) throw new ServiceError('IncompleteBody', 400, `The replica body is ${extra} bytes longer than its declared parts`);
    await check();
  };
  const source: SourceVersion = {
    verify,
    version: versionFromWire(e),
    parts: (e.parts ?? []).map((p) => {
      const part: SourceVersion['parts'][number] = { partNumber: p.partNumber, size: p.size, open: () => take(wirePartSize(e.sealed !== undefined, p.size)) };
      if (p.etag !== undefined) part.etag = p.etag;
      if (p.checksum) part.checksum = p.checksum;
      return part;
    }),
  };
  if (e.tags) source.tags = e.tags;
  if (e.sealed) source.sealed = { wrappedKey: Buffer.from(e.sealed.wrappedKey, 'base64'), customerKeyMd5: e.sealed.customerKeyMd5, wrapLabel: e.sealed.wrapLabel };
  return source;
}
