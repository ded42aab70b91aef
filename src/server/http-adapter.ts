/**
 * The one file that speaks node:http: turns an IncomingMessage into the pipeline's request and
 * writes the pipeline's response, with the headers every AWS response carries.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { isReleasable, releaseBuffer } from '../common/buffer-release.js';
import { newHostId, newRequestId } from '../common/ids.js';
import { beginReadEpoch } from '../common/read-epoch.js';
import type { HttpLimits } from './config.js';
import { watchBody } from './http-limits.js';
import type { Logger } from './logger.js';
import { discardBody } from './request-body.js';
import type { RequestPipeline } from './request-pipeline.js';

/**
 * The largest request body that is still read and thrown away after an early answer (an error before
 * the body was needed) so the connection stays usable; a larger one gets `Connection: close` and the
 * connection ends: a client is never left pushing bytes nobody reads.
 */
export const DRAIN_LIMIT_BYTES = 1024 * 1024;

/** How long a connection answered with `Connection: close` keeps reading (and dropping) the client's body. */
export const LINGER_MS = 5000;

/**
 * node ends a `Connection: close` response by destroying the socket as soon as the answer is
 * flushed. With the client's body still arriving that is a TCP reset, and a reset can make the
 * client's kernel discard the answer before the client reads it. So, as web servers' "lingering
 * close" does: our side is already closed for writing (FIN sent); keep reading and dropping what
 * still arrives until the client closes or LINGER_MS pass, then destroy.
 */
function lingerBeforeClose(socket: Socket): void {
  if (socket.destroyed) return;
  socket.removeListener('finish', socket.destroy);
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  // Half-closed by the client too: nothing more to wait for.
  socket.once('end', () => socket.destroy());
}

/** Bytes one turn of a body may queue on a full socket before the body is paused at once (several file reads). */
const TURN_WRITE_LIMIT = 4 * 1024 * 1024;

/**
 * Streams a response body into the response. Resolves once the body is handed over whole (and, with
 * `end`, the response has finished); rejects if the body fails or the client goes away first, after
 * destroying the body so its file descriptors and data key are released. What stream.pipeline does
 * here, without the AbortController and AbortError (with its stack trace) it builds for every response.
 *
 * Unlike Readable.pipe it honours backpressure per turn of the event loop, not per chunk: the chunks a
 * body produces in one turn (the decrypted 64 KiB segments of one file read, 16 per MiB) are written
 * into the corked socket and leave in one writev. Piped, the socket's 16 KiB high-water mark paused
 * the body after every chunk, so each went out in a write of its own that woke the client for 64 KiB;
 * on the VMs we measure on, each write costs a round of the kernel's TCP locking, and a 1 MiB GET spent
 * a fifth of its server CPU in them. A turn's chunks are already in memory, so letting them all in
 * holds nothing more; the body is paused after the turn if the socket asked for a drain.
 *
 * Chunks their producer handed over (common/buffer-release.ts) are freed as soon as their write is
 * done, not at V8's next collection.
 */
export function sendStream(body: Readable, res: ServerResponse, end: boolean): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    // The socket is corked, not the response: a finished response lets go of its socket (keep-alive)
    // and would then never pass an uncork on.
    const socket = res.socket;
    let corked = false;
    let full = false;
    const afterTurn = (): void => {
      corked = false;
      socket?.uncork();
      if (full && !settled) body.pause();
    };
    const onData = (chunk: Buffer | string): void => {
      if (socket && !corked) {
        corked = true;
        socket.cork();
        process.nextTick(afterTurn);
      }
      // A buffer its producer handed over (decrypted object data) is freed once the socket has it.
      const written = typeof chunk !== 'string' && isReleasable(chunk) ? res.write(chunk, () => releaseBuffer(chunk)) : res.write(chunk);
      if (!written) {
        full = true;
        // A body that produces without end in one turn (from memory, never waiting) is held at a bound.
        if (!corked || res.writableLength >= TURN_WRITE_LIMIT) body.pause();
      }
    };
    const onDrain = (): void => {
      if (!full) return;
      full = false;
      if (!settled) body.resume();
    };
    const onEnd = (): void => {
      if (end) res.end();
      else settle();
    };
    const onError = (e: Error): void => settle(e);
    const onClose = (): void => settle(new Error('the connection closed before the response body was sent'));
    const onDone = (): void => settle();
    function settle(err?: Error): void {
      if (settled) return;
      settled = true;
      res.off('close', onClose);
      res.off('error', onError);
      res.off('finish', onDone);
      res.off('drain', onDrain);
      body.off('data', onData);
      body.off('end', onEnd);
      // Later errors of either stream have nobody to tell (the answer is decided): never unhandled.
      body.off('error', onError).on('error', () => undefined);
      if (err) {
        body.destroy();
        reject(err);
      } else {
        resolve();
      }
    }
    body.on('error', onError);
    res.on('error', onError);
    res.on('close', onClose);
    res.on('drain', onDrain);
    if (end) res.on('finish', onDone);
    body.on('end', onEnd);
    body.on('data', onData);
  });
}

/**
 * Requests that arrived in one turn of the event loop start together, in that turn's check phase
 * (setImmediate), in a new read epoch: the rows they find cached (access keys, bucket configurations)
 * are then checked against other processes' commits once for all of them, after the last of them
 * arrived (common/read-epoch.ts). Started one by one as they arrived, each paid for that check itself
 * (two SQLite statements per request, 10–30 µs under load).
 */
export function startTogether(): (start: () => void) => void {
  let arrived: (() => void)[] = [];
  const startArrived = (): void => {
    const batch = arrived;
    arrived = [];
    beginReadEpoch();
    for (const start of batch) start();
  };
  return (start) => {
    if (arrived.push(start) === 1) setImmediate(startArrived);
  };
}

export function createRequestListener(pipelineStages: RequestPipeline, log: Logger, secure: boolean, limits: HttpLimits) {
  const schedule = startTogether();
  return (req: IncomingMessage, res: ServerResponse): void => {
    watchBody(req, limits);
    const requestId = newRequestId();
    const hostId = newHostId();
    // Requests are logged at debug: at info and above nothing of the log line is built (not even the clock read).
    const debug = log.isLevelEnabled('debug');
    const started = debug ? process.hrtime.bigint() : 0n;
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const rawPath = q < 0 ? target : target.slice(0, q);
    const rawQuery = q < 0 ? '' : target.slice(q + 1);
    const method = req.method ?? 'GET';
    const remoteAddress = req.socket.remoteAddress ?? '';
    let streamed: Readable | undefined;
    const respond = (): void => {
      void pipelineStages
        .handle({
          method,
          rawPath,
          rawQuery,
          headers: req.headers,
          body: req,
          secure,
          remoteAddress,
          requestId,
          hostId,
        })
        .then(async (response) => {
          const body = response.body;
          if (body && typeof body !== 'string' && !Buffer.isBuffer(body)) streamed = body;
          const headers: Record<string, string> = {
            'x-amz-request-id': requestId,
            'x-amz-id-2': hostId,
            server: 'Meridian',
            ...response.headers,
          };
          // Answered before the whole body arrived: discard the rest if it is small, else close after answering.
          if (!discardBody(req, DRAIN_LIMIT_BYTES)) {
            headers.connection = 'close';
            const socket = req.socket;
            res.once('finish', () => lingerBeforeClose(socket));
          }
          if (typeof body === 'string' || Buffer.isBuffer(body)) {
            const buf = typeof body === 'string' ? Buffer.from(body) : body;
            if (method !== 'HEAD') headers['content-length'] = String(buf.length);
            res.writeHead(response.status, headers);
            res.end(method === 'HEAD' ? undefined : buf);
          } else if (body) {
            res.writeHead(response.status, headers);
            // A client that stops reading a streamed body (a download, the events stream) is cut after
            // the body timeout of no progress: its socket, blob descriptor and data key are released.
            res.setTimeout(limits.bodyTimeoutMs);
            try {
              if (response.trailers) {
                await sendStream(body, res, false);
                res.addTrailers(response.trailers);
                res.end();
              } else {
                await sendStream(body, res, true);
              }
            } catch (e) {
              // Headers are gone: the only honest signal left is cutting the connection.
              log.warn({ err: e, requestId }, 'response stream failed');
              res.destroy();
            }
          } else {
            if (!('content-length' in headers) && response.status !== 304 && response.status !== 204) headers['content-length'] = '0';
            res.writeHead(response.status, headers);
            res.end();
          }
          if (debug) log.debug({ requestId, method, path: rawPath, status: response.status, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
        })
        .catch((e: unknown) => {
          log.error({ err: e, requestId }, 'request failed outside the pipeline');
          // A response body that never reached the client still holds descriptors and keys: release them.
          if (streamed && !streamed.destroyed) streamed.destroy();
          if (!res.headersSent) {
            res.writeHead(500, { 'x-amz-request-id': requestId, 'content-length': '0', ...(req.complete ? {} : { connection: 'close' }) });
            res.end();
          } else {
            res.destroy();
          }
        });
    };
    schedule(respond);
  };
}
