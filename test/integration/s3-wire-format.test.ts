/**
 * S3's XML wire format as real clients write it, sent as raw requests: Go's encoding/xml (rclone,
 * Terraform, the AWS SDK for Go, minio-go) writes quotes as numeric character references
 * (`&#34;`), pretty-printers indent, keys and tag values may start or end with spaces, grantees carry
 * `xsi:type`. And what S3 refuses: documents that are not well-formed, DOCTYPEs and entity declarations.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeletePublicAccessBlockCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { s3Client } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { bucketName, bytes } from './helpers.js';
import { signedFetch } from './signed-fetch.js';

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
let m: MeridianProcess;
let s3: S3Client;

before(async () => {
  m = await startMeridianProcess();
  s3 = s3Client(m);
});
after(async () => {
  await m?.stop();
});

async function newBucket(): Promise<string> {
  const b = bucketName('wire');
  await s3.send(new CreateBucketCommand({ Bucket: b }));
  return b;
}

/** What Go's encoding/xml does to a string: `"` → `&#34;`, `'` → `&#39;`, and the usual three. */
function goEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;');
}

async function twoPartUpload(bucket: string, key: string): Promise<{ uploadId: string; etags: string[]; data: Buffer }> {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const p1 = Buffer.alloc(5 * 1024 * 1024, 'a');
  const p2 = Buffer.from('tail of the object');
  const etags: string[] = [];
  for (const [i, body] of [p1, p2].entries()) {
    const out = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body: body }));
    etags.push(out.ETag!);
  }
  return { uploadId: UploadId!, etags, data: Buffer.concat([p1, p2]) };
}

describe('XML request bodies as Go clients write them', () => {
  test('CompleteMultipartUpload with ETag quotes as &#34; (rclone, Terraform, SDK for Go) completes', async () => {
    const b = await newBucket();
    const { uploadId, etags, data } = await twoPartUpload(b, 'go/object');
    const body =
      `<CompleteMultipartUpload xmlns="${NS}">` +
      etags.map((e, i) => `<Part><ETag>${goEscape(e)}</ETag><PartNumber>${i + 1}</PartNumber></Part>`).join('') +
      '</CompleteMultipartUpload>';
    assert.match(body, /&#34;/);
    const res = await signedFetch(m, 'POST', `/${b}/go/object`, { query: `uploadId=${uploadId}`, body });
    assert.equal(res.status, 200, res.text);
    assert.match(res.text, /<CompleteMultipartUploadResult/);
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'go/object' }));
    assert.ok((await bytes(got.Body)).equals(data));
  });

  test('hexadecimal character references (&#x22;) and an indented document complete too', async () => {
    const b = await newBucket();
    const { uploadId, etags } = await twoPartUpload(b, 'hex');
    const body =
      `<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUpload xmlns="${NS}">\n` +
      etags.map((e, i) => `  <Part>\n    <ETag>${e.replace(/"/g, '&#x22;')}</ETag>\n    <PartNumber>${i + 1}</PartNumber>\n  </Part>\n`).join('') +
      '</CompleteMultipartUpload>\n';
    const res = await signedFetch(m, 'POST', `/${b}/hex`, { query: `uploadId=${uploadId}`, body });
    assert.equal(res.status, 200, res.text);
  });

  test('DeleteObjects deletes keys that are or contain only spaces, character references decoded', async () => {
    const b = await newBucket();
    const keys = [' ', '  two leading', 'trailing  ', 'quote"d & <angled>', 'é'];
    for (const k of keys) await s3.send(new PutObjectCommand({ Bucket: b, Key: k, Body: 'x' }));
    const body =
      `<Delete xmlns="${NS}">\n  <Quiet>false</Quiet>\n` +
      keys.map((k) => `  <Object>\n    <Key>${goEscape(k).replace('é', '&#233;')}</Key>\n  </Object>\n`).join('') +
      '</Delete>';
    const res = await signedFetch(m, 'POST', `/${b}`, { query: 'delete', body, contentMd5: true });
    assert.equal(res.status, 200, res.text);
    assert.doesNotMatch(res.text, /<Error>/);
    const left = await s3.send(new ListObjectsV2Command({ Bucket: b }));
    assert.equal(left.KeyCount, 0, `left: ${JSON.stringify(left.Contents?.map((c) => c.Key))}`);
  });

  test('tag keys and values keep their spaces and decoded references', async () => {
    const b = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' }));
    const body = `<Tagging xmlns="${NS}"><TagSet><Tag><Key> padded key </Key><Value>  two  spaces &#64;at &#x2B; </Value></Tag></TagSet></Tagging>`;
    const res = await signedFetch(m, 'PUT', `/${b}/k`, { query: 'tagging', body, contentMd5: true });
    assert.equal(res.status, 200, res.text);
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: b, Key: 'k' }));
    assert.deepEqual(tags.TagSet, [{ Key: ' padded key ', Value: '  two  spaces @at + ' }]);

    const bucketBody = `<Tagging xmlns="${NS}">\n  <TagSet>\n    <Tag>\n      <Key>team</Key>\n      <Value> storage </Value>\n    </Tag>\n  </TagSet>\n</Tagging>`;
    const put = await signedFetch(m, 'PUT', `/${b}`, { query: 'tagging', body: bucketBody, contentMd5: true });
    assert.equal(put.status, 204, put.text);
    const bucketTags = await s3.send(new GetBucketTaggingCommand({ Bucket: b }));
    assert.deepEqual(bucketTags.TagSet, [{ Key: 'team', Value: ' storage ' }]);
  });

  test('typed values (numbers, booleans, enumerations) may be padded, as XML Schema collapses them', async () => {
    const b = await newBucket();
    const res = await signedFetch(m, 'PUT', `/${b}`, { query: 'versioning', body: `<VersioningConfiguration xmlns="${NS}"><Status>\n  Enabled\n</Status></VersioningConfiguration>`, contentMd5: true });
    assert.equal(res.status, 200, res.text);
    const got = await signedFetch(m, 'GET', `/${b}`, { query: 'versioning' });
    assert.match(got.text, /<Status>Enabled<\/Status>/);
  });
});

describe('XML S3 refuses', () => {
  const refused = async (body: string) => {
    const b = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' }));
    const res = await signedFetch(m, 'POST', `/${b}`, { query: 'delete', body, contentMd5: true });
    assert.equal(res.status, 400, res.text);
    assert.match(res.text, /<Code>MalformedXML<\/Code>/);
    // Nothing was deleted.
    const left = await s3.send(new ListObjectsV2Command({ Bucket: b }));
    assert.equal(left.KeyCount, 1);
  };

  test('a DOCTYPE declaring entities (the expansion attack) is MalformedXML, nothing expanded', async () => {
    const lol = '<!ENTITY a "kkkkkkkkkk"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">';
    await refused(`<?xml version="1.0"?><!DOCTYPE Delete [${lol}]><Delete><Object><Key>&c;</Key></Object></Delete>`);
  });

  test('an entity declared to stand for a key is not honoured either', async () => {
    await refused(`<!DOCTYPE Delete [<!ENTITY key "k">]><Delete><Object><Key>&key;</Key></Object></Delete>`);
  });

  test('a document that is not well-formed is MalformedXML', async () => {
    await refused(`<Delete><Object><Key>k</Object></Key></Delete>`);
    await refused(`<Delete><Object><Key>k</Key></Object>`);
    await refused(`<Delete><Object><Key>k</Key></Object></Delete><Delete/>`);
  });

  test('stray text between elements is MalformedXML', async () => {
    await refused(`<Delete>stray<Object><Key>k</Key></Object></Delete>`);
  });
});

describe('ACL documents with xsi:type', () => {
  test('an AccessControlPolicy as s3cmd writes it is accepted and read back with xsi:type on each grantee', async () => {
    const b = bucketName('wireacl');
    await s3.send(new CreateBucketCommand({ Bucket: b, ObjectOwnership: 'ObjectWriter' }));
    // New buckets block public ACLs (AWS's default since 2023); this one grants AllUsers READ.
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: b }));
    const acl = await signedFetch(m, 'GET', `/${b}`, { query: 'acl' });
    assert.equal(acl.status, 200);
    const owner = /<Owner><ID>([0-9a-f]+)<\/ID>/.exec(acl.text)![1]!;
    assert.match(acl.text, /<Grantee xmlns:xsi="http:\/\/www\.w3\.org\/2001\/XMLSchema-instance" xsi:type="CanonicalUser"><ID>/);
    const body =
      `<AccessControlPolicy xmlns="${NS}"><Owner><ID>${owner}</ID></Owner><AccessControlList>` +
      `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>${owner}</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant>` +
      `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant>` +
      '</AccessControlList></AccessControlPolicy>';
    const put = await signedFetch(m, 'PUT', `/${b}`, { query: 'acl', body, contentMd5: true });
    assert.equal(put.status, 200, put.text);
    const back = await signedFetch(m, 'GET', `/${b}`, { query: 'acl' });
    assert.match(back.text, /xsi:type="Group"><URI>http:\/\/acs\.amazonaws\.com\/groups\/global\/AllUsers<\/URI><\/Grantee><Permission>READ</);
  });

  test('an xsi:type that contradicts the grantee is MalformedACLError', async () => {
    const b = bucketName('wireacl');
    await s3.send(new CreateBucketCommand({ Bucket: b, ObjectOwnership: 'ObjectWriter' }));
    const body =
      `<AccessControlPolicy xmlns="${NS}"><AccessControlList>` +
      `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant>` +
      '</AccessControlList></AccessControlPolicy>';
    const put = await signedFetch(m, 'PUT', `/${b}`, { query: 'acl', body, contentMd5: true });
    assert.equal(put.status, 400, put.text);
    assert.match(put.text, /<Code>MalformedACLError<\/Code>/);
  });
});

describe('object response headers', () => {
  const decodeWord = (v: string | undefined) => {
    const word = /^=\?UTF-8\?B\?([A-Za-z0-9+/=]+)\?=$/.exec(v ?? '');
    assert.ok(word, `an RFC 2047 encoded word, got ${v}`);
    return Buffer.from(word[1]!, 'base64').toString('utf8');
  };

  test('non-ASCII user metadata sent as UTF-8 bytes (Go clients) comes back as one RFC 2047 word of the same text', async () => {
    const b = await newBucket();
    // signedFetch sends a value beyond Latin-1 as its UTF-8 bytes, signed as such.
    const put = await signedFetch(m, 'PUT', `/${b}/m`, { body: 'x', headers: { 'x-amz-meta-name': 'café ünï 日本', 'x-amz-meta-plain': 'ascii =?stays?= as sent' } });
    assert.equal(put.status, 200, put.text);
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'm' }));
    assert.equal(decodeWord(head.Metadata!.name), 'café ünï 日本');
    assert.equal(head.Metadata!.plain, 'ascii =?stays?= as sent');
    // On the wire the header is plain ASCII: no raw bytes for a client to misread as Latin-1.
    const raw = await signedFetch(m, 'GET', `/${b}/m`);
    assert.match(String(raw.headers['x-amz-meta-name']), /^[\x20-\x7e]+$/);
  });

  test('SDK v3 in Node sends é as one Latin-1 byte: that comes back as the same text too, never as Ã©', async () => {
    const b = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'm', Body: 'x', Metadata: { name: 'café' } }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'm' }));
    assert.equal(decodeWord(head.Metadata!.name), 'café');
  });

  test('DELETE in an unversioned bucket sends no x-amz-delete-marker (S3 sends it only as true)', async () => {
    const b = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'd', Body: 'x' }));
    const res = await signedFetch(m, 'DELETE', `/${b}/d`);
    assert.equal(res.status, 204);
    assert.equal(res.headers['x-amz-delete-marker'], undefined);
    assert.equal(res.headers['x-amz-version-id'], undefined);
  });
});
