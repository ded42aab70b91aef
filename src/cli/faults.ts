/**
 * `meridian faults add|list|clear|schedule`: inject faults into a running server started with
 * MERIDIAN_FAULTS=on, to see how a replication setup (and its alerting) copes.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { FAULT_KINDS } from '../faults/spec.js';
import { AdminClient } from './admin-client.js';

interface Common {
  endpoint?: string;
  region?: string;
  json?: boolean;
}

interface FaultView {
  id: string;
  description: string;
  remainingSeconds: number;
  injected: number;
  endTime: string;
}

const out = (s: string): void => void process.stdout.write(s.endsWith('\n') ? s : s + '\n');

function client(o: Common): AdminClient {
  const opts: ConstructorParameters<typeof AdminClient>[0] = {};
  if (o.endpoint) opts.endpoint = o.endpoint;
  if (o.region) opts.region = o.region;
  return new AdminClient(opts);
}

function common(c: Command): Command {
  return c
    .option('--endpoint <url>', 'Meridian endpoint (default: $MERIDIAN_ENDPOINT, $AWS_ENDPOINT_URL or http://127.0.0.1:9000)')
    .option('--region <region>', 'region to sign requests for (default: $AWS_REGION or us-east-1)')
    .option('--json', 'print JSON instead of text');
}

async function add(o: Common & { kind: string; target?: string; bucket?: string; key?: string; duration: string; latency?: string; errorRate?: string }): Promise<void> {
  const spec: Record<string, unknown> = { kind: o.kind, duration: o.duration };
  if (o.target) spec.region = o.target;
  if (o.bucket) spec.bucket = o.bucket;
  if (o.key) spec.key = o.key;
  if (o.latency) spec.latency = o.latency;
  if (o.errorRate !== undefined) spec.errorRate = Number(o.errorRate);
  const r = await client(o).json<{ fault: FaultView }>('POST', '/_meridian/faults', {}, JSON.stringify(spec));
  out(o.json ? JSON.stringify(r.fault, null, 2) : `${r.fault.id}: ${r.fault.description}, until ${r.fault.endTime}`);
}

async function list(o: Common): Promise<void> {
  const r = await client(o).json<{ seed: number; faults: FaultView[]; scheduled: { description: string; startTime: string }[] }>('GET', '/_meridian/faults');
  if (o.json) return out(JSON.stringify(r, null, 2));
  if (r.faults.length === 0 && r.scheduled.length === 0) return out('No fault in force.');
  for (const f of r.faults) out(`${f.id}: ${f.description}; ends in ${f.remainingSeconds} s; ${f.injected} operation(s) changed`);
  for (const s of r.scheduled) out(`scheduled at ${s.startTime}: ${s.description}`);
}

async function clear(o: Common & { id?: string }): Promise<void> {
  const r = await client(o).json<{ cleared: FaultView[] }>('DELETE', '/_meridian/faults', { id: o.id });
  out(o.json ? JSON.stringify(r, null, 2) : r.cleared.length ? r.cleared.map((f) => `ended ${f.id}: ${f.description}`).join('\n') : 'No fault was in force.');
}

async function schedule(file: string, o: Common): Promise<void> {
  const text = readFileSync(file, 'utf8');
  const r = await client(o).json<{ seed: number; timeline: { description: string; startTime: string }[] }>('POST', '/_meridian/faults/schedule', {}, text);
  if (o.json) return out(JSON.stringify(r, null, 2));
  out(`Schedule with seed ${r.seed}: ${r.timeline.length} fault(s)`);
  for (const t of r.timeline) out(`  ${t.startTime}  ${t.description}`);
}

export function faultCommands(program: Command): void {
  const f = program.command('faults').description('inject faults into a server started with MERIDIAN_FAULTS=on (testing replication failure handling)');
  common(
    f
      .command('add')
      .description('start a fault; it ends by itself after --duration')
      .requiredOption('--kind <kind>', `one of: ${Object.entries(FAULT_KINDS).map(([k, v]) => `${k} (${v})`).join('; ')}`)
      .option('--target <region>', 'the region the fault applies to (destination region for unreachable/slow/flaky/throttle; default: every region)')
      .option('--bucket <bucket>', 'unreachable/slow/flaky/throttle: only this destination bucket')
      .option('--key <arn>', 'kms-disabled: the key ARN (or key id)')
      .requiredOption('--duration <duration>', 'how long, e.g. 30s, 15m, 24h')
      .option('--latency <duration>', 'slow: added to every replica write, e.g. 2s')
      .option('--error-rate <fraction>', 'flaky, throttle: fraction of writes that fail, in (0, 1]'),
  ).action(add);
  common(f.command('list').description('faults in force and scheduled')).action(list);
  common(f.command('clear').description('end a fault now (all of them, and the rest of a schedule, without --id)').option('--id <id>', 'the fault id, e.g. f-1')).action(clear);
  common(f.command('schedule').description('replay a schedule file: {"seed": n, "faults": [{"after": "10s", "kind": …}], "random": {…}}').argument('<file>', 'schedule file (JSON)')).action(schedule);
}
