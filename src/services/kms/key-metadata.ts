import type { KmsKeyRecord } from '../../storage/types.js';
import { epochSeconds } from '../protocol/aws-json.js';
import { keyArnOf } from './kms-errors.js';
import type { KmsService } from './kms-service.js';

/** KeyMetadata in the model's member order (reference §1.5); Multi-Region keys list their family (§1.11). */
export async function keyMetadata(svc: KmsService, key: KmsKeyRecord): Promise<Record<string, unknown>> {
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
  if (key.deletionDate !== undefined && key.keyState === 'PendingDeletion') m.DeletionDate = epochSeconds(key.deletionDate);
  m.Origin = key.origin;
  m.KeyManager = key.keyManager;
  m.CustomerMasterKeySpec = key.keySpec;
  m.KeySpec = key.keySpec;
  m.EncryptionAlgorithms = ['SYMMETRIC_DEFAULT'];
  m.MultiRegion = key.multiRegion;
  if (key.multiRegionKeyType && key.primaryRegion) {
    let replicas = key.replicaRegions ?? [];
    if (key.multiRegionKeyType === 'REPLICA') {
      const primary = await svc.deps.peer?.(key.primaryRegion)?.store.getKey(key.accountId, key.keyId);
      replicas = primary?.replicaRegions ?? [svc.region];
    }
    m.MultiRegionConfiguration = {
      MultiRegionKeyType: key.multiRegionKeyType,
      PrimaryKey: { Arn: keyArnOf(key.primaryRegion, key.accountId, key.keyId), Region: key.primaryRegion },
      ReplicaKeys: replicas.map((r) => ({ Arn: keyArnOf(r, key.accountId, key.keyId), Region: r })),
    };
  }
  if (key.pendingWindowInDays !== undefined && (key.keyState === 'PendingDeletion' || key.keyState === 'PendingReplicaDeletion')) {
    m.PendingDeletionWindowInDays = key.pendingWindowInDays;
  }
  const current = key.materials[key.materials.length - 1];
  if (current) m.CurrentKeyMaterialId = current.id;
  return m;
}
