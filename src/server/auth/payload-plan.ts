/**
 * Deciding, from the verified signature and the headers alone, what the body verifier must check
 * (reference §5.5, §5.10, §6.3). All header-level errors surface here, before the body is read.
 */
import { ServiceError } from '../../common/errors.js';
import { invalidArgument, invalidRequest } from './auth-errors.js';
import type { AwsChunkedOptions } from './aws-chunked.js';
import { headerValue, type HeaderBag } from './canonical.js';
import {
  CHECKSUM_ALGORITHMS,
  checksumAlgorithmFromName,
  isValidChecksumValue,
  type ChecksumAlgorithm,
} from '../../crypto/checksums.js';
import type { VerifiedSignature } from './sigv4.js';

export interface PayloadPlan {
  /** Hex SHA-256 the decoded payload must have (x-amz-content-sha256). */
  expectedSha256?: string;
  chunked?: Omit<AwsChunkedOptions, 'onData'>;
  checksumAlgorithm?: ChecksumAlgorithm;
  /** Expected base64 value from an x-amz-checksum-<alg> header. */
  checksumHeaderValue?: string;
  /** Trailer name carrying the expected value (x-amz-checksum-<alg>). */
  checksumTrailer?: string;
  contentMd5?: Buffer;
}

const HEX64 = /^[0-9a-fA-F]{64}$/;

function isAwsChunked(headers: HeaderBag, payloadHash: string | undefined): boolean {
  if (payloadHash?.startsWith('STREAMING-')) return true;
  const ce = headerValue(headers, 'content-encoding') ?? '';
  return ce.split(',').some((t) => t.trim().toLowerCase() === 'aws-chunked');
}

function parseContentMd5(headers: HeaderBag): Buffer | undefined {
  const v = headerValue(headers, 'content-md5');
  if (v === undefined) return undefined;
  const bytes = Buffer.from(v.trim(), 'base64');
  if (!/^[A-Za-z0-9+/]{22}==$/.test(v.trim()) || bytes.length !== 16) {
    throw new ServiceError('InvalidDigest', 400, 'The Content-MD5 you specified was invalid.', { 'Content-MD5': v });
  }
  return bytes;
}

function decodedContentLength(headers: HeaderBag): number {
  const v = headerValue(headers, 'x-amz-decoded-content-length');
  if (v === undefined) throw new ServiceError('MissingContentLength', 411, 'You must provide the Content-Length HTTP header.');
  if (!/^\d{1,15}$/.test(v.trim())) {
    throw invalidArgument('x-amz-decoded-content-length must be a non-negative integer.', 'x-amz-decoded-content-length', v);
  }
  return Number(v.trim());
}

/** Lower-case names listed in x-amz-trailer. */
function declaredTrailers(headers: HeaderBag): string[] {
  const v = headerValue(headers, 'x-amz-trailer');
  if (v === undefined) return [];
  return v
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t !== '');
}

function planChecksum(plan: PayloadPlan, headers: HeaderBag, trailers: string[], defaultChecksum?: ChecksumAlgorithm): void {
  const fromHeaders: [ChecksumAlgorithm, string][] = [];
  for (const alg of CHECKSUM_ALGORITHMS) {
    const v = headerValue(headers, `x-amz-checksum-${alg.toLowerCase()}`);
    if (v !== undefined) fromHeaders.push([alg, v.trim()]);
  }
  const fromTrailers: [ChecksumAlgorithm, string][] = [];
  for (const name of trailers) {
    const alg = name.startsWith('x-amz-checksum-') ? checksumAlgorithmFromName(name) : undefined;
    if (!alg) throw invalidRequest('The value specified in the x-amz-trailer header is not supported');
    fromTrailers.push([alg, name]);
  }
  if (fromHeaders.length + fromTrailers.length > 1) {
    throw invalidRequest('Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  }
  const [header] = fromHeaders;
  const [trailer] = fromTrailers;
  if (header) {
    const [alg, value] = header;
    if (!isValidChecksumValue(alg, value)) {
      throw invalidRequest(`Value for x-amz-checksum-${alg.toLowerCase()} header is invalid.`);
    }
    plan.checksumAlgorithm = alg;
    plan.checksumHeaderValue = value;
  } else if (trailer) {
    plan.checksumAlgorithm = trailer[0];
    plan.checksumTrailer = trailer[1];
  }

  const sdk = headerValue(headers, 'x-amz-sdk-checksum-algorithm');
  if (sdk !== undefined) {
    const alg = checksumAlgorithmFromName(sdk);
    if (!alg) throw invalidRequest('Value for x-amz-sdk-checksum-algorithm header is invalid.');
    if (!plan.checksumAlgorithm) {
      throw invalidRequest(
        'x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.',
      );
    }
    if (alg !== plan.checksumAlgorithm) throw invalidRequest('Value for x-amz-sdk-checksum-algorithm header is invalid.');
  }
  if (!plan.checksumAlgorithm && defaultChecksum) plan.checksumAlgorithm = defaultChecksum;
}

export function planPayload(
  sig: VerifiedSignature | undefined,
  headers: HeaderBag,
  defaultChecksum?: ChecksumAlgorithm,
): PayloadPlan {
  const plan: PayloadPlan = {};
  // Anonymous requests may still declare a body hash or streaming form.
  const payloadHash = sig ? sig.payloadHash : headerValue(headers, 'x-amz-content-sha256');
  if (payloadHash !== undefined && HEX64.test(payloadHash)) plan.expectedSha256 = payloadHash;

  const trailers = declaredTrailers(headers);
  if (isAwsChunked(headers, payloadHash)) {
    const signedChunks = payloadHash?.startsWith('STREAMING-AWS4-HMAC-SHA256-PAYLOAD') ?? false;
    if (signedChunks && (!sig || sig.kind !== 'header')) {
      throw invalidRequest('Signed aws-chunked payloads require a SigV4 Authorization header.');
    }
    const chunked: Omit<AwsChunkedOptions, 'onData'> = {
      trailer: (payloadHash?.endsWith('-TRAILER') ?? false) || trailers.length > 0,
      declaredTrailers: new Set(trailers),
      decodedLength: decodedContentLength(headers),
    };
    if (signedChunks && sig) {
      chunked.signing = {
        key: sig.signingKey,
        amzDate: sig.amzDate,
        scope: sig.scope,
        seed: sig.signature,
        accessKeyId: sig.accessKeyId,
      };
    }
    plan.chunked = chunked;
  } else if (trailers.length > 0) {
    throw invalidRequest('x-amz-trailer requires an aws-chunked request body (Content-Encoding: aws-chunked).');
  }

  planChecksum(plan, headers, trailers, defaultChecksum);
  const md5 = parseContentMd5(headers);
  if (md5) plan.contentMd5 = md5;
  return plan;
}
