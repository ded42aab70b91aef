/**
 * Benchmark rows for replication under load (bench/replication-load.ts), in one Meridian process and
 * in two (split mode: us-east-1 and us-east-2 in separate processes, replicas crossing over HTTP).
 * Lag rows: baseline column = one 4 KiB PUT+GET round trip against the trivial server (the floor of a
 * cross-region copy). Throughput row: baseline column = the source's own PUT throughput for the same
 * objects, so the ratio is "replication ÷ PUT" (the target: at least 0.5).
 */
import { BenchClient } from './http-client.js';
import type { BenchSettings, Row } from './benchmark.js';
import { percentileOf, replicationThroughput, steadyLag } from './replication-load.js';
import { setUpReplication, type ReplicationScenario } from './scenario.js';
import { startSplitPair } from '../test/support/split-mode.js';

function sizeLabel(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes / 1024 / 1024} MiB` : `${bytes / 1024} KiB`;
}

/**
 * The replication retries a server logged (`replication will retry`, log level info), by message:
 * a task that hit a transient error waits out a per-task backoff (1 s for its first retry), which is
 * what a lag p99 near one second usually means.
 */
export function retriesLogged(logs: string): { retries: number; reasons: Record<string, number> } {
  const reasons: Record<string, number> = {};
  let retries = 0;
  for (const line of logs.split('\n')) {
    if (!line.includes('replication will retry')) continue;
    let message = 'unknown';
    try {
      message = String((JSON.parse(line) as { message?: unknown }).message ?? 'unknown');
    } catch {
      // not a JSON line
    }
    // Request ids and object names differ per task; the reason is what is left.
    message = message.replace(/steady-\d+/g, 'steady-N').replace(/\b[0-9A-F]{16}\b/g, 'ID').slice(0, 200);
    reasons[message] = (reasons[message] ?? 0) + 1;
    retries++;
  }
  return { retries, reasons };
}

export async function replicationLoadRows(
  client: BenchClient,
  scenario: ReplicationScenario,
  s: BenchSettings,
  small: Buffer,
  rtts: number[],
  label: string,
  log: (l: string) => void,
  /** The source server's log so far (its stderr), to count the retries of the steady phase. */
  serverLogs?: () => string,
): Promise<Row[]> {
  const id = label === 'one process' ? '1p' : '2p';
  const rows: Row[] = [];
  const logsBefore = serverLogs?.().length ?? 0;
  const lag = await steadyLag(client, scenario, small, s.steadyRate, s.steadySeconds);
  const retried = serverLogs ? retriesLogged(serverLogs().slice(logsBefore)) : undefined;
  log(`  steady ${s.steadyRate}/s (${label}, ${lag.achievedRate.toFixed(0)} PUT/s acknowledged): lag p50 ${lag.p50Ms.toFixed(1)} ms, p99 ${lag.p99Ms.toFixed(1)} ms`);
  const topReasons = retried ? Object.entries(retried.reasons).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([m, n]) => `${n} × ${m}`).join('; ') : '';
  if (retried && retried.retries > 0) log(`    ${retried.retries} replication retries: ${topReasons}`);
  for (const p of [50, 99] as const) {
    const mv = p === 50 ? lag.p50Ms : lag.p99Ms;
    const bv = percentileOf(rtts, p);
    rows.push({
      id: `replication-steady-${id}-p${p}`,
      workload: `replication lag p${p} at ${s.steadyRate} PUT/s, ${sizeLabel(s.smallSize)} SSE-KMS, ${label}`,
      unit: 'ms',
      meridian: mv,
      baseline: bv,
      ratio: mv / bv,
      baselineNote: `one ${sizeLabel(s.smallSize)} PUT+GET round trip against the baseline server (the floor of a cross-region copy on this machine); Meridian's lag is its own measurement (commit → COMPLETED, as \`meridian replication status\` shows)`,
      detail: { objects: lag.count, rate: s.steadyRate, achievedRate: lag.achievedRate, seconds: s.steadySeconds, meridianMaxMs: lag.maxMs, meridianPutP50Ms: lag.putP50Ms, ...(retried ? { retries: retried.retries, retryReasons: topReasons } : {}) },
    });
  }
  const t = await replicationThroughput(client, scenario, s.largeSize, s.replicationLargeCount, id);
  log(`  ${sizeLabel(s.largeSize)} SSE-KMS (${label}): PUT ${t.putMBps.toFixed(0)} MB/s, replication ${t.replicationMBps.toFixed(0)} MB/s`);
  rows.push({
    id: `replication-throughput-${id}`,
    workload: `replication throughput, ${sizeLabel(s.largeSize)} SSE-KMS, ${label}`,
    unit: 'MB/s',
    meridian: t.replicationMBps,
    baseline: t.putMBps,
    ratio: t.replicationMBps / t.putMBps,
    baselineNote: `Meridian's own PUT throughput for the same ${sizeLabel(s.largeSize)} SSE-KMS objects, 1 stream (ratio = replication ÷ PUT)`,
    detail: { objects: t.objects, bytes: t.bytes },
  });
  return rows;
}

/** The same rows with the source and destination regions in two processes. */
export async function splitModeRows(s: BenchSettings, small: Buffer, rtts: number[], log: (l: string) => void): Promise<Row[]> {
  // Deployed as docs/deployment.md recommends: each process listens for the other on a port of its own.
  const pair = await startSplitPair({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', MERIDIAN_LOG_LEVEL: 'info' }, { peerListeners: true });
  const client = new BenchClient(pair.east1.httpEndpoint, { accessKeyId: pair.east1.accessKeyId, secretAccessKey: pair.east1.secretAccessKey }, 256);
  try {
    const scenario = await setUpReplication(client, 'bench-split-src', 'bench-split-dest');
    return await replicationLoadRows(client, scenario, s, small, rtts, 'two processes', log, () => pair.east1.logs());
  } finally {
    client.close();
    await pair.stop();
  }
}
