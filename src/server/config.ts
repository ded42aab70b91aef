/**
 * Configuration from the environment (the README's table lists every variable).
 * Defaults are the embedded single-process mode: every region served here, data under ./data.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { isPostgresUrl } from '../storage/metadata-url.js';
import { DEFAULT_PEER_TIMEOUTS, parsePeers, splitConfig, type SplitConfig } from './peers.js';

export type KmsOverHttpPolicy = 'loopback' | 'always' | 'never';

export interface Config {
  host: string;
  port: number;
  /** HTTPS listener port; null when disabled (MERIDIAN_TLS_PORT=off). 0 means an ephemeral port. */
  tlsPort: number | null;
  dataDir: string;
  /**
   * MERIDIAN_METADATA_URL (or `serve --metadata-url`): every region's metadata and the global
   * stores in this PostgreSQL database instead of SQLite files under dataDir (scale-out mode).
   * In split mode, the regions served here; the global stores too only on the home region's host.
   */
  metadataUrl?: string;
  /** Connections each server process keeps to the metadata database at most (MERIDIAN_METADATA_POOL_SIZE). */
  metadataPoolSize: number;
  /** PostgreSQL: how often a gateway tries to become the leader of the time-driven work, and the leader checks it still is (ms). */
  leaderRetryMs: number;
  accountId: string;
  rootAccessKeyId?: string;
  rootSecretAccessKey?: string;
  /**
   * AWS refuses SSE-KMS over plain HTTP. Meridian accepts it from loopback clients by default
   * (local development), from anyone with 'always', and never with 'never' (AWS's behaviour).
   */
  sseKmsOverHttp: KmsOverHttpPolicy;
  /** Base domains for virtual-hosted-style addressing: <bucket>.<domain>. */
  virtualHostDomains: string[];
  /** Replication worker poll interval when idle (ms); new work wakes it immediately. */
  replicationPollMs: number;
  /** How long a claimed replication task stays another worker's before anyone may take it over (ms). */
  replicationLeaseMs: number;
  /** Split mode (MERIDIAN_REGIONS set): the regions served here, the peers serving others, the home region. */
  split?: SplitConfig;
  /**
   * Split mode: listeners of their own for the other processes (MERIDIAN_PEER_PORT over HTTP,
   * MERIDIAN_PEER_TLS_PORT over HTTPS with the server's certificate; 0 means an ephemeral port), so
   * a peer's new connection is not queued behind clients' ones (docs/decisions.md, "A listener of its
   * own for peer traffic"). Peers reach this process there when their --peer URL names that port.
   */
  peerPort?: number;
  peerTlsPort?: number;
  /** URL that receives every replication event as an S3 event notification (POST, JSON). */
  replicationWebhook?: string;
  /** Replication Time Control threshold (AWS: 15 minutes; shorter only for tests). */
  replicationThresholdMs: number;
  logLevel: string;
  /**
   * Tests only: the business clock can be advanced through `POST /_meridian/clock` from loopback
   * clients (MERIDIAN_TEST_CLOCK=on). Never enable it on a server others use.
   */
  testClock: boolean;
  /**
   * Tests only: each replication task waits this long after it is claimed (MERIDIAN_TEST_REPLICATION_DELAY_MS),
   * so crash tests can SIGKILL the server while replication is certainly in flight. 0 (the default) in any real use.
   */
  testReplicationDelayMs: number;
  /**
   * Tests only: the minimum size of a multipart upload's parts but the last (MERIDIAN_TEST_MIN_PART_SIZE;
   * AWS and the default: 5 MiB), so a test can build an object of 1,000 parts cheaply. Never set it otherwise.
   */
  testMinPartSize?: number;
  /** The operator's TLS certificate and key (PEM files); without them one is generated into <data>/tls/. */
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** Bearer token that may read /_meridian/metrics (MERIDIAN_METRICS_TOKEN); signed requests of the operator's account may too. */
  metricsToken?: string;
  /** Connection and request limits (README: configuration; docs/security.md: what each protects). */
  limits: HttpLimits;
  /**
   * How long a deleted or overwritten object's blob files stay after the metadata stops pointing at
   * them (MERIDIAN_BLOB_DELETE_GRACE_MS), so reads that looked the old version up just before can
   * still open every part; reads in progress keep their files until they end, whatever this is.
   */
  blobDeleteGraceMs: number;
  /**
   * Blob files no metadata references (left by a crash between a blob's rename and its commit) are
   * removed at start and then every this many ms (MERIDIAN_BLOB_SWEEP_INTERVAL_MS; 0: at start only).
   */
  blobSweepIntervalMs: number;
  /** Files younger than this are never swept: their commit may still be on its way (MERIDIAN_BLOB_ORPHAN_GRACE_MS). */
  blobOrphanGraceMs: number;
  /**
   * Faults on demand (MERIDIAN_FAULTS=on): the signed /_meridian/faults API and `meridian faults`
   * can make regions unreachable, slow, flaky or throttling, disable KMS keys, fill disks and pause
   * workers. For testing replication setups; off (no endpoint, no hooks) by default.
   */
  faults: boolean;
  /**
   * Server processes sharing the listening sockets and the data directory (MERIDIAN_WORKERS; default:
   * the number of cores). 1 is a single process with no cluster primary. See workersFor().
   */
  workers: number;
  /**
   * Request bodies declared at least this large have their MD5 (and SHA-256, when the payload is
   * signed) computed on a helper thread, beside the event loop's encryption and writes
   * (MERIDIAN_DIGEST_THREAD_MIN_BYTES, default 1 MiB; `off`: always on the event loop).
   */
  digestThreadMinBytes: number | null;
}

/**
 * How many workers actually run, and why fewer than asked: features whose state lives in one
 * process (test clock, faults registry, split mode's peer nonces and global-store cache) need 1.
 */
export function workersFor(config: Config): { workers: number; reason?: string } {
  if (config.workers <= 1) return { workers: 1 };
  const single = (what: string) => ({ workers: 1, reason: `MERIDIAN_WORKERS=${config.workers} ignored: ${what} needs a single process; running 1 worker` });
  if (config.testClock) return single('MERIDIAN_TEST_CLOCK (one business clock)');
  if (config.faults) return single('MERIDIAN_FAULTS (one faults registry)');
  if (config.split) return single('split mode (MERIDIAN_REGIONS: peer request nonces and the global-store cache live in one process; run more regions per process instead)');
  return { workers: config.workers };
}

export interface HttpLimits {
  /** Time a client has to send the request line and headers (MERIDIAN_HEADERS_TIMEOUT_MS). */
  headersTimeoutMs: number;
  /** How long an idle keep-alive connection stays open between requests (MERIDIAN_KEEPALIVE_TIMEOUT_MS). */
  keepAliveTimeoutMs: number;
  /** The window over which a request body must keep moving (MERIDIAN_BODY_TIMEOUT_MS). */
  bodyTimeoutMs: number;
  /** Slowest accepted request body, bytes per second averaged over each window (MERIDIAN_MIN_BODY_BYTES_PER_SEC). */
  minBodyBytesPerSecond: number;
  /** Largest request line plus headers, in bytes (MERIDIAN_MAX_HEADER_BYTES); larger gets 431. */
  maxHeaderBytes: number;
  /** Open connections at once, per listener (MERIDIAN_MAX_CONNECTIONS). */
  maxConnections: number;
  /** Open connections at once from one client address, per listener (MERIDIAN_MAX_CONNECTIONS_PER_CLIENT). */
  maxConnectionsPerClient: number;
}

function int(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535 * 1000) throw new Error(`${name} must be a non-negative integer, got '${value}'`);
  return n;
}

function port(name: string, value: string): number {
  const n = Number(value);
  if (value === '' || !Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be a TCP port (0-65535; 0: any free port), got '${value}'`);
  return n;
}

function positive(name: string, value: string | undefined, fallback: number): number {
  const n = int(name, value, fallback);
  if (n === 0) throw new Error(`${name} must be a positive integer, got '${value}'`);
  return n;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const accountId = env.MERIDIAN_ACCOUNT_ID ?? '000000000000';
  if (!/^\d{12}$/.test(accountId)) throw new Error(`MERIDIAN_ACCOUNT_ID must be 12 digits, got '${accountId}'`);
  const policy = (env.MERIDIAN_SSE_KMS_OVER_HTTP ?? 'loopback') as KmsOverHttpPolicy;
  if (!['loopback', 'always', 'never'].includes(policy)) {
    throw new Error(`MERIDIAN_SSE_KMS_OVER_HTTP must be loopback, always or never, got '${policy}'`);
  }
  const config: Config = {
    host: env.MERIDIAN_HOST ?? '127.0.0.1',
    port: int('MERIDIAN_PORT', env.MERIDIAN_PORT, 9000),
    tlsPort: env.MERIDIAN_TLS_PORT === 'off' ? null : int('MERIDIAN_TLS_PORT', env.MERIDIAN_TLS_PORT, 9443),
    dataDir: resolve(env.MERIDIAN_DATA_DIR ?? './data'),
    metadataPoolSize: positive('MERIDIAN_METADATA_POOL_SIZE', env.MERIDIAN_METADATA_POOL_SIZE, 10),
    leaderRetryMs: positive('MERIDIAN_LEADER_RETRY_MS', env.MERIDIAN_LEADER_RETRY_MS, 5000),
    accountId,
    sseKmsOverHttp: policy,
    virtualHostDomains: (env.MERIDIAN_DOMAINS ?? 'localhost,s3.localhost')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    replicationPollMs: int('MERIDIAN_REPLICATION_POLL_MS', env.MERIDIAN_REPLICATION_POLL_MS, 1000),
    replicationLeaseMs: int('MERIDIAN_REPLICATION_LEASE_MS', env.MERIDIAN_REPLICATION_LEASE_MS, 5 * 60 * 1000),
    replicationThresholdMs: int('MERIDIAN_REPLICATION_THRESHOLD_MS', env.MERIDIAN_REPLICATION_THRESHOLD_MS, 15 * 60 * 1000),
    logLevel: env.MERIDIAN_LOG_LEVEL ?? 'info',
    testClock: ['on', 'true', '1'].includes((env.MERIDIAN_TEST_CLOCK ?? '').toLowerCase()),
    testReplicationDelayMs: int('MERIDIAN_TEST_REPLICATION_DELAY_MS', env.MERIDIAN_TEST_REPLICATION_DELAY_MS, 0),
    blobSweepIntervalMs: int('MERIDIAN_BLOB_SWEEP_INTERVAL_MS', env.MERIDIAN_BLOB_SWEEP_INTERVAL_MS, 60 * 60 * 1000),
    blobOrphanGraceMs: int('MERIDIAN_BLOB_ORPHAN_GRACE_MS', env.MERIDIAN_BLOB_ORPHAN_GRACE_MS, 10 * 60 * 1000),
    blobDeleteGraceMs: int('MERIDIAN_BLOB_DELETE_GRACE_MS', env.MERIDIAN_BLOB_DELETE_GRACE_MS, 60_000),
    limits: {
      headersTimeoutMs: positive('MERIDIAN_HEADERS_TIMEOUT_MS', env.MERIDIAN_HEADERS_TIMEOUT_MS, 20_000),
      keepAliveTimeoutMs: positive('MERIDIAN_KEEPALIVE_TIMEOUT_MS', env.MERIDIAN_KEEPALIVE_TIMEOUT_MS, 65_000),
      bodyTimeoutMs: positive('MERIDIAN_BODY_TIMEOUT_MS', env.MERIDIAN_BODY_TIMEOUT_MS, 20_000),
      minBodyBytesPerSecond: int('MERIDIAN_MIN_BODY_BYTES_PER_SEC', env.MERIDIAN_MIN_BODY_BYTES_PER_SEC, 1024),
      maxHeaderBytes: positive('MERIDIAN_MAX_HEADER_BYTES', env.MERIDIAN_MAX_HEADER_BYTES, 16 * 1024),
      maxConnections: positive('MERIDIAN_MAX_CONNECTIONS', env.MERIDIAN_MAX_CONNECTIONS, 4096),
      maxConnectionsPerClient: positive('MERIDIAN_MAX_CONNECTIONS_PER_CLIENT', env.MERIDIAN_MAX_CONNECTIONS_PER_CLIENT, 1024),
    },
    faults: ['on', 'true', '1'].includes((env.MERIDIAN_FAULTS ?? '').toLowerCase()),
    workers: positive('MERIDIAN_WORKERS', env.MERIDIAN_WORKERS, availableParallelism()),
    digestThreadMinBytes:
      env.MERIDIAN_DIGEST_THREAD_MIN_BYTES === 'off' ? null : int('MERIDIAN_DIGEST_THREAD_MIN_BYTES', env.MERIDIAN_DIGEST_THREAD_MIN_BYTES, 1024 * 1024),
  };
  if (env.MERIDIAN_REGIONS) {
    const regions = env.MERIDIAN_REGIONS.split(',').map((r) => r.trim()).filter(Boolean);
    const peers = parsePeers((env.MERIDIAN_PEERS ?? '').split(',').map((p) => p.trim()).filter(Boolean));
    config.split = splitConfig(regions, peers, env.MERIDIAN_HOME_REGION || undefined, env.MERIDIAN_PEER_SECRET, env.MERIDIAN_PEER_CA || undefined);
    config.split.timeouts = {
      connectMs: positive('MERIDIAN_PEER_CONNECT_TIMEOUT_MS', env.MERIDIAN_PEER_CONNECT_TIMEOUT_MS, DEFAULT_PEER_TIMEOUTS.connectMs),
      rpcMs: positive('MERIDIAN_PEER_RPC_TIMEOUT_MS', env.MERIDIAN_PEER_RPC_TIMEOUT_MS, DEFAULT_PEER_TIMEOUTS.rpcMs),
    };
  }
  for (const [name, key] of [['MERIDIAN_PEER_PORT', 'peerPort'], ['MERIDIAN_PEER_TLS_PORT', 'peerTlsPort']] as const) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    if (!config.split) throw new Error(`${name} is for split mode: set MERIDIAN_REGIONS (and the peers) too, or leave ${name} unset`);
    config[key] = port(name, value);
  }
  if (env.MERIDIAN_METADATA_URL) {
    if (!isPostgresUrl(env.MERIDIAN_METADATA_URL)) throw new Error(`MERIDIAN_METADATA_URL must be a postgres:// or postgresql:// URL, got '${env.MERIDIAN_METADATA_URL.replace(/\/\/[^@/]*@/, '//…@')}'`);
    config.metadataUrl = env.MERIDIAN_METADATA_URL;
  }
  if (env.MERIDIAN_TEST_MIN_PART_SIZE) config.testMinPartSize = int('MERIDIAN_TEST_MIN_PART_SIZE', env.MERIDIAN_TEST_MIN_PART_SIZE, 5 * 1024 * 1024);
  if (env.MERIDIAN_REPLICATION_WEBHOOK) {
    if (!/^https?:\/\//.test(env.MERIDIAN_REPLICATION_WEBHOOK)) throw new Error(`MERIDIAN_REPLICATION_WEBHOOK must be an http(s) URL, got '${env.MERIDIAN_REPLICATION_WEBHOOK}'`);
    config.replicationWebhook = env.MERIDIAN_REPLICATION_WEBHOOK;
  }
  if (!!env.MERIDIAN_TLS_CERT !== !!env.MERIDIAN_TLS_KEY) throw new Error('Set both MERIDIAN_TLS_CERT and MERIDIAN_TLS_KEY (PEM files), or neither');
  if (env.MERIDIAN_TLS_CERT && env.MERIDIAN_TLS_KEY) {
    config.tlsCertFile = resolve(env.MERIDIAN_TLS_CERT);
    config.tlsKeyFile = resolve(env.MERIDIAN_TLS_KEY);
  }
  if (env.MERIDIAN_METRICS_TOKEN) {
    if (env.MERIDIAN_METRICS_TOKEN.length < 16 || /\s/.test(env.MERIDIAN_METRICS_TOKEN)) throw new Error('MERIDIAN_METRICS_TOKEN must be at least 16 characters with no whitespace');
    config.metricsToken = env.MERIDIAN_METRICS_TOKEN;
  }
  if (env.MERIDIAN_ROOT_ACCESS_KEY_ID) config.rootAccessKeyId = env.MERIDIAN_ROOT_ACCESS_KEY_ID;
  if (env.MERIDIAN_ROOT_SECRET_ACCESS_KEY) config.rootSecretAccessKey = env.MERIDIAN_ROOT_SECRET_ACCESS_KEY;
  if (!!config.rootAccessKeyId !== !!config.rootSecretAccessKey) {
    throw new Error('Set both MERIDIAN_ROOT_ACCESS_KEY_ID and MERIDIAN_ROOT_SECRET_ACCESS_KEY, or neither');
  }
  return config;
}
