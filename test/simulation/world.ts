/**
 * The simulated world around the real replication engine: the network to two destination
 * regions (latency, refused connections, throttling, 500s, responses lost after the write
 * applied, slow periods), the destination buckets as a writer records them (each version once,
 * replaced in place on a retry, first-arrival order kept), a KMS key disabled for a while, and
 * keys the destination denies. Every decision draws from one seeded PRNG, in an order fixed by
 * virtual time, so a seed replays exactly.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { ReplicationFailure, type FailureReason } from '../../src/replication/failure.js';
import type { ReplicationConfiguration, ReplicationRule } from '../../src/replication/config.js';
import type { DestinationBucket, ReplicationTransport, RoleCredentials, SourceVersion } from '../../src/replication/ports.js';
import type { ObjectVersion, RegionMetadataStore } from '../../src/storage/types.js';
import type { VirtualTime } from './virtual-time.js';

export const OWNER = '111122223333';
export const SOURCE_BUCKET = 'sim-src';
export const ROLE = `arn:aws:iam::${OWNER}:role/replication`;

export interface DestinationSpec {
  bucket: string;
  region: string;
  ruleId: string;
  kmsKeyArn: string;
}

export const DESTINATIONS: DestinationSpec[] = [
  { bucket: 'sim-dst-a', region: 'us-west-2', ruleId: 'to-a', kmsKeyArn: `arn:aws:kms:us-west-2:${OWNER}:key/aaaaaaaa-0000-4000-8000-000000000001` },
  { bucket: 'sim-dst-b', region: 'eu-west-1', ruleId: 'to-b', kmsKeyArn: `arn:aws:kms:eu-west-1:${OWNER}:key/bbbbbbbb-0000-4000-8000-000000000002` },
];

export const CONFIG: ReplicationConfiguration = {
  role: ROLE,
  rules: DESTINATIONS.map(
    (d, i): ReplicationRule => ({
      id: d.ruleId,
      priority: i + 1,
      prefix: '',
      status: 'Enabled',
      deleteMarkerReplication: 'Enabled',
      destination: { bucket: `arn:aws:s3:::${d.bucket}`, replicaKmsKeyId: d.kmsKeyArn },
    }),
  ),
};

/** Keys under this prefix are refused by the destination's policy: they must end FAILED, never written. */
export const DENIED_PREFIX = 'deny/';

/** The bytes of a source version (a function of its identity, so the destination can be checked). */
export function contentOf(key: string, versionId: string): Buffer {
  const n = 1 + (parseInt(versionId.slice(1), 10) % 7);
  return Buffer.from(`${key}@${versionId};`.repeat(n * 13));
}

export function sha(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

export type FaultKind = 'unreachable' | 'slow' | 'flaky' | 'throttle' | 'kms-disabled';

export interface FaultWindow {
  destination: string;
  kind: FaultKind;
  start: number;
  end: number;
  /** flaky, throttle: chance a request fails. */
  rate: number;
  /** slow: extra latency each way (ms). */
  latencyMs: number;
}

/** A version as the destination holds it. */
export interface Replica {
  versionId: string;
  sha: string;
  kmsKeyArn: string | undefined;
  deleteMarker: boolean;
  /** Times a write of this version landed (retries replace it in place). */
  writes: number;
}

export type Verdict = { ok: true } | { ok: false; reason: FailureReason };

/** What one (version, destination) saw: verdicts delivered to a live process, writes applied. */
export interface TaskLog {
  delivered: Verdict[];
  /** Writes applied whose answer never reached a live process (lost response, crash). */
  appliedUndelivered: number;
  /** Attempts in flight per process (two at once in one process would be a duplicate run). */
  inFlight: Map<number, number>;
}

export class Destination {
  /** key -> versions in first-arrival order. */
  readonly objects = new Map<string, Replica[]>();
  constructor(readonly spec: DestinationSpec) {}

  apply(key: string, r: Omit<Replica, 'writes'>): void {
    let list = this.objects.get(key);
    if (!list) this.objects.set(key, (list = []));
    const existing = list.find((x) => x.versionId === r.versionId);
    if (existing) {
      Object.assign(existing, r);
      existing.writes++;
    } else list.push({ ...r, writes: 1 });
  }
}

export interface WorldOptions {
  time: VirtualTime;
  random: () => number;
  faults: FaultWindow[];
  /** Chance that a response is dropped because the source process crashes as it arrives. */
  crashOnResponse: number;
  /** Chance that an AssumeRole call fails transiently (trouble on the source side, retried per task). */
  stsErrorRate: number;
  /** After this time no fault applies and nothing crashes. */
  faultsEnd: number;
}

/** Everything outside the source process: survives its crashes. */
export class World {
  readonly destinations = new Map<string, Destination>(DESTINATIONS.map((d) => [d.bucket, new Destination(d)]));
  readonly tasks = new Map<string, TaskLog>();
  /** Violations seen while running (a duplicate run in one process). */
  readonly violations: string[] = [];
  /** Messages on the wire. */
  inFlight = 0;
  /** Async work the simulation itself started (reading a source stream, closing a store). */
  busy = 0;
  alivePid = 0;
  /** Asked by the network when a response arrives: crash the source process now. */
  onCrash: () => void = () => undefined;

  constructor(readonly opts: WorldOptions) {}

  log(key: string, versionId: string, destination: string): TaskLog {
    const id = `${key}\n${versionId}\n${destination}`;
    let l = this.tasks.get(id);
    if (!l) this.tasks.set(id, (l = { delivered: [], appliedUndelivered: 0, inFlight: new Map() }));
    return l;
  }

  active(destination: string, kind: FaultKind): FaultWindow | undefined {
    const now = this.opts.time.now();
    if (now >= this.opts.faultsEnd) return undefined;
    return this.opts.faults.find((f) => f.destination === destination && f.kind === kind && f.start <= now && now < f.end);
  }

  latency(destination: string): number {
    const slow = this.active(destination, 'slow');
    return 1 + Math.floor(this.opts.random() * 40) + (slow ? slow.latencyMs : 0);
  }

  /**
   * One write through the network: the request travels, the destination decides (and maybe
   * applies) at arrival, the answer travels back and reaches the process only if it still lives.
   */
  send(pid: number, destination: DestinationBucket, key: string, versionId: string, write: Omit<Replica, 'writes'>): Promise<void> {
    const dst = this.destinations.get(destination.name)!;
    const log = this.log(key, versionId, destination.name);
    const mine = (log.inFlight.get(pid) ?? 0) + 1;
    log.inFlight.set(pid, mine);
    if (mine > 1) this.violations.push(`duplicate run: ${key}@${versionId} -> ${destination.name} written twice at once by process ${pid}`);
    const { time, random } = this.opts;
    this.inFlight++;
    return new Promise<void>((resolve, reject) => {
      time.at(this.latency(destination.name), () => {
        let verdict: Verdict | Error;
        let applied = false;
        if (this.active(destination.name, 'unreachable')) {
          verdict = Object.assign(new Error(`connect ECONNREFUSED: ${destination.region} unreachable`), { code: 'ECONNREFUSED' });
        } else if ((this.active(destination.name, 'throttle')?.rate ?? 0) > random()) {
          verdict = new Error('destination answered HTTP 503 SlowDown: Please reduce your request rate.');
        } else if (key.startsWith(DENIED_PREFIX)) {
          verdict = { ok: false, reason: 'DstPutObjectNotPermitted' };
        } else if (!write.deleteMarker && this.active(destination.name, 'kms-disabled')) {
          verdict = { ok: false, reason: 'DstKmsKeyInvalidState' };
        } else {
          const flaky = (this.active(destination.name, 'flaky')?.rate ?? 0) > random();
          // A flaky destination fails before the write or, half the time, after it applied.
          if (!flaky || random() < 0.5) {
            if (process.env.MERIDIAN_SIM_TRACE) console.log(`${time.now()} applied ${key}@${versionId} at ${destination.name} (pid ${pid})`);
            dst.apply(key, write);
            applied = true;
          }
          verdict = flaky ? new Error('destination answered HTTP 500 InternalError') : { ok: true };
        }
        time.at(this.latency(destination.name), () => {
          this.inFlight--;
          log.inFlight.set(pid, (log.inFlight.get(pid) ?? 1) - 1);
          const crash = this.alivePid === pid && time.now() < this.opts.faultsEnd && random() < this.opts.crashOnResponse;
          if (crash) this.onCrash();
          if (this.alivePid !== pid) {
            if (applied) log.appliedUndelivered++;
            return; // the process that asked is gone: nobody hears the answer
          }
          if (verdict instanceof Error) {
            if (applied) log.appliedUndelivered++;
            reject(verdict);
            return;
          }
          log.delivered.push(verdict);
          if (verdict.ok) resolve();
          else reject(new ReplicationFailure(verdict.reason, `simulated destination refused ${key}@${versionId}: ${verdict.reason}`));
        });
      });
    });
  }
}

/** The transport one source process uses: the real replication stages call it. */
export class SimTransport implements ReplicationTransport {
  constructor(
    private readonly world: World,
    private readonly pid: number,
    private readonly store: RegionMetadataStore,
  ) {}

  async replicationConfig(): Promise<ReplicationConfiguration> {
    return CONFIG;
  }

  async assumeRole(roleArn: string): Promise<RoleCredentials> {
    const { time, random, stsErrorRate, faultsEnd } = this.world.opts;
    if (time.now() < faultsEnd && random() < stsErrorRate) throw new Error('STS answered HTTP 503 Throttling');
    return { roleArn, accessKeyId: 'ASIASIM', secretAccessKey: 'secret', sessionToken: 'token', expiresAt: time.now() + 3600_000 };
  }

  async sourceBucketOwner(): Promise<string> {
    return OWNER;
  }

  async readSource(_creds: RoleCredentials, bucket: string, key: string, versionId: string): Promise<SourceVersion> {
    const version = await this.store.getObjectVersion(bucket, key, versionId);
    if (!version || version.isDeleteMarker) throw new ReplicationFailure('SrcVersionNotFound', `${bucket}/${key}@${versionId} not found`);
    const bytes = contentOf(key, versionId);
    return { version, parts: [{ partNumber: 1, size: bytes.length, open: () => Readable.from([bytes]) }] };
  }

  async findDestination(bucket: string): Promise<DestinationBucket | undefined> {
    const d = this.world.destinations.get(bucket);
    return d && { name: bucket, region: d.spec.region, ownerAccountId: OWNER };
  }

  async writeReplica(_creds: RoleCredentials, destination: DestinationBucket, rule: ReplicationRule, source: SourceVersion): Promise<void> {
    // The writer streams the source; the destination records what it received.
    this.world.busy++;
    let body: Buffer;
    try {
      const chunks: Buffer[] = [];
      for (const p of source.parts) for await (const c of p.open()) chunks.push(c as Buffer);
      body = Buffer.concat(chunks);
    } finally {
      this.world.busy--;
    }
    const v = source.version;
    return this.world.send(this.pid, destination, v.key, v.versionId, { versionId: v.versionId, sha: sha(body), kmsKeyArn: rule.destination.replicaKmsKeyId, deleteMarker: false });
  }

  async writeDeleteMarker(_creds: RoleCredentials, destination: DestinationBucket, marker: ObjectVersion): Promise<void> {
    return this.world.send(this.pid, destination, marker.key, marker.versionId, { versionId: marker.versionId, sha: '', kmsKeyArn: undefined, deleteMarker: true });
  }

  async readDeleteMarker(bucket: string, key: string, versionId: string): Promise<ObjectVersion | undefined> {
    const v = await this.store.getObjectVersion(bucket, key, versionId);
    return v?.isDeleteMarker ? v : undefined;
  }

  async readSourceTags(): Promise<Record<string, string> | undefined> {
    return undefined;
  }

  async writeReplicaTags(): Promise<void> {
    throw new Error('the simulation does not replicate tag changes');
  }
}
