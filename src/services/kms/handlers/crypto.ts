/** Cryptographic operations: Encrypt, Decrypt, ReEncrypt, GenerateDataKey(WithoutPlaintext), GenerateRandom. */
import { randomBytes } from 'node:crypto';
import { kmsError, validationError } from '../kms-errors.js';
import { blob, bool, checkGrantTokens, int, requireIam, str, stringMap, type Handler, type Input } from './input.js';

const SYMMETRIC = 'SYMMETRIC_DEFAULT';

function dataKeyBytes(input: Input): number {
  const spec = str(input, 'KeySpec');
  const n = input.NumberOfBytes;
  if ((spec === undefined) === (n === undefined || n === null)) {
    throw kmsError('ValidationException', 'Please specify either number of bytes or key spec.');
  }
  if (spec !== undefined) {
    if (spec === 'AES_256') return 32;
    if (spec === 'AES_128') return 16;
    throw validationError('KeySpec', 'Member must satisfy enum value set: [AES_256, AES_128]', spec);
  }
  return int(input, 'NumberOfBytes', 1, 1024)!;
}

/** Symmetric keys take only SYMMETRIC_DEFAULT. */
function checkAlgorithm(input: Input, name = 'EncryptionAlgorithm'): void {
  const a = str(input, name);
  if (a !== undefined && a !== SYMMETRIC) throw kmsError('InvalidKeyUsageException', `${a} is not a valid encryption algorithm for a SYMMETRIC_DEFAULT key.`);
}

export const CRYPTO_HANDLERS: Record<string, Handler> = {
  async Encrypt(svc, caller, input) {
    const plaintext = blob(input, 'Plaintext', 4096);
    checkAlgorithm(input);
    await checkGrantTokens(svc, input);
    const { key, ciphertext } = await svc.encrypt(caller, str(input, 'KeyId', true)!, plaintext, stringMap(input, 'EncryptionContext'), { dryRun: bool(input, 'DryRun') });
    return { CiphertextBlob: ciphertext.toString('base64'), KeyId: key.arn, EncryptionAlgorithm: SYMMETRIC };
  },

  async Decrypt(svc, caller, input) {
    const ciphertext = blob(input, 'CiphertextBlob', 6144);
    checkAlgorithm(input);
    await checkGrantTokens(svc, input);
    const { key, plaintext, materialId } = await svc.decrypt(caller, ciphertext, stringMap(input, 'EncryptionContext'), str(input, 'KeyId'), { dryRun: bool(input, 'DryRun') });
    try {
      return { KeyId: key.arn, Plaintext: plaintext.toString('base64'), EncryptionAlgorithm: SYMMETRIC, KeyMaterialId: materialId };
    } finally {
      plaintext.fill(0);
    }
  },

  async ReEncrypt(svc, caller, input) {
    const ciphertext = blob(input, 'CiphertextBlob', 6144);
    checkAlgorithm(input, 'SourceEncryptionAlgorithm');
    checkAlgorithm(input, 'DestinationEncryptionAlgorithm');
    await checkGrantTokens(svc, input);
    const p: Parameters<typeof svc.reEncrypt>[2] = { destinationKeyId: str(input, 'DestinationKeyId', true)!, dryRun: bool(input, 'DryRun') };
    const sourceContext = stringMap(input, 'SourceEncryptionContext');
    if (sourceContext) p.sourceContext = sourceContext;
    const destinationContext = stringMap(input, 'DestinationEncryptionContext');
    if (destinationContext) p.destinationContext = destinationContext;
    const sourceKeyId = str(input, 'SourceKeyId');
    if (sourceKeyId) p.sourceKeyId = sourceKeyId;
    const r = await svc.reEncrypt(caller, ciphertext, p);
    return {
      CiphertextBlob: r.ciphertext.toString('base64'),
      SourceKeyId: r.source.arn,
      KeyId: r.destination.arn,
      SourceEncryptionAlgorithm: SYMMETRIC,
      DestinationEncryptionAlgorithm: SYMMETRIC,
      SourceKeyMaterialId: r.sourceMaterialId,
      DestinationKeyMaterialId: r.materialId,
    };
  },

  async GenerateDataKey(svc, caller, input) {
    const bytes = dataKeyBytes(input);
    await checkGrantTokens(svc, input);
    const r = await svc.generateDataKey(caller, str(input, 'KeyId', true)!, bytes, stringMap(input, 'EncryptionContext'), 'GenerateDataKey', { dryRun: bool(input, 'DryRun') });
    try {
      return { CiphertextBlob: r.ciphertext.toString('base64'), Plaintext: r.plaintext.toString('base64'), KeyId: r.key.arn, KeyMaterialId: r.materialId };
    } finally {
      r.plaintext.fill(0);
    }
  },

  async GenerateDataKeyWithoutPlaintext(svc, caller, input) {
    const bytes = dataKeyBytes(input);
    await checkGrantTokens(svc, input);
    const r = await svc.generateDataKey(caller, str(input, 'KeyId', true)!, bytes, stringMap(input, 'EncryptionContext'), 'GenerateDataKeyWithoutPlaintext', { dryRun: bool(input, 'DryRun') });
    r.plaintext.fill(0);
    return { CiphertextBlob: r.ciphertext.toString('base64'), KeyId: r.key.arn, KeyMaterialId: r.materialId };
  },

  async GenerateRandom(svc, caller, input, authorizer) {
    await requireIam(authorizer, caller, 'GenerateRandom', svc.region);
    if (str(input, 'CustomKeyStoreId') !== undefined) throw kmsError('UnsupportedOperationException', 'Meridian has no custom key stores.');
    const n = int(input, 'NumberOfBytes', 1, 1024);
    if (n === undefined) throw validationError('NumberOfBytes', 'Member must not be null');
    return { Plaintext: randomBytes(n).toString('base64') };
  },
};
