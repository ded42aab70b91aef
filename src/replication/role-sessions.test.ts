/**
 * The replication role's sessions: one AssumeRole per role and source bucket, shared by every task
 * that needs it, renewed after a minute or shortly before expiry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RoleSessionCache } from './role-sessions.js';
import type { RoleCredentials } from './ports.js';

const ROLE = 'arn:aws:iam::111122223333:role/replication';
const HOUR = 60 * 60 * 1000;

function fakeClock(start = 1_000_000) {
  const clock = { t: start, now: () => clock.t };
  return clock;
}

/** An AssumeRole that answers when told to, numbering the sessions it hands out. */
function controlledAssume(clock: { now(): number }) {
  let issued = 0;
  const waiting: { resolve: (c: RoleCredentials) => void; reject: (e: Error) => void }[] = [];
  return {
    get calls() {
      return issued;
    },
    assume: () =>
      new Promise<RoleCredentials>((resolve, reject) => {
        issued++;
        waiting.push({ resolve, reject });
      }),
    answer(n: number) {
      const w = waiting.shift()!;
      w.resolve({ roleArn: ROLE, accessKeyId: `ASIA${n}`, secretAccessKey: 's', sessionToken: 't', expiresAt: clock.now() + HOUR });
    },
    fail(message: string) {
      waiting.shift()!.reject(new Error(message));
    },
  };
}

test('tasks that need a session at the same time share one AssumeRole', async () => {
  const clock = fakeClock();
  const cache = new RoleSessionCache(clock);
  const sts = controlledAssume(clock);
  const gets = Array.from({ length: 20 }, () => cache.get(ROLE, '111122223333', 'src', sts.assume));
  assert.equal(sts.calls, 1);
  sts.answer(1);
  const creds = await Promise.all(gets);
  assert.deepEqual(new Set(creds.map((c) => c.accessKeyId)), new Set(['ASIA1']));
  // And later ones reuse it.
  assert.equal((await cache.get(ROLE, '111122223333', 'src', sts.assume)).accessKeyId, 'ASIA1');
  assert.equal(sts.calls, 1);
});

test('different source buckets get sessions of their own', async () => {
  const clock = fakeClock();
  const cache = new RoleSessionCache(clock);
  const sts = controlledAssume(clock);
  const a = cache.get(ROLE, '111122223333', 'src-a', sts.assume);
  const b = cache.get(ROLE, '111122223333', 'src-b', sts.assume);
  assert.equal(sts.calls, 2);
  sts.answer(1);
  sts.answer(2);
  assert.equal((await a).accessKeyId, 'ASIA1');
  assert.equal((await b).accessKeyId, 'ASIA2');
});

test('a failed AssumeRole fails every task waiting for it, and the next task asks again', async () => {
  const clock = fakeClock();
  const cache = new RoleSessionCache(clock);
  const sts = controlledAssume(clock);
  const gets = [cache.get(ROLE, '111122223333', 'src', sts.assume), cache.get(ROLE, '111122223333', 'src', sts.assume)];
  sts.fail('AccessDenied: trust policy');
  for (const g of gets) await assert.rejects(g, /trust policy/);
  const again = cache.get(ROLE, '111122223333', 'src', sts.assume);
  assert.equal(sts.calls, 2);
  sts.answer(2);
  assert.equal((await again).accessKeyId, 'ASIA2');
});

test('a session is renewed after a minute of use', async () => {
  const clock = fakeClock();
  const cache = new RoleSessionCache(clock);
  const sts = controlledAssume(clock);
  const first = cache.get(ROLE, '111122223333', 'src', sts.assume);
  sts.answer(1);
  await first;
  clock.t += 61_000;
  const renewed = cache.get(ROLE, '111122223333', 'src', sts.assume);
  assert.equal(sts.calls, 2);
  sts.answer(2);
  assert.equal((await renewed).accessKeyId, 'ASIA2');
});

test('an AssumeRole in flight when the role is invalidated is not kept for later tasks', async () => {
  const clock = fakeClock();
  const cache = new RoleSessionCache(clock);
  const sts = controlledAssume(clock);
  const before = cache.get(ROLE, '111122223333', 'src', sts.assume);
  cache.invalidate(ROLE);
  const after = cache.get(ROLE, '111122223333', 'src', sts.assume);
  assert.equal(sts.calls, 2, 'a task after the invalidation does not wait for the older call');
  sts.answer(1);
  sts.answer(2);
  assert.equal((await before).accessKeyId, 'ASIA1');
  assert.equal((await after).accessKeyId, 'ASIA2');
  assert.equal((await cache.get(ROLE, '111122223333', 'src', sts.assume)).accessKeyId, 'ASIA2');
  assert.equal(sts.calls, 2);
});
