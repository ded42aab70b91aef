import { startMeridianProcess } from './test/support/meridian-process.js';
import { signedFetch } from './test/integration/signed-fetch.js';
import { s3Client } from './test/support/clients.js';
import { CreateBucketCommand, CreateMultipartUploadCommand, UploadPartCommand, CompleteMultipartUploadCommand, PutObjectCommand, HeadObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
const m = await startMeridianProcess();
const s3 = s3Client(m);
try {
  await s3.send(new CreateBucketCommand({ Bucket: 'probe' }));
  let r = await signedFetch(m, 'PUT', '/probe/a', { body: 'hello', headers: { 'x-amz-checksum-crc32': 'AAAAAA==' } });
  console.log('put crc mismatch', r.status, r.text.slice(0, 200));
  r = await signedFetch(m, 'PUT', '/probe/a', { body: 'hello', headers: { 'x-amz-checksum-sha256': Buffer.alloc(32).toString('base64') } });
  console.log('put sha mismatch', r.status, r.text.slice(39, 200));
  r = await signedFetch(m, 'DELETE', '/probe/a');
  console.log('delete', r.status, JSON.stringify(r.headers));
  for (const alg of ['SHA1', 'SHA256', 'CRC32'] as const) {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'probe', Key: 'mp' + alg, ChecksumAlgorithm: alg }));
    const p1 = await s3.send(new UploadPartCommand({ Bucket: 'probe', Key: 'mp' + alg, UploadId, PartNumber: 1, Body: Buffer.alloc(5 << 20, 1), ChecksumAlgorithm: alg }));
    const p2 = await s3.send(new UploadPartCommand({ Bucket: 'probe', Key: 'mp' + alg, UploadId, PartNumber: 2, Body: 'x', ChecksumAlgorithm: alg }));
    const c = (p: any) => ({ [`Checksum${alg}`]: p[`Checksum${alg}`] });
    const out = await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'probe', Key: 'mp' + alg, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag, ...c(p1) }, { PartNumber: 2, ETag: p2.ETag, ...c(p2) }] } }));
    console.log(alg, (out as any)[`Checksum${alg}`], out.ChecksumType);
    const h = await s3.send(new HeadObjectCommand({ Bucket: 'probe', Key: 'mp' + alg, ChecksumMode: 'ENABLED' }));
    console.log(' head', (h as any)[`Checksum${alg}`], h.ChecksumType);
  }
  await s3.send(new PutObjectCommand({ Bucket: 'probe', Key: 'single', Body: 'abc', Metadata: { name: 'café ünï' } }));
  for (const pn of [1, 2]) { r = await signedFetch(m, 'GET', '/probe/single', { query: `partNumber=${pn}` }); console.log('part', pn, r.status, r.text.slice(39, 200), r.headers['x-amz-mp-parts-count']); }
  r = await signedFetch(m, 'GET', '/probe/mpSHA1', { query: `partNumber=3` }); console.log('mp part 3', r.status, r.text.slice(39, 200));
  const g = await s3.send(new HeadObjectCommand({ Bucket: 'probe', Key: 'single' }));
  console.log('meta', g.Metadata);
  r = await signedFetch(m, 'HEAD', '/probe/single'); console.log(r.headers['x-amz-meta-name'], Buffer.from(String(r.headers['x-amz-meta-name']), 'latin1'));
} finally { await m.stop(); }
