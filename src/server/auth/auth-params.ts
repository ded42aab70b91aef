/**
 * Reading the SigV4 parameters of a request, header or presigned, without any secret (reference
 * §5.1 step 4, §5.8). Everything malformed is rejected here with AWS's codes and texts.
 */
import { ServiceError } from '../../common/errors.js';
import {
  PRESIGN_REQUIRED_MESSAGE,
  credentialMalformed,
  headerMalformed,
  queryParamsError,
  unsupportedMechanism,
} from './auth-errors.js';
import { ALGORITHM, headerValue, type HeaderBag } from './canonical.js';
import { parseQuery } from './encoding.js';
import { parseAmzDate } from './time.js';

export interface SigningRequest {
  method: string;
  /** Request target path as received on the wire (before '?'), still percent-encoded. */
  rawPath: string;
  /** Raw query string without '?', '' if none. */
  rawQuery: string;
  /** Lower-case names, as node:http gives them (pass `req.headersDistinct` to keep repeats apart). */
  headers: HeaderBag;
}

export interface CredentialScope {
  accessKeyId: string;
  date: string; // yyyymmdd
  region: string;
  service: string;
}

export interface HeaderAuth extends CredentialScope {
  kind: 'header';
  signedHeaders: string[];
  signature: string;
}

export interface PresignedAuth extends CredentialScope {
  kind: 'presigned';
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  requestTime: number;
  expiresSeconds: number;
  expiresRaw: string;
  securityToken?: string;
  contentSha256?: string; // X-Amz-Content-Sha256 query parameter (SDK v3 adds UNSIGNED-PAYLOAD)
}

export type ParsedAuth = HeaderAuth | PresignedAuth;

export const MAX_PRESIGN_EXPIRES = 604800;

const DATE8 = /^\d{8}$/;

/** `AKID/yyyymmdd/region/service/aws4_request`, or undefined when the shape is wrong. */
function splitCredential(value: string): CredentialScope | 'bad-date' | undefined {
  const parts = value.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request') return undefined;
  const [accessKeyId, date, region, service] = parts as [string, string, string, string];
  if (accessKeyId === '' || region === '' || service === '') return undefined;
  if (!DATE8.test(date)) return 'bad-date';
  return { accessKeyId, date, region, service };
}

function parseSignedHeaders(value: string): string[] {
  return value.split(';').map((h) => h.trim().toLowerCase());
}

function parseHeaderAuth(value: string): HeaderAuth {
  const trimmed = value.trim();
  if (!trimmed.startsWith(ALGORITHM + ' ')) {
    // SigV2 ("AWS AKID:sig") and SigV4a are real AWS mechanisms we do not serve.
    if (/^AWS(4-ECDSA-P256-SHA256)? /.test(trimmed)) throw unsupportedMechanism();
    throw new ServiceError('InvalidArgument', 400, 'Unsupported Authorization Type', {
      ArgumentName: 'Authorization',
      ArgumentValue: value,
    });
  }
  const fields = new Map<string, string>();
  for (const part of trimmed.slice(ALGORITHM.length + 1).split(',')) {
    const p = part.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    if (eq < 0) throw headerMalformed('the authorization component "' + p + '" is malformed.');
    fields.set(p.slice(0, eq).trim(), p.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    throw headerMalformed('the authorization header requires three components: Credential, SignedHeaders, and Signature.');
  }
  const scope = splitCredential(credential);
  if (scope === undefined) throw credentialMalformed();
  if (scope === 'bad-date') {
    throw headerMalformed(`incorrect date format "${credential.split('/')[1]}". This date in the credential must be in the format "yyyyMMdd".`);
  }
  const headers = parseSignedHeaders(signedHeaders);
  if (!headers.includes('host')) throw headerMalformed('the SignedHeaders component must include "host".');
  return { kind: 'header', ...scope, signedHeaders: headers, signature };
}

/** Query parameters that make a request presigned SigV4. */
const PRESIGN_TRIGGERS = ['X-Amz-Algorithm', 'X-Amz-Credential'];

function parsePresigned(params: Map<string, string>): PresignedAuth {
  const get = (n: string) => params.get(n);
  const algorithm = get('X-Amz-Algorithm');
  const credential = get('X-Amz-Credential');
  const signature = get('X-Amz-Signature');
  const amzDate = get('X-Amz-Date');
  const signedHeaders = get('X-Amz-SignedHeaders');
  const expires = get('X-Amz-Expires');
  if (!algorithm || !credential || !signature || !amzDate || !signedHeaders || expires === undefined) {
    throw queryParamsError(PRESIGN_REQUIRED_MESSAGE);
  }
  if (algorithm !== ALGORITHM) throw queryParamsError('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  const scope = splitCredential(credential);
  if (scope === undefined) {
    throw queryParamsError(
      'Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
    );
  }
  if (scope === 'bad-date') {
    throw queryParamsError(
      'Error parsing the X-Amz-Credential parameter; incorrect date format. This date in the credential must be in the format "yyyyMMdd".',
    );
  }
  const requestTime = parseAmzDate(amzDate);
  if (requestTime === undefined) {
    throw queryParamsError(`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`);
  }
  if (!/^-?\d+$/.test(expires)) throw queryParamsError('X-Amz-Expires should be a number');
  const expiresSeconds = Number(expires);
  if (expiresSeconds < 0) throw queryParamsError('X-Amz-Expires must be non-negative');
  if (expiresSeconds === 0) throw queryParamsError('X-Amz-Expires must be greater than 0');
  if (expiresSeconds > MAX_PRESIGN_EXPIRES) {
    throw queryParamsError(
      'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds',
    );
  }
  if (scope.date !== amzDate.slice(0, 8)) {
    throw queryParamsError(`Invalid credential date "${scope.date}". This date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`);
  }
  const headers = parseSignedHeaders(signedHeaders);
  if (!headers.includes('host')) {
    throw queryParamsError('Query-string authentication version 4 requires the X-Amz-SignedHeaders parameter to include "host".');
  }
  const out: PresignedAuth = {
    kind: 'presigned',
    ...scope,
    signedHeaders: headers,
    signature,
    amzDate,
    requestTime,
    expiresSeconds,
    expiresRaw: expires,
  };
  const token = get('X-Amz-Security-Token');
  if (token !== undefined) out.securityToken = token;
  const contentSha = get('X-Amz-Content-Sha256');
  if (contentSha !== undefined) out.contentSha256 = contentSha;
  return out;
}

/** Decoded query parameters, first occurrence of each name wins. */
function queryMap(rawQuery: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const p of parseQuery(rawQuery)) if (!m.has(p.name)) m.set(p.name, p.value);
  return m;
}

/**
 * Parsed once per request object: routing, the caller's scope and the verification all ask for it
 * (three parses of the Authorization header and the query string per request before). Only
 * successful parses are kept; a malformed request throws again on every call, as before.
 */
const parsed = new WeakMap<SigningRequest, ParsedAuth | undefined>();

/** The SigV4 parameters of a request, or undefined for an anonymous request. */
export function parseAuth(req: SigningRequest): ParsedAuth | undefined {
  if (parsed.has(req)) return parsed.get(req);
  const auth = parseAuthUncached(req);
  parsed.set(req, auth);
  return auth;
}

function parseAuthUncached(req: SigningRequest): ParsedAuth | undefined {
  const authorization = headerValue(req.headers, 'authorization');
  const params = queryMap(req.rawQuery);
  const presigned = PRESIGN_TRIGGERS.some((n) => params.has(n));
  const sigV2Query = params.has('AWSAccessKeyId') && params.has('Signature');
  if (authorization !== undefined && (presigned || sigV2Query)) {
    throw new ServiceError(
      'InvalidArgument',
      400,
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
      { ArgumentName: 'Authorization', ArgumentValue: authorization },
    );
  }
  if (authorization !== undefined) return parseHeaderAuth(authorization);
  if (presigned) return parsePresigned(params);
  if (sigV2Query) throw unsupportedMechanism(); // CLI v1 `s3 presign` SigV2 URLs (reference §5.9)
  return undefined;
}

/**
 * Find the credential scope of a request without verifying it (header or presigned), or undefined
 * if the request is anonymous. Lets the server route by service and region before looking up secrets.
 */
export function readCredentialScope(req: SigningRequest): CredentialScope | undefined {
  const auth = parseAuth(req);
  if (!auth) return undefined;
  return { accessKeyId: auth.accessKeyId, date: auth.date, region: auth.region, service: auth.service };
}
