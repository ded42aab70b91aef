/**
 * What keeps slow or greedy clients from holding the server: node's own limits (headers timeout,
 * keep-alive timeout, header size), caps on open connections in total and per client address, and a
 * watchdog that cuts a request body that stops moving. docs/security.md says what each protects.
 */
import type { IncomingMessage, Server, ServerOptions } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { ServiceError } from '../common/errors.js';
import type { HttpLimits } from './config.js';
import type { Logger } from './logger.js';

/** node:http options for the limits node enforces itself. */
export function serverOptions(limits: HttpLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // No limit on a whole request: a 5 GiB upload on a slow link is legitimate. The body watchdog
    // cuts bodies that stop moving instead.
    requestTimeout: 0,
    // node checks the headers timeout on this interval (30 s by default, which would let a
    // slowloris client keep a socket long past the timeout).
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    maxHeaderSize: limits.maxHeaderBytes,
  };
}

/**
 * Refuse connections past the caps by closing them at once (before any byte is read), as a full
 * listen queue would: one client cannot take every descriptor the process has.
 */
export function capConnections(server: Server | HttpsServer, limits: HttpLimits, log: Logger): void {
  const perClient = new Map<string, number>();
  let open = 0;
  let refused = 0;
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const fromClient = perClient.get(address) ?? 0;
    if (open >= limits.maxConnections || fromClient >= limits.maxConnectionsPerClient) {
      // One line per 100 refusals: a flood must not become a flood of logs.
      if (refused++ % 100 === 0) log.warn({ address, open, fromClient, refused }, 'connection refused: too many open connections');
      socket.destroy();
      return;
    }
    open++;
    perClient.set(address, fromClient + 1);
    socket.once('close', () => {
      open--;
      const left = (perClient.get(address) ?? 1) - 1;
      if (left === 0) perClient.delete(address);
      else perClient.set(address, left);
    });
  });
}

export const REQUEST_TIMEOUT_MESSAGE = 'Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.';

/**
 * Cut a request body that moves slower than the minimum rate over a whole window (or not at all):
 * the request fails with RequestTimeout and the connection closes. A slow but moving upload is fine.
 * Time the server itself is not reading (its buffer is full) is not counted against the client.
 */
export function watchBody(req: IncomingMessage, limits: HttpLimits): void {
  if (req.complete) return;
  // No body (most GETs, HEADs, DELETEs): nothing to watch, no timer per request.
  const length = req.headers['content-length'];
  if (req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0')) return;
  const socket = req.socket;
  const minBytes = Math.max(1, Math.floor((limits.minBodyBytesPerSecond * limits.bodyTimeoutMs) / 1000));
  let last = socket.bytesRead;
  const timer = setInterval(() => {
    if (req.complete || req.destroyed) return stop();
    const read = socket.bytesRead;
    const moved = read - last;
    last = read;
    const waitingOnClient = req.readableLength < req.readableHighWaterMark;
    if (moved < minBytes && waitingOnClient) {
      stop();
      req.destroy(new ServiceError('RequestTimeout', 400, REQUEST_TIMEOUT_MESSAGE));
    }
  }, limits.bodyTimeoutMs);
  timer.unref();
  const stop = () => clearInterval(timer);
  req.once('end', stop);
  req.once('close', stop);
}
