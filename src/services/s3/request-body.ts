import { ServiceError } from '../../common/errors.js';
import type { S3Request } from './s3-request.js';

/** Read a small (configuration) body fully; larger than `limit` is an error, not a memory problem. */
export async function readSmallBody(req: S3Request, limit = 2 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req.body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.body.destroy();
      throw new ServiceError('MaxMessageLengthExceeded', 400, 'Your request was too big.');
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Operations the model marks requestChecksumRequired need Content-MD5 or an x-amz-checksum-* (reference §6.3). */
export function requireChecksumHeader(req: S3Request): void {
  const h = req.headers;
  if (h['content-md5'] !== undefined) return;
  if (Object.keys(h).some((k) => k.startsWith('x-amz-checksum-') && k !== 'x-amz-checksum-mode') || h['x-amz-trailer']?.startsWith('x-amz-checksum-')) return;
  throw new ServiceError('InvalidRequest', 400, 'Missing required header for this request: Content-MD5 OR x-amz-checksum-*');
}

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
