/**
 * The request body at the HTTP boundary. The IncomingMessage is special among the request's streams:
 * destroying it destroys the socket, and with it the answer the client is owed. So it is never put
 * inside a stream.pipeline (which destroys every stream on failure); it is joined to the stream that
 * consumes it here, and whatever of it is left once the answer is ready is drained or the connection
 * closed (http-adapter.ts).
 */
import type { Readable, Writable } from 'node:stream';
import { IncomingMessage } from 'node:http';
import { handOver } from '../common/buffer-release.js';

/**
 * Feed `source` (the request) into `sink` (the payload verifier), starting when something first
 * reads the sink: a request refused before its body is needed (no such bucket, access denied) never
 * reads a byte of it, and with `Expect: 100-continue` the client is never told to send it
 * (server.ts). Errors of the request reach the sink; errors of the sink (a wrong payload hash, a
 * malformed aws-chunked body) stop the feed and go to whoever reads the sink — and when nobody does,
 * they are already answered and dropped here instead of ending the process.
 */
export function joinBody<T extends Writable & Readable>(source: Readable, sink: T): T {
  const onSourceError = (e: Error) => sink.destroy(e);
  source.on('error', onSourceError);
  sink.on('error', () => source.unpipe(sink));
  sink.once('close', () => source.off('error', onSourceError));
  const onListener = (event: string | symbol) => {
    if (event !== 'data' && event !== 'readable') return;
    sink.off('newListener', onListener);
    // Node copies each chunk of a request's body into a buffer of its own, and after this feed nothing
    // else reads it: whoever reads it last may free it (the encrypting stream, common/buffer-release.ts).
    // A body rebuilt from a buffer someone else holds (a relayed request's) is not a request's own.
    if (!sink.destroyed && source instanceof IncomingMessage) source.on('data', handOver);
    if (!sink.destroyed) source.pipe(sink);
  };
  sink.on('newListener', onListener);
  return sink;
}

/**
 * After an answer decided before the whole body arrived (an error before the body was needed): stop
 * whatever was consuming the body and discard the rest as it comes. Returns whether the connection
 * can carry another request: only when what is left is known to be small (a declared Content-Length
 * of at most `limit`); otherwise the caller answers with `Connection: close`, so a client is never left
 * pushing a large body nobody reads. A body that stalls while being discarded is cut by the body
 * watchdog like any other.
 */
export function discardBody(req: Readable & { complete?: boolean; headers?: Record<string, string | string[] | undefined> }, limit: number): boolean {
  if (req.complete || req.readableEnded) return true;
  if (req.destroyed) return false;
  req.unpipe();
  // Flowing with nobody listening discards.
  req.resume();
  const declared = req.headers?.['content-length'];
  return typeof declared === 'string' && /^\d+$/.test(declared) && Number(declared) <= limit;
}
