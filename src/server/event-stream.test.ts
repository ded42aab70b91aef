import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { boundedLineStream } from './event-stream.js';

test('a subscriber that reads gets every line, in order', async () => {
  const { stream, send } = boundedLineStream(1024, () => assert.fail('a reading subscriber is never dropped'));
  const got: string[] = [];
  stream.setEncoding('utf8').on('data', (d: string) => got.push(d));
  for (let i = 0; i < 1000; i++) {
    assert.ok(send(`event ${i}\n`));
    // The consumer keeps up: let it take what was queued.
    if (i % 10 === 9) await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setImmediate(r));
  assert.equal(got.join(''), Array.from({ length: 1000 }, (_, i) => `event ${i}\n`).join(''));
});

test('a subscriber that stops reading is dropped once it is the bound behind; memory never grows past it', async () => {
  const dropped: number[] = [];
  const { stream, send } = boundedLineStream(4096, (n) => dropped.push(n));
  stream.pause();
  const line = JSON.stringify({ Records: [{ eventName: 'Replication:OperationReplicatedAfterThreshold', key: 'k'.repeat(100) }] }) + '\n';
  let accepted = 0;
  for (let i = 0; i < 10_000; i++) {
    if (!send(line)) break;
    accepted++;
    assert.ok(stream.readableLength <= 4096, `buffered ${stream.readableLength} bytes`);
  }
  assert.equal(dropped.length, 1, 'dropped exactly once');
  assert.ok(accepted * line.length <= 4096 && (accepted + 1) * line.length > 4096, `accepted ${accepted} lines`);
  assert.ok(stream.destroyed);
  assert.equal(send(line), false, 'nothing more is queued for a dropped subscriber');
  if (!stream.closed) await once(stream, 'close');
});
