/**
 * A region's S3: route → find the bucket (answering wrong-region requests the way the CLI
 * follows) → authorize through policy/ → handler. Returns transport-neutral responses.
 */
import { ServiceError, isServiceError } from '../../common/errors.js';
import { denialMessage } from '../../policy/index.js';
import type { ConditionValue } from '../../policy/types.js';
import type { BucketRecord, RegionMetadataStore } from '../../storage/types.js';
import type { ServiceResponse } from '../protocol/response.js';
import { corsResponseHeaders, preflight, type CorsRule } from './cors.js';
import { noSuchBucket, notImplemented, wrongRegion } from './s3-errors.js';
import type { RequestAuthorizer, S3Context } from './s3-context.js';
import type { S3Request } from './s3-request.js';
import { refineByHeaders, resolveS3Operation, type S3Operation } from './operations.js';

/** The S3 condition keys a request carries (reference §3.7), named in lower case. */
function s3ConditionKeys(req: S3Request, op: S3Operation): Record<string, ConditionValue | undefined> {
  const h = req.headers;
  const ctx: Record<string, ConditionValue | undefined> = {
    'aws:requestedregion': req.region,
    's3:signatureversion': req.caller.authType ? 'AWS4-HMAC-SHA256' : undefined,
    's3:authtype': req.caller.authType,
  };
  const writes = ['PutObject', 'CreateMultipartUpload', 'CopyObject'];
  if (writes.includes(op.name)) {
    ctx['s3:x-amz-server-side-encryption'] = h['x-amz-server-side-encryption'];
    ctx['s3:x-amz-server-side-encryption-aws-kms-key-id'] = h['x-amz-server-side-encryption-aws-kms-key-id'];
    ctx['s3:x-amz-acl'] = h['x-amz-acl'];
    ctx['s3:x-amz-storage-class'] = h['x-amz-storage-class'];
  }
  if (op.name === 'ListObjects' || op.name === 'ListObjectsV2' || op.name === 'ListObjectVersions') {
    ctx['s3:prefix'] = req.query.get('prefix') ?? undefined;
    ctx['s3:delimiter'] = req.query.get('delimiter') ?? undefined;
    const maxKeys = req.query.get('max-keys');
    if (maxKeys !== null) ctx['s3:max-keys'] = maxKeys;
  }
  const versionId = req.query.get('versionId');
  if (versionId !== null) ctx['s3:versionid'] = versionId;
  return ctx;
}

export class S3Service {
  constructor(readonly ctx: S3Context) {}

  resolve(req: Pick<S3Request, 'method' | 'bucket' | 'key' | 'query' | 'headers'>): S3Operation {
    return refineByHeaders(resolveS3Operation(req.method, req.bucket, req.key, req.query), req.headers);
  }

  async handle(req: S3Request, op: S3Operation = this.resolve(req)): Promise<ServiceResponse> {
    // CORS preflights are unauthenticated and answered from the bucket's CORS rules alone.
    if (req.method === 'OPTIONS' && req.bucket) return this.preflight(req);
    const response = await this.dispatch(req, op);
    if (req.headers.origin && req.bucket) {
      const rules = await this.ctx.meta.getBucketConfig<CorsRule[]>(req.bucket, 'cors').catch(() => undefined);
      Object.assign(response.headers, corsResponseHeaders(rules, req.headers.origin, req.method));
    }
    return response;
  }

  private async preflight(req: S3Request): Promise<ServiceResponse> {
    const bucket = await this.ctx.meta.getBucket(req.bucket!);
    if (!bucket) throw noSuchBucket(req.bucket!);
    const rules = await this.ctx.meta.getBucketConfig<CorsRule[]>(bucket.name, 'cors');
    return preflight(rules, req.headers, req.key === undefined ? 'BUCKET' : 'OBJECT');
  }

  private async dispatch(req: S3Request, op: S3Operation): Promise<ServiceResponse> {
    if (!op.handler || !op.action) throw notImplemented(op.name);
    let bucket: BucketRecord | undefined;
    let ctx = this.ctx;
    if (op.scope !== 'service' && !op.createsBucket) {
      bucket = await this.ctx.meta.getBucket(req.bucket!);
      if (!bucket) {
        const entry = await this.ctx.directory.lookup(req.bucket!);
        if (!entry || entry.region === this.ctx.region) throw noSuchBucket(req.bucket!);
        if (!op.anyRegion) throw wrongRegion(req.region, entry.region);
        const store = await this.ctx.peers.regionStore(entry.region);
        // Split mode: the bucket's region is served by another process; the client retries there.
        if (!store) throw wrongRegion(req.region, entry.region);
        bucket = await store.getBucket(req.bucket!);
        if (!bucket) throw noSuchBucket(req.bucket!);
        ctx = { ...this.ctx, meta: store! };
      }
    }
    const resource =
      op.scope === 'service' ? '*' : op.scope === 'bucket' ? `arn:aws:s3:::${req.bucket}` : `arn:aws:s3:::${req.bucket}/${req.key}`;
    try {
      if (!op.authorizesPerObject) await this.authorize(req, op, resource, bucket);
    } catch (e) {
      // HeadBucket tells the bucket's region whether or not the caller is authorized (reference §7.2).
      if (op.name === 'HeadBucket' && bucket && isServiceError(e)) {
        throw new ServiceError(e.code, e.status, e.message, e.fields, { ...e.headers, 'x-amz-bucket-region': bucket.region });
      }
      throw e;
    }
    const auth: RequestAuthorizer = {
      require: (action, b, key, store) => this.authorize(req, { ...op, action: () => action }, key === undefined ? `arn:aws:s3:::${b.name}` : `arn:aws:s3:::${b.name}/${key}`, b, store),
    };
    return op.handler(ctx, req, bucket, auth);
  }

  private async authorize(req: S3Request, op: S3Operation, resource: string, bucket: BucketRecord | undefined, store: RegionMetadataStore = this.ctx.meta): Promise<void> {
    const policyText = bucket ? await store.getBucketConfig<string>(bucket.name, 'policy') : undefined;
    const q: Parameters<S3Context['authorizer']['decide']>[1] = {
      action: op.action!(req),
      resource,
      resourceAccount: bucket?.ownerAccountId ?? req.caller.principal.accountId,
      context: s3ConditionKeys(req, op),
    };
    if (policyText) q.resourcePolicy = { name: `bucket policy of ${bucket!.name}`, policy: this.ctx.authorizer.parse(policyText, 'resource') };
    const { input, decision } = await this.ctx.authorizer.decide(req.caller, q);
    if (decision.outcome === 'Allow') return;
    // S3 answers plain "Access Denied" to anonymous callers and an explained denial to signed ones.
    if (req.caller.principal.type === 'Anonymous') throw new ServiceError('AccessDenied', 403, 'Access Denied');
    throw new ServiceError('AccessDenied', 403, denialMessage(input.request, decision));
  }
}
