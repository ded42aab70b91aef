/** The `meridian` command line: serve, accounts, replication, explain. */
import { Command } from 'commander';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, workersFor, type Config } from '../server/config.js';
import type { GlobalStores } from '../storage/index.js';
import { faultCommands } from './faults.js';
import { replicationCommands } from './replication.js';
import type { ExplainOptions } from './explain.js';

// The server, the stores and the tools are imported where a command needs them: a cluster primary
// (serve with MERIDIAN_WORKERS > 1) then loads only what forks and watches workers.
const server = () => import('../server/server.js');
const storage = () => import('../storage/index.js');

async function serve(opts: { regions?: string; peer?: string[]; home?: string; metadataUrl?: string }): Promise<void> {
  // Split mode from the command line: the same settings as MERIDIAN_REGIONS / _PEERS / _HOME_REGION.
  if (opts.metadataUrl) process.env.MERIDIAN_METADATA_URL = opts.metadataUrl;
  if (opts.regions) process.env.MERIDIAN_REGIONS = opts.regions;
  if (opts.peer?.length) process.env.MERIDIAN_PEERS = opts.peer.join(',');
  if (opts.home) process.env.MERIDIAN_HOME_REGION = opts.home;
  const config = loadConfig();
  const { isClusterWorker, runPrimary } = await import('../server/cluster.js');
  if (isClusterWorker()) return serveAsWorker(config);
  const out = (s: string) => process.stdout.write(s + '\n');
  const { workers, reason } = workersFor(config);
  if (reason) out(reason);
  if (workers === 1) (await import('../server/v8-tuning.js')).applyServerV8Flags();
  const m = workers > 1 ? await runPrimary(config, { workers, out }) : await (await server()).startMeridian(config);
  // Before the banner: whoever reads "listening" may stop the server at once, and a SIGTERM arriving
  // before a listener exists would kill the process without stopping its workers.
  stopOnSignals(() => m.close(), out);
  out(`Meridian listening on http://${config.host}:${m.httpPort}` + (m.httpsPort !== undefined ? ` and https://${config.host}:${m.httpsPort}` : ''));
  out(`Data directory: ${config.dataDir}`);
  if (config.metadataUrl) out(`Metadata: PostgreSQL ${redactUrl(config.metadataUrl)}`);
  if (workers > 1) out(`Workers: ${workers} processes (MERIDIAN_WORKERS), primary pid ${process.pid}`);
  if (config.split) {
    const peers = Object.entries(config.split.peers).map(([r, u]) => `${r}=${u}`).join(', ') || 'none';
    out(`Serving regions ${config.split.regions.join(', ')}; peers: ${peers}; global stores (IAM, accounts, bucket names) owned by ${config.split.home}`);
    const forPeers = [m.peerPort !== undefined ? `http://${config.host}:${m.peerPort}` : '', m.peerTlsPort !== undefined ? `https://${config.host}:${m.peerTlsPort}` : ''].filter(Boolean);
    if (forPeers.length > 0) out(`Listening for peers on ${forPeers.join(' and ')} (MERIDIAN_PEER_PORT, MERIDIAN_PEER_TLS_PORT)`);
  }
  if (m.certFile) out(m.operatorCert ? `TLS certificate (MERIDIAN_TLS_CERT): ${m.certFile}` : `TLS certificate (for AWS_CA_BUNDLE): ${m.certFile}`);
  if (m.rootGenerated) {
    out(`Generated root credentials for account ${m.root.accountId} (saved 0600 in ${join(config.dataDir, 'global', 'root-credentials.json')}):`);
    out(`  AWS_ACCESS_KEY_ID=${m.root.accessKeyId}`);
    out(`  AWS_SECRET_ACCESS_KEY=${m.root.secretAccessKey}`);
  } else {
    out(`Account ${m.root.accountId}, root access key ${m.root.accessKeyId}`);
  }
}

/** A cluster worker: serves requests on the primary's sockets; stops on SIGTERM, or when the primary is gone. */
async function serveAsWorker(config: Config): Promise<void> {
  const { ClusterWorkerGroup } = await import('../server/cluster.js');
  const { startMeridian } = await server();
  const group = new ClusterWorkerGroup();
  // The primary died (SIGKILL): nothing restarts this worker or hands it connections; stop serving
  // (at once if it dies while this worker is still starting).
  let stop: ((why: string) => void) | undefined;
  process.on('disconnect', () => (stop ? stop('primary gone') : process.exit(1)));
  const m = await startMeridian(config, { group });
  stop = stopOnSignals(() => m.close(), () => undefined);
  if (!process.connected) return stop('primary gone');
  group.ready();
}

function stopOnSignals(close: () => Promise<void>, out: (s: string) => void): (why: string) => void {
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    out(`${why}: stopping`);
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  return stop;
}

/** A URL with its password (if any) hidden, for printing. */
function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:…@');
}

/** The global stores of the configured backend (SQLite file under the data directory, or PostgreSQL). */
async function openConfiguredGlobalStores(config: ReturnType<typeof loadConfig>): Promise<GlobalStores> {
  const { openGlobalStores, openPostgresMetadata } = await storage();
  if (config.metadataUrl) {
    const pg = await openPostgresMetadata(config.metadataUrl, { max: 2, applicationName: 'meridian cli' });
    return { ...pg.global, close: () => pg.close() };
  }
  mkdirSync(join(config.dataDir, 'global'), { recursive: true, mode: 0o700 });
  // The global database is shared safely with a running server (SQLite WAL, busy timeout).
  return openGlobalStores(join(config.dataDir, 'global', 'global.db'));
}

/** `meridian migrate`: create or upgrade the metadata schema (PostgreSQL with a metadata URL, else the SQLite files). */
async function migrate(opts: { metadataUrl?: string }): Promise<void> {
  if (opts.metadataUrl) process.env.MERIDIAN_METADATA_URL = opts.metadataUrl;
  const config = loadConfig();
  const out = (s: string) => process.stdout.write(s + '\n');
  const { migratePostgresMetadata, migrateSqliteMetadata } = await storage();
  if (config.metadataUrl) {
    const { from, to } = await migratePostgresMetadata(config.metadataUrl);
    out(from === to ? `PostgreSQL ${redactUrl(config.metadataUrl)}: schema version ${to}, up to date` : `PostgreSQL ${redactUrl(config.metadataUrl)}: schema version ${from} -> ${to}`);
    return;
  }
  mkdirSync(join(config.dataDir, 'global'), { recursive: true, mode: 0o700 });
  for (const { file, from, to } of await migrateSqliteMetadata(config.dataDir)) {
    out(from === to ? `${file}: schema version ${to}, up to date` : `${file}: schema version ${from} -> ${to}`);
  }
}

async function accountsCreate(opts: { name: string; id?: string }): Promise<void> {
  const config = loadConfig();
  if (opts.id !== undefined && !/^\d{12}$/.test(opts.id)) throw new Error(`--id must be 12 digits, got '${opts.id}'`);
  const { createAccount, newAccountId } = await import('../server/accounts.js');
  const stores = await openConfiguredGlobalStores(config);
  try {
    const accountId = opts.id ?? (await newAccountId(stores.iam));
    const created = await createAccount(stores.iam, opts.name, accountId, Date.now());
    if (!created) throw new Error(`account ${accountId} already exists`);
    process.stdout.write(JSON.stringify(created) + '\n');
  } finally {
    await stores.close();
  }
}

/** Commands that read the SQLite files directly do not know the PostgreSQL backend yet: say so instead of reading nothing. */
function sqliteOnly(command: string): void {
  if (process.env.MERIDIAN_METADATA_URL) throw new Error(`\`meridian ${command}\` reads the SQLite metadata of the data directory; it does not support MERIDIAN_METADATA_URL (PostgreSQL) yet`);
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command();
  program.name('meridian').description('S3 + KMS + IAM region fabric with real cross-region replication of SSE-KMS objects');
  program
    .command('serve')
    .description('run the server (configuration from MERIDIAN_* environment variables)')
    .option('--regions <list>', 'split mode: serve only these regions (comma-separated)')
    .option('--peer <region=url>', 'split mode: the process serving another region (repeatable)', (v: string, all: string[] = []) => [...all, v])
    .option('--home <region>', 'split mode: the region whose process owns IAM, accounts and bucket names (default us-east-1)')
    .option('--metadata-url <url>', 'keep all metadata in this PostgreSQL database (postgres://user@host:port/db; same as MERIDIAN_METADATA_URL)')
    .action(serve);
  program
    .command('migrate')
    .description('create or upgrade the metadata schema: the PostgreSQL database of MERIDIAN_METADATA_URL (or --metadata-url), else the SQLite files of the data directory')
    .option('--metadata-url <url>', 'the PostgreSQL database (same as MERIDIAN_METADATA_URL)')
    .action(migrate);
  const accounts = program.command('accounts').description('manage the account directory');
  accounts
    .command('create')
    .description('create an account with root access keys; prints {"accountId","accessKeyId","secretAccessKey"}')
    .requiredOption('--name <name>', 'account name')
    .option('--id <accountId>', '12-digit account id (random if omitted)')
    .action(accountsCreate);
  replicationCommands(program);
  faultCommands(program);
  program
    .command('explain')
    .description('explain the decision for a request: exit 0 if allowed, 3 if denied (reads the data directory; safe while the server runs)')
    .requiredOption('--principal <who>', "ARN of a root, user, role or assumed-role session; an account id; an access key id; a service principal; or 'anonymous'")
    .requiredOption('--action <action>', 'e.g. s3:GetObject, kms:Decrypt, sts:AssumeRole')
    .requiredOption('--resource <arn>', 'e.g. arn:aws:s3:::bucket/key, a KMS key ARN, a role ARN')
    .option('--context <key=value>', 'a condition key value (repeatable; a key given twice is multivalued)', (v: string, prev: string[]) => [...prev, v], [])
    .option('--insecure', 'evaluate as a plain-HTTP request (aws:SecureTransport=false)')
    .option('--json', 'print the request and decision as JSON')
    .action(async (opts: ExplainOptions) => {
      const { runExplain } = await import('./explain.js');
      process.exitCode = await runExplain(opts, (s) => process.stdout.write(s + '\n'));
    });
  program
    .command('fsck')
    .description('check the data directory: every object\'s blobs exist, have their recorded size and authenticate; files nothing references are orphans. Exit 0 if sound, 2 if problems remain')
    .option('--repair', 'remove orphaned files (objects with missing or damaged blobs are reported, never removed); run with the server stopped')
    .action(async (opts: { repair?: boolean }) => {
      sqliteOnly('fsck');
      const { runFsck } = await import('./fsck.js');
      process.exitCode = await runFsck(loadConfig().dataDir, opts, (s) => process.stdout.write(s + '\n'));
    });
  program
    .command('_first-start', { hidden: true })
    .description('a cluster primary\'s first start, in a child process (first-start.ts)')
    .action(async () => {
      const { firstStartChild } = await import('../server/first-start.js');
      await firstStartChild(loadConfig());
    });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    process.stderr.write(`meridian: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}
