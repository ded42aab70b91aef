/**
 * Split mode, receiving side: what other Meridian processes ask of this one. Every request here
 * must come from an authenticated peer (peer-protocol.ts; the pipeline verifies it and signs the
 * answer):
 *   POST /_meridian/internal/global   the global stores (home process only); sealed JSON
 *   POST /_meridian/internal/bucket   a bucket record of a region served here; sealed JSON
 *   PUT  /_meridian/internal/replica  a replica, delete marker or tag change, framed and tagged
 *        (replica-framing.ts) and signed, in addition, with the replication role's own credentials:
 *        authenticated with SigV4 and authorized here by the same ReplicaWriter the in-process
 *        path uses. The peer secret alone gives no access to it.
 *   PUT  /_meridian/internal/replicas a bundle of small object replicas (replica-wire.ts), signed the
 *        same two ways; each is authorized and written on its own and answered in a list.
 */
import { Readable } from 'node:stream';
import { ServiceError, isServiceError } from '../common/errors.js';
import { ReplicationFailure } from '../replication/failure.js';
import type { SourceVersion } from '../replication/ports.js';
import type { Caller } from '../services/caller.js';
import type { ServiceResponse } from '../services/protocol/response.js';
import type { ReplicaWriter } from '../services/s3/replica-writer.js';
import { BUNDLE_MAX_BYTES, decodeBundle, decodeEnvelope, REPLICA_BUNDLE_PATH, REPLICA_PATH, sourceFromWire, sourceFromWireBytes, versionFromWire, type ReplicaEnvelope } from '../services/s3/replica-wire.js';
import { withRecordedDecisions } from '../services/s3/replication-explain.js';
import type { GlobalStores } from '../storage/index.js';
import type { BucketRecord } from '../storage/types.js';
import { openRpc, sealRpc, sha256Hex, type PeerKeys, type VerifiedPeerRequest } from './peer-protocol.js';
import { parseFramedReplica, readFramedReplica } from './replica-framing.js';
import { GLOBAL_RPC_PATH, serveGlobalRpc } from './remote-global-stores.js';

export const INTERNAL_PREFIX = '/_meridian/internal/';
export const BUCKET_RPC_PATH = '/_meridian/internal/bucket';

export interface InternalRequest {
  method: string;
  rawPath: string;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
  requestId: string;
  /** The authenticated peer behind the request, if it verified. */
  peer?: VerifiedPeerRequest;
}

export interface InternalApiDeps {
  keys: PeerKeys;
  /** The local global stores, when this process is the home. */
  homeStores?: GlobalStores;
  /** A bucket of a region served here. */
  bucket(region: string, name: string): Promise<BucketRecord | undefined>;
  serves(region: string): boolean;
  writer: ReplicaWriter;
  /** SigV4 (S3 rules) → the caller. */
  authenticate(): Promise<Caller>;
}

function json(status: number, body: unknown): ServiceResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

async function readAll(body: Readable, limit: number): Promise<Buffer> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of body) {
    size += (c as Buffer).length;
    if (size > limit) throw new ServiceError('RequestEntityTooLarge', 413, 'Request body too large');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function handleInternal(deps: InternalApiDeps, req: InternalRequest): Promise<ServiceResponse> {
  try {
    if (!req.peer) throw new ServiceError('AccessDenied', 403, 'Internal endpoints answer authenticated peers only (x-meridian-peer-* headers)');
    if (req.method === 'PUT' && req.rawPath === REPLICA_PATH) return await replica(deps, req, req.peer);
    if (req.method === 'PUT' && req.rawPath === REPLICA_BUNDLE_PATH) return await replicaBundle(deps, req, req.peer);
    if (req.method !== 'POST' || (req.rawPath !== GLOBAL_RPC_PATH && req.rawPath !== BUCKET_RPC_PATH)) {
      throw new ServiceError('NotFound', 404, `No internal endpoint ${req.method} ${req.rawPath}`);
    }
    const body = await readAll(req.body, 8 * 1024 * 1024);
    if (sha256Hex(body) !== req.peer.content) throw new ServiceError('BadDigest', 400, 'The body does not match the digest the peer signed');
    const call = JSON.parse(openRpc(deps.keys.requestEnc, body).toString('utf8')) as Record<string, unknown>;
    let result: unknown;
    if (req.rawPath === GLOBAL_RPC_PATH) {
      if (!deps.homeStores) throw new ServiceError('InvalidRequest', 400, 'This process does not own the global stores');
      result = await serveGlobalRpc(deps.homeStores, call);
    } else {
      const region = String(call.region);
      if (!deps.serves(region)) throw new ServiceError('InvalidRequest', 400, `Region ${region} is not served here`);
      result = await deps.bucket(region, String(call.name));
    }
    // Answers carry secrets (secret access keys, session tokens): sealed for the caller.
    return { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: sealRpc(deps.keys.responseEnc, Buffer.from(JSON.stringify({ result }))) };
  } catch (e) {
    if (isServiceError(e)) return json(e.status, { error: { code: e.code, message: e.message } });
    return json(500, { error: { code: 'InternalError', message: e instanceof Error ? e.message : String(e) } });
  }
}

/**
 * Bodies up to this size (small objects, delete markers, tag changes) are read whole and checked
 * before anything is looked at; larger ones stream into the replica and are checked before it commits.
 */
const WHOLE_BODY_LIMIT = 256 * 1024;

/** The envelope and, for an object, its source; `done` drains what the writer left unread. */
async function receiveReplica(deps: InternalApiDeps, req: InternalRequest, peer: VerifiedPeerRequest): Promise<{ e: ReplicaEnvelope; source?: SourceVersion; done(): void }> {
  const declared = Number(req.headers['content-length']);
  if (Number.isSafeInteger(declared) && declared >= 0 && declared <= WHOLE_BODY_LIMIT) {
    // One read, no stream machinery per replica (most replicas are small objects).
    const framed = parseFramedReplica(await readAll(req.body, WHOLE_BODY_LIMIT), deps.keys, peer.signature, peer.content);
    const e = decodeEnvelope(framed.envelope);
    if (!deps.serves(e.destination.region)) throw new ServiceError('InvalidRequest', 400, `Region ${e.destination.region} is not served here`);
    // Data comes only with an object that is to be written (a dry run sends its envelope alone).
    if ((e.op !== 'object' || e.dryRun) && framed.data.length > 0) throw new ServiceError('RequestEntityTooLarge', 413, 'Request body too large');
    if (e.op !== 'object') return { e, done: () => undefined };
    return { e, source: e.dryRun ? sourceFromWire(e, Readable.from([])) : sourceFromWireBytes(e, framed.data), done: () => undefined };
  }
  const framed = await readFramedReplica(req.body, deps.keys, peer.signature, peer.content);
  const e = decodeEnvelope(framed.envelope);
  if (!deps.serves(e.destination.region)) throw new ServiceError('InvalidRequest', 400, `Region ${e.destination.region} is not served here`);
  const source = e.op === 'object' ? sourceFromWire(e, framed.data, framed.check) : undefined;
  // Without data to stream, the whole body is proven intact before anything is looked at.
  if (!source || e.dryRun) {
    await readAll(framed.data, 0);
    framed.check();
  }
  // Whatever the writer did not read (a failure before the data) is drained, so the connection can be reused.
  return { e, ...(source ? { source } : {}), done: () => void framed.data.resume() };
}

async function settle<T>(fn: () => Promise<T>): Promise<{ decisions?: undefined; result?: T; error?: unknown }> {
  try {
    return { result: await fn() };
  } catch (error) {
    return { error };
  }
}

/** How one replica's failure travels back: a reason is permanent (FAILED), anything else is retried. */
export interface ReplicaAnswerError {
  code: string;
  message: string;
  reason?: string;
  detail?: string;
}

function answerError(err: unknown): ReplicaAnswerError {
  if (err instanceof ReplicationFailure) return { code: 'ReplicationFailure', reason: err.reason, message: err.message, ...(err.detail !== undefined ? { detail: err.detail } : {}) };
  if (isServiceError(err)) return { code: err.code, message: err.message };
  return { code: 'InternalError', message: err instanceof Error ? err.message : String(err) };
}

/**
 * A bundle of small object replicas: the role is authenticated and the body checked once; then every
 * replica is authorized and written on its own, all at once (their commits share fsyncs), and the
 * answer lists each one's outcome in order. A bundle that does not verify writes nothing.
 */
async function replicaBundle(deps: InternalApiDeps, req: InternalRequest, peer: VerifiedPeerRequest): Promise<ServiceResponse> {
  const caller = await deps.authenticate();
  const body = await readAll(req.body, BUNDLE_MAX_BYTES);
  if (sha256Hex(body) !== peer.content) throw new ServiceError('BadDigest', 400, 'The replica bundle does not match the digest the peer signed (altered in transit)');
  const items = decodeBundle(body);
  const results = await Promise.all(
    items.map(async ({ envelope: e, data }) => {
      const { error } = await settle(async () => {
        if (!deps.serves(e.destination.region)) throw new ServiceError('InvalidRequest', 400, `Region ${e.destination.region} is not served here`);
        await deps.writer.writeReplica(caller, e.destination, e.settings ?? {}, sourceFromWireBytes(e, data), {});
      });
      return error === undefined ? {} : { error: answerError(error) };
    }),
  );
  return json(200, { results });
}

async function replica(deps: InternalApiDeps, req: InternalRequest, peer: VerifiedPeerRequest): Promise<ServiceResponse> {
  const caller = await deps.authenticate();
  const { e, source, done } = await receiveReplica(deps, req, peer);
  const opts = e.dryRun ? { dryRun: true } : {};
  const run = () => {
    switch (e.op) {
      case 'object':
        return deps.writer.writeReplica(caller, e.destination, e.settings ?? {}, source!, opts);
      case 'delete-marker':
        return deps.writer.writeDeleteMarker(caller, e.destination, versionFromWire(e), opts);
      case 'tags':
        return deps.writer.writeTags(caller, e.destination, e.key!, e.versionId!, e.tags, opts);
    }
  };
  // Only a dry run brings its decisions back. Recording them needs an AsyncLocalStorage, whose first
  // use turns on promise hooks for the rest of the process's life (about 4 % of a destination's CPU
  // under replication load): a replica write runs without it.
  const outcome = e.dryRun ? await withRecordedDecisions(run) : await settle(run);
  const decisions = e.dryRun ? outcome.decisions : undefined;
  done();
  if (outcome.error === undefined) return json(200, { decisions });
  const err = outcome.error;
  if (err instanceof ReplicationFailure) {
    return json(409, { error: { code: 'ReplicationFailure', reason: err.reason, message: err.message, detail: err.detail }, decisions });
  }
  if (isServiceError(err)) return json(err.status, { error: { code: err.code, message: err.message }, decisions });
  throw err;
}
