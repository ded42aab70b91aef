/**
 * End to end with the real SDK v3 clients (reference §5.12): a node:http server that authenticates
 * with readCredentialScope → verifySignature → createPayloadVerifier, the way the lead's server will.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { KMSClient, ListKeysCommand } from '@aws-sdk/client-kms';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { isServiceError } from '../../common/errors.js';
import { computeChecksum } from '../../crypto/checksums.js';
import { createPayloadVerifier, type PayloadResult } from './payload.js';
import { readCredentialScope, verifySignature, type SigningRequest, type VerifiedSignature } from './sigv4.js';
import { lookupFor } from './test-support.js';

const KEYS = {
  AKIAMERIDIANTEST0001: { secretAccessKey: 'meridian-secret-0001' },
  ASIAMERIDIANTEST0002: { secretAccessKey: 'meridian-secret-0002', sessionToken: 'FwoGZXIvYXdzEJr//////////wEaDNOTREALTOKEN+/=' },
};
const lookup = lookupFor(KEYS);

interface Seen {
  sig: VerifiedSignature;
  headers: IncomingMessage['headers'];
  payload?: PayloadResult;
}
const seen: Seen[] = [];
const objects = new Map<string, Buffer>();
let server: Server;
let endpoint: string;

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of req) parts.push(p as Buffer);
  return Buffer.concat(parts);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const sreq: SigningRequest = {
    method: req.method ?? 'GET',
    rawPath: q < 0 ? url : url.slice(0, q),
    rawQuery: q < 0 ? '' : url.slice(q + 1),
    headers: req.headers,
  };
  const scope = readCredentialScope(sreq);
  if (scope && scope.service !== 's3') {
    const body = await readAll(req);
    const sig = await verifySignature(sreq, { lookup, now: Date.now(), s3: false, bodySha256: createHash('sha256').update(body).digest('hex') });
    seen.push({ sig, headers: req.headers });
    if (scope.service === 'kms') {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end('{"Keys":[],"Truncated":false}');
    } else {
      res.writeHead(200, { 'content-type': 'text/xml' }).end(
        '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>' +
          `<Arn>arn:aws:iam::123456789012:user/${sig.accessKeyId}</Arn><UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account>` +
          '</GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>',
      );
    }
    return;
  }
  if (!scope) throw new Error('test server expects signed requests');
  const sig = await verifySignature(sreq, { lookup, now: Date.now(), s3: true });
  const v = createPayloadVerifier(sig, req.headers);
  const parts: Buffer[] = [];
  await pipeline(req, v.stream, new Writable({ write: (c: Buffer, _e, cb) => (parts.push(c), cb()) }));
  const payload = v.result();
  seen.push({ sig, headers: req.headers, payload });
  const path = decodeURIComponent(sreq.rawPath);
  if (req.method === 'PUT') {
    objects.set(path, Buffer.concat(parts));
    const echo = payload.checksum ? { [`x-amz-checksum-${payload.checksum.algorithm.toLowerCase()}`]: payload.checksum.value } : {};
    res.writeHead(200, { etag: `"${payload.md5}"`, ...echo }).end();
  } else if (req.method === 'GET' && sreq.rawQuery.includes('list-type=2')) {
    res.writeHead(200, { 'content-type': 'application/xml' }).end('<ListBucketResult><Name>bkt</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>');
  } else if (req.method === 'GET') {
    const body = objects.get(path) ?? Buffer.alloc(0);
    res.writeHead(200, { 'content-length': body.length, etag: '"x"' }).end(body);
  } else {
    res.writeHead(200, { 'content-type': 'application/xml' }).end('<DeleteResult></DeleteResult>');
  }
}

function sendError(res: ServerResponse, e: unknown): void {
  if (!isServiceError(e)) {
    res.writeHead(500).end(String(e));
    return;
  }
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const fields = Object.entries(e.fields).map(([k, v]) => `<${k}>${esc(v)}</${k}>`).join('');
  res
    .writeHead(e.status, { 'content-type': 'application/xml', connection: 'close' })
    .end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${e.code}</Code><Message>${esc(e.message)}</Message>${fields}</Error>`);
}

before(async () => {
  server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      req.resume();
      sendError(res, e);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

function s3(accessKeyId: keyof typeof KEYS = 'AKIAMERIDIANTEST0001', secret?: string): S3Client {
  const k = KEYS[accessKeyId] as { secretAccessKey: string; sessionToken?: string };
  return new S3Client({
    endpoint,
    region: 'eu-west-1',
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId, secretAccessKey: secret ?? k.secretAccessKey, ...(k.sessionToken ? { sessionToken: k.sessionToken } : {}) },
  });
}

const KEY = 'a b+c/./ü~!*()\'$&=;,.txt';

test('PutObject with a Buffer body: header CRC32 + hex SHA-256, awkward key', async () => {
  const body = Buffer.from('x'.repeat(1000));
  const out = await s3().send(new PutObjectCommand({ Bucket: 'bkt', Key: KEY, Body: body }));
  assert.equal(out.ETag, `"${createHash('md5').update(body).digest('hex')}"`);
  const last = seen.at(-1)!;
  assert.match(last.sig.payloadHash, /^[0-9a-f]{64}$/);
  assert.deepEqual(last.payload!.checksum, { algorithm: 'CRC32', value: computeChecksum('CRC32', body) });
  assert.ok(objects.get(`/bkt/${KEY}`)!.equals(body));
});

for (const ChecksumAlgorithm of ['CRC32', 'CRC32C', 'SHA1', 'SHA256', 'CRC64NVME'] as const) {
  test(`PutObject with a stream body: aws-chunked STREAMING-UNSIGNED-PAYLOAD-TRAILER with a ${ChecksumAlgorithm} trailer`, async () => {
    const chunks = [Buffer.alloc(70_000, 1), Buffer.alloc(3, 2), Buffer.alloc(100_000, 3)];
    const total = Buffer.concat(chunks);
    await s3().send(
      new PutObjectCommand({ Bucket: 'bkt', Key: `stream-${ChecksumAlgorithm}`, Body: Readable.from(chunks), ContentLength: total.length, ChecksumAlgorithm }),
    );
    const last = seen.at(-1)!;
    assert.equal(last.sig.payloadHash, 'STREAMING-UNSIGNED-PAYLOAD-TRAILER');
    assert.equal(last.headers['content-encoding'], 'aws-chunked');
    assert.equal(last.payload!.decodedLength, total.length);
    assert.deepEqual(last.payload!.checksum, { algorithm: ChecksumAlgorithm, value: computeChecksum(ChecksumAlgorithm, total) });
    assert.ok(objects.get(`/bkt/stream-${ChecksumAlgorithm}`)!.equals(total));
  });
}

test('GetObject (x-id query, checksum mode), ListObjectsV2 (encoded prefix) and DeleteObjects (?delete=) verify', async () => {
  const got = await s3().send(new GetObjectCommand({ Bucket: 'bkt', Key: KEY }));
  assert.equal((await got.Body!.transformToString()).length, 1000);
  await s3().send(new ListObjectsV2Command({ Bucket: 'bkt', Prefix: 'a b+c/ü*', StartAfter: '~x' }));
  await s3().send(new DeleteObjectsCommand({ Bucket: 'bkt', Delete: { Objects: [{ Key: 'k1' }, { Key: KEY }] } }));
  assert.equal(seen.at(-1)!.payload!.checksum?.algorithm, 'CRC32');
});

test('temporary credentials carry their session token', async () => {
  await s3('ASIAMERIDIANTEST0002').send(new PutObjectCommand({ Bucket: 'bkt', Key: 'tmp', Body: 'temp' }));
  assert.equal(seen.at(-1)!.sig.sessionToken, KEYS.ASIAMERIDIANTEST0002.sessionToken);
});

test('a wrong secret surfaces as SignatureDoesNotMatch in the SDK; an unknown key as InvalidAccessKeyId', async () => {
  await assert.rejects(s3('AKIAMERIDIANTEST0001', 'wrong').send(new PutObjectCommand({ Bucket: 'bkt', Key: 'k', Body: 'x' })), {
    name: 'SignatureDoesNotMatch',
  });
  const stranger = new S3Client({ endpoint, region: 'eu-west-1', forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId: 'AKIANOBODY', secretAccessKey: 'x' } });
  await assert.rejects(stranger.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'k' })), { name: 'InvalidAccessKeyId' });
});

test('KMS (JSON) and STS (Query) requests verify with the server-computed body hash', async () => {
  const creds = { accessKeyId: 'AKIAMERIDIANTEST0001', secretAccessKey: KEYS.AKIAMERIDIANTEST0001.secretAccessKey };
  const kms = new KMSClient({ endpoint, region: 'ap-southeast-2', credentials: creds, maxAttempts: 1 });
  assert.deepEqual((await kms.send(new ListKeysCommand({ Limit: 10 }))).Keys, []);
  assert.equal(seen.at(-1)!.sig.service, 'kms');
  assert.equal(seen.at(-1)!.sig.region, 'ap-southeast-2');
  const sts = new STSClient({ endpoint, region: 'us-east-2', credentials: creds, maxAttempts: 1 });
  const id = await sts.send(new GetCallerIdentityCommand({}));
  assert.equal(id.Arn, 'arn:aws:iam::123456789012:user/AKIAMERIDIANTEST0001');
  assert.equal(seen.at(-1)!.sig.service, 'sts');
});
