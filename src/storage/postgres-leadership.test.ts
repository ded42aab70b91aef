/**
 * Leader election for the time-driven work (PgLeadership) on a throwaway PostgreSQL: of several
 * competitors exactly one leads; when its session ends (close, or the server terminating the
 * backend as it does for a dead client) another takes over and the old one steps down.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PgLeadership } from './postgres/leadership.js';
import { postgresUnavailable, startThrowawayPostgres, type ThrowawayPostgres } from './testing/throwaway-postgres.js';

const skip = postgresUnavailable();

/** Poll until `check` holds (the election retries every few ms here). */
async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await sleep(20);
  }
  assert.fail(`not reached: ${what}`);
}

describe('PgLeadership', { skip }, () => {
  let server: ThrowawayPostgres;
  before(async () => {
    server = await startThrowawayPostgres();
  });
  after(async () => {
    await server?.destroy();
  });

  it('one of three leads; closing it or killing its session hands the lead to another', async () => {
    const url = await server.createDatabase();
    const changes: string[] = [];
    const all = ['a', 'b', 'c'].map((name) => {
      const l = new PgLeadership({ url, retryMs: 25, applicationName: `leader-test-${name}` });
      l.start((leader) => changes.push(`${name}:${leader}`));
      return { name, l };
    });
    try {
      await until(() => all.some((x) => x.l.leader), 'a leader');
      // Every competitor has tried several times by now: still one.
      await until(async () => Number((await server.psql(`SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'leader-test-%'`, new URL(url).pathname.slice(1))).trim()) === 3, 'three sessions');
      await sleep(200);
      assert.equal(all.filter((x) => x.l.leader).length, 1);

      const first = all.find((x) => x.l.leader)!;
      await first.l.close();
      await until(() => all.some((x) => x !== first && x.l.leader), 'a second leader after close');
      const second = all.find((x) => x.l.leader)!;
      assert.equal(all.filter((x) => x.l.leader).length, 1);

      // The server ends the leader's session (what happens when its gateway dies): it steps down, the other takes over.
      await server.psql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'leader-test-${second.name}'`, new URL(url).pathname.slice(1));
      await until(() => !second.l.leader, 'the old leader stepped down');
      await until(() => all.some((x) => x.l.leader), 'a third leader');
      assert.equal(all.filter((x) => x.l.leader).length, 1);
      assert.ok(changes.includes(`${second.name}:false`), `step-down reported: ${changes.join(' ')}`);
    } finally {
      for (const x of all) await x.l.close();
    }
  });
});
