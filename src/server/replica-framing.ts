/**
 * The body of a replica request between peers (split mode):
 *
 *   u32 big-endian envelope length │ envelope (JSON) │ data (the parts, in order) │ 32-byte tag
 *
 * The envelope travels in the body, so an object of any number of parts fits (it used to be one
 * header, and past ~100 parts the request met 431). Its SHA-256 is in the signed request headers
 * (`TAG:<hex>`), so it is checked before anything is done with it. The data is streamed, so its
 * digest cannot be signed up front: the closing tag is an HMAC over the request's signature and
 * the SHA-256 of everything before the tag, and the receiver checks it before it commits.
 */
import { createHash, type Hash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream';
import { ServiceError } from '../common/errors.js';
import { bodyTag, checkBodyTag, sha256Hex, TAG_PREFIX, type PeerKeys } from './peer-protocol.js';

const TAG_SIZE = 32;
/** 10,000 parts with checksums and the version's metadata stay far below this. */
export const MAX_ENVELOPE = 16 * 1024 * 1024;

/** The sender: the framed body, its length, and the `content` value for the signed headers. */
export function frameReplica(envelopeJson: Buffer, data: Readable | undefined, dataLength: number): { content: string; length: number; body(keys: PeerKeys, requestSignature: string): Readable } {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(envelopeJson.length);
  return {
    content: TAG_PREFIX + sha256Hex(envelopeJson),
    length: 4 + envelopeJson.length + dataLength + TAG_SIZE,
    body: (keys, requestSignature) =>
      Readable.from(
        (async function* () {
          const hash = createHash('sha256').update(head).update(envelopeJson);
          yield head;
          yield envelopeJson;
          let sent = 0;
          if (data) {
            for await (const chunk of data) {
              hash.update(chunk as Buffer);
              sent += (chunk as Buffer).length;
              yield chunk as Buffer;
            }
          }
          if (sent !== dataLength) throw new Error(`the replica's data was ${sent} bytes, not the ${dataLength} declared`);
          yield bodyTag(keys, requestSignature, hash.digest());
        })(),
        { objectMode: false },
      ),
  };
}

/** frameReplica for data already in memory: the whole body as one Buffer (one write, no stream). */
export function frameReplicaBuffer(envelopeJson: Buffer, data: Buffer): { content: string; length: number; body(keys: PeerKeys, requestSignature: string): Buffer } {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(envelopeJson.length);
  const length = 4 + envelopeJson.length + data.length + TAG_SIZE;
  return {
    content: TAG_PREFIX + sha256Hex(envelopeJson),
    length,
    body: (keys, requestSignature) => {
      const digest = createHash('sha256').update(head).update(envelopeJson).update(data).digest();
      return Buffer.concat([head, envelopeJson, data, bodyTag(keys, requestSignature, digest)], length);
    },
  };
}

/** Hashes and passes on every byte but the last TAG_SIZE, which it keeps as the tag. */
class TagHoldback extends Transform {
  private tail = Buffer.alloc(0);
  readonly hash: Hash = createHash('sha256');
  tag: Buffer | undefined;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const all = this.tail.length ? Buffer.concat([this.tail, chunk]) : chunk;
    const pass = Math.max(0, all.length - TAG_SIZE);
    this.tail = Buffer.from(all.subarray(pass));
    if (pass > 0) {
      const out = all.subarray(0, pass);
      this.hash.update(out);
      this.push(out);
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.tail.length !== TAG_SIZE) return done(new ServiceError('IncompleteBody', 400, 'The replica body ended before its closing tag'));
    this.tag = this.tail;
    done();
  }
}

export interface FramedReplica {
  envelope: Buffer;
  /** The data after the envelope (without the tag). */
  data: Readable;
  /** After `data` has ended: whether the closing tag authenticates the whole body. Throws BadDigest if not. */
  check(): void;
}

/** The receiver: the envelope (checked against the signed digest) and the data whose tag `check` verifies. */
export async function readFramedReplica(body: Readable, keys: PeerKeys, requestSignature: string, content: string): Promise<FramedReplica> {
  if (!content.startsWith(TAG_PREFIX)) throw new ServiceError('InvalidRequest', 400, 'A replica request must declare its envelope digest (TAG:<sha256>)');
  const holdback = new TagHoldback();
  pipeline(body, holdback, () => undefined);
  const it = holdback[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let buffered = Buffer.alloc(0);
  const need = async (n: number) => {
    while (buffered.length < n) {
      const r = await it.next();
      if (r.done) throw new ServiceError('IncompleteBody', 400, 'The replica body ended inside its envelope');
      buffered = Buffer.concat([buffered, r.value]);
    }
  };
  await need(4);
  const length = buffered.readUInt32BE(0);
  if (length > MAX_ENVELOPE) throw new ServiceError('InvalidRequest', 400, `The replica envelope is ${length} bytes (at most ${MAX_ENVELOPE})`);
  await need(4 + length);
  const envelope = Buffer.from(buffered.subarray(4, 4 + length));
  if (sha256Hex(envelope) !== content.slice(TAG_PREFIX.length)) throw new ServiceError('BadDigest', 400, 'The replica envelope does not match the digest the peer signed');
  const rest = buffered.subarray(4 + length);
  const data = Readable.from(
    (async function* () {
      if (rest.length) yield rest;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    })(),
    { objectMode: false },
  );
  return {
    envelope,
    data,
    check: () => {
      if (!holdback.tag || !checkBodyTag(keys, requestSignature, holdback.hash.digest(), holdback.tag)) {
        throw new ServiceError('BadDigest', 400, 'The replica body does not match the digest the peer signed (altered in transit)');
      }
    },
  };
}

/**
 * The receiver, for a small body read whole: the same checks as readFramedReplica (envelope digest,
 * then the closing tag), all of them before anything is done with it.
 */
export function parseFramedReplica(body: Buffer, keys: PeerKeys, requestSignature: string, content: string): { envelope: Buffer; data: Buffer } {
  if (!content.startsWith(TAG_PREFIX)) throw new ServiceError('InvalidRequest', 400, 'A replica request must declare its envelope digest (TAG:<sha256>)');
  if (body.length < 4) throw new ServiceError('IncompleteBody', 400, 'The replica body ended inside its envelope');
  const length = body.readUInt32BE(0);
  if (length > MAX_ENVELOPE) throw new ServiceError('InvalidRequest', 400, `The replica envelope is ${length} bytes (at most ${MAX_ENVELOPE})`);
  if (body.length < 4 + length) throw new ServiceError('IncompleteBody', 400, 'The replica body ended inside its envelope');
  const envelope = body.subarray(4, 4 + length);
  if (sha256Hex(envelope) !== content.slice(TAG_PREFIX.length)) throw new ServiceError('BadDigest', 400, 'The replica envelope does not match the digest the peer signed');
  if (body.length < 4 + length + TAG_SIZE) throw new ServiceError('IncompleteBody', 400, 'The replica body ended before its closing tag');
  const end = body.length - TAG_SIZE;
  const digest = createHash('sha256').update(body.subarray(0, end)).digest();
  if (!checkBodyTag(keys, requestSignature, digest, body.subarray(end))) {
    throw new ServiceError('BadDigest', 400, 'The replica body does not match the digest the peer signed (altered in transit)');
  }
  return { envelope, data: body.subarray(4 + length, end) };
}
