/**
 * SigV4 request verification (reference §5.1–§5.8): header auth and presigned URLs, for S3 and the
 * KMS/IAM/STS endpoints. Body integrity is checked later, while streaming (payload.ts).
 */
import { ServiceError } from '../../common/errors.js';
import {
  headerMalformed,
  invalidAccessKeyId,
  invalidArgument,
  invalidRequest,
  invalidToken,
  missingDate,
  signatureDoesNotMatch,
} from './auth-errors.js';
import { parseAuth, type ParsedAuth, type SigningRequest } from './auth-params.js';
import { canonicalBytes, canonicalHeaderBlock, canonicalRequest, headerValue, stringToSign } from './canonical.js';
import { canonicalQuery, canonicalUriOther, canonicalUriS3 } from './encoding.js';
import { EMPTY_SHA256, signString, signaturesEqual, signingKey } from './signing-key.js';
import { formatAmzDate, formatIsoSeconds, parseAmzDate, parseHttpDate } from './time.js';

export type CredentialLookup = (
  accessKeyId: string,
) => Promise<{ secretAccessKey: string; sessionToken?: string } | undefined>;

export interface VerifiedSignature {
  accessKeyId: string;
  region: string;
  service: string;
  date: string;
  scope: string;
  /** Epoch ms of X-Amz-Date. */
  requestTime: number;
  /** The timestamp exactly as it entered the string to sign (YYYYMMDDTHHMMSSZ); chunk signatures reuse it. */
  amzDate: string;
  signature: string;
  signingKey: Buffer;
  kind: 'header' | 'presigned';
  /** x-amz-content-sha256 value, or 'UNSIGNED-PAYLOAD' for presigned. */
  payloadHash: string;
  signedHeaders: string[];
  /** X-Amz-Security-Token sent with the request. */
  sessionToken?: string;
}

export interface VerifyOptions {
  lookup: CredentialLookup;
  /** Server time, epoch ms. */
  now: number;
  /** S3 rules (single URI encoding, x-amz-content-sha256 required, 15 min skew) vs KMS/IAM/STS. */
  s3: boolean;
  /** KMS/IAM/STS: hex SHA-256 of the buffered body; the canonical request uses it (AWS hashes the body itself). */
  bodySha256?: string;
}

const S3_MAX_SKEW_MS = 15 * 60 * 1000;
const OTHER_MAX_SKEW_MS = 5 * 60 * 1000;

const STREAMING_PAYLOADS = new Set([
  'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
]);
const HEX64 = /^[0-9a-fA-F]{64}$/;

/** S3 header auth: x-amz-content-sha256 must be present and one of the known forms (reference §5.5). */
function s3PayloadHash(req: SigningRequest): string {
  const v = headerValue(req.headers, 'x-amz-content-sha256');
  if (v === undefined) throw invalidRequest('Missing required header for this request: x-amz-content-sha256');
  if (HEX64.test(v) || v === 'UNSIGNED-PAYLOAD' || STREAMING_PAYLOADS.has(v)) return v;
  throw invalidArgument(
    'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, ' +
      'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.',
    'x-amz-content-sha256',
    v,
  );
}

/** Header auth timestamp: X-Amz-Date, else an RFC 1123 Date header (botocore signs its amz form). */
function headerTime(req: SigningRequest): { amzDate: string; time: number; raw: string } {
  const x = headerValue(req.headers, 'x-amz-date');
  if (x !== undefined) {
    const t = parseAmzDate(x.trim());
    if (t === undefined) throw missingDate();
    return { amzDate: x.trim(), time: t, raw: x };
  }
  const d = headerValue(req.headers, 'date');
  const t = d === undefined ? undefined : parseHttpDate(d);
  if (d === undefined || t === undefined) throw missingDate();
  return { amzDate: formatAmzDate(t), time: t, raw: d };
}

function checkSkew(s3: boolean, raw: string, amzDate: string, time: number, now: number): void {
  if (s3) {
    if (Math.abs(now - time) > S3_MAX_SKEW_MS) {
      throw new ServiceError('RequestTimeTooSkewed', 403, 'The difference between the request time and the current time is too large.', {
        RequestTime: raw,
        ServerTime: formatIsoSeconds(now),
        MaxAllowedSkewMilliseconds: String(S3_MAX_SKEW_MS),
      });
    }
    return;
  }
  // JSON/Query services word it this way; the server maps the code per protocol (reference §5.7).
  if (time < now - OTHER_MAX_SKEW_MS) {
    throw new ServiceError(
      'SignatureDoesNotMatch',
      403,
      `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(now - OTHER_MAX_SKEW_MS)} (${formatAmzDate(now)} - 5 min.)`,
    );
  }
  if (time > now + OTHER_MAX_SKEW_MS) {
    throw new ServiceError(
      'SignatureDoesNotMatch',
      403,
      `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(now + OTHER_MAX_SKEW_MS)} (${formatAmzDate(now)} + 5 min.)`,
    );
  }
}

function checkPresignedTime(auth: Extract<ParsedAuth, { kind: 'presigned' }>, now: number): void {
  const expiresAt = auth.requestTime + auth.expiresSeconds * 1000;
  if (now > expiresAt) {
    throw new ServiceError('AccessDenied', 403, 'Request has expired', {
      'X-Amz-Expires': auth.expiresRaw,
      Expires: formatIsoSeconds(expiresAt),
      ServerTime: formatIsoSeconds(now),
    });
  }
  if (auth.requestTime > now + S3_MAX_SKEW_MS) throw new ServiceError('AccessDenied', 403, 'Request is not yet valid');
}

/**
 * S3 requests must not carry x-amz-* headers their signature leaves out (reference §5.4): otherwise
 * anyone relaying a signed request or holding a presigned URL could add x-amz-copy-source,
 * x-amz-tagging, x-amz-meta-*, SSE headers… and it would still verify. Header-signed requests have no
 * exemption (x-amz-content-sha256 and x-amz-date are always signed there); presigned URLs may carry an
 * unsigned x-amz-content-sha256, which S3 accepts and which the payload verifier binds to the body anyway.
 */
function checkUnsignedAmzHeaders(req: SigningRequest, signed: string[], kind: 'header' | 'presigned'): void {
  const unsigned = Object.keys(req.headers).filter(
    (h) => h.startsWith('x-amz-') && req.headers[h] !== undefined && !signed.includes(h) && !(kind === 'presigned' && h === 'x-amz-content-sha256'),
  );
  if (unsigned.length > 0) {
    throw new ServiceError('AccessDenied', 403, 'There were headers present in the request which were not signed', {
      HeadersNotSigned: unsigned.sort().join(', '),
    });
  }
}

function checkSessionToken(expected: string | undefined, sent: string | undefined): void {
  if (expected === undefined) {
    if (sent !== undefined) throw invalidToken();
    return;
  }
  if (sent === undefined || !signaturesEqual(expected, sent)) throw invalidToken();
}

/**
 * Verify a SigV4-signed request. Throws ServiceError with S3's codes on any failure; the returned
 * signature carries the signing key and seed that aws-chunked bodies need.
 */
export async function verifySignature(req: SigningRequest, opts: VerifyOptions): Promise<VerifiedSignature> {
  const auth = parseAuth(req);
  if (!auth) throw new ServiceError('AccessDenied', 403, 'Access Denied');
  if (opts.s3 && auth.service !== 's3') {
    throw headerMalformed(`incorrect service "${auth.service}". This endpoint belongs to "s3".`);
  }

  let amzDate: string;
  let requestTime: number;
  let payloadHash: string;
  let sentToken: string | undefined;
  if (auth.kind === 'header') {
    const t = headerTime(req);
    if (t.amzDate.slice(0, 8) !== auth.date) {
      throw headerMalformed('Invalid credential date. Date is not the same as X-Amz-Date.');
    }
    checkSkew(opts.s3, t.raw, t.amzDate, t.time, opts.now);
    if (opts.s3) checkUnsignedAmzHeaders(req, auth.signedHeaders, 'header');
    amzDate = t.amzDate;
    requestTime = t.time;
    payloadHash = opts.s3
      ? s3PayloadHash(req)
      : (opts.bodySha256 ?? headerValue(req.headers, 'x-amz-content-sha256') ?? EMPTY_SHA256);
    sentToken = headerValue(req.headers, 'x-amz-security-token');
  } else {
    checkPresignedTime(auth, opts.now);
    checkUnsignedAmzHeaders(req, auth.signedHeaders, 'presigned');
    amzDate = auth.amzDate;
    requestTime = auth.requestTime;
    // S3 presigns leave the body unsigned; botocore presigns other services over the (empty) body hash.
    payloadHash = auth.contentSha256 ?? (opts.s3 ? 'UNSIGNED-PAYLOAD' : (opts.bodySha256 ?? EMPTY_SHA256));
    sentToken = auth.securityToken;
  }

  const creds = await opts.lookup(auth.accessKeyId);
  if (!creds) throw invalidAccessKeyId(auth.accessKeyId);
  checkSessionToken(creds.sessionToken, sentToken);

  const canonical = canonicalRequest({
    method: req.method,
    uri: opts.s3 ? canonicalUriS3(req.rawPath) : canonicalUriOther(req.rawPath),
    query: canonicalQuery(req.rawQuery, auth.kind === 'presigned' ? 'X-Amz-Signature' : undefined),
    headers: canonicalHeaderBlock(req.headers, auth.signedHeaders),
    signedHeaders: auth.signedHeaders,
    payloadHash,
  });
  const bytes = canonicalBytes(canonical);
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const toSign = stringToSign(amzDate, scope, bytes);
  const key = signingKey(creds.secretAccessKey, auth.date, auth.region, auth.service, auth.accessKeyId);
  const computed = signString(key, toSign);
  if (!signaturesEqual(computed, auth.signature)) {
    throw signatureDoesNotMatch(auth.accessKeyId, toSign, auth.signature, { text: canonical, bytes });
  }

  const verified: VerifiedSignature = {
    accessKeyId: auth.accessKeyId,
    region: auth.region,
    service: auth.service,
    date: auth.date,
    scope,
    requestTime,
    amzDate,
    signature: auth.signature,
    signingKey: key,
    kind: auth.kind,
    payloadHash,
    signedHeaders: auth.signedHeaders,
  };
  if (sentToken !== undefined) verified.sessionToken = sentToken;
  return verified;
}

// The entry point the lead calls; these live in auth-params.ts but belong to the same API surface.
export { readCredentialScope } from './auth-params.js';
export type { CredentialScope, SigningRequest } from './auth-params.js';
