/**
 * Key state over time (reference §1.4, §1.11): enable/disable, scheduled deletion (really deleted
 * when the window passes, by the business clock), rotation (automatic and on demand; old material
 * keeps decrypting), and Multi-Region replicas. `sweep` is the region's timed task.
 */
import { newKeyMaterial } from '../../crypto/index.js';
import type { KeyMaterial, KmsKeyRecord } from '../../storage/types.js';
import { kmsError, pendingDeletion } from './kms-errors.js';
import type { CreateKeyOptions, KmsService } from './kms-service.js';

const DAY_MS = 86_400_000;
export const MAX_ON_DEMAND_ROTATIONS = 25;

function isPendingDeletion(key: KmsKeyRecord): boolean {
  return key.keyState === 'PendingDeletion' || key.keyState === 'PendingReplicaDeletion';
}

function awsManaged(key: KmsKeyRecord, what: string): never {
  throw kmsError('UnsupportedOperationException', `${key.arn} is an AWS managed key: ${what} is not allowed on it.`);
}

export async function setEnabled(svc: KmsService, key: KmsKeyRecord, enabled: boolean): Promise<void> {
  if (key.keyManager === 'AWS') awsManaged(key, enabled ? 'EnableKey' : 'DisableKey');
  if (isPendingDeletion(key)) throw pendingDeletion(key.arn);
  await svc.store.updateKey(key.accountId, key.keyId, { keyState: enabled ? 'Enabled' : 'Disabled' });
}

/** 7–30 days (default 30). A primary MRK with replicas waits in PendingReplicaDeletion until they are gone. */
export async function scheduleDeletion(svc: KmsService, key: KmsKeyRecord, days: number): Promise<KmsKeyRecord> {
  if (key.keyManager === 'AWS') awsManaged(key, 'ScheduleKeyDeletion');
  if (isPendingDeletion(key)) throw pendingDeletion(key.arn);
  const waitForReplicas = key.multiRegionKeyType === 'PRIMARY' && (key.replicaRegions?.length ?? 0) > 0;
  const patch: Partial<KmsKeyRecord> = { keyState: waitForReplicas ? 'PendingReplicaDeletion' : 'PendingDeletion', pendingWindowInDays: days };
  if (!waitForReplicas) patch.deletionDate = svc.now() + days * DAY_MS;
  await svc.store.updateKey(key.accountId, key.keyId, patch);
  return { ...key, ...patch };
}

/** The key comes back Disabled, not Enabled (reference §1.4). */
export async function cancelDeletion(svc: KmsService, key: KmsKeyRecord): Promise<void> {
  if (!isPendingDeletion(key)) throw kmsError('KMSInvalidStateException', `${key.arn} is not pending deletion.`);
  await svc.store.updateKey(key.accountId, key.keyId, { keyState: 'Disabled', deletionDate: undefined, pendingWindowInDays: undefined });
}

function requireRotatable(key: KmsKeyRecord, operation: string): void {
  if (key.keyManager === 'AWS') awsManaged(key, operation);
  if (key.multiRegionKeyType === 'REPLICA') {
    throw kmsError('UnsupportedOperationException', `${key.arn} is a multi-Region replica key; rotation is managed on its primary key in ${key.primaryRegion}.`);
  }
  if (key.keyState === 'Disabled') throw kmsError('DisabledException', `${key.arn} is disabled.`);
  if (isPendingDeletion(key)) throw pendingDeletion(key.arn);
}

export async function enableRotation(svc: KmsService, key: KmsKeyRecord, periodDays: number): Promise<void> {
  requireRotatable(key, 'EnableKeyRotation');
  await setRotation(svc, key, { rotationEnabled: true, rotationPeriodInDays: periodDays, nextRotationAt: svc.now() + periodDays * DAY_MS });
}

export async function disableRotation(svc: KmsService, key: KmsKeyRecord): Promise<void> {
  requireRotatable(key, 'DisableKeyRotation');
  await setRotation(svc, key, { rotationEnabled: false, nextRotationAt: undefined });
}

/** The rotation setting is shared by a primary MRK and its replicas. */
async function setRotation(svc: KmsService, key: KmsKeyRecord, patch: Partial<KmsKeyRecord>): Promise<void> {
  await svc.store.updateKey(key.accountId, key.keyId, patch);
  for (const region of key.replicaRegions ?? []) {
    await svc.deps.peer?.(region)?.store.updateKey(key.accountId, key.keyId, patch);
  }
}

export async function rotateOnDemand(svc: KmsService, key: KmsKeyRecord): Promise<void> {
  requireRotatable(key, 'RotateKeyOnDemand');
  const done = key.materials.filter((m) => m.rotationType === 'ON_DEMAND').length;
  if (done >= MAX_ON_DEMAND_ROTATIONS) throw kmsError('LimitExceededException', `${key.arn} has reached the limit of ${MAX_ON_DEMAND_ROTATIONS} on-demand rotations.`);
  await rotate(svc, key, 'ON_DEMAND');
}

/**
 * New current material; the old stays for decryption. A primary MRK hands the same material to its
 * replicas (each wraps it under its own region's root key).
 *
 * Each write is conditional on the key as it was read (its newest material, and for an automatic
 * rotation its rotation date), checked by the store under its lock: two sweeps that both saw a key
 * due (two gateways, or a sweep and a takeover) rotate it once, and a concurrent rotation never
 * drops the other's material. An automatic rotation that loses the race is simply not needed; an
 * on-demand one reads the key again and retries.
 */
async function rotate(svc: KmsService, key: KmsKeyRecord, type: 'AUTOMATIC' | 'ON_DEMAND'): Promise<void> {
  const fresh = newKeyMaterial();
  const now = svc.now();
  const sameMaterials = (a: KmsKeyRecord, b: KmsKeyRecord) => a.materials.length === b.materials.length && a.materials.at(-1)?.id === b.materials.at(-1)?.id;
  try {
    const add = (target: KmsService, k: KmsKeyRecord, patch: Partial<KmsKeyRecord>, alsoIf: (cur: KmsKeyRecord) => boolean = () => true) => {
      const m: KeyMaterial = { id: fresh.id, wrapped: target.wrapMaterial(k.arn, fresh.id, fresh.key), createdAt: now, rotationType: type };
      return target.store.updateKey(k.accountId, k.keyId, { ...patch, materials: [...k.materials, m] }, (cur) => sameMaterials(cur, k) && alsoIf(cur));
    };
    const patch: Partial<KmsKeyRecord> = {};
    if (type === 'AUTOMATIC' && key.rotationPeriodInDays) patch.nextRotationAt = now + key.rotationPeriodInDays * DAY_MS;
    let current = key;
    for (let attempt = 1; ; attempt++) {
      const due = (cur: KmsKeyRecord) => type === 'ON_DEMAND' || (cur.keyState === 'Enabled' && cur.rotationEnabled && cur.nextRotationAt === key.nextRotationAt);
      if (await add(svc, current, patch, due)) break;
      if (type === 'AUTOMATIC') return; // rotated (or changed) by someone else since the sweep read it
      const reread = await svc.store.getKey(key.accountId, key.keyId);
      if (!reread) throw kmsError('NotFoundException', `${key.arn} does not exist.`);
      requireRotatable(reread, 'RotateKeyOnDemand');
      if (attempt >= 5) throw kmsError('ConflictException', `${key.arn} was changed by concurrent requests; retry the rotation.`);
      current = reread;
    }
    for (const region of key.replicaRegions ?? []) {
      const peer = svc.deps.peer?.(region);
      if (!peer) continue;
      for (let attempt = 1; attempt <= 5; attempt++) {
        const replica = await peer.store.getKey(key.accountId, key.keyId);
        if (!replica || replica.materials.some((m) => m.id === fresh.id) || (await add(peer, replica, patch))) break;
      }
    }
  } finally {
    fresh.key.fill(0);
  }
}

/**
 * ReplicateKey: a replica of a primary MRK in another region served by this process, with the same
 * id and material, its own policy, description and tags (reference §1.5 ReplicateKey row).
 */
export async function replicateKey(
  svc: KmsService,
  key: KmsKeyRecord,
  replicaRegion: string,
  opts: Pick<CreateKeyOptions, 'policy' | 'description' | 'tags'>,
): Promise<KmsKeyRecord> {
  if (key.multiRegionKeyType !== 'PRIMARY') {
    throw kmsError('UnsupportedOperationException', `${key.arn} is not a multi-Region primary key; only a primary key can be replicated.`);
  }
  if (replicaRegion === svc.region) throw kmsError('UnsupportedOperationException', `A replica key cannot be in the primary key's region (${svc.region}).`);
  svc.requireUsable(key);
  const peer = svc.deps.peer?.(replicaRegion);
  if (!peer) throw kmsError('UnsupportedOperationException', `Meridian does not serve the region ${replicaRegion} in this process, so it cannot hold a replica key there.`);
  if ((key.replicaRegions ?? []).includes(replicaRegion) || (await peer.store.getKey(key.accountId, key.keyId))) {
    throw kmsError('AlreadyExistsException', `A replica of ${key.arn} already exists in ${replicaRegion}.`);
  }
  const materials = key.materials.map((m) => {
    const out: NonNullable<CreateKeyOptions['replicaOf']>['materials'][number] = { id: m.id, key: Buffer.from(svc.material(key, m.id).key), createdAt: m.createdAt };
    if (m.rotationType) out.rotationType = m.rotationType;
    return out;
  });
  try {
    const replicaOf: NonNullable<CreateKeyOptions['replicaOf']> = { keyId: key.keyId, primaryRegion: svc.region, materials, rotationEnabled: key.rotationEnabled };
    if (key.rotationPeriodInDays !== undefined) replicaOf.rotationPeriodInDays = key.rotationPeriodInDays;
    if (key.nextRotationAt !== undefined) replicaOf.nextRotationAt = key.nextRotationAt;
    const create: CreateKeyOptions = { replicaOf, description: opts.description ?? key.description };
    if (opts.policy !== undefined) create.policy = opts.policy;
    if (opts.tags !== undefined) create.tags = opts.tags;
    const replica = await peer.createKey(key.accountId, create);
    await svc.store.updateKey(key.accountId, key.keyId, { replicaRegions: [...(key.replicaRegions ?? []), replicaRegion] });
    return replica;
  } finally {
    for (const m of materials) m.key.fill(0);
  }
}

/**
 * The region's timed task: delete keys whose window has passed, start the window of primaries whose
 * replicas are gone, and rotate keys whose rotation date has come.
 */
export async function sweep(svc: KmsService): Promise<void> {
  const now = svc.now();
  for (const key of await svc.store.listAllKeys()) {
    if (key.keyState === 'PendingDeletion' && key.deletionDate !== undefined && key.deletionDate <= now) {
      await svc.purgeKey(key);
    } else if (key.keyState === 'PendingReplicaDeletion' && (key.replicaRegions?.length ?? 0) === 0) {
      await svc.store.updateKey(key.accountId, key.keyId, { keyState: 'PendingDeletion', deletionDate: now + (key.pendingWindowInDays ?? 30) * DAY_MS });
    } else if (
      key.keyState === 'Enabled' &&
      key.rotationEnabled &&
      key.multiRegionKeyType !== 'REPLICA' &&
      key.nextRotationAt !== undefined &&
      key.nextRotationAt <= now
    ) {
      await rotate(svc, key, 'AUTOMATIC');
    }
  }
}
