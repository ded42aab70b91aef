import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { derivePeerKeys } from './peer-protocol.js';
import { frameReplica, frameReplicaBuffer, parseFramedReplica, readFramedReplica } from './replica-framing.js';

const keys = derivePeerKeys('a shared secret of some length');
const SIG = 'ab'.repeat(32);
const envelope = Buffer.from(JSON.stringify({ op: 'object', parts: [{ partNumber: 1, size: 5 }] }));

async function framed(data = Buffer.from('hello')): Promise<{ content: string; bytes: Buffer }> {
  const f = frameReplica(envelope, Readable.from([data]), data.length);
  const chunks: Buffer[] = [];
  for await (const c of f.body(keys, SIG)) chunks.push(c as Buffer);
  const bytes = Buffer.concat(chunks);
  assert.equal(bytes.length, f.length);
  return { content: f.content, bytes };
}

/** Read a framed body delivered in small pieces, as a socket would. */
async function read(bytes: Buffer, content: string, sig = SIG): Promise<{ envelope: string; data: string; check(): void }> {
  const pieces = Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) => bytes.subarray(i * 7, i * 7 + 7));
  const r = await readFramedReplica(Readable.from(pieces), keys, sig, content);
  const chunks: Buffer[] = [];
  for await (const c of r.data) chunks.push(c as Buffer);
  return { envelope: r.envelope.toString(), data: Buffer.concat(chunks).toString(), check: r.check };
}

describe('replica framing', () => {
  it('gives back the envelope and the data, and the tag verifies', async () => {
    const { content, bytes } = await framed();
    const r = await read(bytes, content);
    assert.equal(r.envelope, envelope.toString());
    assert.equal(r.data, 'hello');
    r.check();
  });

  it('a changed data byte fails the tag; a changed envelope byte fails at once', async () => {
    const { content, bytes } = await framed();
    const data = Buffer.from(bytes);
    data[4 + envelope.length + 1]! ^= 1;
    const r = await read(data, content);
    assert.throws(() => r.check(), (e: { code?: string }) => e.code === 'BadDigest');
    const env = Buffer.from(bytes);
    env[6]! ^= 1;
    await assert.rejects(read(env, content), (e: { code?: string }) => e.code === 'BadDigest');
  });

  it('the tag is bound to its request: the same body under another request signature fails', async () => {
    const { content, bytes } = await framed();
    const r = await read(bytes, content, 'cd'.repeat(32));
    assert.throws(() => r.check(), (e: { code?: string }) => e.code === 'BadDigest');
  });

  it('a body cut short is refused', async () => {
    const { content, bytes } = await framed();
    await assert.rejects(read(bytes.subarray(0, bytes.length - 10), content), (e: { code?: string }) => e.code === 'IncompleteBody');
    await assert.rejects(read(bytes.subarray(0, 3), content), (e: { code?: string }) => e.code === 'IncompleteBody');
  });
});

describe('replica framing, small bodies whole', () => {
  const bad = (code: string) => (e: { code?: string }) => e.code === code;

  it('a body framed in memory is byte for byte the streamed one, and either reader takes it', async () => {
    const { content, bytes } = await framed();
    const whole = frameReplicaBuffer(envelope, Buffer.from('hello'));
    assert.equal(whole.content, content);
    assert.deepEqual(whole.body(keys, SIG), bytes);
    assert.equal(whole.length, bytes.length);
    const parsed = parseFramedReplica(bytes, keys, SIG, content);
    assert.equal(parsed.envelope.toString(), envelope.toString());
    assert.equal(parsed.data.toString(), 'hello');
    const streamed = await read(whole.body(keys, SIG), content);
    assert.equal(streamed.data, 'hello');
    streamed.check();
  });

  it('refuses, before anything is used, a changed data byte, a changed envelope, another request signature, a cut body', async () => {
    const { content, bytes } = await framed();
    const data = Buffer.from(bytes);
    data[4 + envelope.length + 1]! ^= 1;
    assert.throws(() => parseFramedReplica(data, keys, SIG, content), bad('BadDigest'));
    const env = Buffer.from(bytes);
    env[6]! ^= 1;
    assert.throws(() => parseFramedReplica(env, keys, SIG, content), bad('BadDigest'));
    assert.throws(() => parseFramedReplica(bytes, keys, 'cd'.repeat(32), content), bad('BadDigest'));
    assert.throws(() => parseFramedReplica(bytes.subarray(0, bytes.length - 10), keys, SIG, content), bad('IncompleteBody'));
    assert.throws(() => parseFramedReplica(Buffer.concat([bytes, Buffer.from('x')]), keys, SIG, content), bad('BadDigest'));
    assert.throws(() => parseFramedReplica(bytes.subarray(0, 4 + envelope.length + 3), keys, SIG, content), bad('IncompleteBody'));
    assert.throws(() => parseFramedReplica(bytes.subarray(0, 3), keys, SIG, content), bad('IncompleteBody'));
    assert.throws(() => parseFramedReplica(bytes, keys, SIG, 'sha256'), bad('InvalidRequest'));
  });
});
