/**
 * Durability proof (design.md "Storage and durability"): a PUT is acknowledged only after its blob
 * and its metadata are durable. Four writers stream PUTs (1 KiB..300 KiB, so both inline and file
 * blobs are used; Buffer bodies and aws-chunked stream bodies; SSE-S3 and SSE-KMS) into an
 * unversioned and a versioned bucket; the server is SIGKILLed at a random moment while PUTs are in
 * flight and restarted on the same data directory with the same root keys. Every acknowledged
 * object (and every acknowledged version id) must then be readable with exactly its bytes and be
 * listed; every object the listing shows, acknowledged or not, must be whole. Two kill rounds, so
 * recovery of an already recovered data directory is covered too. Once with one process, once with
 * two workers (MERIDIAN_WORKERS=2), where the SIGKILL takes the primary and both workers at once.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHash, randomInt } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import {
  CreateBucketCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  S3Client,
} from '@aws-sdk/client-s3';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { kmsClient, s3Client } from '../support/clients.js';
import { bytes } from './helpers.js';

const PLAIN = 'crash-plain';
const VERSIONED = 'crash-versioned';
const KiB = 1024;

let dataDir: string | undefined;
let current: MeridianProcess | undefined;

after(async () => {
  await current?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function cleanUp(): Promise<void> {
  await current?.stop();
  current = undefined;
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
}

/** A body derived from its label alone: 1 KiB..300 KiB of AES-CTR keystream keyed by the label's hash. */
function bodyFor(label: string): Buffer {
  const h = createHash('sha256').update(label).digest();
  const size = KiB + (h.readUInt32BE(0) % (300 * KiB - KiB));
  const cipher = createCipheriv('aes-256-ctr', h, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}

interface Acked {
  bucket: string;
  key: string;
  label: string;
  versionId?: string;
}

/** Run four writers until the server dies; returns what the server acknowledged (HTTP 200 received). */
async function writeUntilKilled(m: MeridianProcess, round: number, kmsKeyArn: string): Promise<Acked[]> {
  // Quiet: the SDK warns about every stream upload cut short by the kill, which is the point here.
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
  const s3 = new S3Client({ endpoint: m.httpEndpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey }, maxAttempts: 1, logger: quiet });
  const acked: Acked[] = [];
  let dead = false;

  async function writer(w: number): Promise<void> {
    for (let seq = 0; !dead; seq++) {
      const versioned = w >= 2;
      const bucket = versioned ? VERSIONED : PLAIN;
      const key = versioned ? `v/key-${seq % 8}` : `u/r${round}/w${w}/${String(seq).padStart(5, '0')}`;
      const label = versioned ? `${key}#r${round}w${w}s${seq}` : key;
      const body = bodyFor(label);
      const input: PutObjectCommandInput = {
        Bucket: bucket,
        Key: key,
        // A stream body makes SDK v3 send aws-chunked with a CRC32 trailer.
        Body: seq % 3 === 0 ? Readable.from([body.subarray(0, 1000), body.subarray(1000)]) : body,
        ContentLength: body.length,
        Metadata: { label },
      };
      if (seq % 4 === 1) Object.assign(input, { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: kmsKeyArn });
      try {
        const out = await s3.send(new PutObjectCommand(input));
        assert.equal(out.$metadata.httpStatusCode, 200);
        const a: Acked = { bucket, key, label };
        if (versioned) a.versionId = out.VersionId!;
        acked.push(a);
      } catch (e) {
        if (dead) return; // in flight when the server died: not acknowledged
        throw e;
      }
    }
  }

  const writers = [0, 1, 2, 3].map(writer);
  // Let a good number of PUTs complete, then kill at a random moment while four are in flight.
  const minimum = 20 + randomInt(40);
  while (acked.length < minimum) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, randomInt(300)));
  dead = true;
  await m.kill();
  await Promise.all(writers);
  return acked;
}

async function listAll(s3: S3Client, bucket: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ...(token ? { ContinuationToken: token } : {}) }));
    keys.push(...(out.Contents ?? []).map((c) => c.Key!));
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

async function listAllVersions(s3: S3Client, bucket: string): Promise<{ key: string; versionId: string; latest: boolean }[]> {
  const versions: { key: string; versionId: string; latest: boolean }[] = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const out = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, ...(keyMarker ? { KeyMarker: keyMarker, VersionIdMarker: versionIdMarker } : {}) }));
    versions.push(...(out.Versions ?? []).map((v) => ({ key: v.Key!, versionId: v.VersionId!, latest: v.IsLatest! })));
    assert.equal(out.DeleteMarkers, undefined, 'nothing was deleted');
    if (!out.IsTruncated) return versions;
    keyMarker = out.NextKeyMarker;
    versionIdMarker = out.NextVersionIdMarker;
  }
}

/** Read an object (or version) and check it is whole: its bytes are exactly those of its label. */
async function readWhole(s3: S3Client, bucket: string, key: string, versionId?: string): Promise<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }));
  const label = out.Metadata?.label;
  assert.ok(label, `${bucket}/${key} ${versionId ?? ''} has its metadata`);
  const data = await bytes(out.Body);
  assert.ok(data.equals(bodyFor(label)), `${bucket}/${key} ${versionId ?? ''} (${label}) has exactly its bytes`);
  return label;
}

async function verify(m: MeridianProcess, acked: Acked[]): Promise<void> {
  const s3 = s3Client(m);
  assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: VERSIONED }))).Status, 'Enabled');

  // Unversioned: every acknowledged key is listed and whole; every listed key is whole.
  const listed = new Set(await listAll(s3, PLAIN));
  const ackedPlain = acked.filter((a) => a.bucket === PLAIN);
  for (const a of ackedPlain) assert.ok(listed.has(a.key), `acknowledged ${a.key} is listed`);
  for (const key of listed) assert.equal(await readWhole(s3, PLAIN, key), key);

  // Versioned: every acknowledged version id is listed under its key and reads back as what was acknowledged.
  const versions = await listAllVersions(s3, VERSIONED);
  const byId = new Map(versions.map((v) => [v.versionId, v]));
  const ackedVersions = acked.filter((a) => a.bucket === VERSIONED);
  for (const a of ackedVersions) {
    assert.equal(byId.get(a.versionId!)?.key, a.key, `acknowledged version ${a.versionId} of ${a.key} is listed`);
  }
  const labels = new Map<string, string>();
  for (const v of versions) labels.set(v.versionId, await readWhole(s3, VERSIONED, v.key, v.versionId));
  for (const a of ackedVersions) assert.equal(labels.get(a.versionId!), a.label);
  // The current version of each key is the one the listing marks latest.
  for (const v of versions.filter((x) => x.latest)) assert.equal(await readWhole(s3, VERSIONED, v.key), labels.get(v.versionId));
}

for (const workers of [1, 2]) {
  test(`every acknowledged PUT survives SIGKILL, byte for byte, in unversioned and versioned buckets (${workers === 1 ? 'one process' : `${workers} workers, the whole group killed`})`, async () => {
    await cleanUp();
    const env = { MERIDIAN_WORKERS: String(workers) };
    const first = await startMeridianProcess({ env });
    current = first;
    dataDir = first.dataDir;
    const roots = { dataDir, accessKeyId: first.accessKeyId, secretAccessKey: first.secretAccessKey, env };
    const s3 = s3Client(first);
    await s3.send(new CreateBucketCommand({ Bucket: PLAIN }));
    await s3.send(new CreateBucketCommand({ Bucket: VERSIONED }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: VERSIONED, VersioningConfiguration: { Status: 'Enabled' } }));
    const kmsKeyArn = (await kmsClient(first).send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;

    const acked: Acked[] = [];
    let server = first;
    for (let round = 1; round <= 2; round++) {
      acked.push(...(await writeUntilKilled(server, round, kmsKeyArn)));
      server = await startMeridianProcess(roots);
      current = server;
      await verify(server, acked);
    }
    assert.ok(acked.some((a) => a.bucket === PLAIN) && acked.some((a) => a.bucket === VERSIONED));
    // Both storage paths were exercised: small objects inline in the database, large ones as blob files.
    const sizes = acked.map((a) => bodyFor(a.label).length);
    assert.ok(sizes.some((n) => n < 100 * KiB) && sizes.some((n) => n > 150 * KiB));
    const blobFiles = readdirSync(join(dataDir, 'us-east-1', 'blobs'), { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
    assert.ok(blobFiles.length > 0, 'large objects live in blob files');

    // The recovered server keeps working.
    const after = s3Client(server);
    await after.send(new PutObjectCommand({ Bucket: PLAIN, Key: 'after-recovery', Body: 'ok' }));
    assert.equal(await (await after.send(new GetObjectCommand({ Bucket: PLAIN, Key: 'after-recovery' }))).Body!.transformToString(), 'ok');
  });
}
