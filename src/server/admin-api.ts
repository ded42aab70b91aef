/**
 * Meridian's own HTTP endpoints, under /_meridian/ (no bucket name can start with '_', so they
 * never shadow a path-style bucket):
 *   GET  /_meridian/metrics                          Prometheus metrics (signed by the operator's account, or Bearer MERIDIAN_METRICS_TOKEN)
 *   GET  /_meridian/replication/status?bucket=B      pending, failed by reason, lag (JSON)
 *   GET  /_meridian/replication/explain?bucket=B&key=K[&versionId=V]
 *   GET  /_meridian/replication/events[?bucket=B]    replication events as they happen (NDJSON, one S3 event record per line)
 *   POST /_meridian/replication/batch?bucket=B[&status=…]   start a Batch Replication job
 *   GET  /_meridian/explain?principal=P&action=A&resource=R[&context=k=v]   policy simulator (admin-explain.ts)
 *   GET  /_meridian/replication/batch?bucket=B&job=J        its completion report
 * The others are SigV4-signed like any AWS request and authorized through the same policy engine:
 * the caller needs s3:GetReplicationConfiguration on the bucket (batch: s3:InitiateReplication).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ServiceError, isServiceError } from '../common/errors.js';
import { BATCH_SELECTORS, batchReportCsv, type BatchFilter, type BatchSelector } from '../replication/batch.js';
import { renderExplanation } from '../replication/explain.js';
import { replicationStatusReport, type StatusExtras } from '../replication/status.js';
import type { Caller } from '../services/caller.js';
import type { ServiceResponse } from '../services/protocol/response.js';
import { batchJobReport, startBatchReplication } from '../services/s3/replication-batch.js';
import { explainReplication } from '../services/s3/replication-explain.js';
import { explainPolicyRequest } from './admin-explain.js';
import { boundedLineStream, EVENT_STREAM_MAX_BUFFERED_BYTES } from './event-stream.js';
import { handleFaults, isFaultsPath } from './admin-faults.js';
import type { Fabric, RegionRuntime } from './fabric.js';

export interface AdminRequest {
  method: string;
  rawPath: string;
  rawQuery: string;
  requestId: string;
  /** The Authorization header: SigV4, or `Bearer <MERIDIAN_METRICS_TOKEN>` for the metrics. */
  authorization?: string;
}

export const ADMIN_PREFIX = '/_meridian/';

function json(status: number, body: unknown): ServiceResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body, null, 2) + '\n' };
}

export class AdminApi {
  constructor(
    private readonly fabric: Fabric,
    /** Verifies the request's SigV4 signature and resolves the caller. */
    private readonly authenticate: () => Promise<Caller>,
    /** The request body, once authenticate() has read it. */
    private readonly body: () => Buffer = () => Buffer.alloc(0),
  ) {}

  /** Only Meridian's own paths: anything else under /_meridian/ stays an (invalid) S3 request. */
  static matches(rawPath: string): boolean {
    return rawPath === `${ADMIN_PREFIX}metrics` || rawPath === `${ADMIN_PREFIX}explain` || rawPath.startsWith(`${ADMIN_PREFIX}replication/`) || isFaultsPath(rawPath);
  }

  async handle(req: AdminRequest): Promise<ServiceResponse> {
    try {
      return await this.route(req);
    } catch (e) {
      if (isServiceError(e)) return json(e.status, { error: { code: e.code, message: e.message }, requestId: req.requestId });
      this.fabric.log.error({ err: e, requestId: req.requestId, path: req.rawPath }, 'internal error');
      return json(500, { error: { code: 'InternalError', message: 'We encountered an internal error. Please try again.' }, requestId: req.requestId });
    }
  }

  private async route(req: AdminRequest): Promise<ServiceResponse> {
    const path = req.rawPath.slice(ADMIN_PREFIX.length - 1);
    const q = new URLSearchParams(req.rawQuery);
    if (path === '/metrics' && req.method === 'GET') {
      await this.authorizeMetrics(req.authorization);
      return { status: 200, headers: { 'content-type': this.fabric.metrics.contentType }, body: await this.fabric.metrics.metrics() };
    }
    // Without MERIDIAN_FAULTS=on the fault API does not exist.
    if (isFaultsPath(req.rawPath) && !this.fabric.faults) throw new ServiceError('NotFound', 404, `No Meridian endpoint ${req.method} ${req.rawPath}`);
    const caller = await this.authenticate();
    if (caller.principal.type === 'Anonymous') throw new ServiceError('AccessDenied', 403, 'Meridian endpoints need a SigV4-signed request.');
    if (isFaultsPath(req.rawPath)) {
      const r = handleFaults(this.fabric.faults!, this.fabric.config.accountId, caller, { method: req.method, path, query: q, body: this.body() }, this.fabric.clock.now());
      return json(r.status, r.body);
    }
    switch (`${req.method} ${path}`) {
      case 'GET /replication/status': {
        const { bucket, runtime } = await this.bucketFor(caller, required(q, 'bucket'), 's3:GetReplicationConfiguration');
        const extras = () => {
          const e: StatusExtras = { unreachable: runtime.worker.unreachableDestinations() };
          if (this.fabric.faults) e.faults = this.fabric.faults.list();
          return e;
        };
        return json(200, await replicationStatusReport(runtime.s3ctx.meta, bucket, () => this.fabric.monitor.lagOf(bucket), this.fabric.clock.now(), extras));
      }
      case 'GET /replication/explain': {
        const { bucket, runtime } = await this.bucketFor(caller, required(q, 'bucket'), 's3:GetReplicationConfiguration');
        const versionId = q.get('versionId') ?? undefined;
        const explanation = await explainReplication({ source: runtime.s3ctx, transport: runtime.transport, clock: this.fabric.clock }, bucket, required(q, 'key'), versionId);
        return json(200, { explanation, text: renderExplanation(explanation) });
      }
      case 'GET /explain':
        return json(200, await explainPolicyRequest(this.fabric, caller, q));
      case 'GET /replication/events':
        return this.events(caller, q.get('bucket') ?? undefined);
      case 'POST /replication/batch': {
        const name = required(q, 'bucket');
        const { bucket, runtime } = await this.bucketFor(caller, name, 's3:InitiateReplication', `arn:aws:s3:::${name}/*`);
        const filter: BatchFilter = { statuses: selectors(q.get('status') ?? 'NONE,FAILED') };
        const prefix = q.get('prefix');
        if (prefix !== null) filter.prefix = prefix;
        const job = await startBatchReplication(runtime.s3ctx, bucket, filter);
        this.fabric.log.info({ bucket, jobId: job.jobId, versions: job.entries.length, filter }, 'batch replication job started');
        return json(200, { jobId: job.jobId, bucket, versions: job.entries.length, filter });
      }
      case 'GET /replication/batch': {
        const { bucket, runtime } = await this.bucketFor(caller, required(q, 'bucket'), 's3:GetReplicationConfiguration');
        const report = await batchJobReport(runtime.s3ctx, bucket, required(q, 'job'));
        if (q.get('format') === 'csv') return { status: 200, headers: { 'content-type': 'text/csv' }, body: batchReportCsv(report) };
        return json(200, report);
      }
      default:
        throw new ServiceError('NotFound', 404, `No Meridian endpoint ${req.method} ${req.rawPath}`);
    }
  }

  /**
   * The metrics name buckets of every account: readable with the operator's bearer token
   * (MERIDIAN_METRICS_TOKEN, what Prometheus scrapers send) or by a signed request from a principal of
   * the operator's account (MERIDIAN_ACCOUNT_ID; the web console signs its requests).
   */
  private async authorizeMetrics(authorization: string | undefined): Promise<void> {
    const token = this.fabric.config.metricsToken;
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    if (bearer !== undefined) {
      if (token !== undefined && sameSecret(bearer, token)) return;
      throw new ServiceError('AccessDenied', 403, token === undefined ? 'No metrics token is configured (MERIDIAN_METRICS_TOKEN); sign the request instead.' : 'The bearer token does not match MERIDIAN_METRICS_TOKEN.');
    }
    const caller = await this.authenticate();
    if (caller.principal.type === 'Anonymous') throw new ServiceError('AccessDenied', 403, 'Metrics need a SigV4-signed request or the bearer token in MERIDIAN_METRICS_TOKEN.');
    if (caller.principal.accountId !== this.fabric.config.accountId) {
      throw new ServiceError('AccessDenied', 403, `Metrics cover every account: only principals of the operator's account (${this.fabric.config.accountId}) or the MERIDIAN_METRICS_TOKEN bearer may read them.`);
    }
  }

  /** The bucket's region runtime, after authorizing `action` on the bucket for the caller. */
  private async bucketFor(caller: Caller, bucket: string, action: string, resource = `arn:aws:s3:::${bucket}`): Promise<{ bucket: string; runtime: RegionRuntime }> {
    const entry = await this.fabric.global.directory.lookup(bucket);
    if (!entry) throw new ServiceError('NoSuchBucket', 404, `The specified bucket does not exist: ${bucket}`);
    const runtime = this.fabric.region(entry.region);
    await this.authorizeOn(runtime, caller, bucket, entry.ownerAccountId, action, resource);
    return { bucket, runtime };
  }

  private async authorizeOn(runtime: RegionRuntime, caller: Caller, bucket: string, owner: string, action: string, resource: string): Promise<void> {
    const policyText = await runtime.s3ctx.meta.getBucketConfig<string>(bucket, 'policy');
    const q: Parameters<Fabric['authorizer']['require']>[1] = { action, resource, resourceAccount: owner };
    if (policyText) q.resourcePolicy = { name: `bucket policy of ${bucket}`, policy: this.fabric.authorizer.parse(policyText, 'resource') };
    await this.fabric.authorizer.require(caller, q);
  }

  /** A stream of events for one bucket, or for every bucket whose replication the caller may read. */
  private async events(caller: Caller, bucket: string | undefined): Promise<ServiceResponse> {
    if (bucket !== undefined) await this.bucketFor(caller, bucket, 's3:GetReplicationConfiguration');
    const allowed = new Map<string, Promise<boolean>>();
    const mayRead = (b: string): Promise<boolean> => {
      let p = allowed.get(b);
      if (!p) {
        p = this.bucketFor(caller, b, 's3:GetReplicationConfiguration').then(
          () => true,
          () => false,
        );
        allowed.set(b, p);
      }
      return p;
    };
    // A subscriber that stops reading is dropped once it is a bounded amount behind (event-stream.ts).
    const { stream, send } = boundedLineStream(EVENT_STREAM_MAX_BUFFERED_BYTES, (buffered) => {
      unsubscribe();
      this.fabric.log.warn({ requestId: caller.requestId, bucket, buffered }, 'replication events subscriber dropped: it stopped reading');
    });
    const unsubscribe = this.fabric.monitor.subscribe((n) => {
      // Faults (MERIDIAN_FAULTS=on) concern every stream.
      if (n.bucket === undefined) {
        send(JSON.stringify({ Records: [n.record] }) + '\n');
        return;
      }
      if (bucket !== undefined && n.bucket !== bucket) return;
      void (bucket !== undefined ? Promise.resolve(true) : mayRead(n.bucket)).then((ok) => {
        if (ok) send(JSON.stringify({ Records: [n.record] }) + '\n');
      });
    });
    // Blank lines keep a quiet stream inside the idle timeout that cuts readers who stopped reading.
    const heartbeat = setInterval(() => send('\n'), Math.max(50, Math.floor(this.fabric.config.limits.bodyTimeoutMs / 2)));
    heartbeat.unref();
    stream.once('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
    });
    // A first (blank) line sends the headers at once, so `curl -N` shows the stream is open.
    send('\n');
    return { status: 200, headers: { 'content-type': 'application/x-ndjson', 'cache-control': 'no-cache' }, body: stream };
  }
}

function selectors(value: string): BatchSelector[] {
  const list = value.split(',').map((s) => s.trim().toUpperCase());
  for (const s of list) {
    if (!BATCH_SELECTORS.includes(s as BatchSelector)) throw new ServiceError('InvalidArgument', 400, `status must be a comma-separated list of ${BATCH_SELECTORS.join(', ')}; got '${s}'`);
  }
  return list as BatchSelector[];
}

function required(q: URLSearchParams, name: string): string {
  const v = q.get(name);
  if (!v) throw new ServiceError('InvalidArgument', 400, `Missing query parameter '${name}'`);
  return v;
}

/** Constant-time comparison of two secrets of any length. */
function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}
