import type { KmsKeyRecord } from '../../storage/types.js';
import { epochSeconds } from '../protocol/aws-json.js';

/** KeyMetadata in the model's member order (reference §1.5). */
export function keyMetadata(key: KmsKeyRecord): Record<string, unknown> {
  const m: Record<string, unknown> = {
    AWSAccountId: key.accountId,
    KeyId: key.keyId,
    Arn: key.arn,
    CreationDate: epochSeconds(key.createdAt),
    Enabled: key.keyState === 'Enabled',
    Description: key.description,
    KeyUsage: key.keyUsage,
    KeyState: key.keyState,
  };
  if (key.deletionDate !== undefined) m.DeletionDate = epochSeconds(key.deletionDate);
  m.Origin = key.origin;
  m.KeyManager = key.keyManager;
  m.CustomerMasterKeySpec = key.keySpec;
  m.KeySpec = key.keySpec;
  m.EncryptionAlgorithms = ['SYMMETRIC_DEFAULT'];
  m.MultiRegion = key.multiRegion;
  if (key.pendingWindowInDays !== undefined) m.PendingDeletionWindowInDays = key.pendingWindowInDays;
  const current = key.materials[key.materials.length - 1];
  if (current) m.CurrentKeyMaterialId = current.id;
  return m;
}
