/**
 * Split mode, sending side: a replica write to a destination region another process serves, as an
 * internal S3-like request signed (SigV4) with the replication role's session credentials and
 * authenticated as a peer request (peer-protocol.ts; body framed and tagged, replica-framing.ts). The
 * destination verifies the signature and authorizes the role itself (s3:ReplicateObject, its
 * bucket policy, kms:Encrypt under its key policy), exactly as for the in-process path.
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
import { encodeEnvelope, replicaBody, replicaBytes, REPLICA_PATH, sealedForWire, versionForWire, wirePartSize, type ReplicaEnvelope } from '../services/s3/replica-wire.js';
import { signRequest } from './auth/index.js';
import { sha256Hex, signPeerRequest, verifyPeerResponse } from './peer-protocol.js';
import { boundConnect } from './peer-timeouts.js';
import { DEFAULT_PEER_TIMEOUTS, type SplitConfig } from './peers.js';
import { frameReplica, frameReplicaBuffer } from './replica-framing.js';

export class PeerReplicaClient implements RemoteReplicaWriter {
  constructor(
    private readonly baseUrl: string,
    /** The peer keys, and the CA certificate(s) to trust for an https peer. */
    private readonly split: Pick<SplitConfig, 'keys' | 'ca' | 'timeouts'>,
  ) {}

  /** `data`: the object's bytes, streamed, or (a small object) whole in memory. */
  private async send(creds: RoleCredentials, envelope: ReplicaEnvelope, data?: { stream: Readable; length: number } | Buffer): Promise<void> {
    const url = new URL(REPLICA_PATH, this.baseUrl);
    const json = encodeEnvelope(envelope);
    const framed = Buffer.isBuffer(data) ? frameReplicaBuffer(json, data) : frameReplica(json, data?.stream, data?.length ?? 0);
    // The role signs (the destination authorizes it); the peer keys authenticate the request, its body and the answer.
    const headers = signRequest(
      { method: 'PUT', url, headers: { 'content-length': String(framed.length), 'content-type': 'application/octet-stream' }, body: 'UNSIGNED-PAYLOAD' },
      { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, sessionToken: creds.sessionToken },
      envelope.destination.region,
      's3',
    );
    const peer = signPeerRequest(this.split.keys, { method: 'PUT', path: REPLICA_PATH, query: '', content: framed.content });
    Object.assign(headers, peer.headers);
    const https = url.protocol === 'https:';
    const body = framed.body(this.split.keys, peer.signature);
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(url, { method: 'PUT', headers, timeout: 120_000, ...(https && this.split.ca ? { ca: this.split.ca } : {}) }, resolve);
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error(`peer ${this.baseUrl} timed out`)));
      // The transfer has its own long idle timeout; a destination that does not even connect is known in seconds.
      boundConnect(req, https, (this.split.timeouts ?? DEFAULT_PEER_TIMEOUTS).connectMs, url.origin);
      if (Buffer.isBuffer(body)) req.end(body);
      else pipeline(body, req).catch((e: unknown) => req.destroy(e instanceof Error ? e : new Error(String(e))));
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
    const text = raw.toString('utf8');
    let answer: { error?: { code?: string; message?: string; reason?: string; detail?: string }; decisions?: Parameters<typeof recordRemoteDecisions>[0] } = {};
    try {
      answer = JSON.parse(text) as typeof answer;
    } catch {
      answer = {};
    }
    // A dry run (explain) brings back the destination's decisions.
    if (envelope.dryRun && answer.decisions) recordRemoteDecisions(answer.decisions);
    if (res.statusCode === 200) return;
    const error = answer.error;
    if (error?.reason) throw new ReplicationFailure(error.reason as FailureReason, error.message ?? error.reason, error.detail);
    throw new Error(`peer ${this.baseUrl} answered HTTP ${res.statusCode}${error?.code ? ` ${error.code}: ${error.message}` : ''}`);
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
