/**
 * The awsQuery protocol (IAM, STS): form-encoded requests, XML responses wrapped in
 * <OpResponse><OpResult>…</OpResult><ResponseMetadata/></OpResponse>, ErrorResponse documents.
 */
import { ServiceError } from '../../common/errors.js';
import { toXml, type XmlObject, type XmlValue } from './xml.js';
import type { ServiceResponse } from './response.js';

export type QueryParams = Map<string, string>;

/** Parse a form body (or a GET query string): application/x-www-form-urlencoded, '+' is a space. */
export function parseQueryParams(body: string): QueryParams {
  const params = new Map<string, string>();
  for (const [k, v] of new URLSearchParams(body)) params.set(k, v);
  return params;
}

/** Read a required parameter; AWS answers a missing one with ValidationError naming the member. */
export function required(params: QueryParams, name: string): string {
  const v = params.get(name);
  if (v === undefined || v === '') {
    throw new ServiceError(
      'ValidationError',
      400,
      `1 validation error detected: Value null at '${name.charAt(0).toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return v;
}

/** A list parameter: Name.member.1, Name.member.2, ... */
export function memberList(params: QueryParams, name: string): string[] {
  const out: string[] = [];
  for (let i = 1; ; i++) {
    const v = params.get(`${name}.member.${i}`);
    if (v === undefined) return out;
    out.push(v);
  }
}

/** A list of structures: Name.member.N.Field */
export function memberStructs(params: QueryParams, name: string, fields: string[]): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (let i = 1; ; i++) {
    const item: Record<string, string> = {};
    let any = false;
    for (const f of fields) {
      const v = params.get(`${name}.member.${i}.${f}`);
      if (v !== undefined) {
        item[f] = v;
        any = true;
      }
    }
    if (!any) return out;
    out.push(item);
  }
}

/** Wrap a list for Query XML: <Name><member>…</member></Name>. */
export function members(items: XmlValue[]): XmlObject {
  return { member: items };
}

export function queryResponse(
  action: string,
  xmlns: string,
  requestId: string,
  result: XmlObject | undefined,
): ServiceResponse {
  const body: XmlObject = {};
  if (result) body[`${action}Result`] = result;
  body.ResponseMetadata = { RequestId: requestId };
  return {
    status: 200,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body: toXml(`${action}Response`, body, xmlns),
  };
}

export function queryError(e: ServiceError, xmlns: string, requestId: string): ServiceResponse {
  return {
    status: e.status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId, ...e.headers },
    body: toXml(
      'ErrorResponse',
      {
        Error: { Type: e.isServerFault ? 'Receiver' : 'Sender', Code: e.code, Message: e.message, ...e.fields },
        RequestId: requestId,
      },
      xmlns,
    ),
  };
}
