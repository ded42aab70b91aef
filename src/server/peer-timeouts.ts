/**
 * Split mode: telling a peer that cannot be reached from one that answered. A connection that is
 * refused, reset or unroutable, or not accepted (TCP and TLS) within a few seconds, is the peer's
 * absence; so is an answer that does not come in time. Without a bound of our own, a connect over a
 * link that drops packets waits for the kernel's SYN retries (about two minutes) and a request on a
 * pooled connection that died silently waits for whatever socket timeout is set.
 */
import type { ClientRequest } from 'node:http';

export class PeerUnreachableError extends Error {
  /**
   * The connection failed before it was up (refused or reset during TCP or TLS set-up, not a
   * timeout): nothing of the request reached the peer, so sending it again on a new connection is
   * safe, and behind a balancer whose one backend just died it usually reaches a live one.
   */
  beforeConnection = false;

  constructor(
    readonly origin: string,
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'PeerUnreachableError';
  }

  /**
   * The error of a request that got no answer. Every such error means the peer did not answer:
   * TLS failures (a wrong certificate) included, as the request never reached the peer's code —
   * the operator's fix differs, but for the client it is still a dependency away.
   */
  static from(origin: string, e: unknown): PeerUnreachableError {
    if (e instanceof PeerUnreachableError) return e;
    const code = (e as { code?: unknown }).code;
    const message = e instanceof Error ? e.message : String(e);
    return new PeerUnreachableError(origin, message, typeof code === 'string' ? code : 'ERR_PEER_UNREACHABLE');
  }
}

/**
 * Destroy `req` unless its connection (TCP, and the TLS handshake for https) is up within `ms`.
 * A pooled keep-alive connection is already up: nothing to wait for.
 */
export function boundConnect(req: ClientRequest, https: boolean, ms: number, origin: string): void {
  req.once('socket', (socket) => {
    if (req.reusedSocket || (!https && !socket.connecting)) return;
    const timer = setTimeout(() => req.destroy(new PeerUnreachableError(origin, `no connection within ${ms} ms`, 'ETIMEDOUT')), ms);
    const done = () => clearTimeout(timer);
    socket.once(https ? 'secureConnect' : 'connect', done);
    socket.once('close', done);
  });
}
