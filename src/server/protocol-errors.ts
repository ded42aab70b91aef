/**
 * SigV4 and identity errors are raised with S3's codes; KMS (JSON) and IAM/STS (Query) answer
 * the same situations with their own codes and statuses (reference §5.13).
 */
import { isDependencyUnavailable, ServiceError } from '../common/errors.js';

const KMS: Record<string, [string, number]> = {
  InvalidAccessKeyId: ['UnrecognizedClientException', 400],
  InvalidToken: ['UnrecognizedClientException', 400],
  SignatureDoesNotMatch: ['InvalidSignatureException', 400],
  RequestTimeTooSkewed: ['InvalidSignatureException', 400],
  ExpiredToken: ['ExpiredTokenException', 400],
  AuthorizationHeaderMalformed: ['IncompleteSignatureException', 400],
  AuthorizationQueryParametersError: ['IncompleteSignatureException', 400],
  AccessDenied: ['AccessDeniedException', 400],
  InvalidRequest: ['IncompleteSignatureException', 400],
  InvalidArgument: ['IncompleteSignatureException', 400],
};

const QUERY: Record<string, [string, number]> = {
  InvalidAccessKeyId: ['InvalidClientTokenId', 403],
  InvalidToken: ['InvalidClientTokenId', 403],
  SignatureDoesNotMatch: ['SignatureDoesNotMatch', 403],
  RequestTimeTooSkewed: ['SignatureDoesNotMatch', 403],
  ExpiredToken: ['ExpiredToken', 403],
  AuthorizationHeaderMalformed: ['IncompleteSignature', 400],
  AuthorizationQueryParametersError: ['IncompleteSignature', 400],
  InvalidRequest: ['IncompleteSignature', 400],
  InvalidArgument: ['IncompleteSignature', 400],
};

const MESSAGES: Record<string, string> = {
  UnrecognizedClientException: 'The security token included in the request is invalid.',
  InvalidClientTokenId: 'The security token included in the request is invalid.',
  ExpiredTokenException: 'The security token included in the request is expired',
  ExpiredToken: 'The security token included in the request is expired',
};

/** Re-express an authentication error for the KMS or Query protocol. */
export function authErrorFor(protocol: 'json' | 'query', e: ServiceError): ServiceError {
  const table = protocol === 'json' ? KMS : QUERY;
  const mapped = table[e.code];
  if (!mapped) return e;
  const [code, status] = mapped;
  return new ServiceError(code, status, MESSAGES[code] ?? e.message);
}

/**
 * A dependency that cannot be reached, as each protocol says it: S3 and the Query services (IAM,
 * STS) with the generic 503 ServiceUnavailable; KMS with its modelled fault for this,
 * DependencyTimeoutException (503, "you can retry the request"), which SDKs know by name.
 */
export function unavailableErrorFor(protocol: 'restXml' | 'json' | 'query', e: ServiceError): ServiceError {
  if (protocol !== 'json' || !isDependencyUnavailable(e)) return e;
  return new ServiceError('DependencyTimeoutException', 503, e.message, e.fields, e.headers);
}
