/** Key rotation: Enable/Disable/GetKeyRotationStatus, RotateKeyOnDemand, ListKeyRotations (reference §1.5). */
import { disableRotation, enableRotation, rotateOnDemand } from '../key-lifecycle.js';
import { int, keyFor, listOutput, paginate, type Handler } from './input.js';

export const ROTATION_HANDLERS: Record<string, Handler> = {
  async EnableKeyRotation(svc, caller, input) {
    const period = int(input, 'RotationPeriodInDays', 90, 2560, 365)!;
    const key = await svc.resolveKey(caller, String(input.KeyId ?? ''), { aliases: false, crossAccount: false, operation: 'EnableKeyRotation' });
    await svc.authorizeKey(caller, key, 'EnableKeyRotation', undefined, { 'kms:rotationperiodindays': String(period) });
    await enableRotation(svc, key, period);
    return {};
  },

  async DisableKeyRotation(svc, caller, input) {
    await disableRotation(svc, await keyFor(svc, caller, input, 'DisableKeyRotation', { aliases: false, crossAccount: false }));
    return {};
  },

  async GetKeyRotationStatus(svc, caller, input) {
    const key = await keyFor(svc, caller, input, 'GetKeyRotationStatus', { aliases: false });
    const pending = key.keyState === 'PendingDeletion' || key.keyState === 'PendingReplicaDeletion';
    const enabled = key.rotationEnabled && !pending;
    const out: Record<string, unknown> = { KeyRotationEnabled: enabled, KeyId: key.arn };
    if (enabled && key.rotationPeriodInDays !== undefined) out.RotationPeriodInDays = key.rotationPeriodInDays;
    if (enabled && key.nextRotationAt !== undefined) out.NextRotationDate = key.nextRotationAt / 1000;
    return out;
  },

  async RotateKeyOnDemand(svc, caller, input) {
    const key = await keyFor(svc, caller, input, 'RotateKeyOnDemand', { aliases: false, crossAccount: false });
    await rotateOnDemand(svc, key);
    return { KeyId: key.arn };
  },

  /** Rotations only: the key's original material is not a rotation. */
  async ListKeyRotations(svc, caller, input) {
    const key = await keyFor(svc, caller, input, 'ListKeyRotations', { aliases: false, crossAccount: false });
    const rotations = key.materials.slice(1).map((m) => ({ KeyId: key.arn, KeyMaterialId: m.id, RotationDate: m.createdAt / 1000, RotationType: m.rotationType ?? 'AUTOMATIC' }));
    return listOutput('Rotations', paginate(rotations, input, 1000, 100));
  },
};
