/** The two servers under test, each in its own process, and what /proc says about their memory. */
import { workerMallocEnv } from '../src/server/malloc-tuning.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { startMeridianProcess, type MeridianProcess } from '../test/support/meridian-process.js';

const ROOT = new URL('..', import.meta.url).pathname;

export interface BaselineProcess {
  endpoint: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function startBaseline(): Promise<BaselineProcess> {
  // Same launcher as Meridian (node + tsx loader), so both processes start the same way.
  // With the malloc settings Meridian's workers run with (as the load client has): under glibc's
  // defaults the freed 64 KiB body chunks of its PUTs went back to the kernel and were faulted in
  // afresh, and its 1 MiB PUTs ran at 330-380 MB/s in most runs and at 1,500 in some (BENCHMARKS.md).
  const env = { ...process.env, ...workerMallocEnv(process.env) };
  const child = spawn(process.execPath, [ROOT + 'bin/run-ts.mjs', ROOT + 'bench/baseline-server.ts'], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`baseline server did not start: ${out} ${err}`)), 30_000);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /listening on (http:\/\/[\d.:]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`baseline server exited with ${code}: ${err}`));
    });
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    endpoint,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}

/** `workers`: MERIDIAN_WORKERS for the server (undefined: the server's default). */
export async function startMeridian(workers?: number): Promise<MeridianProcess> {
  const env: Record<string, string> = {
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    // Requests are logged at debug; info keeps logging out of the measurement (as in production).
    MERIDIAN_LOG_LEVEL: 'info',
  };
  // Empty = unset: the server's own default (one worker per core). The test harness would pass 1.
  env.MERIDIAN_WORKERS = workers !== undefined ? String(workers) : '';
  return startMeridianProcess({ tls: false, env });
}

/**
 * A process and all its descendants (a server with worker processes is measured as the whole
 * tree); [] where /proc is unavailable or the process is gone.
 */
export function processTree(root: number): number[] {
  return childrenTree(root) ?? scannedTree(root);
}

/**
 * The tree from each thread's `children` list (/proc/<pid>/task/<tid>/children): a few small reads.
 * undefined where the kernel lacks the file, and then the whole of /proc is scanned instead — which
 * costs ~1.5 ms per call with ~70 processes, enough to matter when a sampler calls it ten times a
 * second on a 2-core machine whose cores the measured servers need.
 */
function childrenTree(root: number): number[] | undefined {
  const out: number[] = [];
  const visit = (pid: number): boolean => {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      return pid !== root; // a child that exited meanwhile is skipped; a missing root is an empty tree
    }
    out.push(pid);
    for (const tid of tids) {
      let list: string;
      try {
        list = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT' && tid === String(pid)) throw e; // no such file in this kernel
        continue; // the thread ended meanwhile
      }
      for (const c of list.split(' ')) if (c.trim() !== '') visit(Number(c));
    }
    return true;
  };
  try {
    if (!visit(root)) return [];
  } catch {
    return undefined;
  }
  return out;
}

function scannedTree(root: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid);
      if (list) list.push(Number(e));
      else children.set(ppid, [Number(e)]);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const visit = (pid: number) => {
    out.push(pid);
    for (const c of children.get(pid) ?? []) visit(c);
  };
  try {
    readFileSync(`/proc/${root}/stat`);
  } catch {
    return [];
  }
  visit(root);
  return out;
}

/**
 * Proportional set size of a process, bytes (/proc/<pid>/smaps_rollup): pages shared with other
 * processes (the node binary, a cluster's common pages) counted once across them, not once each as
 * summed RSS counts them.
 */
export function pssOf(pid: number): number | undefined {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Current RSS of a process tree, bytes (sum over its processes). */
export function treeRss(root: number): number {
  let sum = 0;
  for (const pid of processTree(root)) sum += memoryOf(pid)?.rss ?? 0;
  return sum;
}

/** VmRSS and VmHWM (peak RSS) of a process, in bytes; undefined where /proc is unavailable. */
export function memoryOf(pid: number | undefined): { rss: number; hwm: number } | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
  } catch {
    return undefined;
  }
}

/** Reset a process's peak RSS (VmHWM) to its current RSS (Linux ≥ 4.0: write 5 to clear_refs). */
export function resetPeakRss(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * Tracks the peak RSS of some processes over a phase: resets VmHWM at the start where the kernel
 * allows it (exact), and also samples VmRSS every few milliseconds (fallback, and a cross-check).
 */
export class PeakRss {
  private readonly sampled = new Map<number, number>();
  private readonly reset = new Map<number, boolean>();
  /** Whether a tree ever had more than one process (then VmHWM of the root alone says too little). */
  private readonly multi = new Map<number, boolean>();
  private trees = new Map<number, number[]>();
  /** Largest sum of PSS over each tree, sampled every 100 ms when asked for. */
  private readonly pss = new Map<number, number>();
  private readonly samplePss: boolean;
  private ticks = 0;
  private timer: NodeJS.Timeout | undefined;

  /**
   * `pids`: roots of process trees; each tree's RSS is the sum over its processes. `pss`: also sample
   * PSS. Off unless a row reports it: reading smaps_rollup walks every page table of the process
   * (1.4 ms for an idle 3-process tree, more under load) and holds its mmap lock meanwhile, which
   * took ~15 % of a core from the servers being measured.
   */
  constructor(
    private readonly pids: number[],
    options: { pss?: boolean } = {},
  ) {
    this.samplePss = options.pss ?? false;
    for (const pid of pids) {
      this.reset.set(pid, resetPeakRss(pid));
      this.sampled.set(pid, 0);
    }
    this.sample();
    this.timer = setInterval(() => this.sample(), 10);
    this.timer.unref();
  }

  private sample(): void {
    // The process list is re-read every 100 ms (workers restart); RSS every 10 ms.
    const slow = this.ticks++ % 10 === 0;
    if (slow) this.trees = new Map(this.pids.map((p) => [p, processTree(p)]));
    for (const pid of this.pids) {
      const tree = this.trees.get(pid) ?? [pid];
      if (tree.length > 1) this.multi.set(pid, true);
      let sum = 0;
      for (const p of tree) sum += memoryOf(p)?.rss ?? 0;
      if (sum > (this.sampled.get(pid) ?? 0)) this.sampled.set(pid, sum);
      if (slow && this.samplePss) {
        let pss = 0;
        for (const p of tree) pss += pssOf(p) ?? 0;
        if (pss > (this.pss.get(pid) ?? 0)) this.pss.set(pid, pss);
      }
    }
  }

  /** After stop(): the largest PSS sum sampled for a tree (bytes; 0 where smaps_rollup is unavailable). */
  peakPss(pid: number): number {
    return this.pss.get(pid) ?? 0;
  }

  /**
   * Stop sampling; the peak RSS of each tree in bytes: for a single process, VmHWM where it could be
   * reset (exact); for several, the largest sampled sum (every 10 ms).
   */
  stop(): Map<number, number> {
    if (this.timer) clearInterval(this.timer);
    this.ticks = 0;
    this.sample();
    const out = new Map<number, number>();
    for (const pid of this.pids) {
      const hwm = this.reset.get(pid) && !this.multi.get(pid) ? memoryOf(pid)?.hwm : undefined;
      out.set(pid, Math.max(hwm ?? 0, this.sampled.get(pid) ?? 0));
    }
    return out;
  }
}

/** CPU time (user + system, in clock ticks) a process has used, all threads; undefined off Linux. */
export function processTicks(pid: number | 'self'): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/**
 * CPU ticks of a whole process tree: the root's own and its reaped children's (cutime, cstime: a
 * worker that exited still counts), plus every live descendant's own.
 */
export function treeTicks(root: number | 'self'): number | undefined {
  if (root === 'self') return processTicks('self');
  const tree = processTree(root);
  if (tree.length === 0) return undefined;
  let sum = 0;
  for (const pid of tree) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      sum += Number(f[11]) + Number(f[12]);
      if (pid === root) sum += Number(f[13]) + Number(f[14]);
    } catch {
      // exited meanwhile: its ticks move to its parent's cutime once reaped
    }
  }
  return sum;
}

/** Busy and total CPU ticks of the whole machine (/proc/stat). */
function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user).
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = cpu;
    const busy = user + nice + system + irq + softirq + steal;
    return { busy, total: busy + idle + iowait };
  } catch {
    return undefined;
  }
}

/**
 * How busy the machine was with work that is not the benchmark's (other processes, other users),
 * over an interval: the share of all CPU time that was busy outside the given processes. A
 * benchmark's figures are only as good as this is low.
 */
export class OutsideLoad {
  private readonly start: { machine: { busy: number; total: number } | undefined; mine: number | undefined };

  constructor(private readonly pids: (number | 'self')[]) {
    this.start = { machine: machineTicks(), mine: this.mine() };
  }

  private mine(): number | undefined {
    let sum = 0;
    for (const pid of this.pids) {
      const t = treeTicks(pid);
      if (t === undefined) return undefined;
      sum += t;
    }
    return sum;
  }

  /** Fraction (0..1) of the machine's CPU time spent busy outside the benchmark since construction. */
  fraction(): number | undefined {
    const end = machineTicks();
    const mine = this.mine();
    if (!end || !this.start.machine || mine === undefined || this.start.mine === undefined) return undefined;
    const total = end.total - this.start.machine.total;
    if (total <= 0) return undefined;
    const outside = end.busy - this.start.machine.busy - (mine - this.start.mine);
    return Math.max(0, outside / total);
  }
}

/** USER_HZ: the unit of /proc CPU times (100 on every mainstream Linux build). */
const TICKS_PER_SECOND = 100;

/** Measures how many cores' worth of CPU some process trees used over an interval. */
export class CpuMeter {
  private readonly start: Map<number | 'self', number | undefined>;
  private readonly t0 = performance.now();

  constructor(private readonly pids: (number | 'self')[]) {
    this.start = new Map(pids.map((p) => [p, treeTicks(p)]));
  }

  /** Cores used per process (1 = one core busy all the time); NaN where /proc is unavailable. */
  stop(): number[] {
    const seconds = (performance.now() - this.t0) / 1000;
    return this.pids.map((p) => {
      const a = this.start.get(p);
      const b = treeTicks(p);
      return a === undefined || b === undefined ? NaN : (b - a) / TICKS_PER_SECOND / seconds;
    });
  }
}
