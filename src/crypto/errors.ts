/**
 * Errors of the crypto layer. They are plain Errors (not ServiceErrors): the services translate
 * them (e.g. InvalidCiphertextError -> KMS InvalidCiphertextException, CryptoIntegrityError on an
 * object read -> InternalError with the request id logged).
 */

/** Authenticated data failed to verify: wrong key, wrong context, or bytes changed, cut or moved. */
export class CryptoIntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CryptoIntegrityError';
  }
}

/** A KMS CiphertextBlob that is malformed, tampered with, or does not open with the given key/context. */
export class InvalidCiphertextError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidCiphertextError';
  }
}
