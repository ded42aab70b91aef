/**
 * The authentication errors, with S3's codes, statuses and texts (reference §5.13, §6.3); the server
 * maps them to the KMS/IAM/STS equivalents. Kept in one place so messages stay consistent.
 */
import { ServiceError } from '../../common/errors.js';

export function headerMalformed(detail: string, fields: Record<string, string> = {}): ServiceError {
  return new ServiceError('AuthorizationHeaderMalformed', 400, `The authorization header is malformed; ${detail}`, fields);
}

export function credentialMalformed(): ServiceError {
  return headerMalformed('the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".');
}

export function queryParamsError(message: string): ServiceError {
  return new ServiceError('AuthorizationQueryParametersError', 400, message);
}

export const PRESIGN_REQUIRED_MESSAGE =
  'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, ' +
  'X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.';

export function unsupportedMechanism(): ServiceError {
  return new ServiceError(
    'InvalidRequest',
    400,
    'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.',
  );
}

export function missingDate(): ServiceError {
  return new ServiceError('AccessDenied', 403, 'AWS authentication requires a valid Date or x-amz-date header');
}

export function invalidAccessKeyId(accessKeyId: string): ServiceError {
  return new ServiceError('InvalidAccessKeyId', 403, 'The AWS Access Key Id you provided does not exist in our records.', {
    AWSAccessKeyId: accessKeyId,
  });
}

export function invalidToken(): ServiceError {
  return new ServiceError('InvalidToken', 400, 'The provided token is malformed or otherwise invalid.');
}

/** Space-separated hex byte pairs, as S3 renders StringToSignBytes / CanonicalRequestBytes. */
function spacedHex(bytes: Buffer): string {
  return bytes.toString('hex').replace(/(..)(?!$)/g, '$1 ');
}

export const SIGNATURE_MISMATCH_MESSAGE =
  'The request signature we calculated does not match the signature you provided. Check your key and signing method.';

export function signatureDoesNotMatch(
  accessKeyId: string,
  stringToSign: string,
  signatureProvided: string,
  canonicalRequest?: { text: string; bytes: Buffer },
): ServiceError {
  const fields: Record<string, string> = {
    AWSAccessKeyId: accessKeyId,
    StringToSign: stringToSign,
    SignatureProvided: signatureProvided,
    StringToSignBytes: spacedHex(Buffer.from(stringToSign, 'utf8')),
  };
  if (canonicalRequest) {
    fields.CanonicalRequest = canonicalRequest.text;
    fields.CanonicalRequestBytes = spacedHex(canonicalRequest.bytes);
  }
  return new ServiceError('SignatureDoesNotMatch', 403, SIGNATURE_MISMATCH_MESSAGE, fields);
}

export function invalidArgument(message: string, name: string, value: string): ServiceError {
  return new ServiceError('InvalidArgument', 400, message, { ArgumentName: name, ArgumentValue: value });
}

export function invalidRequest(message: string): ServiceError {
  return new ServiceError('InvalidRequest', 400, message);
}

export function incompleteBody(
  message = 'You did not provide the number of bytes specified by the Content-Length HTTP header',
): ServiceError {
  return new ServiceError('IncompleteBody', 400, message);
}

export function malformedTrailer(): ServiceError {
  return new ServiceError(
    'MalformedTrailerError',
    400,
    'The request contained trailing data that was not well-formed or did not conform to our published schema.',
  );
}

export function badDigest(message: string): ServiceError {
  return new ServiceError('BadDigest', 400, message);
}
