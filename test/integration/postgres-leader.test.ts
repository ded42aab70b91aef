/**
 * Time-driven background work across gateways on one PostgreSQL database: exactly one gateway leads
 * it (a session advisory lock), so a KMS key due for rotation is rotated once however many gateways
 * see the clock pass its date; when the leader is SIGKILLed, PostgreSQL ends its session, another
 * gateway takes the lock and runs the work (here a scheduled key deletion).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateKeyCommand, DescribeKeyCommand, EnableKeyRotationCommand, ListKeyRotationsCommand, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { eventually, kmsClient } from '../support/clients.js';
import { meridianOnDataDir } from '../support/meridian-cli.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { postgresUnavailable, startThrowawayPostgres, type ThrowawayPostgres } from '../support/postgres.js';
import { advanceClock, DAY } from '../support/test-clock.js';

const skip = postgresUnavailable();
const LEADS = /this gateway leads the time-driven background work/;

describe('time-driven work across gateways on PostgreSQL: one leader', { skip }, () => {
  let pg: ThrowawayPostgres;
  let dataDir: string;
  const running: MeridianProcess[] = [];
  const keys = { accessKeyId: 'AKIAPGLEADERTEST0001', secretAccessKey: 'pg-leader-test-secret-key-0123456789abcd' };

  before(async () => {
    pg = await startThrowawayPostgres();
    dataDir = mkdtempSync(join(tmpdir(), 'meridian-pg-leader-'));
  });
  after(async () => {
    for (const m of running) await m.stop({ keepData: true }).catch(() => undefined);
    await pg?.destroy();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const leaders = (gateways: MeridianProcess[]) => gateways.filter((g) => LEADS.test(g.logs()));
  /** Every gateway's business clock moves together (each process has its own offset). */
  const advanceAll = async (gateways: MeridianProcess[], seconds: number) => {
    for (const g of gateways) await advanceClock(g, seconds);
  };

  it('three gateways: one leads; a due key is rotated once; after SIGKILL of the leader another takes over and deletes a key whose window passed', async () => {
    const url = await pg.createDatabase();
    const migrated = await meridianOnDataDir(['migrate', '--metadata-url', url], dataDir);
    assert.equal(migrated.code, 0, migrated.stderr);
    const env = { MERIDIAN_METADATA_URL: url, MERIDIAN_TEST_CLOCK: 'on', MERIDIAN_LEADER_RETRY_MS: '200' };
    const gateways: MeridianProcess[] = [];
    for (let i = 0; i < 3; i++) {
      const g = await startMeridianProcess({ dataDir, env, tls: false, ...keys });
      running.push(g);
      gateways.push(g);
    }
    const [first] = await eventually(async () => {
      const l = leaders(gateways);
      return l.length > 0 ? l : undefined;
    });
    // Every gateway competes (one leader-election session each); the lock is held by one session only.
    await eventually(async () => ((await pg.psql(`SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE '%(leader election)'`, new URL(url).pathname.slice(1))).trim() === '3' ? true : undefined));
    const held = await pg.psql(`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid IN (SELECT pid FROM pg_stat_activity WHERE application_name LIKE '%(leader election)')`, new URL(url).pathname.slice(1));
    assert.equal(held.trim(), '1', 'exactly one leader-election session holds the lock');

    // A key created and set to rotate through a follower; every gateway's clock passes its rotation date.
    const follower = gateways.find((g) => g !== first)!;
    const kms = kmsClient(follower);
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Description: 'rotated by the leader' }));
    const keyId = KeyMetadata!.KeyId!;
    await kms.send(new EnableKeyRotationCommand({ KeyId: keyId, RotationPeriodInDays: 90 }));
    await advanceAll(gateways, 91 * DAY);
    const rotations = await kms.send(new ListKeyRotationsCommand({ KeyId: keyId }));
    assert.equal(rotations.Rotations?.length, 1, `rotated exactly once: ${JSON.stringify(rotations.Rotations)}`);
    assert.equal(rotations.Rotations?.[0]?.RotationType, 'AUTOMATIC');
    assert.deepEqual(leaders(gateways), [first], 'still exactly one gateway has led');

    // The leader dies without a word; another gateway takes the lock when PostgreSQL ends the session.
    const doomed = kmsClient(follower);
    const { KeyMetadata: second } = await doomed.send(new CreateKeyCommand({ Description: 'deleted after the takeover' }));
    await doomed.send(new ScheduleKeyDeletionCommand({ KeyId: second!.KeyId!, PendingWindowInDays: 7 }));
    await first!.kill();
    const survivors = gateways.filter((g) => g !== first);
    const next = await eventually(async () => {
      const l = leaders(survivors);
      return l.length > 0 ? l : undefined;
    });
    assert.equal(next.length, 1, 'one survivor took over');
    await advanceAll(survivors, 8 * DAY);
    await assert.rejects(kmsClient(survivors[0]!).send(new DescribeKeyCommand({ KeyId: second!.KeyId! })), (e: { name?: string }) => e.name === 'NotFoundException');
    // The rotated key's rotation stays single: the new leader does not rotate it again before its next date.
    assert.equal((await kmsClient(survivors[0]!).send(new ListKeyRotationsCommand({ KeyId: keyId }))).Rotations?.length, 1);
  });
});
