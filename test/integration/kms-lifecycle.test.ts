/**
 * KMS key lifecycle against a real server whose clock the test advances (reference
 * kms-iam-sts-sigv4.md §1.4, §1.5, §1.11): deletion windows of 7–30 days with real deletion when the
 * window passes, CancelKeyDeletion leaving the key Disabled, UpdateKeyDescription, rotation (old
 * material keeps decrypting, new encryptions use the newest), and Multi-Region keys.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GetKeyRotationStatusCommand,
  ListAliasesCommand,
  ListKeyRotationsCommand,
  ReEncryptCommand,
  ReplicateKeyCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  UpdateKeyDescriptionCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { kmsClient } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { advanceClock, DAY } from '../support/test-clock.js';
import { rejects } from './helpers.js';

let m: MeridianProcess;
let kms: KMSClient;

before(async () => {
  m = await startMeridianProcess({ tls: false, env: { MERIDIAN_TEST_CLOCK: 'on' } });
  kms = kmsClient(m);
});
after(async () => {
  await m?.stop();
});

async function newKey(description = ''): Promise<{ id: string; arn: string }> {
  const md = (await kms.send(new CreateKeyCommand({ Description: description }))).KeyMetadata!;
  return { id: md.KeyId!, arn: md.Arn! };
}

describe('deletion', () => {
  test('ScheduleKeyDeletion takes 7–30 days (default 30) and only key ids or ARNs', async () => {
    const k = await newKey();
    for (const days of [6, 31]) {
      await rejects(kms.send(new ScheduleKeyDeletionCommand({ KeyId: k.id, PendingWindowInDays: days })), 'ValidationException', 400);
    }
    await kms.send(new CreateAliasCommand({ AliasName: `alias/del-${k.id}`, TargetKeyId: k.id }));
    await rejects(kms.send(new ScheduleKeyDeletionCommand({ KeyId: `alias/del-${k.id}` })), 'NotFoundException', 400);
    const out = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: k.id }));
    assert.equal(out.KeyId, k.arn);
    assert.equal(out.KeyState, 'PendingDeletion');
    assert.equal(out.PendingWindowInDays, 30);
    const inDays = (out.DeletionDate!.getTime() - Date.now()) / 86_400_000;
    assert.ok(inDays > 29.9 && inDays < 30.1, `deletion in 30 days, got ${inDays}`);
  });

  test('a key pending deletion refuses crypto (KMSInvalidStateException) and is really deleted, with its aliases, when the window passes', async () => {
    const k = await newKey('doomed');
    const alias = `alias/doomed-${k.id}`;
    await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: k.arn }));
    const blob = (await kms.send(new EncryptCommand({ KeyId: k.id, Plaintext: Buffer.from('secret') }))).CiphertextBlob!;
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: k.id, PendingWindowInDays: 7 }));
    const md = (await kms.send(new DescribeKeyCommand({ KeyId: k.id }))).KeyMetadata!;
    assert.equal(md.KeyState, 'PendingDeletion');
    assert.equal(md.Enabled, false);
    assert.equal(md.PendingDeletionWindowInDays, 7);
    assert.ok(md.DeletionDate);
    const e = await rejects(kms.send(new DecryptCommand({ CiphertextBlob: blob })), 'KMSInvalidStateException', 400);
    assert.equal(e.message, `${k.arn} is pending deletion.`);
    await rejects(kms.send(new EnableKeyCommand({ KeyId: k.id })), 'KMSInvalidStateException', 400);
    await rejects(kms.send(new ScheduleKeyDeletionCommand({ KeyId: k.id })), 'KMSInvalidStateException', 400);

    await advanceClock(m, 6 * DAY);
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: k.id }))).KeyMetadata!.KeyState, 'PendingDeletion', 'not yet: one day left');
    await advanceClock(m, 1 * DAY + 60);
    await rejects(kms.send(new DescribeKeyCommand({ KeyId: k.id })), 'NotFoundException', 400);
    const aliases = (await kms.send(new ListAliasesCommand({}))).Aliases!.map((a) => a.AliasName);
    assert.ok(!aliases.includes(alias), 'the key took its alias with it');
    const gone = await rejects(kms.send(new DecryptCommand({ CiphertextBlob: blob })), 'AccessDeniedException', 400);
    assert.match(gone.message, /does not exist/);
  });

  test('CancelKeyDeletion leaves the key Disabled; an Enabled key cannot be cancelled', async () => {
    const k = await newKey();
    await rejects(kms.send(new CancelKeyDeletionCommand({ KeyId: k.id })), 'KMSInvalidStateException', 400);
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: k.id, PendingWindowInDays: 7 }));
    const out = await kms.send(new CancelKeyDeletionCommand({ KeyId: k.arn }));
    assert.equal(out.KeyId, k.arn);
    const md = (await kms.send(new DescribeKeyCommand({ KeyId: k.id }))).KeyMetadata!;
    assert.equal(md.KeyState, 'Disabled');
    assert.equal(md.DeletionDate, undefined);
    await rejects(kms.send(new EncryptCommand({ KeyId: k.id, Plaintext: Buffer.from('x') })), 'DisabledException', 400);
    await advanceClock(m, 8 * DAY);
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: k.id }))).KeyMetadata!.KeyState, 'Disabled', 'a cancelled deletion never happens');
  });

  test('UpdateKeyDescription', async () => {
    const k = await newKey('before');
    await kms.send(new UpdateKeyDescriptionCommand({ KeyId: k.id, Description: 'after' }));
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: k.arn }))).KeyMetadata!.Description, 'after');
  });
});

describe('rotation', () => {
  test('on demand: the key id stays, new ciphertexts use the new material, old ones still decrypt; ListKeyRotations shows it', async () => {
    const k = await newKey();
    const before = (await kms.send(new DescribeKeyCommand({ KeyId: k.id }))).KeyMetadata!.CurrentKeyMaterialId!;
    const oldBlob = (await kms.send(new EncryptCommand({ KeyId: k.id, Plaintext: Buffer.from('old') }))).CiphertextBlob!;
    assert.equal((await kms.send(new RotateKeyOnDemandCommand({ KeyId: k.id }))).KeyId, k.arn);
    const after = (await kms.send(new DescribeKeyCommand({ KeyId: k.id }))).KeyMetadata!.CurrentKeyMaterialId!;
    assert.notEqual(after, before);
    const newBlob = (await kms.send(new EncryptCommand({ KeyId: k.id, Plaintext: Buffer.from('new') }))).CiphertextBlob!;
    const oldPlain = await kms.send(new DecryptCommand({ CiphertextBlob: oldBlob }));
    assert.equal(Buffer.from(oldPlain.Plaintext!).toString(), 'old');
    assert.equal(oldPlain.KeyMaterialId, before);
    const newPlain = await kms.send(new DecryptCommand({ CiphertextBlob: newBlob }));
    assert.equal(newPlain.KeyMaterialId, after);
    const rotations = (await kms.send(new ListKeyRotationsCommand({ KeyId: k.id }))).Rotations!;
    assert.equal(rotations.length, 1);
    assert.equal(rotations[0]!.RotationType, 'ON_DEMAND');
    assert.equal(rotations[0]!.KeyMaterialId, after);
    // ReEncrypt moves an old ciphertext onto the current material.
    const re = await kms.send(new ReEncryptCommand({ CiphertextBlob: oldBlob, DestinationKeyId: k.id }));
    assert.equal(re.SourceKeyMaterialId, before);
    assert.equal(re.DestinationKeyMaterialId, after);
  });

  test('automatic: enabled with a period of 90–2560 days, the key rotates when the clock passes the date; disabled it stops', async () => {
    const k = await newKey();
    assert.equal((await kms.send(new GetKeyRotationStatusCommand({ KeyId: k.id }))).KeyRotationEnabled, false);
    await rejects(kms.send(new EnableKeyRotationCommand({ KeyId: k.id, RotationPeriodInDays: 89 })), 'ValidationException', 400);
    await kms.send(new EnableKeyRotationCommand({ KeyId: k.id, RotationPeriodInDays: 90 }));
    const status = await kms.send(new GetKeyRotationStatusCommand({ KeyId: k.arn }));
    assert.equal(status.KeyRotationEnabled, true);
    assert.equal(status.RotationPeriodInDays, 90);
    const next = status.NextRotationDate!.getTime();
    const blob = (await kms.send(new EncryptCommand({ KeyId: k.id, Plaintext: Buffer.from('kept') }))).CiphertextBlob!;
    await advanceClock(m, 91 * DAY);
    const rotations = (await kms.send(new ListKeyRotationsCommand({ KeyId: k.id }))).Rotations!;
    assert.equal(rotations.length, 1);
    assert.equal(rotations[0]!.RotationType, 'AUTOMATIC');
    const later = await kms.send(new GetKeyRotationStatusCommand({ KeyId: k.id }));
    assert.ok(later.NextRotationDate!.getTime() > next, 'the next rotation moved on');
    assert.equal(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString(), 'kept');
    await kms.send(new DisableKeyRotationCommand({ KeyId: k.id }));
    await advanceClock(m, 100 * DAY);
    assert.equal((await kms.send(new ListKeyRotationsCommand({ KeyId: k.id }))).Rotations!.length, 1);
  });
});

describe('Multi-Region keys (§1.11)', () => {
  test('mrk- ids; ReplicateKey makes a replica with the same id in another region that decrypts the primary’s ciphertext', async () => {
    const primary = (await kms.send(new CreateKeyCommand({ MultiRegion: true, Description: 'mrk' }))).KeyMetadata!;
    assert.match(primary.KeyId!, /^mrk-[0-9a-f]{32}$/);
    assert.equal(primary.MultiRegion, true);
    assert.equal(primary.MultiRegionConfiguration!.MultiRegionKeyType, 'PRIMARY');
    assert.deepEqual(primary.MultiRegionConfiguration!.ReplicaKeys, []);
    const out = await kms.send(new ReplicateKeyCommand({ KeyId: primary.KeyId!, ReplicaRegion: 'eu-west-1', Description: 'replica' }));
    const replica = out.ReplicaKeyMetadata!;
    assert.equal(replica.Arn, `arn:aws:kms:eu-west-1:${m.accountId}:key/${primary.KeyId}`);
    assert.equal(replica.MultiRegionConfiguration!.MultiRegionKeyType, 'REPLICA');
    assert.equal(replica.MultiRegionConfiguration!.PrimaryKey!.Arn, primary.Arn);
    assert.equal(replica.Description, 'replica');
    await rejects(kms.send(new ReplicateKeyCommand({ KeyId: primary.KeyId!, ReplicaRegion: 'eu-west-1' })), 'AlreadyExistsException', 400);
    const described = (await kms.send(new DescribeKeyCommand({ KeyId: primary.Arn! }))).KeyMetadata!;
    assert.deepEqual(described.MultiRegionConfiguration!.ReplicaKeys!.map((r) => r.Region), ['eu-west-1']);

    const blob = (await kms.send(new EncryptCommand({ KeyId: primary.KeyId!, Plaintext: Buffer.from('everywhere'), EncryptionContext: { a: 'b' } }))).CiphertextBlob!;
    const eu = kmsClient(m, 'eu-west-1');
    const plain = await eu.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { a: 'b' } }));
    assert.equal(Buffer.from(plain.Plaintext!).toString(), 'everywhere');
    assert.equal(plain.KeyId, replica.Arn);

    // Rotation happens on the primary and reaches the replica; the replica cannot rotate itself.
    await kms.send(new RotateKeyOnDemandCommand({ KeyId: primary.KeyId! }));
    const rotated = (await kms.send(new EncryptCommand({ KeyId: primary.KeyId!, Plaintext: Buffer.from('v2') }))).CiphertextBlob!;
    assert.equal(Buffer.from((await eu.send(new DecryptCommand({ CiphertextBlob: rotated }))).Plaintext!).toString(), 'v2');
    await rejects(eu.send(new RotateKeyOnDemandCommand({ KeyId: primary.KeyId! })), 'UnsupportedOperationException', 400);
  });

  test('a single-Region key cannot be replicated, and its ciphertext does not decrypt in another region', async () => {
    const k = await newKey();
    await rejects(kms.send(new ReplicateKeyCommand({ KeyId: k.id, ReplicaRegion: 'us-west-2' })), 'UnsupportedOperationException', 400);
    const blob = (await kms.send(new EncryptCommand({ KeyId: k.id, Plaintext: Buffer.from('here') }))).CiphertextBlob!;
    await rejects(kmsClient(m, 'us-west-2').send(new DecryptCommand({ CiphertextBlob: blob })), 'AccessDeniedException', 400);
  });

  test('a primary with replicas waits in PendingReplicaDeletion until its replicas are deleted', async () => {
    const primary = (await kms.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!;
    await kms.send(new ReplicateKeyCommand({ KeyId: primary.KeyId!, ReplicaRegion: 'us-west-1' }));
    const out = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: primary.KeyId!, PendingWindowInDays: 7 }));
    assert.equal(out.KeyState, 'PendingReplicaDeletion');
    const west = kmsClient(m, 'us-west-1');
    await west.send(new ScheduleKeyDeletionCommand({ KeyId: primary.KeyId!, PendingWindowInDays: 7 }));
    await advanceClock(m, 8 * DAY);
    await rejects(west.send(new DescribeKeyCommand({ KeyId: primary.KeyId! })), 'NotFoundException', 400);
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: primary.KeyId! }))).KeyMetadata!.KeyState, 'PendingDeletion', 'now its own window runs');
    await advanceClock(m, 8 * DAY);
    await rejects(kms.send(new DescribeKeyCommand({ KeyId: primary.KeyId! })), 'NotFoundException', 400);
  });
});
