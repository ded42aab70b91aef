/**
 * The live fuzz driver, short, in every test run: random and mutated requests against a real server
 * for a bounded time. The server stays up, answers every request, never with a 5xx (501 aside), and
 * holds no more descriptors afterwards. Longer runs: `npm run fuzz -- --seconds 600 --seed N`.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { runFuzz } from '../fuzz/live-fuzz.js';
import { startFuzzTarget, type FuzzTarget } from '../fuzz/fuzz-target.js';
import { head, rawExchange } from '../support/raw-http.js';

let t: FuzzTarget;
before(async () => {
  t = await startFuzzTarget();
});
after(async () => {
  await t?.m.stop();
});

for (const seed of [1, 2, 3]) {
  it(`seed ${seed}: 8 seconds of hostile requests; every one answered, none with a 5xx, no descriptor kept`, async (ctx) => {
    const report = await runFuzz({ host: t.host, port: t.port, pid: t.pid, seconds: 8, seed, concurrency: 4, target: t.target });
    ctx.diagnostic(`${report.requests} requests, statuses ${JSON.stringify(report.statuses)}, descriptors ${report.fdBefore} → ${report.fdAfter}`);
    assert.ok(report.alive, `the server died:\n${t.m.logs().slice(-2000)}`);
    assert.deepEqual(report.findings.slice(0, 3), [], `${report.findings.length} findings`);
    assert.ok(report.requests > 50, 'the driver sent requests');
    assert.ok(report.fdAfter <= report.fdBefore + 2, `descriptors ${report.fdBefore} → ${report.fdAfter}`);
  });
}

it('CONNECT (found by the fuzz driver: node drops it without a word) is answered 405 MethodNotAllowed and the connection closed', async () => {
  const { reply, connection } = await rawExchange(t.m.httpEndpoint, head('CONNECT', '/', { host: t.target.host, 'content-length': '0' }));
  assert.equal(reply?.status, 405);
  assert.match(reply!.text, /<Code>MethodNotAllowed<\/Code>/);
  await connection.closing;
});
