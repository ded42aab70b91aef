/**
 * Hosts for tests, made of Linux network namespaces: each host is a namespace with `lo` and one
 * `eth0`, cabled by a veth pair to a bridge that lives in a namespace of its own (the switch). The
 * root namespace (where the test runs) is cabled to the same bridge, so a test's clients and
 * helpers (e.g. a delay proxy) reach every host at its address. Addresses come from a private /24
 * picked per run (10.213.<n>.0/24, .1 for the root namespace, .11, .12, … for the hosts); the
 * namespaces and the root's link are named per run, so runs do not meet.
 *
 * Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN for `ip netns add`); `netnsUnavailable()` says why
 * not, for a test to skip with. Cutting a host's link takes its switch port down (`ip link set …
 * down`): the host keeps its address and routes but nothing reaches the wire, like a pulled cable.
 *
 * Teardown kills every process inside the run's namespaces, deletes the namespaces and the root's
 * link and the per-namespace /etc/netns files; it runs from `destroy()`, again at process exit if a
 * test forgot, and leftovers of a run whose process died are swept by the next run.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';

const PREFIX = 'mrdn';
const NETNS_DIR = '/run/netns';
const NETNS_ETC = '/etc/netns';

export interface Host {
  /** The name the test gave it. */
  name: string;
  /** The network namespace's name. */
  ns: string;
  /** Its address on the test network. */
  address: string;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function ip(args: string[]): RunResult {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.error ? String(r.error) : (r.stderr ?? '') };
}

function ipOrThrow(args: string[]): string {
  const r = ip(args);
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Why namespaces cannot be used here (undefined when they can): tests skip with this message. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  const probe = `${PREFIX}-probe-${process.pid}-${randomBytes(3).toString('hex')}`;
  const r = ip(['netns', 'add', probe]);
  if (r.code !== 0) {
    const why = r.stderr.trim() || `exit code ${r.code}`;
    return `cannot create network namespaces (\`ip netns add\`: ${why}); run as root (CAP_NET_ADMIN + CAP_SYS_ADMIN) with iproute2 installed`;
  }
  ip(['netns', 'del', probe]);
  return undefined;
}

/** Kill every process inside a namespace: SIGTERM, then SIGKILL for those still there. */
async function killAllIn(ns: string, graceMs: number): Promise<void> {
  const pids = () =>
    ip(['netns', 'pids', ns])
      .stdout.split(/\s+/)
      .filter(Boolean)
      .map(Number)
      .filter((p) => p !== process.pid);
  const first = pids();
  if (first.length === 0) return;
  for (const p of first) {
    try {
      process.kill(p, 'SIGTERM');
    } catch {
      /* gone already */
    }
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && pids().length > 0) await new Promise((r) => setTimeout(r, 50));
  for (const p of pids()) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone already */
    }
  }
}

function killAllInSync(ns: string): void {
  for (const p of ip(['netns', 'pids', ns]).stdout.split(/\s+/).filter(Boolean).map(Number)) {
    if (p === process.pid) continue;
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone already */
    }
  }
}

function removeNamespace(ns: string): void {
  ip(['netns', 'del', ns]);
  rmSync(`${NETNS_ETC}/${ns}`, { recursive: true, force: true });
}

/**
 * Leftovers of earlier runs whose process is gone (killed before its teardown): their namespaces
 * (named mrdn-<pid>-…), the processes still inside them, their /etc/netns files and root links.
 */
function sweepDeadRuns(): void {
  let names: string[] = [];
  try {
    names = readdirSync(NETNS_DIR);
  } catch {
    return;
  }
  for (const ns of names) {
    const m = new RegExp(`^${PREFIX}-(\\d+)-([0-9a-f]+)-`).exec(ns);
    if (!m || alive(Number(m[1]))) continue;
    killAllInSync(ns);
    removeNamespace(ns);
    ip(['link', 'del', `${PREFIX}${m[2]}r`]);
  }
}

/** A /24 in 10.213.0.0/16 that no address or route in the root namespace overlaps. */
function pickSubnet(): string {
  const used = ipOrThrow(['-4', 'route', 'show', 'table', 'all']) + ipOrThrow(['-4', 'addr', 'show']);
  for (let i = 0; i < 64; i++) {
    const n = 1 + Math.floor(Math.random() * 254);
    const subnet = `10.213.${n}`;
    if (!used.includes(`${subnet}.`)) return subnet;
  }
  throw new Error('no free 10.213.x.0/24 for the test network');
}

class SubnetTaken extends Error {
  constructor(subnet: string) {
    super(`${subnet}.0/24 was taken by another run at the same time`);
  }
}

const live = new Set<TestNetwork>();
process.once('exit', () => {
  for (const n of live) n.destroySync();
});

export class TestNetwork {
  private readonly hosts = new Map<string, Host>();
  private readonly children = new Set<ChildProcess>();
  private destroyed = false;

  private constructor(
    /** Unique per run: part of every name. */
    readonly runId: string,
    /** The /24 prefix, e.g. "10.213.57". */
    readonly subnet: string,
    private readonly switchNs: string,
    private readonly rootLink: string,
  ) {}

  /** The root namespace's address on the test network (where in-process helpers listen). */
  get rootAddress(): string {
    return `${this.subnet}.1`;
  }

  /** Build a network with one host per name. Throws with netnsUnavailable()'s reason where it cannot. */
  static async create(hostNames: string[]): Promise<TestNetwork> {
    const why = netnsUnavailable();
    if (why) throw new Error(why);
    sweepDeadRuns();
    for (let attempt = 1; ; attempt++) {
      try {
        return TestNetwork.build(hostNames);
      } catch (e) {
        if (!(e instanceof SubnetTaken) || attempt === 5) throw e;
      }
    }
  }

  private static build(hostNames: string[]): TestNetwork {
    const runId = randomBytes(3).toString('hex');
    const subnet = pickSubnet();
    const base = `${PREFIX}-${process.pid}-${runId}`;
    const net = new TestNetwork(runId, subnet, `${base}-switch`, `${PREFIX}${runId}r`);
    live.add(net);
    try {
      ipOrThrow(['netns', 'add', net.switchNs]);
      ipOrThrow(['-n', net.switchNs, 'link', 'set', 'lo', 'up']);
      ipOrThrow(['-n', net.switchNs, 'link', 'add', 'br0', 'type', 'bridge']);
      ipOrThrow(['-n', net.switchNs, 'link', 'set', 'br0', 'up']);
      // The root namespace's cable: only this name lives outside the run's namespaces.
      ipOrThrow(['link', 'add', net.rootLink, 'type', 'veth', 'peer', 'name', 'root', 'netns', net.switchNs]);
      ipOrThrow(['-n', net.switchNs, 'link', 'set', 'root', 'master', 'br0', 'up']);
      ipOrThrow(['addr', 'add', `${net.rootAddress}/24`, 'dev', net.rootLink]);
      // Another run may have taken the same /24 between our look and our claim: then pick again.
      const claimants = ipOrThrow(['-4', '-o', 'addr', 'show', 'to', `${subnet}.0/24`]).split('\n').filter(Boolean);
      if (claimants.length > 1) throw new SubnetTaken(subnet);
      ipOrThrow(['link', 'set', net.rootLink, 'up']);
      hostNames.forEach((name, i) => {
        if (!/^[a-z0-9]{1,10}$/.test(name)) throw new Error(`host name '${name}': 1-10 lowercase letters or digits`);
        const host: Host = { name, ns: `${base}-${name}`, address: `${subnet}.${11 + i}` };
        ipOrThrow(['netns', 'add', host.ns]);
        ipOrThrow(['-n', host.ns, 'link', 'set', 'lo', 'up']);
        ipOrThrow(['link', 'add', 'eth0', 'netns', host.ns, 'type', 'veth', 'peer', 'name', `p-${name}`, 'netns', net.switchNs]);
        ipOrThrow(['-n', net.switchNs, 'link', 'set', `p-${name}`, 'master', 'br0', 'up']);
        ipOrThrow(['-n', host.ns, 'addr', 'add', `${host.address}/24`, 'dev', 'eth0']);
        ipOrThrow(['-n', host.ns, 'link', 'set', 'eth0', 'up']);
        net.hosts.set(name, host);
      });
    } catch (e) {
      net.destroySync();
      throw e;
    }
    return net;
  }

  host(name: string): Host {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no host '${name}' on this test network`);
    return h;
  }

  /** The command prefix that runs a program inside a host's namespace. */
  launcher(name: string): string[] {
    return ['ip', 'netns', 'exec', this.host(name).ns];
  }

  /** Start a program inside a host's namespace (stdio piped unless told); killed at teardown. */
  spawn(name: string, command: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    // `ip netns exec` execs the program, so the child's pid is the program's own.
    const child = spawn('ip', ['netns', 'exec', this.host(name).ns, command, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** Run a program inside a host's namespace to its end. */
  run(name: string, command: string, args: string[], input?: string, env?: NodeJS.ProcessEnv): Promise<RunResult> {
    const child = this.spawn(name, command, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], ...(env ? { env } : {}) });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    if (input !== undefined) child.stdin!.end(input);
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  /**
   * Names resolved inside a host's namespace: `ip netns exec` mounts /etc/netns/<ns>/hosts over
   * /etc/hosts for the programs it starts (started from now on).
   */
  setHostsFile(name: string, entries: Record<string, string>): void {
    const dir = `${NETNS_ETC}/${this.host(name).ns}`;
    mkdirSync(dir, { recursive: true });
    const lines = ['127.0.0.1 localhost', '::1 localhost', ...Object.entries(entries).map(([n, addr]) => `${addr} ${n}`)];
    writeFileSync(`${dir}/hosts`, lines.join('\n') + '\n');
  }

  /** Pull a host's cable: its switch port goes down, and the host sees no carrier. */
  cut(name: string): void {
    ipOrThrow(['-n', this.switchNs, 'link', 'set', `p-${this.host(name).name}`, 'down']);
  }

  /** Plug it back. */
  heal(name: string): void {
    ipOrThrow(['-n', this.switchNs, 'link', 'set', `p-${this.host(name).name}`, 'up']);
  }

  /** Whether a host's cable is plugged in (its switch port is up). */
  linked(name: string): boolean {
    return /\bstate UP\b|<[^>]*\bUP\b[^>]*>/.test(ipOrThrow(['-n', this.switchNs, 'link', 'show', `p-${this.host(name).name}`]));
  }

  private namespaces(): string[] {
    return [...[...this.hosts.values()].map((h) => h.ns), this.switchNs];
  }

  /** Stop every process in the run's namespaces (SIGTERM, then SIGKILL after graceMs), then remove it all. */
  async destroy(graceMs = 5000): Promise<void> {
    if (this.destroyed) return;
    for (const child of this.children) child.kill('SIGTERM');
    await Promise.all(this.namespaces().map((ns) => killAllIn(ns, graceMs)));
    this.destroySync();
  }

  /** Teardown without waiting: SIGKILL what is left, delete links and namespaces. Safe to repeat. */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    live.delete(this);
    for (const child of this.children) child.kill('SIGKILL');
    for (const ns of this.namespaces()) killAllInSync(ns);
    // Deleting a namespace frees its devices asynchronously: delete the root's link now, so the
    // address and route are gone when this returns.
    ip(['link', 'del', this.rootLink]);
    for (const ns of this.namespaces()) removeNamespace(ns);
  }

  /** Names of this run's namespaces that exist right now (for tests of the teardown). */
  existingNamespaces(): string[] {
    let names: string[] = [];
    try {
      names = readdirSync(NETNS_DIR);
    } catch {
      return [];
    }
    return names.filter((n) => this.namespaces().includes(n));
  }

  /** Whether the root namespace's link of this run exists. */
  rootLinkExists(): boolean {
    return ip(['link', 'show', this.rootLink]).code === 0;
  }
}
