/**
 * The S3 condition keys a request carries (Service Authorization Reference for Amazon S3; reference
 * §3.7), named in lower case. Keys that need the request body (PutObjectTagging's tags,
 * CreateBucket's LocationConstraint) come from `bodyConditionKeys`, read before authorization.
 */
import type { ConditionValue } from '../../policy/types.js';
import { children, child, parseXml, text, token } from '../protocol/xml.js';
import type { S3Request } from './s3-request.js';

type Ctx = Record<string, ConditionValue | undefined>;

const WRITES = new Set(['PutObject', 'CreateMultipartUpload', 'CopyObject']);
const LISTS = new Set(['ListObjects', 'ListObjectsV2', 'ListObjectVersions']);
const ACL_WRITES = new Set(['PutObject', 'CreateMultipartUpload', 'CopyObject', 'PutObjectAcl', 'PutBucketAcl', 'CreateBucket']);
const GRANTS = ['x-amz-grant-full-control', 'x-amz-grant-read', 'x-amz-grant-read-acp', 'x-amz-grant-write', 'x-amz-grant-write-acp'];

/** Tags as s3:RequestObjectTag/<k> plus s3:RequestObjectTagKeys. */
export function requestTagKeys(tags: [string, string][]): Ctx {
  const ctx: Ctx = {};
  for (const [k, v] of tags) ctx[`s3:requestobjecttag/${k}`] = v;
  ctx['s3:requestobjecttagkeys'] = tags.map(([k]) => k);
  return ctx;
}

/** Tags of a stored object as s3:ExistingObjectTag/<k>. */
export function existingTagKeys(tags: Record<string, string> | undefined): Ctx {
  const ctx: Ctx = {};
  for (const [k, v] of Object.entries(tags ?? {})) ctx[`s3:existingobjecttag/${k}`] = v;
  return ctx;
}

export function s3ConditionKeys(req: S3Request, operation: string, bucketOwner: string | undefined): Ctx {
  const h = req.headers;
  const q = req.query;
  const ctx: Ctx = {
    'aws:requestedregion': req.region,
    's3:signatureversion': req.caller.authType ? 'AWS4-HMAC-SHA256' : undefined,
    's3:authtype': req.caller.authType,
    's3:x-amz-content-sha256': h['x-amz-content-sha256'],
  };
  if (bucketOwner !== undefined) {
    ctx['s3:resourceaccount'] = bucketOwner;
    ctx['aws:resourceaccount'] = bucketOwner;
  }
  if (WRITES.has(operation)) {
    ctx['s3:x-amz-server-side-encryption'] = h['x-amz-server-side-encryption'];
    ctx['s3:x-amz-server-side-encryption-aws-kms-key-id'] = h['x-amz-server-side-encryption-aws-kms-key-id'];
    ctx['s3:x-amz-storage-class'] = h['x-amz-storage-class'];
    ctx['s3:x-amz-website-redirect-location'] = h['x-amz-website-redirect-location'];
    ctx['s3:object-lock-mode'] = h['x-amz-object-lock-mode'];
    ctx['s3:object-lock-retain-until-date'] = h['x-amz-object-lock-retain-until-date'];
    ctx['s3:object-lock-legal-hold'] = h['x-amz-object-lock-legal-hold'];
    const tagging = h['x-amz-tagging'];
    if (tagging !== undefined) Object.assign(ctx, requestTagKeys([...new URLSearchParams(tagging)]));
  }
  if (operation === 'CopyObject' || operation === 'UploadPartCopy') {
    ctx['s3:x-amz-copy-source'] = h['x-amz-copy-source'];
    ctx['s3:x-amz-metadata-directive'] = h['x-amz-metadata-directive'];
  }
  if (ACL_WRITES.has(operation)) {
    ctx['s3:x-amz-acl'] = h['x-amz-acl'];
    for (const g of GRANTS) ctx[`s3:${g}`] = h[g];
  }
  if (operation === 'CreateBucket') ctx['s3:x-amz-object-ownership'] = h['x-amz-object-ownership'];
  if (LISTS.has(operation)) {
    ctx['s3:prefix'] = q.get('prefix') ?? undefined;
    ctx['s3:delimiter'] = q.get('delimiter') ?? undefined;
    ctx['s3:max-keys'] = q.get('max-keys') ?? undefined;
  }
  const versionId = q.get('versionId');
  if (versionId !== null) ctx['s3:versionid'] = versionId;
  return ctx;
}

/** Operations whose condition keys come from their (small) body. */
export const BODY_KEY_OPERATIONS = new Set(['PutObjectTagging', 'CreateBucket']);

/** Condition keys from a body read before authorization; unparseable bodies give none (the handler rejects them). */
export function bodyConditionKeys(operation: string, body: string): Ctx {
  if (body.trim() === '') return {};
  try {
    const { root, value } = parseXml(body);
    if (operation === 'PutObjectTagging' && root === 'Tagging') {
      const set = child(value, 'TagSet') ?? {};
      return requestTagKeys(children(set, 'Tag').map((t) => [text(t, 'Key') ?? '', text(t, 'Value') ?? '']));
    }
    if (operation === 'CreateBucket' && root === 'CreateBucketConfiguration') {
      return { 's3:locationconstraint': token(value, 'LocationConstraint') };
    }
  } catch {
    // The handler answers MalformedXML.
  }
  return {};
}
