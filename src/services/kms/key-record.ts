/** A new key's record: fresh material (or a Multi-Region primary's, for a replica), wrapped by the region's root key. */
import { randomBytes } from 'node:crypto';
import { newUuid } from '../../common/ids.js';
import { newKeyMaterial } from '../../crypto/index.js';
import type { KeyMaterial, KmsKeyRecord } from '../../storage/types.js';
import { defaultKeyPolicy } from './default-policies.js';
import { keyArnOf } from './kms-errors.js';
import type { KmsService } from './kms-service.js';

const DAY_MS = 86_400_000;

export interface CreateKeyOptions {
  description?: string;
  policy?: string;
  keyManager?: 'CUSTOMER' | 'AWS';
  tags?: { TagKey: string; TagValue: string }[];
  multiRegion?: boolean;
  /** A replica of a Multi-Region key: same id and material as the primary. */
  replicaOf?: { keyId: string; primaryRegion: string; materials: { id: string; key: Buffer; createdAt: number; rotationType?: 'AUTOMATIC' | 'ON_DEMAND' }[]; rotationEnabled: boolean; rotationPeriodInDays?: number; nextRotationAt?: number };
}

export function newKeyRecord(svc: KmsService, accountId: string, opts: CreateKeyOptions = {}): KmsKeyRecord {
  const replica = opts.replicaOf;
  const multiRegion = replica !== undefined || opts.multiRegion === true;
  const keyId = replica?.keyId ?? (multiRegion ? `mrk-${randomBytes(16).toString('hex')}` : newUuid());
  const arn = keyArnOf(svc.region, accountId, keyId);
  const now = svc.now();
  const aws = opts.keyManager === 'AWS';
  let materials: KeyMaterial[];
  if (replica) {
    materials = replica.materials.map((m) => {
      const km: KeyMaterial = { id: m.id, wrapped: svc.wrapMaterial(arn, m.id, m.key), createdAt: m.createdAt };
      if (m.rotationType) km.rotationType = m.rotationType;
      return km;
    });
  } else {
    const material = newKeyMaterial();
    materials = [{ id: material.id, wrapped: svc.wrapMaterial(arn, material.id, material.key), createdAt: now }];
    material.key.fill(0);
  }
  const key: KmsKeyRecord = {
    keyId,
    arn,
    accountId,
    region: svc.region,
    createdAt: now,
    description: opts.description ?? '',
    keyState: 'Enabled',
    keyUsage: 'ENCRYPT_DECRYPT',
    keySpec: 'SYMMETRIC_DEFAULT',
    origin: 'AWS_KMS',
    keyManager: aws ? 'AWS' : 'CUSTOMER',
    multiRegion,
    policy: opts.policy ?? defaultKeyPolicy(accountId),
    tags: opts.tags ?? [],
    rotationEnabled: replica ? replica.rotationEnabled : aws,
    materials,
  };
  if (aws) {
    // AWS managed keys rotate every year (reference §1.10).
    key.rotationPeriodInDays = 365;
    key.nextRotationAt = now + 365 * DAY_MS;
  }
  if (replica) {
    key.multiRegionKeyType = 'REPLICA';
    key.primaryRegion = replica.primaryRegion;
    if (replica.rotationPeriodInDays !== undefined) key.rotationPeriodInDays = replica.rotationPeriodInDays;
    if (replica.nextRotationAt !== undefined) key.nextRotationAt = replica.nextRotationAt;
  } else if (multiRegion) {
    key.multiRegionKeyType = 'PRIMARY';
    key.primaryRegion = svc.region;
    key.replicaRegions = [];
  }
  return key;
}
