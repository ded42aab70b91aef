/**
 * The awsJson1_1 protocol (KMS): POST / with X-Amz-Target, JSON in and out, errors as
 * {"__type": code, "message": text}. Client errors are 400 in KMS (never 5xx, or the CLI retries).
 */
import { ServiceError } from '../../common/errors.js';
import type { ServiceResponse } from './response.js';

const CONTENT_TYPE = 'application/x-amz-json-1.1';

export function parseJsonBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ServiceError('SerializationException', 400, 'Start of structure or map found where not expected.');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ServiceError('SerializationException', 400, 'Start of structure or map found where not expected.');
  }
  return parsed as Record<string, unknown>;
}

/** JSON.stringify with Buffers as base64 and Dates as epoch seconds (what botocore and SDK v3 parse). */
export function jsonResponse(requestId: string, output: unknown): ServiceResponse {
  const body = JSON.stringify(output ?? {}, (_k, v: unknown) => {
    if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
      return Buffer.from((v as { data: number[] }).data).toString('base64');
    }
    return v;
  });
  return { status: 200, headers: { 'content-type': CONTENT_TYPE, 'x-amzn-requestid': requestId }, body };
}

export function jsonError(e: ServiceError, requestId: string): ServiceResponse {
  return {
    status: e.status,
    headers: { 'content-type': CONTENT_TYPE, 'x-amzn-requestid': requestId, ...e.headers },
    body: JSON.stringify({ __type: e.code, message: e.message, ...e.fields }),
  };
}

/** Epoch seconds with fractions, as KMS returns timestamps. */
export function epochSeconds(ms: number): number {
  return ms / 1000;
}
