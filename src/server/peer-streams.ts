/**
 * Streamed answers between peers (split mode): object data cannot be hashed before it is sent, so
 * the answering process sends it chunked, with its length in a signed header and an HMAC over its
 * SHA-256 as a trailer; the relaying process holds back the last chunk until that trailer verifies,
 * so its client never receives a complete altered body (a failure cuts the connection short of the
 * declared length, which every client treats as an error).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import type { ServiceResponse } from '../services/protocol/response.js';
import { checkResponseBodyTag, H, PeerAuthError, responseBodyTag, type PeerKeys } from './peer-protocol.js';

/** The answering side: a streamed response made ready to be signed with content TRAILER. */
export function streamWithTrailer(keys: PeerKeys, requestSignature: string, response: ServiceResponse & { body: Readable }): ServiceResponse {
  const headers = { ...response.headers };
  const length = headers['content-length'];
  delete headers['content-length'];
  if (length !== undefined) headers[H.length] = length;
  headers.trailer = H.bodyTag;
  const trailers: Record<string, string> = {};
  const hash = createHash('sha256');
  const signer = new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      hash.update(chunk);
      done(null, chunk);
    },
    flush(done: TransformCallback) {
      trailers[H.bodyTag] = responseBodyTag(keys, requestSignature, hash.digest());
      done();
    },
  });
  pipeline(response.body, signer, () => undefined);
  return { status: response.status, headers, body: signer, trailers };
}

/**
 * The relaying side: the peer's streamed body, passed on but for its last chunk, which follows only
 * once the trailer authenticates everything. An altered body ends in an error instead. Without a
 * declared length (an event stream) nothing is held back: the client knows the body is complete
 * only from the chunked encoding's last chunk, which an error never sends.
 */
export function verifiedStream(keys: PeerKeys, requestSignature: string, upstream: IncomingMessage, holdBack: boolean): Readable {
  const hash = createHash('sha256');
  let held: Buffer | undefined;
  const verifier = new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      hash.update(chunk);
      if (!holdBack) return done(null, chunk);
      const previous = held;
      held = chunk;
      done(null, previous);
    },
    flush(done: TransformCallback) {
      const tag = upstream.trailers[H.bodyTag];
      if (!checkResponseBodyTag(keys, requestSignature, hash.digest(), tag)) return done(new PeerAuthError('the streamed answer does not match its signed trailer (altered in transit)'));
      done(null, held);
    },
  });
  pipeline(upstream, verifier, () => undefined);
  return verifier;
}
