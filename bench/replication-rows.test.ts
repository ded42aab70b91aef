/** How the replication-load rows read the retries out of a server's log. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retriesLogged } from './replication-rows.js';

test('retries are counted by reason, with per-object names folded together', () => {
  const log = [
    JSON.stringify({ level: 30, msg: 'region opened', region: 'us-east-1' }),
    JSON.stringify({ level: 30, msg: 'replication will retry', key: 'steady-17', message: 'SlowDown for steady-17 (request 0123456789ABCDEF)' }),
    JSON.stringify({ level: 30, msg: 'replication will retry', key: 'steady-18', message: 'SlowDown for steady-18 (request FEDCBA9876543210)' }),
    JSON.stringify({ level: 30, msg: 'replication will retry', key: 'steady-19', message: 'socket hang up' }),
    'replication will retry (not JSON)',
  ].join('\n');
  const r = retriesLogged(log);
  assert.equal(r.retries, 4);
  assert.deepEqual(r.reasons, { 'SlowDown for steady-N (request ID)': 2, 'socket hang up': 1, unknown: 1 });
});

test('a log without retries has none', () => {
  assert.deepEqual(retriesLogged(JSON.stringify({ msg: 'replication completed' })), { retries: 0, reasons: {} });
});
