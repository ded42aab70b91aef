/**
 * A region's S3: route → find the bucket (answering wrong-region requests the way the CLI
 * follows) → authorize through policy/ (every action the operation needs, iam-actions.ts) →
 * handler. Returns transport-neutral responses.
 */
import { Readable } from 'node:stream';
import { ServiceError, isServiceError } from '../../common/errors.js';
import type { ConditionValue } from '../../policy/types.js';
import type { BucketRecord, RegionMetadataStore } from '../../storage/types.js';
import type { ServiceResponse } from '../protocol/response.js';
import { corsResponseHeaders, preflight, type CorsRule } from './cors.js';
import { BODY_KEY_OPERATIONS, bodyConditionKeys, s3ConditionKeys } from './condition-keys.js';
import { s3Authorizations, type S3Authorization } from './iam-actions.js';
import { readSmallBody } from './request-body.js';
import { authorizeS3, type S3Target } from './s3-authorize.js';
import { copyAcrossProcesses, noSuchBucket, notImplemented, wrongRegion } from './s3-errors.js';
import type { RequestAuthorizer, S3Context } from './s3-context.js';
import type { S3Request } from './s3-request.js';
import { refineByHeaders, resolveS3Operation, type S3Operation } from './operations.js';

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
    if (!op.handler) throw notImplemented(op.name);
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
    let context: Record<string, ConditionValue | undefined>;
    try {
      ({ req, context } = await this.authorize(ctx, req, op, bucket));
    } catch (e) {
      // HeadBucket tells the bucket's region whether or not the caller is authorized (reference §7.2).
      if (op.name === 'HeadBucket' && bucket && isServiceError(e)) {
        throw new ServiceError(e.code, e.status, e.message, e.fields, { ...e.headers, 'x-amz-bucket-region': bucket.region });
      }
      throw e;
    }
    // What handlers authorize themselves (per key in DeleteObjects, the copy source), the same way.
    const authorizedReq = req;
    const auth: RequestAuthorizer = {
      require: async (action, b, key, store) => {
        const target: S3Target = { action, bucket: b };
        if (key !== undefined) target.key = key;
        if (store) target.meta = store;
        await authorizeS3(ctx, authorizedReq, target, context);
      },
    };
    return op.handler(ctx, req, bucket, auth);
  }

  /**
   * Every authorization the operation needs before its handler runs (those marked byHandler are the
   * handler's to check, through the RequestAuthorizer). Returns the request, with its body
   * re-readable if it was read for condition keys, and the condition keys.
   */
  private async authorize(
    ctx: S3Context,
    req: S3Request,
    op: S3Operation,
    bucket: BucketRecord | undefined,
  ): Promise<{ req: S3Request; context: Record<string, ConditionValue | undefined> }> {
    const all: S3Authorization[] = s3Authorizations(op.name, req) ?? (op.action ? [{ action: op.action(req) }] : []);
    if (all.length === 0 && !op.authorizesPerObject) throw new ServiceError('InternalError', 500, `No IAM action is known for ${op.name}.`);
    const auths = all.filter((a) => !a.byHandler);
    const context: Record<string, ConditionValue | undefined> = s3ConditionKeys(req, op.name, bucket?.ownerAccountId);
    if (BODY_KEY_OPERATIONS.has(op.name)) {
      const body = await readSmallBody(req, 1024 * 1024);
      Object.assign(context, bodyConditionKeys(op.name, body));
      req = { ...req, body: Readable.from([Buffer.from(body)]) };
    }
    const versionId = req.query.get('versionId') ?? undefined;
    for (const a of auths) {
      const target: S3Target = { action: a.action };
      if (a.bucket === undefined) {
        if (bucket) target.bucket = bucket;
        if (op.scope === 'object') target.key = req.key!;
        if (versionId !== undefined) target.versionId = versionId;
      } else {
        const other = await this.findBucket(a.bucket);
        target.bucket = other.bucket;
        target.meta = other.meta;
        if (a.key !== undefined) target.key = a.key;
      }
      await authorizeS3(ctx, req, target, context);
    }
    return { req, context };
  }

  /** Another bucket an operation touches (a copy source), in whichever region it lives. */
  private async findBucket(name: string): Promise<{ bucket: BucketRecord; meta: RegionMetadataStore }> {
    const entry = await this.ctx.directory.lookup(name);
    const meta = entry ? await this.ctx.peers.regionStore(entry.region) : undefined;
    if (entry && !meta) throw copyAcrossProcesses(name, entry.region);
    const bucket = await meta?.getBucket(name);
    if (!bucket || !meta) throw noSuchBucket(name);
    return { bucket, meta };
  }
}
