/** KMS errors: AWS's `__type` codes; every client error is HTTP 400 (reference §1.2). */
import { ServiceError } from '../../common/errors.js';

export function kmsError(code: string, message: string, status = 400): ServiceError {
  return new ServiceError(code, status, message);
}

/** AWS's validation message shape: the member name in lower camel case. */
export function validationError(member: string, constraint: string, value?: string): ServiceError {
  const name = member.charAt(0).toLowerCase() + member.slice(1);
  return kmsError('ValidationException', `1 validation error detected: Value ${value === undefined ? 'null' : `'${value}'`} at '${name}' failed to satisfy constraint: ${constraint}`);
}

export function keyArnOf(region: string, accountId: string, keyId: string): string {
  return `arn:aws:kms:${region}:${accountId}:key/${keyId}`;
}

export function notFound(arn: string): ServiceError {
  return kmsError('NotFoundException', `Key '${arn}' does not exist`);
}

export function pendingDeletion(arn: string): ServiceError {
  return kmsError('KMSInvalidStateException', `${arn} is pending deletion.`);
}

/** Decrypt of a blob whose key is not in this account/region, or not usable by the caller (reference §1.5). */
export function foreignCiphertext(): ServiceError {
  return kmsError(
    'AccessDeniedException',
    'The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.',
  );
}

export function dryRun(): ServiceError {
  return kmsError('DryRunOperationException', 'The request would have succeeded, but the DryRun option is set.', 412);
}
