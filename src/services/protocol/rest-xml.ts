/** The restXml protocol's error document (S3): <Error><Code/><Message/>…<RequestId/><HostId/></Error>; HEAD errors are bodiless. */
import type { ServiceError } from '../../common/errors.js';
import { toXml } from './xml.js';
import type { ServiceResponse } from './response.js';

export function restXmlError(e: ServiceError, method: string, requestId: string, hostId: string, resource?: string): ServiceResponse {
  const headers: Record<string, string> = { ...e.headers };
  if (method === 'HEAD') return { status: e.status, headers };
  headers['content-type'] = 'application/xml';
  const body = toXml('Error', {
    Code: e.code,
    Message: e.message,
    ...e.fields,
    Resource: resource,
    RequestId: requestId,
    HostId: hostId,
  });
  return { status: e.status, headers, body };
}
