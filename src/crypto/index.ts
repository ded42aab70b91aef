// Public API of the crypto layer: object encryption at rest, KMS ciphertext blobs, key wrapping, root keys.
export { CryptoIntegrityError, InvalidCiphertextError } from './errors.js';
export { SEGMENT_SIZE, HEADER_SIZE, TAG_SIZE, encryptedSize, plainSizeFor, cipherRangeFor, reuseDerivedKeys } from './segment-layout.js';
export { KeyCache, ownCopy } from './key-cache.js';
export { createEncryptStream, createDecryptStream, encryptBuffer, decryptBuffer, SegmentDecryptor } from './segmented-aead.js';
export type { DecryptOptions } from './segmented-aead.js';
export {
  MAX_CIPHERTEXT_BLOB_SIZE,
  MAX_KMS_PLAINTEXT_SIZE,
  canonicalContext,
  sealKmsCiphertext,
  parseKmsCiphertext,
  openKmsCiphertext,
} from './kms-ciphertext.js';
export type { KmsCiphertextHeader } from './kms-ciphertext.js';
export { wrapKey, unwrapKey, newKeyMaterial } from './key-wrap.js';
export { loadOrCreateRootKey } from './root-key.js';
export { CHECKSUM_ALGORITHMS, CHECKSUM_LENGTHS, createChecksum, computeChecksum, checksumAlgorithmFromName, isValidChecksumValue } from './checksums.js';
export type { ChecksumAlgorithm, IncrementalChecksum } from './checksums.js';
export { combineCrcs, isCombinable } from './checksum-combine.js';
export type { CombinableAlgorithm } from './checksum-combine.js';
