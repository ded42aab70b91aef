/**
 * Split mode, sending side: a replica write to a destination region another process serves, as an
 * internal S3-like request signed (SigV4) with the replication role's session credentials. The
 * destination verifies the signature and authorizes the role itself (s3:ReplicateObject, its
 * bucket policy, kms:Encrypt under its key policy), exactly as for the in-process path.
 * A failure reason in the answer is permanent (FAILED); anything else — the peer down, 5xx, a
 * timeout — is transient and retried.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { ReplicationFailure, type FailureReason } from '../replication/failure.js';
import type { DestinationBucket, RoleCredentials, SourceVersion, WriteOptions } from '../replication/ports.js';
import type { ObjectVersion } from '../storage/types.js';
import type { RemoteReplicaWriter, ReplicaSettings } from '../services/s3/replica-writer.js';
import { recordRemoteDecisions } from '../services/s3/replication-explain.js';
import { encodeEnvelope, replicaBody, REPLICA_HEADER, REPLICA_PATH, sealedForWire, versionForWire, wirePartSize, type ReplicaEnvelope } from '../services/s3/replica-wire.js';
import { signRequest } from './auth/index.js';

export class PeerReplicaClient implements RemoteReplicaWriter {
  constructor(
    private readonly baseUrl: string,
    /** CA certificate(s) to trust for an https peer. */
    private readonly ca?: Buffer,
  ) {}

  private async send(creds: RoleCredentials, envelope: ReplicaEnvelope, body?: { stream: Readable; length: number }): Promise<void> {
    const url = new URL(REPLICA_PATH, this.baseUrl);
    const headers = signRequest(
      { method: 'PUT', url, headers: { [REPLICA_HEADER]: encodeEnvelope(envelope), 'content-length': String(body?.length ?? 0) }, body: 'UNSIGNED-PAYLOAD' },
      { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, sessionToken: creds.sessionToken },
      envelope.destination.region,
      's3',
    );
    const https = url.protocol === 'https:';
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(url, { method: 'PUT', headers, timeout: 120_000, ...(https && this.ca ? { ca: this.ca } : {}) }, resolve);
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error(`peer ${this.baseUrl} timed out`)));
      if (body) {
        body.stream.on('error', (e) => req.destroy(e));
        body.stream.pipe(req);
      } else {
        req.end();
      }
    });
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
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
