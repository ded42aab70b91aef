import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BUNDLE_MAX_BYTES, BUNDLE_MAX_ITEMS, decodeBundle, encodeBundle, type BundleItem, type ReplicaEnvelope } from './replica-wire.js';

const envelope = (key: string, extra: Partial<ReplicaEnvelope> = {}): ReplicaEnvelope => ({
  op: 'object',
  destination: { name: 'dest', region: 'us-east-2', ownerAccountId: '111122223333' },
  version: { key } as NonNullable<ReplicaEnvelope['version']>,
  ...extra,
});

/** A body with this index and these data bytes, framed as encodeBundle does. */
function framed(index: string, data = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(Buffer.byteLength(index));
  return Buffer.concat([head, Buffer.from(index), data]);
}

const refused = (body: Buffer, message: RegExp, code = 'InvalidRequest') =>
  assert.throws(() => decodeBundle(body), (e: { code?: string; message: string }) => e.code === code && message.test(e.message));

describe('replica bundles on the wire', () => {
  it('carries several replicas, each with its own envelope and bytes (an empty object too)', () => {
    const items: BundleItem[] = [
      { envelope: envelope('a'), data: Buffer.from('first object') },
      { envelope: envelope('empty'), data: Buffer.alloc(0) },
      { envelope: envelope('b', { tags: { t: '1' } }), data: Buffer.from([0, 1, 2, 255]) },
    ];
    const decoded = decodeBundle(encodeBundle(items));
    assert.deepEqual(
      decoded.map((i) => [i.envelope, i.data.toString('hex')]),
      items.map((i) => [i.envelope, i.data.toString('hex')]),
    );
  });

  it('refuses a body cut short, an index that is not JSON or lists nothing, and bytes that do not add up', () => {
    refused(Buffer.from([0, 0]), /ends inside its index length/);
    refused(framed('{"items":[]}').subarray(0, 8), /ends inside its index/);
    refused(framed('{"items":'), /not JSON/, 'MalformedJSON');
    refused(framed('{"items":[]}'), /lists no items/);
    refused(framed('{"nothing":1}'), /lists no items/);
    const one = (length: unknown) => JSON.stringify({ items: [{ envelope: envelope('a'), length }] });
    refused(framed(one(10), Buffer.alloc(4)), /item 0 ends beyond the body/);
    refused(framed(one(2), Buffer.alloc(4)), /2 bytes after its last item/);
    for (const bad of [-1, 1.5, '4', null]) refused(framed(one(bad), Buffer.alloc(4)), /item 0 has no valid length/);
  });

  it('refuses envelopes without an operation or destination, and anything but object replicas', () => {
    const withEnvelope = (e: unknown) => framed(JSON.stringify({ items: [{ envelope: e, length: 0 }] }));
    refused(withEnvelope({ op: 'object' }), /lacks its operation or destination/);
    refused(withEnvelope(null), /lacks its operation or destination/);
    refused(withEnvelope(envelope('a', { op: 'delete-marker' })), /item 0 is not an object replica/);
    refused(withEnvelope(envelope('a', { dryRun: true })), /item 0 is not an object replica/);
  });

  it('refuses more items or bytes than a bundle may hold', () => {
    const many = Array.from({ length: BUNDLE_MAX_ITEMS + 1 }, (_, i) => ({ envelope: envelope(`k${i}`), data: Buffer.alloc(0) }));
    refused(encodeBundle(many), new RegExp(`${BUNDLE_MAX_ITEMS + 1} items \\(at most ${BUNDLE_MAX_ITEMS}\\)`));
    refused(Buffer.alloc(BUNDLE_MAX_BYTES + 1), /at most/, 'RequestEntityTooLarge');
  });
});
