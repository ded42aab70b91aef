import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { it } from 'node:test';
import { loadConfig, workersFor } from './config.js';

it('MERIDIAN_WORKERS defaults to the number of cores and must be a positive integer', () => {
  assert.equal(loadConfig({}).workers, availableParallelism());
  assert.equal(loadConfig({ MERIDIAN_WORKERS: '3' }).workers, 3);
  assert.throws(() => loadConfig({ MERIDIAN_WORKERS: '0' }), /MERIDIAN_WORKERS must be a positive integer/);
  assert.throws(() => loadConfig({ MERIDIAN_WORKERS: 'two' }), /MERIDIAN_WORKERS must be a non-negative integer/);
});

it('features whose state lives in one process run one worker, and say why', () => {
  assert.deepEqual(workersFor(loadConfig({ MERIDIAN_WORKERS: '2' })), { workers: 2 });
  assert.deepEqual(workersFor(loadConfig({ MERIDIAN_WORKERS: '1', MERIDIAN_TEST_CLOCK: 'on' })), { workers: 1 });
  for (const env of [{ MERIDIAN_TEST_CLOCK: 'on' }, { MERIDIAN_FAULTS: 'on' }, { MERIDIAN_REGIONS: 'us-east-1', MERIDIAN_PEER_SECRET: 'a-secret-of-enough-length' }]) {
    const r = workersFor(loadConfig({ MERIDIAN_WORKERS: '2', ...env }));
    assert.equal(r.workers, 1);
    assert.match(r.reason!, /^MERIDIAN_WORKERS=2 ignored: .* needs a single process; running 1 worker$/);
  }
});

it('peer listeners (MERIDIAN_PEER_PORT, MERIDIAN_PEER_TLS_PORT) are for split mode and take a port', () => {
  const split = { MERIDIAN_REGIONS: 'us-east-1', MERIDIAN_PEERS: 'us-east-2=http://127.0.0.1:9100', MERIDIAN_PEER_SECRET: 'a-secret-of-enough-length' };
  const none = loadConfig(split);
  assert.equal(none.peerPort, undefined);
  assert.equal(none.peerTlsPort, undefined);
  const both = loadConfig({ ...split, MERIDIAN_PEER_PORT: '9100', MERIDIAN_PEER_TLS_PORT: '0' });
  assert.equal(both.peerPort, 9100);
  assert.equal(both.peerTlsPort, 0);
  assert.throws(() => loadConfig({ MERIDIAN_PEER_PORT: '9100' }), /MERIDIAN_PEER_PORT is for split mode: set MERIDIAN_REGIONS/);
  for (const bad of ['70000', '-1', 'nine', '9.5']) {
    assert.throws(() => loadConfig({ ...split, MERIDIAN_PEER_TLS_PORT: bad }), /MERIDIAN_PEER_TLS_PORT must be a TCP port \(0-65535; 0: any free port\)/, bad);
  }
});
