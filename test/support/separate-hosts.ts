/**
 * Regions on separate hosts: each region's `meridian serve` (one gateway, or several) runs in its
 * own network namespace (a host of test/support/netns.ts), bound to that host's address, in split mode with the other
 * region as its peer. Peers reach each other by name (`<region>.meridian.test`, from each host's
 * hosts file) through a TCP delay proxy in the root namespace — the distance between the hosts —
 * over HTTPS: every host has a certificate from one test CA for its name and address, and trusts
 * that CA for peers (MERIDIAN_PEER_CA). Clients (in the root namespace) talk HTTPS straight to a
 * host's address, so SSE-KMS requests are on a secure transport as in production.
 *
 * `hostEnv` is where a variant adds per-host services before a region starts, once per host: e.g.
 * a PostgreSQL inside the host's namespace (startThrowawayPostgres with `launcher:
 * net.launcher(host)`, `meridian migrate` run there too), returning MERIDIAN_METADATA_URL, with
 * its teardown given to `defer`. Several gateways per region (`gateways`) share that database and
 * the host's data directory; the proxy in front of the host hands connections to them in turn.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { KMSClient } from '@aws-sdk/client-kms';
import { IAMClient } from '@aws-sdk/client-iam';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { generate } from 'selfsigned';
import { startMeridianProcess, type MeridianProcess } from './meridian-process.js';
import { TestNetwork } from './netns.js';
import { TcpDelayProxy } from './tcp-delay-proxy.js';
import type { ScenarioNames } from './replication-documents.js';
import { setUpReplicationBetween } from './replication-setup.js';

const HTTP_PORT = 9000;
const TLS_PORT = 9443;

export interface RegionHost {
  region: string;
  /** The host's name on the test network (its namespace). */
  host: string;
  address: string;
  /** The name peers use for it (in their hosts files, and in its certificate). */
  peerName: string;
  /** The proxy through which peers reach it (a round-robin balancer over its gateways). */
  proxy: TcpDelayProxy;
  /** The host's data directory (blobs; shared by its gateways). */
  dataDir: string;
  /** Its gateways (one unless `gateways` says more); `process` is the first. */
  processes: MeridianProcess[];
  process: MeridianProcess;
  /** https://<address>:9443, the first gateway, for clients in the root namespace. */
  endpoint: string;
  /** Every gateway's https endpoint (ports 9443, 9444, …). */
  endpoints: string[];
}

export interface SeparateHosts {
  net: TestNetwork;
  /** The test CA's certificate (PEM): what clients trust. */
  ca: string;
  accessKeyId: string;
  secretAccessKey: string;
  regions: Record<string, RegionHost>;
  /** (Re)start one of a region's gateways (default the first) on its host, data directory and port. */
  start(region: string, gateway?: number): Promise<MeridianProcess>;
  /** Clients of one region's gateway (default the first). */
  s3(region: string, gateway?: number): S3Client;
  kms(region: string, gateway?: number): KMSClient;
  /** IAM (home region's host). */
  iam(): IAMClient;
  /** Stop servers, proxies and the network; remove data directories. Safe after a failure. */
  stop(): Promise<void>;
}

export interface SeparateHostsOptions {
  /** Regions, one host each; the first is the home (IAM, accounts, bucket names). */
  regions: string[];
  /** Latency added each way between hosts. */
  delayMs: number;
  /** Gateways per region (default 1). More than one needs shared metadata (MERIDIAN_METADATA_URL from hostEnv). */
  gateways?: number;
  /** Extra environment for one region's servers, and a place to start services on its host first. */
  hostEnv?: (ctx: HostContext) => Promise<Record<string, string>> | Record<string, string>;
  /** Extra environment for every server. */
  env?: Record<string, string>;
}

export interface HostContext {
  region: string;
  /** The host's name on the test network. */
  host: string;
  net: TestNetwork;
  /** The host's data directory. */
  dataDir: string;
  /** Run this at stop(), after the servers stop and before the network goes. */
  defer(cleanup: () => Promise<void> | void): void;
}

async function issueCertificates(names: { peerName: string; address: string }[]): Promise<{ ca: string; leaves: { cert: string; key: string }[] }> {
  const notAfterDate = new Date(Date.now() + 24 * 3600 * 1000);
  const ca = await generate([{ name: 'commonName', value: 'meridian test hosts CA' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const leaves = [];
  for (const n of names) {
    const leaf = await generate([{ name: 'commonName', value: n.peerName }], {
      keySize: 2048,
      algorithm: 'sha256',
      notAfterDate,
      ca: { key: ca.private, cert: ca.cert },
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames: [{ type: 2, value: n.peerName }, { type: 7, ip: n.address }] },
      ],
    });
    leaves.push({ cert: leaf.cert, key: leaf.private });
  }
  return { ca: ca.cert, leaves };
}

export async function startRegionsOnSeparateHosts(opts: SeparateHostsOptions): Promise<SeparateHosts> {
  const gateways = opts.gateways ?? 1;
  const hostNames = opts.regions.map((r) => r.replace(/^([a-z]+)-([a-z]+)-(\d+)$/, (_, a: string, b: string, n: string) => `${a}${b.slice(0, 1)}${n}`));
  const net = await TestNetwork.create(hostNames);
  const dirs: string[] = [];
  const proxies: TcpDelayProxy[] = [];
  const deferred: (() => Promise<void> | void)[] = [];
  const regions: Record<string, RegionHost> = {};
  let agent: Agent | undefined;
  /** Everything this started, in reverse order; safe after a failure part-way. */
  const teardown = async () => {
    agent?.destroy();
    for (const r of Object.values(regions).reverse()) for (const m of r.processes) await m.stop({ keepData: true }).catch(() => {});
    for (const p of proxies) await p.close().catch(() => {});
    for (const cleanup of deferred.reverse()) await Promise.resolve(cleanup()).catch(() => {});
    await net.destroy();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  };
  try {
    const shared = mkdtempSync(join(tmpdir(), 'meridian-hosts-'));
    dirs.push(shared);
    const names = opts.regions.map((region, i) => ({ region, host: hostNames[i]!, address: net.host(hostNames[i]!).address, peerName: `${region}.meridian.test` }));
    const certs = await issueCertificates(names);
    const caFile = join(shared, 'ca.pem');
    writeFileSync(caFile, certs.ca);
    const accessKeyId = 'AKIA' + randomBytes(8).toString('hex').toUpperCase();
    const secretAccessKey = randomBytes(30).toString('base64').slice(0, 40);
    const peerSecret = randomBytes(24).toString('hex');
    const gatewayIndexes = Array.from({ length: gateways }, (_, g) => g);
    for (const [i, n] of names.entries()) {
      const targets = gatewayIndexes.map((g) => ({ host: n.address, port: TLS_PORT + g }));
      const proxy = await TcpDelayProxy.start({ listenHost: net.rootAddress, targetHost: n.address, targetPort: TLS_PORT, targets, delayMs: opts.delayMs });
      proxies.push(proxy);
      const dataDir = mkdtempSync(join(tmpdir(), `meridian-${n.host}-`));
      dirs.push(dataDir);
      writeFileSync(join(shared, `${n.host}.cert.pem`), certs.leaves[i]!.cert);
      writeFileSync(join(shared, `${n.host}.key.pem`), certs.leaves[i]!.key, { mode: 0o600 });
      const endpoints = targets.map((t) => `https://${t.host}:${t.port}`);
      regions[n.region] = {
        ...n,
        proxy,
        dataDir,
        endpoint: endpoints[0]!,
        endpoints,
        processes: [],
        get process() {
          return this.processes[0]!;
        },
      };
    }
    // Every other region's name resolves, on this host, to the proxy in front of it.
    for (const n of names) net.setHostsFile(n.host, Object.fromEntries(names.filter((o) => o !== n).map((o) => [o.peerName, net.rootAddress])));
    const extra: Record<string, Record<string, string>> = {};
    for (const n of names) {
      extra[n.region] = (await opts.hostEnv?.({ region: n.region, host: n.host, net, dataDir: regions[n.region]!.dataDir, defer: (c) => void deferred.push(c) })) ?? {};
      if (gateways > 1 && !{ ...opts.env, ...extra[n.region] }.MERIDIAN_METADATA_URL) {
        throw new Error(`${gateways} gateways for ${n.region} need shared metadata: give them MERIDIAN_METADATA_URL (PostgreSQL) from hostEnv; SQLite serves one process`);
      }
    }

    const hosts = { net, ca: certs.ca, accessKeyId, secretAccessKey, regions } as SeparateHosts;
    hosts.start = async (region, gateway = 0) => {
      const r = regions[region]!;
      const peers = Object.values(regions)
        .filter((o) => o !== r)
        .map((o) => `${o.region}=https://${o.peerName}:${o.proxy.port}`)
        .join(',');
      const m = await startMeridianProcess({
        dataDir: r.dataDir,
        accessKeyId,
        secretAccessKey,
        launcher: net.launcher(r.host),
        env: {
          MERIDIAN_HOST: r.address,
          MERIDIAN_PORT: String(HTTP_PORT + gateway),
          MERIDIAN_TLS_PORT: String(TLS_PORT + gateway),
          MERIDIAN_TLS_CERT: join(shared, `${r.host}.cert.pem`),
          MERIDIAN_TLS_KEY: join(shared, `${r.host}.key.pem`),
          MERIDIAN_REGIONS: region,
          MERIDIAN_PEERS: peers,
          MERIDIAN_HOME_REGION: opts.regions[0]!,
          MERIDIAN_PEER_SECRET: peerSecret,
          MERIDIAN_PEER_CA: caFile,
          ...opts.env,
          ...extra[region],
        },
      });
      r.processes[gateway] = m;
      return m;
    };
    agent = new Agent({ ca: certs.ca, keepAlive: true });
    const client = { forcePathStyle: true, credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1, requestHandler: new NodeHttpHandler({ httpsAgent: agent }) };
    hosts.s3 = (region, gateway = 0) => new S3Client({ ...client, endpoint: regions[region]!.endpoints[gateway]!, region });
    hosts.kms = (region, gateway = 0) => new KMSClient({ ...client, endpoint: regions[region]!.endpoints[gateway]!, region });
    hosts.iam = () => new IAMClient({ ...client, endpoint: regions[opts.regions[0]!]!.endpoint, region: 'us-east-1' });
    hosts.stop = teardown;
    // The home first: the others ask it for the root account as they start.
    for (const region of opts.regions) for (const g of gatewayIndexes) await hosts.start(region, g);
    return hosts;
  } catch (e) {
    await teardown();
    throw e;
  }
}

/**
 * The walkthrough's set-up across hosts: a KMS key in each region, versioned buckets, the
 * replication role (trust policy, permissions for these regions) and a rule with
 * SseKmsEncryptedObjects and ReplicaKmsKeyID.
 */
export async function setUpReplicationAcrossHosts(hosts: SeparateHosts, srcRegion: string, destRegion: string): Promise<ScenarioNames> {
  return setUpReplicationBetween(hosts, srcRegion, destRegion);
}
