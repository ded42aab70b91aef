/**
 * The request pipeline, one declared list of stages:
 *   resolve service and region → verify SigV4 → resolve the caller → parse input →
 *   (authorize, inside each service through policy/) → handler → serialize.
 * The only file that touches node's IncomingMessage/ServerResponse is http-adapter.ts.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { isDependencyUnavailable, ServiceError, isServiceError } from '../common/errors.js';
import { storageFaultOf, storageFullError } from '../common/storage-faults.js';
import { isKnownRegion } from '../regions/known-regions.js';
import type { Principal } from '../policy/types.js';
import type { Caller } from '../services/caller.js';
import { IAM_OPERATIONS, IAM_XMLNS } from '../services/iam/handlers.js';
import { KMS_OPERATIONS } from '../services/kms/handlers.js';
import { jsonError, jsonResponse, parseJsonBody } from '../services/protocol/aws-json.js';
import { parseQueryParams, queryError, queryResponse } from '../services/protocol/aws-query.js';
import type { ServiceResponse } from '../services/protocol/response.js';
import { restXmlError } from '../services/protocol/rest-xml.js';
import type { S3Request } from '../services/s3/s3-request.js';
import { STS_OPERATIONS, STS_XMLNS } from '../services/sts/handlers.js';
import { createPayloadVerifier, readCredentialScope, verifySignature, type SigningRequest, type VerifiedSignature } from './auth/index.js';
import type { Fabric } from './fabric.js';
import { authErrorFor, unavailableErrorFor } from './protocol-errors.js';
import { handleTestClock, isTestClockRequest } from './test-clock.js';
import { AdminApi } from './admin-api.js';
import { ConsoleAssets, isConsolePath } from './console-assets.js';
import { handleInternal, INTERNAL_PREFIX } from './internal-api.js';
import { proxyToPeer, SIGNED_REQUEST_BODY } from './peer-proxy.js';
import { rememberShared } from './shared-nonces.js';
import { claimsPeer, PeerAuthError, PeerVerifier, sha256Hex, signPeerResponse, TRAILER, UNSIGNED, type VerifiedPeerRequest } from './peer-protocol.js';
import { streamWithTrailer } from './peer-streams.js';
import { joinBody } from './request-body.js';

export interface IncomingRequest {
  method: string;
  /** Raw request target path (percent-encoded) and query string. */
  rawPath: string;
  rawQuery: string;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
  secure: boolean;
  remoteAddress: string;
  requestId: string;
  hostId: string;
}

type Protocol = 'restXml' | 'json' | 'query';
type Service = 's3' | 'kms' | 'iam' | 'sts';

const PROTOCOL: Record<Service, Protocol> = { s3: 'restXml', kms: 'json', iam: 'query', sts: 'query' };
const SMALL_BODY_LIMIT = 1024 * 1024;

function header(h: IncomingRequest['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function flatHeaders(h: IncomingRequest['headers']): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const k of Object.keys(h)) out[k] = header(h, k);
  return out;
}

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/** Unsigned requests carry no scope: recognise KMS and Query requests by their shape; default to S3. */
function serviceOfUnsigned(req: IncomingRequest): Service {
  if (header(req.headers, 'x-amz-target')?.startsWith('TrentService.')) return 'kms';
  if (req.method === 'POST' && req.rawPath === '/' && header(req.headers, 'content-type')?.startsWith('application/x-www-form-urlencoded')) {
    return /(^|&)Version=2011-06-15/.test(req.rawQuery) ? 'sts' : 'iam';
  }
  return 's3';
}

/**
 * A small request body, whole. Stops reading at `limit` (a longer declared Content-Length is refused
 * before any byte is read) and never destroys the request on the way out: the answer still has to
 * reach the client (http-adapter.ts drains or closes what is left).
 */
async function readBody(body: Readable, limit: number, declaredLength?: string): Promise<Buffer> {
  if (declaredLength !== undefined && Number(declaredLength) > limit) throw new ServiceError('RequestEntityTooLarge', 413, `Request body too large: at most ${limit} bytes are accepted here.`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of body.iterator({ destroyOnReturn: false })) {
    size += (c as Buffer).length;
    if (size > limit) throw new ServiceError('RequestEntityTooLarge', 413, 'Request body too large');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * The headers that describe the request body. CompleteMultipartUpload's x-amz-checksum-* headers
 * describe the whole object (its FULL_OBJECT or composite checksum), not the XML body: the handler
 * checks them, the payload verifier must not.
 */
function payloadHeaders(req: IncomingRequest): IncomingRequest['headers'] {
  if (req.method !== 'POST' || !/(^|&)uploadId=/.test(req.rawQuery)) return req.headers;
  const out: IncomingRequest['headers'] = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (/^x-amz-checksum-(crc32|crc32c|crc64nvme|sha1|sha256)$/.test(k)) continue;
    out[k] = v;
  }
  return out;
}

/**
 * A body of unknown length (Transfer-Encoding: chunked without Content-Length) is refused, as AWS does,
 * except the aws-chunked encoding, whose decoded length is declared in x-amz-decoded-content-length:
 * otherwise the object size limits could not be checked before the bytes arrive.
 */
function requireContentLength(headers: IncomingRequest['headers']): void {
  const te = header(headers, 'transfer-encoding');
  if (te === undefined || header(headers, 'content-length') !== undefined) return;
  if (!te.toLowerCase().split(',').some((t) => t.trim() === 'chunked')) return;
  const awsChunked = (header(headers, 'x-amz-content-sha256') ?? '').startsWith('STREAMING-') || (header(headers, 'content-encoding') ?? '').toLowerCase().split(',').some((t) => t.trim() === 'aws-chunked');
  if (!awsChunked) throw new ServiceError('MissingContentLength', 411, 'You must provide the Content-Length HTTP header.');
}

export class RequestPipeline {
  /** The web console's static files (/_console/); the console itself calls the signed endpoints. */
  private readonly consoleAssets = new ConsoleAssets();
  /** Split mode: checks peer requests (and remembers their nonces) for every listener. */
  private readonly peers: PeerVerifier | undefined;

  /** The virtual-host domains, longest first (sorted once, not per request). */
  private readonly domainsLongestFirst: string[];

  constructor(private readonly fabric: Fabric) {
    if (fabric.config.split) this.peers = new PeerVerifier(fabric.config.split.keys);
    this.domainsLongestFirst = [...fabric.config.virtualHostDomains].sort((a, b) => b.length - a.length);
  }

  private errorResponse(protocol: Protocol, req: IncomingRequest, e: unknown, resource?: string, xmlns: string = IAM_XMLNS): ServiceResponse {
    let err: ServiceError;
    const full = isServiceError(e) ? undefined : storageFullError(e);
    if (isServiceError(e)) {
      err = unavailableErrorFor(protocol, e);
    } else if (full) {
      const fault = storageFaultOf(e);
      this.fabric.log.warn({ err: e, requestId: req.requestId, method: req.method, path: req.rawPath }, fault === 'unavailable' ? 'metadata database unavailable' : fault === 'busy' ? 'metadata database locked past the busy timeout' : 'out of storage space');
      // SlowDown is S3's word; KMS and IAM clients know a 503 ServiceUnavailable (and retry either).
      err = fault === 'busy' && protocol !== 'restXml' ? new ServiceError('ServiceUnavailable', 503, full.message, {}, full.headers) : full;
    } else {
      this.fabric.log.error({ err: e, requestId: req.requestId, method: req.method, path: req.rawPath, diskFault: storageFaultOf(e) }, 'internal error');
      err = new ServiceError(protocol === 'json' ? 'KMSInternalException' : protocol === 'query' ? 'ServiceFailure' : 'InternalError', 500, 'We encountered an internal error. Please try again.');
    }
    if (protocol === 'json') return jsonError(err, req.requestId);
    if (protocol === 'query') return queryError(err, xmlns, req.requestId);
    return restXmlError(err, req.method, req.requestId, req.hostId, resource);
  }

  /** Stage 1: which service and region. */
  private route(req: IncomingRequest, signing: SigningRequest): { service: Service; region: string | undefined } {
    const scope = readCredentialScope(signing);
    if (!scope) return { service: serviceOfUnsigned(req), region: undefined };
    const service = scope.service as Service;
    if (!(service in PROTOCOL)) {
      throw new ServiceError('InvalidRequest', 400, `Meridian does not serve the '${scope.service}' service; it serves s3, kms, iam and sts.`);
    }
    if (!isKnownRegion(scope.region)) {
      throw new ServiceError('AuthorizationHeaderMalformed', 400, `The authorization header is malformed; the region '${scope.region}' is wrong; Meridian does not know this region.`);
    }
    return { service, region: scope.region };
  }

  /** Stages 2–3: SigV4 and the caller behind the key. */
  private async authenticate(signing: SigningRequest, s3: boolean, req: IncomingRequest, bodySha256?: string): Promise<{ caller: Caller; sig?: VerifiedSignature }> {
    const base = { secureTransport: req.secure, sourceIp: req.remoteAddress, loopback: isLoopback(req.remoteAddress), requestId: req.requestId };
    const scope = readCredentialScope(signing);
    if (!scope) {
      const principal: Principal = { type: 'Anonymous' };
      return { caller: { principal, ...base } };
    }
    // Signatures are checked against the wall clock, not the (possibly advanced) business clock.
    // One read of the access key serves both the signature check and the caller's identity.
    const identity = this.fabric.identity.forRequest();
    const opts: Parameters<typeof verifySignature>[1] = { lookup: identity.lookup, now: Date.now(), s3 };
    if (bodySha256 !== undefined) opts.bodySha256 = bodySha256;
    const sig = await verifySignature(signing, opts);
    const resolved = await identity.resolve(sig.accessKeyId);
    const caller: Caller = { principal: resolved.principal, accessKeyId: sig.accessKeyId, ...base, authType: sig.kind === 'presigned' ? 'REST-QUERY-STRING' : 'REST-HEADER' };
    if (resolved.sessionPolicy) caller.sessionPolicy = resolved.sessionPolicy;
    if (resolved.sessionPolicyArns) caller.sessionPolicyArns = resolved.sessionPolicyArns;
    if (resolved.credentialSource) caller.credentialSource = resolved.credentialSource;
    if (resolved.tokenIssueTime !== undefined) caller.tokenIssueTime = resolved.tokenIssueTime;
    return { caller, sig };
  }

  /**
   * Split mode: a request that claims to come from a peer must verify, or it is refused (nothing of
   * it is applied). A verified one may speak for the original client (address, transport) and gets
   * a signed answer. Anyone else's x-meridian-peer-* headers mean nothing.
   */
  async handle(incoming: IncomingRequest): Promise<ServiceResponse> {
    if (!this.peers || !claimsPeer(incoming.headers)) return this.dispatch(incoming);
    let peer: VerifiedPeerRequest;
    try {
      peer = this.peers.verify(incoming.method, incoming.rawPath, incoming.rawQuery, incoming.headers);
      // Several gateways on one PostgreSQL database: each one's cache alone would let a request
      // captured on its way to one gateway be replayed to another, so they share the nonces.
      if (this.fabric.peerNonces) await rememberShared(this.fabric.peerNonces, peer);
    } catch (e) {
      if (!(e instanceof PeerAuthError)) throw e;
      this.fabric.log.warn({ requestId: incoming.requestId, from: incoming.remoteAddress, path: incoming.rawPath, reason: e.message }, 'peer request refused');
      // Just after a restart a fresh request may predate it: worth sending again, unlike a forgery.
      const err = e.retryable ? new ServiceError('ServiceUnavailable', 503, `Peer request not accepted: ${e.message}`) : new ServiceError('AccessDenied', 403, `Peer authentication failed: ${e.message}`);
      const refused = incoming.rawPath.startsWith(INTERNAL_PREFIX) ? plainJson(err.status, { error: { code: err.code, message: err.message } }) : restXmlError(err, incoming.method, incoming.requestId, incoming.hostId);
      refused.headers.connection = 'close';
      return refused;
    }
    let req = peer.client ? { ...incoming, remoteAddress: peer.client.address, secure: peer.client.secure } : incoming;
    // A relayed request whose body the peer signed whole: checked before anything acts on it.
    let refused: ServiceResponse | undefined;
    if (/^[0-9a-f]{64}$/.test(peer.content) && !incoming.rawPath.startsWith(INTERNAL_PREFIX)) {
      try {
        const buf = await readBody(incoming.body, SIGNED_REQUEST_BODY, header(incoming.headers, 'content-length'));
        if (sha256Hex(buf) !== peer.content) throw new ServiceError('BadDigest', 400, 'The request body does not match the digest the relaying peer signed (altered in transit)');
        req = { ...req, body: Readable.from(buf.length ? [buf] : []) };
      } catch (e) {
        if (!isServiceError(e)) throw e;
        refused = restXmlError(e, incoming.method, incoming.requestId, incoming.hostId);
      }
    }
    let response = refused ?? (await this.dispatch(req, peer));
    const body = response.body;
    let content: string;
    if (body === undefined) content = sha256Hex('');
    else if (req.method === 'HEAD') content = UNSIGNED;
    else if (typeof body === 'string' || Buffer.isBuffer(body)) content = sha256Hex(body);
    else {
      // Streamed (object data): chunked, closed by a signed trailer.
      response = streamWithTrailer(this.peers.keys, peer.signature, { ...response, body });
      content = TRAILER;
    }
    return { ...response, headers: signPeerResponse(this.peers.keys, peer.signature, response.status, response.headers, content) };
  }

  private async dispatch(req: IncomingRequest, peer?: VerifiedPeerRequest): Promise<ServiceResponse> {
    const signing: SigningRequest = { method: req.method, rawPath: req.rawPath, rawQuery: req.rawQuery, headers: req.headers };
    let service: Service = 's3';
    if (isTestClockRequest(this.fabric.clock, this.fabric.config.testClock, isLoopback(req.remoteAddress), req.rawPath)) {
      return handleTestClock(this.fabric.clock, req.method, await readBody(req.body, 4096, header(req.headers, 'content-length')));
    }
    if (isConsolePath(req.rawPath) && !this.isVirtualHosted(req)) return this.consoleAssets.serve(req.method, req.rawPath, req.headers);
    if (req.rawPath.startsWith(INTERNAL_PREFIX)) return this.handleInternal(req, signing, peer);
    if (AdminApi.matches(req.rawPath)) return this.handleAdmin(req, signing);
    try {
      const routed = this.route(req, signing);
      service = routed.service;
      // Split mode: S3 and KMS requests for a region another process serves go there as they are.
      if (routed.region && (service === 's3' || service === 'kms') && !this.fabric.serves(routed.region)) return await this.proxy(req, routed.region);
      if (service === 's3') return await this.handleS3(req, signing, routed.region);
      return await this.handleBuffered(req, signing, service, routed.region ?? 'us-east-1');
    } catch (e) {
      return this.errorResponse(PROTOCOL[service], req, e, undefined, service === 'sts' ? STS_XMLNS : IAM_XMLNS);
    }
  }

  // ------------------------------------------------------------------------------ Meridian

  /** Pass a request to the process serving its region (split mode). */
  private async proxy(req: IncomingRequest, region: string): Promise<ServiceResponse> {
    const peer = this.fabric.peerFor(region);
    if (!peer) throw new ServiceError('InvalidRequest', 400, `Region ${region} is not served by this Meridian process and no --peer serves it.`);
    const split = this.fabric.config.split!;
    return proxyToPeer(peer, { ...req, client: { address: req.remoteAddress, secure: req.secure } }, split.keys, split.ca, split.timeouts);
  }

  /** /_meridian/internal/: what peer processes ask (split mode). */
  private async handleInternal(req: IncomingRequest, signing: SigningRequest, peer: VerifiedPeerRequest | undefined): Promise<ServiceResponse> {
    const split = this.fabric.config.split;
    if (!split) return plainJson(404, { error: { code: 'NotFound', message: 'Not in split mode' } });
    const deps: Parameters<typeof handleInternal>[0] = {
      keys: split.keys,
      bucket: (region, name) => this.fabric.bucketRecord(region, name),
      serves: (region) => this.fabric.serves(region),
      writer: this.fabric.replicaWriter,
      authenticate: async () => (await this.authenticate(signing, true, req)).caller,
    };
    if (split.regions.includes(split.home)) deps.homeStores = this.fabric.global;
    const internal: Parameters<typeof handleInternal>[1] = { method: req.method, rawPath: req.rawPath, headers: req.headers, body: req.body, requestId: req.requestId };
    if (peer) internal.peer = peer;
    return handleInternal(deps, internal);
  }

  /** /_meridian/ endpoints: signed like S3 requests (service s3, any region), small bodies. */
  private async handleAdmin(req: IncomingRequest, signing: SigningRequest): Promise<ServiceResponse> {
    // A bucket in a region another process serves: that process answers (split mode).
    const bucket = new URLSearchParams(req.rawQuery).get('bucket');
    if (bucket && this.fabric.config.split) {
      let entry: Awaited<ReturnType<typeof this.fabric.global.directory.lookup>>;
      try {
        entry = await this.fabric.global.directory.lookup(bucket);
      } catch (e) {
        // Without the home, where the bucket lives is unknown: answering from here could be wrong.
        if (isDependencyUnavailable(e)) return { ...plainJson(503, { error: { code: e.code, message: e.message } }), headers: { 'content-type': 'application/json', ...e.headers } };
        entry = undefined;
      }
      if (entry && !this.fabric.serves(entry.region) && this.fabric.peerFor(entry.region)) return this.proxy(req, entry.region).catch((e) => plainJson(503, { error: { code: 'ServiceUnavailable', message: String(e instanceof Error ? e.message : e) } }));
    }
    let adminBody: Buffer | undefined;
    const admin = new AdminApi(this.fabric, async () => {
      const body = await readBody(req.body, SMALL_BODY_LIMIT, header(req.headers, 'content-length'));
      adminBody = body;
      const declared = header(req.headers, 'x-amz-content-sha256');
      const actual = createHash('sha256').update(body).digest('hex');
      if (declared !== undefined && /^[0-9a-f]{64}$/i.test(declared) && declared.toLowerCase() !== actual) {
        throw new ServiceError('XAmzContentSHA256Mismatch', 400, 'The provided \'x-amz-content-sha256\' header does not match what was computed.');
      }
      return (await this.authenticate(signing, true, req)).caller;
    }, () => adminBody ?? Buffer.alloc(0));
    const adminReq: Parameters<AdminApi['handle']>[0] = { method: req.method, rawPath: req.rawPath, rawQuery: req.rawQuery, requestId: req.requestId };
    const authorization = header(req.headers, 'authorization');
    if (authorization !== undefined) adminReq.authorization = authorization;
    return admin.handle(adminReq);
  }

  // ------------------------------------------------------------------------------------ S3

  /** Whether the Host names a bucket (virtual-hosted style): then '/_console/…' is an object key. */
  private isVirtualHosted(req: IncomingRequest): boolean {
    const host = (header(req.headers, 'host') ?? '').replace(/:\d+$/, '').toLowerCase();
    const domains = this.fabric.config.virtualHostDomains;
    return !domains.includes(host) && domains.some((d) => host.endsWith(`.${d}`));
  }

  private bucketAndKey(req: IncomingRequest): { bucket?: string; key?: string } {
    const host = (header(req.headers, 'host') ?? '').replace(/:\d+$/, '').toLowerCase();
    const path = req.rawPath;
    // The endpoint's own host (e.g. s3.localhost) is path-style; otherwise the longest matching
    // domain wins, so bucket.s3.localhost is 'bucket' under s3.localhost, not 'bucket.s3'.
    const domain = this.fabric.config.virtualHostDomains.includes(host) ? undefined : this.domainsLongestFirst.find((d) => host.endsWith(`.${d}`));
    if (domain) {
      const bucket = host.slice(0, -domain.length - 1);
      // '/' alone (or nothing) addresses the bucket itself.
      const key = path.length > 1 ? decodeURIComponent(path.slice(1)) : undefined;
      return key === undefined ? { bucket } : { bucket, key };
    }
    const m = /^\/([^/]+)(?:\/(.*))?$/.exec(path);
    if (!m) return {};
    const bucket = decodeURIComponent(m[1]!);
    // SDK v3 addresses a bucket as '/bucket/': an empty key means the bucket itself.
    return m[2] === undefined || m[2] === '' ? { bucket } : { bucket, key: decodeURIComponent(m[2]) };
  }

  private async handleS3(req: IncomingRequest, signing: SigningRequest, signedRegion: string | undefined): Promise<ServiceResponse> {
    const { bucket, key } = (() => {
      try {
        return this.bucketAndKey(req);
      } catch {
        throw new ServiceError('InvalidURI', 400, "Couldn't parse the specified URI.");
      }
    })();
    const resource = bucket ? `/${bucket}${key !== undefined ? `/${key}` : ''}` : undefined;
    try {
      requireContentLength(req.headers);
      let region = signedRegion;
      if (region === undefined) {
        // Anonymous requests have no signing region: they go to the bucket's own region.
        const entry = bucket ? await this.fabric.global.directory.lookup(bucket) : undefined;
        region = entry?.region ?? 'us-east-1';
        if (!this.fabric.serves(region)) return await this.proxy(req, region);
      }
      let auth: { caller: Caller; sig?: VerifiedSignature };
      auth = await this.authenticate(signing, true, req);
      const minBytes = this.fabric.config.digestThreadMinBytes;
      const verifier = createPayloadVerifier(auth.sig, payloadHeaders(req), minBytes === null ? {} : { digestThreadMinBytes: minBytes });
      joinBody(req.body, verifier.stream);
      const s3Request: S3Request = {
        method: req.method,
        query: new URLSearchParams(req.rawQuery),
        headers: flatHeaders(req.headers),
        body: verifier.stream,
        payload: verifier.result,
        withoutMd5: verifier.withoutMd5,
        caller: auth.caller,
        region,
        requestId: req.requestId,
      };
      if (bucket !== undefined) s3Request.bucket = bucket;
      if (key !== undefined) s3Request.key = key;
      const runtime = this.fabric.region(region);
      return await runtime.s3.handle(s3Request);
    } catch (e) {
      return this.errorResponse('restXml', req, e, resource);
    }
  }

  // -------------------------------------------------------------------- KMS, IAM and STS

  private async handleBuffered(req: IncomingRequest, signing: SigningRequest, service: Exclude<Service, 's3'>, region: string): Promise<ServiceResponse> {
    const protocol = PROTOCOL[service];
    const body = await readBody(req.body, SMALL_BODY_LIMIT, header(req.headers, 'content-length'));
    let auth: { caller: Caller };
    try {
      auth = await this.authenticate(signing, false, req, createHash('sha256').update(body).digest('hex'));
    } catch (e) {
      throw isServiceError(e) ? authErrorFor(protocol === 'json' ? 'json' : 'query', e) : e;
    }
    const caller = auth.caller;
    if (service === 'kms') {
      const target = header(req.headers, 'x-amz-target') ?? '';
      const operation = target.startsWith('TrentService.') ? target.slice('TrentService.'.length) : '';
      const handler = KMS_OPERATIONS[operation];
      if (!handler) throw new ServiceError('UnknownOperationException', 400, operation ? `Meridian does not implement KMS ${operation} yet.` : 'Missing X-Amz-Target');
      if (caller.principal.type === 'Anonymous') throw new ServiceError('MissingAuthenticationTokenException', 400, 'Missing Authentication Token');
      const input = parseJsonBody(body);
      const output = await handler(this.fabric.region(region).kms, caller, input, this.fabric.authorizer);
      return jsonResponse(req.requestId, output);
    }
    const params = parseQueryParams(req.method === 'GET' ? req.rawQuery : body.toString('utf8'));
    const action = params.get('Action');
    const xmlns = PROTOCOL_XMLNS[service];
    try {
      if (!action) throw new ServiceError('MissingAction', 400, 'Missing Action');
      if (caller.principal.type === 'Anonymous') throw new ServiceError('MissingAuthenticationToken', 403, 'Request is missing Authentication Token');
      if (service === 'iam') {
        const handler = IAM_OPERATIONS[action];
        if (!handler) throw new ServiceError('InvalidAction', 400, `Could not find operation ${action} for version 2010-05-08`);
        // GetSessionToken credentials reach IAM only with MFA, which Meridian does not model.
        if (caller.credentialSource === 'GetSessionToken') {
          throw new ServiceError('AccessDenied', 403, `Temporary credentials from GetSessionToken cannot call IAM ${action} without MFA.`);
        }
        const result = await handler({ store: this.fabric.global.iam, authorizer: this.fabric.authorizer, clock: this.fabric.clock }, caller, params);
        return queryResponse(action, xmlns, req.requestId, result);
      }
      const handler = STS_OPERATIONS[action];
      if (!handler) throw new ServiceError('InvalidAction', 400, `Could not find operation ${action} for version 2011-06-15`);
      const result = await handler(this.fabric.sts, caller, params);
      return queryResponse(action, xmlns, req.requestId, result);
    } catch (e) {
      if (isServiceError(e)) return queryError(e, xmlns, req.requestId);
      throw e;
    }
  }
}

function plainJson(status: number, body: unknown): ServiceResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

const PROTOCOL_XMLNS: Record<'iam' | 'sts', string> = { iam: IAM_XMLNS, sts: STS_XMLNS };
