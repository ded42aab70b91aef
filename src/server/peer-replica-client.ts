/**
 * Split mode, sending side: a replica write to a destination region another process serves, as an
 * internal S3-like request signed (SigV4) with the replication role's session credentials and
 * authenticated as a peer request (peer-protocol.ts; body framed and tagged, replica-framing.ts). The
 * destination verifies the signature and authorizes the role itself (s3:ReplicateObject, its
 * bucket policy, kms:Encrypt under its key policy), exactly as for the in-process path.
 * Small objects travel in bundles (replica-bundler.ts), several replicas to one request; larger
 * ones, dry runs, delete markers and tag changes in a request each.
 * A failure reason in the answer is permanent (FAILED); anything else — the peer down, 5xx, a
 * timeout — is transient and retried.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { ReplicationFailure, type FailureReason } from '../replication/failure.js';
import type { DestinationBucket, RoleCredentials, SourceVersion, WriteOptions } from '../replication/ports.js';
import type { ObjectVersion } from '../storage/types.js';
import type { RemoteReplicaWriter, ReplicaSettings } from '../services/s3/replica-writer.js';
import { recordRemoteDecisions } from '../services/s3/replication-explain.js';
import { encodeBundle, encodeEnvelope, replicaBody, replicaBytes, REPLICA_BUNDLE_PATH, REPLICA_PATH, sealedForWire, versionForWire, wirePartSize, type BundleItem, type ReplicaEnvelope } from '../services/s3/replica-wire.js';
import { signRequest } from './auth/index.js';
import { sha256Hex, signPeerRequest, verifyPeerResponse } from './peer-protocol.js';
import { boundConnect } from './peer-timeouts.js';
import { DEFAULT_PEER_TIMEOUTS, type SplitConfig } from './peers.js';
import { frameReplica, frameReplicaBuffer } from './replica-framing.js';
import type { ReplicaAnswerError } from './internal-api.js';
import { ReplicaBundler, type BundleLimits } from './replica-bundler.js';

/** Small replicas (whole in memory) go in bundles; larger ones stream in a request of their own. */
const BUNDLE_ITEM_MAX_BYTES = 256 * 1024;

interface PeerAnswer {
  status: number;
  answer: { error?: ReplicaAnswerError; results?: { error?: ReplicaAnswerError }[]; decisions?: Parameters<typeof recordRemoteDecisions>[0] };
}

/** A failure the destination reported for one replica: a reason is permanent (FAILED), anything else is retried. */
function replicaError(baseUrl: string, status: number | 'bundled', error: ReplicaAnswerError | undefined): Error {
  if (error?.reason) return new ReplicationFailure(error.reason as FailureReason, error.message ?? error.reason, error.detail);
  const what = status === 'bundled' ? 'did not write a replica of the bundle' : `answered HTTP ${status}`;
  return new Error(`peer ${baseUrl} ${what}${error?.code ? ` ${error.code}: ${error.message}` : ''}`);
}

export class PeerReplicaClient implements RemoteReplicaWriter {
  /** Cleared when the peer does not know bundles (an older version): replicas then go one by one. */
  private bundles = true;
  readonly bundler: ReplicaBundler<RoleCredentials>;

  constructor(
    private readonly baseUrl: string,
    /** The peer keys, and the CA certificate(s) to trust for an https peer. */
    private readonly split: Pick<SplitConfig, 'keys' | 'ca' | 'timeouts'>,
    bundleLimits: Partial<BundleLimits> = {},
  ) {
    this.bundler = new ReplicaBundler((creds, items) => this.sendBundle(creds, items), bundleLimits);
  }

  /**
   * One signed request to the peer and its verified answer. The role signs (the destination
   * authorizes it); the peer keys authenticate the request, its body and the answer.
   */
  private async exchange(creds: RoleCredentials, region: string, path: string, content: string, length: number, body: (signature: string) => Buffer | Readable): Promise<PeerAnswer> {
    const url = new URL(path, this.baseUrl);
    const headers = signRequest(
      { method: 'PUT', url, headers: { 'content-length': String(length), 'content-type': 'application/octet-stream' }, body: 'UNSIGNED-PAYLOAD' },
      { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, sessionToken: creds.sessionToken },
      region,
      's3',
    );
    const peer = signPeerRequest(this.split.keys, { method: 'PUT', path, query: '', content });
    Object.assign(headers, peer.headers);
    const https = url.protocol === 'https:';
    const payload = body(peer.signature);
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(url, { method: 'PUT', headers, timeout: 120_000, ...(https && this.split.ca ? { ca: this.split.ca } : {}) }, resolve);
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error(`peer ${this.baseUrl} timed out`)));
      // The transfer has its own long idle timeout; a destination that does not even connect is known in seconds.
      boundConnect(req, https, (this.split.timeouts ?? DEFAULT_PEER_TIMEOUTS).connectMs, url.origin);
      if (Buffer.isBuffer(payload)) req.end(payload);
      else pipeline(payload, req).catch((e: unknown) => req.destroy(e instanceof Error ? e : new Error(String(e))));
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of res) {
      size += (c as Buffer).length;
      if (size > 16 * 1024 * 1024) {
        res.destroy();
        throw new Error(`peer ${this.baseUrl} answered a replica with more than 16 MiB`);
      }
      chunks.push(c as Buffer);
    }
    const raw = Buffer.concat(chunks);
    // An answer that does not verify is not the destination's: retried, never taken as done or failed.
    try {
      const verified = verifyPeerResponse(this.split.keys, peer.signature, res.statusCode ?? 0, res.headers);
      if (verified.content !== sha256Hex(raw)) throw new Error('its body does not match its signed digest');
    } catch (e) {
      throw new Error(`peer ${this.baseUrl} answered HTTP ${res.statusCode} without a valid peer signature: ${e instanceof Error ? e.message : String(e)}`);
    }
    let answer: PeerAnswer['answer'] = {};
    try {
      answer = JSON.parse(raw.toString('utf8')) as PeerAnswer['answer'];
    } catch {
      answer = {};
    }
    return { status: res.statusCode ?? 0, answer };
  }

  /** `data`: the object's bytes, streamed, or (a small object) whole in memory. */
  private async send(creds: RoleCredentials, envelope: ReplicaEnvelope, data?: { stream: Readable; length: number } | Buffer): Promise<void> {
    const json = encodeEnvelope(envelope);
    const framed = Buffer.isBuffer(data) ? frameReplicaBuffer(json, data) : frameReplica(json, data?.stream, data?.length ?? 0);
    const { status, answer } = await this.exchange(creds, envelope.destination.region, REPLICA_PATH, framed.content, framed.length, (signature) => framed.body(this.split.keys, signature));
    // A dry run (explain) brings back the destination's decisions.
    if (envelope.dryRun && answer.decisions) recordRemoteDecisions(answer.decisions);
    if (status === 200) return;
    throw replicaError(this.baseUrl, status, answer.error);
  }

  /** One bundle; each replica's outcome in order. A peer that does not know bundles gets them one by one. */
  private async sendBundle(creds: RoleCredentials, items: BundleItem[]): Promise<(Error | undefined)[]> {
    if (this.bundles) {
      const body = encodeBundle(items);
      const { status, answer } = await this.exchange(creds, items[0]!.envelope.destination.region, REPLICA_BUNDLE_PATH, sha256Hex(body), body.length, () => body);
      if (status === 200 && Array.isArray(answer.results)) return answer.results.map((r) => (r?.error ? replicaError(this.baseUrl, 'bundled', r.error) : undefined));
      if (status !== 404 || answer.error?.code !== 'NotFound') throw replicaError(this.baseUrl, status, answer.error);
      this.bundles = false;
    }
    return Promise.all(items.map((i) => this.send(creds, i.envelope, i.data).then(() => undefined, (e: unknown) => (e instanceof Error ? e : new Error(String(e))))));
  }

  async writeReplica(creds: RoleCredentials, destination: DestinationBucket, settings: ReplicaSettings, source: SourceVersion, opts: WriteOptions = {}): Promise<void> {
    const envelope: ReplicaEnvelope = {
      op: 'object',
      destination,
      version: versionForWire(source.version),
      parts: source.parts.map((p) => {
        const part: NonNullable<ReplicaEnvelope['parts']>[number] = { partNumber: p.partNumber, size: p.size };
        if (p.etag !== undefined) part.etag = p.etag;
        if (p.checksum) part.checksum = p.checksum;
        return part;
      }),
      settings,
    };
    if (source.tags) envelope.tags = source.tags;
    const sealed = sealedForWire(source);
    if (sealed) envelope.sealed = sealed;
    if (opts.dryRun) {
      envelope.dryRun = true;
      return this.send(creds, envelope);
    }
    const whole = replicaBytes(source);
    if (whole && whole.length <= BUNDLE_ITEM_MAX_BYTES) {
      return this.bundler.add(`${envelope.destination.region}\n${creds.accessKeyId}\n${creds.sessionToken ?? ''}`, creds, { envelope, data: whole });
    }
    if (whole) return this.send(creds, envelope, whole);
    return this.send(creds, envelope, { stream: replicaBody(source), length: source.parts.reduce((n, p) => n + wirePartSize(sealed !== undefined, p.size), 0) });
  }

  async writeDeleteMarker(creds: RoleCredentials, destination: DestinationBucket, marker: ObjectVersion, opts: WriteOptions = {}): Promise<void> {
    const envelope: ReplicaEnvelope = { op: 'delete-marker', destination, version: versionForWire(marker) };
    if (opts.dryRun) envelope.dryRun = true;
    return this.send(creds, envelope);
  }

  async writeTags(creds: RoleCredentials, destination: DestinationBucket, key: string, versionId: string, tags: Record<string, string> | undefined, opts: WriteOptions = {}): Promise<void> {
    const envelope: ReplicaEnvelope = { op: 'tags', destination, key, versionId };
    if (tags) envelope.tags = tags;
    if (opts.dryRun) envelope.dryRun = true;
    return this.send(creds, envelope);
  }
}
