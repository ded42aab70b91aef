/**
 * The composition root: opens the global stores (accounts, IAM, bucket names) and, per region on
 * first use, the region's metadata database, blob store, root key, KMS, S3 and replication
 * worker. Everything is passed in explicitly; nothing is a module-level singleton.
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { OffsetClock, type Clock } from '../common/clock.js';
import { loadOrCreateRootKey } from '../crypto/index.js';
import { decisionSummary } from '../policy/index.js';
import { isKnownRegion } from '../regions/known-regions.js';
import { Gauge, type Registry } from 'prom-client';
import type { ReplicationConfiguration } from '../replication/config.js';
import { withEnospcFaults } from '../faults/blob-store.js';
import { FaultRegistry } from '../faults/registry.js';
import { withDestinationFaults } from '../replication/fault-transport.js';
import { createReplicationMetrics } from '../replication/metrics.js';
import { ReplicationMonitor } from '../replication/monitor.js';
import type { ReplicationTransport } from '../replication/ports.js';
import { ReplicationWorker, type ReplicationEvent } from '../replication/worker.js';
import { Authorizer } from '../services/iam/authorizer.js';
import { IdentityResolver } from '../services/iam/identity.js';
import { sweep as sweepKeys } from '../services/kms/key-lifecycle.js';
import { KmsService } from '../services/kms/kms-service.js';
import { recordDecision } from '../services/s3/replication-explain.js';
import { InProcessReplicationTransport } from '../services/s3/replication-transport.js';
import { ReplicaWriter } from '../services/s3/replica-writer.js';
import type { S3Context } from '../services/s3/s3-context.js';
import { lifecycleTask } from '../services/s3/lifecycle.js';
import { S3Service } from '../services/s3/s3-service.js';
import { SseEngine, sseS3KeyFor } from '../services/s3/sse.js';
import { StsService } from '../services/sts/sts-service.js';
import type { BackgroundLeadership, BucketRecord, PeerNonceStore } from '../storage/types.js';
import { createFsBlobStore, soleLeadership, openGlobalStores, openKmsKeyStore, openRegionMetadataStore, type GlobalStores, type PostgresMetadata, type RegionMetadataStore, type KmsKeyStore } from '../storage/index.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { ReplicationWebhook } from './replication-webhook.js';
import { BUCKET_RPC_PATH } from './internal-api.js';
import { PeerReplicaClient } from './peer-replica-client.js';
import { peerCall } from './peers.js';
import { remoteGlobalStores } from './remote-global-stores.js';
import { singleProcess, type WorkerGroup } from './worker-group.js';

export interface RegionRuntime {
  name: string;
  s3: S3Service;
  s3ctx: S3Context;
  kms: KmsService;
  worker: ReplicationWorker;
  /**
   * Work driven by the business clock (KMS key deletion and rotation; lifecycle can add its own):
   * run every minute of real time and at once after a test advances the clock.
   */
  timedTasks: (() => Promise<void>)[];
  transport: ReplicationTransport;
  /** Start the region's background work here (its replication worker); once. */
  startBackground(): void;
  close(): Promise<void>;
}

/** How often time-driven work runs without a clock advance. */
const TIMED_TASK_INTERVAL_MS = 60_000;
/** How long a completed multipart upload still answers a repeated CompleteMultipartUpload. */
const COMPLETED_UPLOAD_RETENTION_MS = 24 * 60 * 60 * 1000;

export class Fabric {
  readonly global: GlobalStores;
  readonly authorizer: Authorizer;
  readonly identity: IdentityResolver;
  readonly sts: StsService;
  private readonly regions = new Map<string, RegionRuntime>();
  private closed = false;
  private readonly timer: NodeJS.Timeout;
  private readonly sweepTimer: NodeJS.Timeout | undefined;
  /** Sweeps in progress, by region (one at a time per region; awaited on close). */
  private readonly sweeps = new Map<string, Promise<void>>();
  /** Whether the global stores live here (not in split mode's home process elsewhere). */
  private readonly ownsGlobal: boolean;
  private timedRun: Promise<void> | undefined;
  /**
   * Which gateway of a deployment runs the time-driven work (on PostgreSQL an advisory lock; on SQLite
   * this process). Within a gateway only the background worker competes for it.
   */
  private readonly leadership: BackgroundLeadership;
  /** Replication outcomes (logs, tests, `meridian replication` tools). */
  onReplicationEvent: ((region: string, e: ReplicationEvent) => void) | undefined;
  /** Replication events, lag and the RTC threshold across the regions served here. */
  readonly monitor: ReplicationMonitor;
  /** Prometheus metrics (GET /_meridian/metrics). */
  readonly metrics: Registry;
  private readonly webhook: ReplicationWebhook | undefined;
  /** Writes replicas into the regions served here (in-process replication and peers' requests). */
  readonly replicaWriter: ReplicaWriter;
  private readonly peerWriters = new Map<string, PeerReplicaClient>();
  /** Split mode on PostgreSQL: peer nonces shared with the other gateways on the database (else each process's own only). */
  readonly peerNonces: PeerNonceStore | undefined;
  /** Injected faults: only with MERIDIAN_FAULTS=on (otherwise undefined, and no hook is in place). */
  readonly faults: FaultRegistry | undefined;

  constructor(
    readonly config: Config,
    readonly clock: Clock,
    readonly log: Logger,
    /** The other processes serving this data directory (cluster workers); none by default. */
    readonly group: WorkerGroup = singleProcess,
    /** The PostgreSQL metadata (config.metadataUrl), opened and schema-checked by the caller; else SQLite files. */
    private readonly pg?: PostgresMetadata,
  ) {
    mkdirSync(join(config.dataDir, 'global'), { recursive: true, mode: 0o700 });
    // Split mode: the home region's process owns the global stores; the others ask it.
    const split = config.split;
    this.ownsGlobal = !split || split.regions.includes(split.home);
    // On PostgreSQL too: a non-home host's database keeps its regions only, never bucket names or IAM.
    this.global = !this.ownsGlobal ? remoteGlobalStores(split!.peers[split!.home]!, split!, log) : pg ? pg.global : openGlobalStores(join(config.dataDir, 'global', 'global.db'));
    this.peerNonces = split && pg ? pg.peerNonces : undefined;
    this.replicaWriter = new ReplicaWriter(async (region) => (this.serves(region) ? this.region(region).s3ctx : undefined));
    this.authorizer = new Authorizer(this.global.iam, clock);
    this.identity = new IdentityResolver(this.global.iam, clock);
    this.sts = new StsService(this.global.iam, this.authorizer, clock);
    this.timer = setInterval(() => void this.runTimedTasks(), TIMED_TASK_INTERVAL_MS);
    this.timer.unref();
    if (config.blobSweepIntervalMs > 0) {
      this.sweepTimer = setInterval(() => {
        for (const r of this.regions.values()) this.sweepOrphans(r.name);
      }, config.blobSweepIntervalMs);
      this.sweepTimer.unref();
    }
    if (clock instanceof OffsetClock) clock.onAdvance(() => this.runTimedTasks());
    const debug = log.isLevelEnabled('debug');
    this.authorizer.listener = (caller, input, decision) => {
      recordDecision(caller, input, decision);
      if (!debug) return;
      // Every decision with what decided it and which conditions failed with the values seen
      // (the same explanation `meridian explain` prints), matched to its request by requestId.
      const { request } = input;
      log.debug(
        {
          requestId: caller.requestId,
          principal: request.principal.arn ?? request.principal.service ?? request.principal.type,
          action: request.action,
          resource: request.resource,
          ...decisionSummary(input, decision),
        },
        'authorization decision',
      );
    };
    if (config.faults) {
      const faults = new FaultRegistry(clock);
      this.faults = faults;
      faults.start();
      if (clock instanceof OffsetClock) clock.onAdvance(() => faults.tick());
      faults.onChange((c) => {
        log.warn({ fault: c.fault, reason: c.reason }, c.type === 'started' ? 'fault started' : 'fault ended');
        this.monitor.notifyFault(c);
        // Paused workers resume at once when their fault ends.
        if (c.type === 'ended') for (const r of this.regions.values()) r.worker.wake();
      });
    }
    this.monitor = new ReplicationMonitor({
      clock,
      thresholdMs: config.replicationThresholdMs,
      watchIntervalMs: Math.max(1000, Math.min(30_000, config.replicationThresholdMs / 10)),
      regions: () =>
        [...this.regions.values()].map((r) => ({
          region: r.name,
          store: r.s3ctx.meta,
          config: (bucket: string) => r.s3ctx.meta.getBucketConfig<ReplicationConfiguration>(bucket, 'replication'),
        })),
    });
    // RTC: a clock advance past the threshold reports OperationMissedThreshold at once, not at the next watch.
    if (clock instanceof OffsetClock) clock.onAdvance(() => this.monitor.checkThresholds().catch(() => undefined));
    this.metrics = createReplicationMetrics({
      clock,
      monitor: this.monitor,
      unreachable: () => [...this.regions.values()].flatMap((r) => r.worker.unreachableDestinations()),
      ...(this.faults ? { faults: this.faults } : {}),
      ...(config.split ? { bundles: () => [...this.peerWriters].map(([region, w]) => ({ region, bundles: w.bundler.stats.bundles, replicas: w.bundler.stats.items })) } : {}),
      backlog: async () => (await Promise.all([...this.regions.values()].map((r) => r.s3ctx.meta.replicationBacklog()))).flat(),
    });
    this.webhook = config.replicationWebhook ? new ReplicationWebhook(config.replicationWebhook, log) : undefined;
    this.monitor.subscribe((n) => {
      const line = { region: n.region, bucket: n.bucket, event: n.name, record: n.record };
      if (n.name === 'OperationFailedReplication' || n.name === 'OperationMissedThreshold') log.warn(line, 'replication event');
      else log.info(line, 'replication event');
      // Every worker's monitor sees every outcome (shared through the group); one posts them.
      if (this.group.background) this.webhook?.push(n);
    });
    this.monitor.start();
    // Cluster workers: outcomes of the background worker's replication, and work for it from the others.
    group.onReplicationEvent((region, e) => {
      this.monitor.observe(region, e);
      this.onReplicationEvent?.(region, e);
    });
    group.onRegionWork((region) => {
      if (!this.closed && this.group.background && this.serves(region)) this.region(region).worker.wake();
    });
    group.onBackground(() => this.takeOverBackground());
    // PostgreSQL: tasks any gateway commits wake this one's workers at once (polling stays underneath).
    pg?.onOutboxWork((region) => this.wakeForOutbox(region));
    if (group !== singleProcess && group.background) log.info({ pid: process.pid }, 'this worker runs the background work (replication, time-driven tasks, sweeps)');
    this.leadership = pg
      ? pg.leadership({ retryMs: config.leaderRetryMs, onError: (e) => log.warn({ err: e }, 'leader election: connection to PostgreSQL lost; trying again') })
      : soleLeadership();
    const leadership = this.leadership;
    new Gauge({
      name: 'meridian_background_leader',
      help: 'Whether this process runs the time-driven background work (KMS rotation and deletion, lifecycle, pruning, sweeps): 1 or 0. Exactly one process of a deployment should report 1.',
      registers: [this.metrics],
      collect() {
        this.set(group.background && leadership.leader ? 1 : 0);
      },
    });
    if (group.background) this.competeForLead();
  }

  /** Whether this process runs the time-driven work now: the group's background worker, and (PostgreSQL) the gateways' leader. */
  get leadsTimedWork(): boolean {
    return this.group.background && this.leadership.leader;
  }

  /** Start competing for the lead of the time-driven work (the background worker of this gateway only). */
  private competeForLead(): void {
    this.leadership.start((leader) => {
      if (this.closed || !this.pg) return;
      if (!leader) {
        this.log.warn({ pid: process.pid }, 'this gateway no longer leads the time-driven background work (its PostgreSQL session ended); competing again');
        return;
      }
      this.log.info({ pid: process.pid }, 'this gateway leads the time-driven background work (KMS rotation and deletion, lifecycle, pruning, sweeps)');
      // Whatever came due while no one led (the previous leader died) runs now, in every region with data.
      for (const region of this.existingRegions()) this.region(region);
      for (const r of this.regions.values()) void this.sweepOrphans(r.name);
      void this.runTimedTasks();
    });
  }

  /**
   * This process became the one that runs the background work (its predecessor died): open every
   * region with data and start their replication workers and sweeps.
   */
  private takeOverBackground(): void {
    if (this.closed) return;
    this.log.info({ pid: process.pid }, 'this worker runs the background work (replication, time-driven tasks, sweeps)');
    this.competeForLead();
    for (const region of this.existingRegions()) this.region(region);
    for (const r of this.regions.values()) {
      r.startBackground();
      void this.sweepOrphans(r.name);
    }
  }

  /** New outbox tasks in a region (undefined: maybe in any): its worker, here in the background process, claims now. */
  private wakeForOutbox(region: string | undefined): void {
    if (this.closed || !this.group.background) return;
    const regions = region === undefined ? [...this.regions.keys()] : [region];
    for (const name of regions) {
      // A region another gateway opened first is opened here too, so every gateway shares its work.
      if (this.serves(name) && (this.regions.has(name) || this.regionHasData(name))) this.region(name).worker.wake();
    }
  }

  /** Whether this process serves a region (all of them, unless in split mode). */
  serves(region: string): boolean {
    return isKnownRegion(region) && (!this.config.split || this.config.split.regions.includes(region));
  }

  /** The base URL of the process serving a region this one does not (split mode). */
  peerFor(region: string): string | undefined {
    return this.config.split?.peers[region];
  }

  /** A bucket record in any region: here, or asked of the peer serving its region. */
  async bucketRecord(region: string, name: string): Promise<BucketRecord | undefined> {
    if (this.serves(region)) return this.region(region).s3ctx.meta.getBucket(name);
    const peer = this.peerFor(region);
    return peer ? peerCall<BucketRecord | undefined>(peer, this.config.split!, BUCKET_RPC_PATH, { region, name }, `the ${region} region's process at ${peer}`) : undefined;
  }

  private peerWriter(region: string): PeerReplicaClient | undefined {
    const url = this.peerFor(region);
    if (!url) return undefined;
    let w = this.peerWriters.get(region);
    if (!w) {
      w = new PeerReplicaClient(url, this.config.split!);
      this.peerWriters.set(region, w);
    }
    return w;
  }

  /** Regions that already have data: opened at start so their pending replication resumes. */
  existingRegions(): string[] {
    if (!existsSync(this.config.dataDir)) return [];
    return readdirSync(this.config.dataDir).filter((d) => this.serves(d) && this.regionHasData(d));
  }

  /** Whether a region has been opened here before (asking must not create one). */
  regionHasData(name: string): boolean {
    // With PostgreSQL a region's metadata is in the database; its directory holds its root key and blobs.
    return existsSync(join(this.config.dataDir, name, this.pg ? 'root.key' : 'meta.db'));
  }

  /** A region's runtime, created (with its data directory) on first use. */
  region(name: string): RegionRuntime {
    if (this.closed) throw new Error('Meridian is shutting down');
    if (!isKnownRegion(name)) throw new Error(`unknown region ${name}`);
    if (!this.serves(name)) throw new Error(`region ${name} is not served by this process`);
    let r = this.regions.get(name);
    if (!r) {
      r = this.openRegion(name);
      this.regions.set(name, r);
      if (this.group.background) r.startBackground();
      // A region first used by another worker: the background one opens it too (its outbox, its timed work).
      else this.group.regionWork(name);
      // Files a crash left behind, found as soon as the region is open (in the background).
      void this.sweepOrphans(name);
    }
    return r;
  }

  private openRegion(name: string): RegionRuntime {
    const dir = join(this.config.dataDir, name);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const envName = `MERIDIAN_KMS_ROOT_KEY_${name.toUpperCase().replace(/-/g, '_')}`;
    const rootKeyOptions: { file: string; env?: string } = { file: join(dir, 'root.key') };
    const fromEnv = process.env[envName];
    if (fromEnv !== undefined) rootKeyOptions.env = fromEnv;
    const rootKey = loadOrCreateRootKey(rootKeyOptions);
    let meta: RegionMetadataStore;
    let keys: KmsKeyStore;
    if (this.pg) {
      meta = this.pg.regionStore(name);
      keys = this.pg.kmsKeyStore(name);
    } else {
      const sqlite = openRegionMetadataStore(join(dir, 'meta.db'), name);
      meta = sqlite;
      keys = openKmsKeyStore(sqlite);
    }
    const faults = this.faults;
    const fsBlobs = createFsBlobStore(join(dir, 'blobs'), {
      deleteGraceMs: this.config.blobDeleteGraceMs,
      orphanGraceMs: this.config.blobOrphanGraceMs,
      // Cluster workers, or gateways on PostgreSQL, write into the same directory: another one's
      // writes in progress are not leftovers.
      soleUser: this.group === singleProcess && this.pg === undefined,
    });
    const blobs = faults ? withEnospcFaults(fsBlobs, () => faults.enospc(name), (f) => faults.injected(f)) : fsBlobs;
    const kms = new KmsService({
      region: name,
      keys,
      rootKey,
      authorizer: this.authorizer,
      clock: this.clock,
      iam: this.global.iam,
      // Multi-Region keys share material with replicas in regions this process serves (ReplicateKey).
      peer: (region) => (this.serves(region) && region !== name ? this.region(region).kms : undefined),
      ...(faults
        ? {
            disabledByFault: (arn: string) => {
              const f = faults.kmsKeyDisabled(arn);
              if (!f) return undefined;
              faults.injected(f);
              return `injected fault ${f.id}`;
            },
          }
        : {}),
    });
    const sseS3Key = sseS3KeyFor(rootKey, name);
    const config = this.config;
    const sse = new SseEngine({
      region: name,
      kms,
      sseS3Key,
      kmsOverHttpAllowed: (caller) => config.sseKmsOverHttp === 'always' || (config.sseKmsOverHttp === 'loopback' && caller.loopback),
    });
    let worker: ReplicationWorker | undefined;
    const s3ctx: S3Context = {
      region: name,
      meta,
      blobs,
      kms,
      sse,
      directory: this.global.directory,
      authorizer: this.authorizer,
      clock: this.clock,
      peers: {
        regionStore: async (region) => (this.serves(region) ? this.region(region).s3ctx.meta : undefined),
        region: async (region) => (this.serves(region) ? this.region(region).s3ctx : undefined),
        bucket: (region, bucketName) => this.bucketRecord(region, bucketName),
      },
      // The worker that runs replication is told at once, here or through the group.
      replicationQueued: () => (this.group.background ? worker?.wake() : this.group.regionWork(name)),
    };
    if (this.config.testMinPartSize !== undefined) s3ctx.minPartSize = this.config.testMinPartSize;
    const direct = new InProcessReplicationTransport({
      source: s3ctx,
      region: async (region) => (this.serves(region) ? this.region(region).s3ctx : undefined),
      sts: this.sts,
      identity: this.identity,
      remote: (region) => this.peerWriter(region),
    });
    const transport: ReplicationTransport = faults ? withDestinationFaults(direct, faults, this.clock) : direct;
    worker = new ReplicationWorker({
      region: name,
      store: meta,
      transport,
      clock: this.clock,
      pollMs: this.config.replicationPollMs,
      leaseMs: this.config.replicationLeaseMs,
      delayMs: this.config.testReplicationDelayMs,
      ...(faults ? { paused: () => faults.workersPaused(name) !== undefined } : {}),
      onEvent: (e) => {
        if (e.kind === 'failed') this.log.warn({ region: name, bucket: e.task.bucket, key: e.task.key, versionId: e.task.versionId, destination: e.task.destinationBucket, reason: e.reason, detail: e.detail }, 'replication failed');
        else if (e.kind === 'retry') this.log.info({ region: name, bucket: e.task.bucket, key: e.task.key, message: e.message }, 'replication will retry');
        else if (e.kind === 'parked') this.log.debug({ region: name, bucket: e.task.bucket, key: e.task.key, destination: e.task.destinationBucket }, 'replication parked: destination unreachable');
        else this.log.debug({ region: name, bucket: e.task.bucket, key: e.task.key, latencyMs: e.latencyMs }, 'replicated');
        this.monitor.observe(name, e);
        this.onReplicationEvent?.(name, e);
        this.group.replicationEvent(name, e);
      },
    });
    let started = false;
    const s3 = new S3Service(s3ctx);
    this.log.info({ region: name, dir }, 'region opened');
    return {
      name,
      s3,
      s3ctx,
      kms,
      worker: worker,
      timedTasks: [
        () => sweepKeys(kms),
        lifecycleTask(s3ctx),
        async () => void (await meta.pruneCompletedUploads(this.clock.now() - COMPLETED_UPLOAD_RETENTION_MS)),
      ],
      transport,
      startBackground: () => {
        if (started) return;
        started = true;
        // Only the background process claims outbox tasks, and it starts claiming only once it is the
        // only one (at start, or after its predecessor died): claims left by earlier processes are void.
        // Not with PostgreSQL: the database is shared by every gateway, whose claims run out by their leases.
        worker!.start({ ownsStore: !this.pg });
      },
      close: async () => {
        await worker!.stop();
        await meta.close();
        await blobs.close();
      },
    };
  }

  /**
   * Remove a region's orphaned blob files (one sweep at a time per region; a failure is logged).
   * Runs when the region opens and every blobSweepIntervalMs.
   */
  sweepOrphans(region: string): Promise<void> {
    const running = this.sweeps.get(region);
    if (running) return running;
    const r = this.regions.get(region);
    if (!r || this.closed || !this.leadsTimedWork) return Promise.resolve();
    const { blobs, meta } = r.s3ctx;
    const run = (async () => {
      try {
        const removed = await blobs.sweepOrphans((id) => meta.isBlobReferenced(id));
        if (removed > 0) this.log.info({ region, removed }, 'orphaned blob files removed');
      } catch (e) {
        this.log.error({ err: e, region }, 'orphan sweep failed');
      } finally {
        this.sweeps.delete(region);
      }
    })();
    this.sweeps.set(region, run);
    return run;
  }

  /** Run every open region's time-driven work once (one run at a time; a failure is logged, not thrown). */
  async runTimedTasks(): Promise<void> {
    while (this.timedRun) await this.timedRun;
    // Once per deployment: only the background worker of the leading gateway runs time-driven work.
    if (this.closed || !this.leadsTimedWork) return;
    // With PostgreSQL, a region may have been opened only by other gateways: the leader opens it too.
    if (this.pg) for (const region of this.existingRegions()) this.region(region);
    const run = (async () => {
      // Temporary credentials past their expiry (every AssumeRole adds one) are deleted by the owner of the global stores.
      if (this.ownsGlobal) {
        try {
          const removed = await this.global.iam.deleteExpiredSessions(this.clock.now());
          if (removed > 0) this.log.debug({ removed }, 'expired STS sessions deleted');
        } catch (e) {
          this.log.error({ err: e }, 'deleting expired STS sessions failed');
        }
      }
      for (const r of this.regions.values()) {
        for (const task of r.timedTasks) {
          try {
            await task();
          } catch (e) {
            this.log.error({ err: e, region: r.name }, 'timed task failed');
          }
        }
      }
    })();
    this.timedRun = run;
    try {
      await run;
    } finally {
      this.timedRun = undefined;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    while (this.timedRun) await this.timedRun;
    await Promise.all(this.sweeps.values());
    // Give the lead up now, so another gateway takes it at its next try rather than after we are gone.
    await this.leadership.close();
    this.monitor.stop();
    this.faults?.stop();
    this.webhook?.close();
    for (const r of this.regions.values()) await r.close();
    this.regions.clear();
    await this.global.close();
    await this.pg?.close();
  }
}
