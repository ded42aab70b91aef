import type { Readable } from 'node:stream';

/** What a service hands back to the server's HTTP adapter: protocol-rendered, transport-neutral. */
export interface ServiceResponse {
  status: number;
  headers: Record<string, string>;
  body?: string | Buffer | Readable;
}
