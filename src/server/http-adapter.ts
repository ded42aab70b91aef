/**
 * The one file that speaks node:http: turns an IncomingMessage into the pipeline's request and
 * writes the pipeline's response, with the headers every AWS response carries.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { newHostId, newRequestId } from '../common/ids.js';
import type { Logger } from './logger.js';
import type { RequestPipeline } from './request-pipeline.js';

export function createRequestListener(pipelineStages: RequestPipeline, log: Logger, secure: boolean) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const requestId = newRequestId();
    const hostId = newHostId();
    const started = process.hrtime.bigint();
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const rawPath = q < 0 ? target : target.slice(0, q);
    const rawQuery = q < 0 ? '' : target.slice(q + 1);
    const method = req.method ?? 'GET';
    void pipelineStages
      .handle({
        method,
        rawPath,
        rawQuery,
        headers: req.headers,
        body: req,
        secure,
        remoteAddress: req.socket.remoteAddress ?? '',
        requestId,
        hostId,
      })
      .then(async (response) => {
        const headers: Record<string, string> = {
          'x-amz-request-id': requestId,
          'x-amz-id-2': hostId,
          server: 'Meridian',
          ...response.headers,
        };
        const body = response.body;
        if (typeof body === 'string' || Buffer.isBuffer(body)) {
          const buf = typeof body === 'string' ? Buffer.from(body) : body;
          if (method !== 'HEAD') headers['content-length'] = String(buf.length);
          res.writeHead(response.status, headers);
          res.end(method === 'HEAD' ? undefined : buf);
        } else if (body) {
          res.writeHead(response.status, headers);
          try {
            if (response.trailers) {
              await pipeline(body, res, { end: false });
              res.addTrailers(response.trailers);
              res.end();
            } else {
              await pipeline(body, res);
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
        log.debug({ requestId, method, path: rawPath, status: response.status, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
      })
      .catch((e: unknown) => {
        log.error({ err: e, requestId }, 'request failed outside the pipeline');
        if (!res.headersSent) {
          res.writeHead(500, { 'x-amz-request-id': requestId });
          res.end();
        } else {
          res.destroy();
        }
      });
  };
}
