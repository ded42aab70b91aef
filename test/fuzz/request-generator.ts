/**
 * Random and mutated HTTP requests for the live fuzz driver. Every request is deterministic from
 * (seed, index), so a failure found by a long run is replayed with the same seed.
 *
 * Two families: well-formed requests signed with SigV4 (S3, KMS, IAM, STS, admin endpoints) and then
 * mutated after signing (a header changed, added or dropped, the body flipped, the query or path
 * broken), and requests built from random parts. The HTTP framing itself is always complete
 * (Content-Length matches, chunked framing is closed), so every request deserves an answer; what is
 * hostile is everything inside it.
 */
import { createHash } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../../src/server/auth/test-support.js';

/** mulberry32: small, fast, seedable. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

export interface FuzzRequest {
  method: string;
  /** Request target as sent on the wire (path and query, already encoded or deliberately not). */
  target: string;
  headers: [string, string][];
  body: Buffer<ArrayBufferLike>;
  /** How the body is framed: Content-Length (default) or HTTP chunked transfer encoding. */
  framing: 'length' | 'chunked';
  /** What produced it, for the report. */
  label: string;
}

export interface Target {
  host: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** A versioned bucket that exists, with a few keys in it. */
  bucket: string;
  keys: string[];
  /** A KMS key id in us-east-1. */
  kmsKeyId: string;
}

const METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT', 'PROPFIND', 'G\u00e9T', ''];
const S3_SUBRESOURCES = ['acl', 'tagging', 'versioning', 'versions', 'uploads', 'delete', 'policy', 'replication', 'encryption', 'cors', 'lifecycle', 'location', 'attributes', 'publicAccessBlock', 'ownershipControls', 'list-type=2', 'restore', 'select', 'torrent', 'legal-hold', 'retention', 'partNumber=1', 'uploadId=x', 'versionId=null'];
const NASTY_STRINGS = ['', ' ', '\t', '%', '%zz', '%00', '%0d%0a', '\u0000', '\r\n', '..', '../..', '/', '//', '?', '#', '&', '=', ';', '\u00ff', '\u{1F600}', '\ud800', 'a'.repeat(1100), '-1', '0', '99999999999999999999', 'NaN', '1e308', 'null', 'true', '<', '>', '"', "'", '${jndi:x}', '*', '\\'];
const HEADER_NAMES = ['range', 'if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since', 'content-md5', 'content-type', 'content-encoding', 'content-language', 'content-disposition', 'cache-control', 'expires', 'expect', 'x-amz-content-sha256', 'x-amz-date', 'x-amz-security-token', 'x-amz-meta-a', 'x-amz-tagging', 'x-amz-storage-class', 'x-amz-server-side-encryption', 'x-amz-server-side-encryption-aws-kms-key-id', 'x-amz-server-side-encryption-context', 'x-amz-server-side-encryption-customer-algorithm', 'x-amz-server-side-encryption-customer-key', 'x-amz-server-side-encryption-customer-key-md5', 'x-amz-copy-source', 'x-amz-copy-source-range', 'x-amz-metadata-directive', 'x-amz-acl', 'x-amz-grant-read', 'x-amz-checksum-crc32', 'x-amz-checksum-sha256', 'x-amz-checksum-algorithm', 'x-amz-sdk-checksum-algorithm', 'x-amz-trailer', 'x-amz-decoded-content-length', 'x-amz-bucket-object-lock-enabled', 'x-amz-object-ownership', 'x-amz-expected-bucket-owner', 'x-amz-mfa', 'x-amz-bypass-governance-retention', 'x-amz-request-payer', 'x-amz-target', 'authorization', 'host', 'origin', 'access-control-request-method', 'transfer-encoding'];
const HEADER_VALUES = ['bytes=0-0', 'bytes=-1', 'bytes=5-2', 'bytes=0-', 'bytes=a-b', 'bytes=0-1,2-3', 'bytes=99999999999999999999-', '*', '"x"', 'W/"x"', 'Thu, 01 Jan 1970 00:00:00 GMT', 'not a date', '20991231T000000Z', 'UNSIGNED-PAYLOAD', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'aws-chunked', 'gzip', 'aws:kms', 'AES256', 'aws:kms:dsse', 'GLACIER', 'BOGUS', 'x-amz-checksum-crc32', '100-continue', 'AWS4-HMAC-SHA256 Credential=', 'AWS4-HMAC-SHA256 Credential=AKIA/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00', 'AWS AKIA:sig', 'Bearer x', ...NASTY_STRINGS];

/** encodeURIComponent that also takes lone surrogates (sent as the bytes a careless encoder would produce). */
function enc(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return encodeURIComponent(s.replace(/[\ud800-\udfff]/g, 'x')) + '%ED%A0%80';
  }
}

function rawPath(r: Rng, t: Target): string {
  const seg = () => enc(r.pick(NASTY_STRINGS)).slice(0, 200);
  switch (r.int(8)) {
    case 0:
      return '/';
    case 1:
      return `/${t.bucket}`;
    case 2:
      return `/${t.bucket}/${r.pick(t.keys)}`;
    case 3:
      return `/${t.bucket}/${seg()}`;
    case 4:
      return `/${seg()}/${seg()}`;
    case 5:
      return `/${t.bucket}/${r.pick(NASTY_STRINGS).replace(/[\s\r\n#?]/g, 'x')}`;
    case 6:
      return '/_meridian/' + r.pick(['metrics', 'replication/status', 'replication/events', 'explain', 'faults', 'test/clock', 'health', 'x', '../etc/passwd']);
    default:
      return '/_console/' + r.pick(['', 'index.html', '../package.json', '%2e%2e/%2e%2e/etc/passwd', 'assets/x.js']);
  }
}

function rawQuery(r: Rng): string {
  const n = r.int(4);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const choice = r.int(4);
    if (choice === 0) parts.push(r.pick(S3_SUBRESOURCES));
    else if (choice === 1) parts.push(`${r.pick(['max-keys', 'prefix', 'delimiter', 'marker', 'continuation-token', 'start-after', 'encoding-type', 'key-marker', 'version-id-marker', 'upload-id-marker', 'max-uploads', 'part-number-marker', 'max-parts', 'fetch-owner'])}=${enc(r.pick(NASTY_STRINGS)).slice(0, 300)}`);
    else if (choice === 2) parts.push(`response-${r.pick(['content-type', 'content-disposition', 'cache-control', 'expires', 'content-language', 'content-encoding'])}=${r.pick(['a%0Ab', 'a%0D%0Ab', 'text/plain', '%00', 'x'.repeat(3000), '%E9'])}`);
    else parts.push(`${r.pick(['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature', 'AWSAccessKeyId', 'Signature', 'Expires', 'x-id', 'Action', 'Version'])}=${enc(r.pick(HEADER_VALUES)).slice(0, 300)}`);
  }
  return parts.join('&');
}

function randomXml(r: Rng, t: Target): Buffer {
  const docs = [
    '<?xml version="1.0"?><CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&#34;x&#34;</ETag></Part></CompleteMultipartUpload>',
    '<Delete><Object><Key> </Key></Object><Object><Key>' + r.pick(t.keys) + '</Key><VersionId>null</VersionId></Object><Quiet>true</Quiet></Delete>',
    '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><Tagging><TagSet><Tag><Key>&b;</Key><Value>v</Value></Tag></TagSet></Tagging>',
    '<Tagging><TagSet>' + '<Tag><Key>k</Key><Value>v</Value></Tag>'.repeat(r.int(60)) + '</TagSet></Tagging>',
    '<VersioningConfiguration><Status>' + r.pick(['Enabled', 'Suspended', 'x', '']) + '</Status></VersioningConfiguration>',
    '<ReplicationConfiguration><Role>arn:aws:iam::000000000000:role/x</Role><Rule><Status>Enabled</Status><Destination><Bucket>arn:aws:s3:::x</Bucket></Destination></Rule></ReplicationConfiguration>',
    '<CreateBucketConfiguration><LocationConstraint>' + r.pick(['us-east-2', 'mars-1', '', 'EU']) + '</LocationConstraint></CreateBucketConfiguration>',
    '<a>' + '<b>'.repeat(2000) + '</b>'.repeat(2000) + '</a>',
    '<unclosed>',
    '\u0000\u0001<x/>',
    '<LifecycleConfiguration><Rule><Status>Enabled</Status><Expiration><Days>-1</Days></Expiration></Rule></LifecycleConfiguration>',
    '<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>',
  ];
  return Buffer.from(r.pick(docs));
}

function randomJson(r: Rng, t: Target): Buffer {
  const docs = [
    { KeyId: t.kmsKeyId, Plaintext: Buffer.from('hello').toString('base64') },
    { KeyId: t.kmsKeyId, KeySpec: r.pick(['AES_256', 'AES_128', 'X']), EncryptionContext: { a: r.pick(NASTY_STRINGS) } },
    { CiphertextBlob: r.bytes(r.int(200)).toString('base64') },
    { KeyId: r.pick(NASTY_STRINGS) },
    { Policy: '{"Version":"2012-10-17","Statement":' + r.pick(['[]', '{}', '"x"', '[{"Effect":"Allow"}]']) + '}', KeyId: t.kmsKeyId, PolicyName: 'default' },
    { Limit: r.pick([0, -1, 1e9, 'x', null]) },
  ];
  if (r.chance(0.2)) return Buffer.from('{"a":' + '['.repeat(5000));
  return Buffer.from(JSON.stringify(r.pick(docs)));
}

function randomForm(r: Rng): Buffer {
  const action = r.pick(['CreateRole', 'GetRole', 'PutRolePolicy', 'AssumeRole', 'GetCallerIdentity', 'CreateUser', 'ListRoles', 'SimulatePrincipalPolicy', 'Bogus', '']);
  const params = [`Action=${action}`, 'Version=2011-06-15'];
  for (let i = 0; i < r.int(4); i++) params.push(`${r.pick(['RoleName', 'RoleArn', 'RoleSessionName', 'DurationSeconds', 'PolicyDocument', 'AssumeRolePolicyDocument', 'Policy', 'MaxItems', 'Marker'])}=${enc(r.pick(NASTY_STRINGS))}`);
  return Buffer.from(params.join('&'));
}

/** An aws-chunked body: valid, or broken in one of the ways a decoder must survive. */
function awsChunked(r: Rng, payload: Buffer): Buffer<ArrayBufferLike> {
  const sig = 'a'.repeat(64);
  const chunk = (b: Buffer) => Buffer.concat([Buffer.from(`${b.length.toString(16)};chunk-signature=${sig}\r\n`), b, Buffer.from('\r\n')]);
  const valid = Buffer.concat([chunk(payload), chunk(Buffer.alloc(0))]);
  switch (r.int(6)) {
    case 0:
      return valid;
    case 1:
      return valid.subarray(0, r.int(valid.length));
    case 2:
      return Buffer.from(`zz;chunk-signature=${sig}\r\n`);
    case 3:
      return Buffer.from(`ffffffffffffffff;chunk-signature=${sig}\r\nabc\r\n`);
    case 4:
      return Buffer.concat([Buffer.from(`${payload.length.toString(16)}\r\n`), payload, Buffer.from('\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n')]);
    default:
      return r.bytes(r.int(300));
  }
}

interface Signable {
  service: string;
  region: string;
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: Buffer<ArrayBufferLike>;
}

async function sign(t: Target, s: Signable): Promise<FuzzRequest> {
  const headers: Record<string, string> = { host: t.host, ...s.headers };
  if (s.service === 's3' && !headers['x-amz-content-sha256']) headers['x-amz-content-sha256'] = createHash('sha256').update(s.body).digest('hex');
  const signer = new SignatureV4({ service: s.service, region: s.region, credentials: { accessKeyId: t.accessKeyId, secretAccessKey: t.secretAccessKey }, sha256: NodeSha256, uriEscapePath: s.service !== 's3' });
  const [hostname, port] = t.host.split(':');
  const signed = await signer.sign({ method: s.method, protocol: 'http:', hostname: hostname!, port: Number(port), path: s.path, query: s.query, headers, body: s.body });
  const q = Object.entries(s.query)
    .map(([k, v]) => (v === '' ? encodeURIComponent(k) : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`))
    .join('&');
  return { method: s.method, target: q ? `${s.path}?${q}` : s.path, headers: Object.entries(signed.headers as Record<string, string>), body: s.body, framing: 'length', label: `signed ${s.service} ${s.method}` };
}

/** A well-formed signed request of one of the services' common operations. */
async function validRequest(r: Rng, t: Target): Promise<FuzzRequest> {
  const key = r.chance(0.5) ? r.pick(t.keys) : `fuzz/${r.int(50)}`;
  const objectPath = `/${t.bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}`;
  const small = r.bytes(r.pick([0, 1, 100, 5000, 70_000]));
  const s3 = (method: string, path: string, query: Record<string, string> = {}, headers: Record<string, string> = {}, body: Buffer<ArrayBufferLike> = Buffer.alloc(0)): Signable => ({ service: 's3', region: 'us-east-1', method, path, query, headers, body });
  const choices: (() => Signable)[] = [
    () => s3('PUT', objectPath, {}, { 'content-type': 'application/octet-stream' }, small),
    () => s3('PUT', objectPath, {}, { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': t.kmsKeyId }, small),
    () => s3('PUT', objectPath, {}, { 'if-none-match': '*' }, small),
    () => s3('GET', objectPath),
    () => s3('GET', objectPath, {}, { range: r.pick(HEADER_VALUES.slice(0, 7)) }),
    () => s3('HEAD', objectPath),
    () => s3('DELETE', objectPath),
    () => s3('GET', `/${t.bucket}`, { 'list-type': '2', prefix: r.pick(['', 'fuzz/', 'k']), 'max-keys': String(r.int(5)) }),
    () => s3('GET', `/${t.bucket}`, { versions: '' }),
    () => s3('POST', `/${t.bucket}`, { delete: '' }, { 'content-md5': '' }, randomXml(r, t)),
    () => s3('POST', objectPath, { uploads: '' }),
    () => s3('PUT', objectPath, { partNumber: String(r.int(3)), uploadId: 'nope' }, {}, small),
    () => s3('POST', objectPath, { uploadId: 'nope' }, {}, randomXml(r, t)),
    () => s3('PUT', objectPath, { tagging: '' }, {}, randomXml(r, t)),
    () => s3('PUT', `/${t.bucket}`, { [r.pick(['versioning', 'lifecycle', 'cors', 'replication', 'tagging', 'encryption'])]: '' }, {}, randomXml(r, t)),
    () => s3('PUT', objectPath, {}, { 'x-amz-copy-source': `/${t.bucket}/${r.pick(t.keys)}` }),
    () => s3('PUT', objectPath, {}, { 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(small.length) }, awsChunked(r, small)),
    () => s3('PUT', objectPath, {}, { 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'content-encoding': 'aws-chunked', 'x-amz-trailer': 'x-amz-checksum-crc32', 'x-amz-decoded-content-length': String(small.length) }, awsChunked(r, small)),
    () => ({ service: 'kms', region: 'us-east-1', method: 'POST', path: '/', query: {}, headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `TrentService.${r.pick(['Encrypt', 'Decrypt', 'GenerateDataKey', 'DescribeKey', 'ListKeys', 'PutKeyPolicy', 'CreateAlias', 'Bogus'])}` }, body: randomJson(r, t) }),
    () => ({ service: 'iam', region: 'us-east-1', method: 'POST', path: '/', query: {}, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: randomForm(r) }),
    () => ({ service: 'sts', region: 'us-east-1', method: 'POST', path: '/', query: {}, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: randomForm(r) }),
    () => s3('GET', '/_meridian/' + r.pick(['metrics', 'replication/status', 'explain']), r.chance(0.5) ? { bucket: t.bucket } : {}),
  ];
  return sign(t, r.pick(choices)());
}

function setHeader(req: FuzzRequest, name: string, value: string): void {
  req.headers = req.headers.filter(([n]) => n.toLowerCase() !== name);
  req.headers.push([name, value]);
}

/** One mutation applied after signing: the server must refuse or accept it, never break. */
function mutate(r: Rng, req: FuzzRequest): void {
  switch (r.int(11)) {
    case 0: {
      if (req.headers.length) req.headers.splice(r.int(req.headers.length), 1);
      req.label += ' drop-header';
      return;
    }
    case 1:
      setHeader(req, r.pick(HEADER_NAMES), r.pick(HEADER_VALUES));
      req.label += ' set-header';
      return;
    case 2:
      if (req.body.length) req.body = Buffer.concat([req.body.subarray(0, req.body.length - 1), Buffer.from([req.body[req.body.length - 1]! ^ 1])]);
      req.label += ' flip-body';
      return;
    case 3:
      req.body = r.bytes(r.int(2000));
      req.label += ' random-body';
      return;
    case 4:
      req.target += (req.target.includes('?') ? '&' : '?') + rawQuery(r);
      req.label += ' add-query';
      return;
    case 5:
      req.method = r.pick(METHODS.slice(0, 7));
      req.label += ' method';
      return;
    case 6:
      req.framing = 'chunked';
      req.label += ' chunked';
      return;
    case 7:
      setHeader(req, `x-amz-meta-${r.int(10)}`, r.pick(['value', 'caf\u00e9', '\u00ff']));
      req.label += ' unsigned-meta';
      return;
    case 8:
      req.headers.push(['x-amz-date', r.pick(['20000101T000000Z', 'garbage'])]);
      req.label += ' second-date';
      return;
    case 9:
      req.target = req.target.replace(/\/[^/?]*$/, '/' + enc(r.pick(NASTY_STRINGS)).slice(0, 100));
      req.label += ' path';
      return;
    default:
      req.label += ' unchanged';
  }
}

/** A request from random parts: method, path, query, headers, body. */
function randomRequest(r: Rng, t: Target): FuzzRequest {
  const headers: [string, string][] = [['host', t.host]];
  for (let i = 0; i < r.int(8); i++) headers.push([r.pick(HEADER_NAMES), r.pick(HEADER_VALUES)]);
  const q = rawQuery(r);
  let method = r.pick(METHODS);
  if (!/^[A-Z]+$/.test(method)) method = 'GET';
  const body = r.pick([Buffer.alloc(0), r.bytes(r.int(500)), randomXml(r, t), randomJson(r, t), randomForm(r), awsChunked(r, r.bytes(100))]);
  return {
    method,
    target: rawPath(r, t) + (q ? `?${q}` : ''),
    headers: headers.filter(([n]) => n !== 'transfer-encoding' && n !== 'host').concat([['host', t.host]]),
    body,
    framing: r.chance(0.15) ? 'chunked' : 'length',
    label: 'random',
  };
}

export async function generate(seed: number, index: number, t: Target): Promise<FuzzRequest> {
  const r = new Rng((seed * 0x9e3779b1 + index) >>> 0);
  const kind = r.int(10);
  if (kind < 3) return randomRequest(r, t);
  const req = await validRequest(r, t);
  if (kind < 9) mutate(r, req);
  if (r.chance(0.2)) mutate(r, req);
  return req;
}

/** The bytes of a request on the wire, with framing added by us (never by the header list). */
export function serialize(req: FuzzRequest, keepAlive: boolean): Buffer {
  const lines = [`${req.method} ${req.target} HTTP/1.1`];
  const skip = new Set(['content-length', 'transfer-encoding', 'connection']);
  for (const [n, v] of req.headers) {
    // A header value cannot carry CR/LF on the wire; keep the rest of its bytes.
    if (!skip.has(n.toLowerCase())) lines.push(`${n}: ${v.replace(/[\r\n]/g, ' ')}`);
  }
  lines.push(`connection: ${keepAlive ? 'keep-alive' : 'close'}`);
  if (req.framing === 'chunked') {
    lines.push('transfer-encoding: chunked');
    const chunks = req.body.length ? [Buffer.from(`${req.body.length.toString(16)}\r\n`), req.body, Buffer.from('\r\n')] : [];
    return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), ...chunks, Buffer.from('0\r\n\r\n')]);
  }
  lines.push(`content-length: ${req.body.length}`);
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), req.body]);
}
