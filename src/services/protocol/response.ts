import type { Readable } from 'node:stream';

/** What a service hands back to the server's HTTP adapter: protocol-rendered, transport-neutral. */
export interface ServiceResponse {
  status: number;
  headers: Record<string, string>;
  body?: string | Buffer | Readable;
  /**
   * HTTP trailers sent after a streamed body (chunked); read once the body has ended, so the body
   * may fill them in as it goes (split mode signs a streamed answer to a peer this way).
   */
  trailers?: Record<string, string>;
}
