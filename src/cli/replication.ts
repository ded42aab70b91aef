/**
 * `meridian replication status|wait|explain|events`: replication as an operator sees it, from a
 * running server (any process serving the bucket's region).
 */
import type { Command } from 'commander';
import type { BatchReport } from '../replication/batch.js';
import type { ReplicationExplanation } from '../replication/explain.js';
import { renderStatus, type ReplicationStatusReport } from '../replication/status.js';
import { AdminClient } from './admin-client.js';

interface Common {
  endpoint?: string;
  region?: string;
  json?: boolean;
}

function client(o: Common): AdminClient {
  const opts: ConstructorParameters<typeof AdminClient>[0] = {};
  if (o.endpoint) opts.endpoint = o.endpoint;
  if (o.region) opts.region = o.region;
  return new AdminClient(opts);
}

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : s + '\n');

async function status(o: Common & { bucket: string }): Promise<void> {
  const r = await client(o).json<ReplicationStatusReport>('GET', '/_meridian/replication/status', { bucket: o.bucket });
  out(o.json ? JSON.stringify(r, null, 2) : renderStatus(r));
}

async function wait(o: Common & { bucket: string; timeout: string }): Promise<void> {
  const timeoutMs = Number(o.timeout) * 1000;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw new Error(`--timeout must be a number of seconds, got '${o.timeout}'`);
  const c = client(o);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await c.json<ReplicationStatusReport>('GET', '/_meridian/replication/status', { bucket: o.bucket });
    if (r.pending.operations === 0) {
      out(o.json ? JSON.stringify(r, null, 2) : renderStatus(r));
      return;
    }
    if (Date.now() >= deadline) {
      out(o.json ? JSON.stringify(r, null, 2) : renderStatus(r));
      process.stderr.write(`meridian: ${r.pending.operations} operation(s) still pending after ${o.timeout} s\n`);
      process.exit(2);
    }
    await new Promise((res) => setTimeout(res, 250));
  }
}

async function explain(o: Common & { bucket: string; key: string; versionId?: string }): Promise<void> {
  const r = await client(o).json<{ explanation: ReplicationExplanation; text: string }>('GET', '/_meridian/replication/explain', { bucket: o.bucket, key: o.key, versionId: o.versionId });
  out(o.json ? JSON.stringify(r.explanation, null, 2) : r.text);
}

async function events(o: Common & { bucket?: string }): Promise<void> {
  const res = await client(o).send('GET', '/_meridian/replication/events', { bucket: o.bucket });
  if ((res.statusCode ?? 500) >= 300) {
    let text = '';
    for await (const c of res) text += String(c);
    throw new Error(`HTTP ${res.statusCode}: ${text.trim()}`);
  }
  let buffered = '';
  for await (const chunk of res) {
    buffered += String(chunk);
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line) out(line);
    }
  }
}

function renderReport(r: BatchReport): string {
  const out = [`Batch replication job ${r.jobId} of ${r.bucket} (${r.createdAt}): ${r.status}`, `  ${r.total} operation(s): ${r.succeeded} succeeded, ${r.failed} failed, ${r.pending} pending`];
  for (const row of r.rows.filter((x) => x.status === 'failed')) out.push(`  failed: ${row.key} ${row.versionId} → ${row.destinationBucket}: ${row.failureReason}`);
  return out.join('\n');
}

async function report(c: AdminClient, o: Common & { bucket: string; csv?: boolean }, jobId: string): Promise<BatchReport> {
  return c.json<BatchReport>('GET', '/_meridian/replication/batch', { bucket: o.bucket, job: jobId });
}

async function printReport(c: AdminClient, o: Common & { bucket: string; csv?: boolean }, jobId: string, r: BatchReport): Promise<void> {
  if (o.csv) {
    const res = await c.send('GET', '/_meridian/replication/batch', { bucket: o.bucket, job: jobId, format: 'csv' });
    for await (const chunk of res) process.stdout.write(chunk as Buffer);
  } else out(o.json ? JSON.stringify(r, null, 2) : renderReport(r));
}

async function batch(o: Common & { bucket: string; status: string; prefix?: string; wait?: boolean; timeout: string; csv?: boolean }): Promise<void> {
  const c = client(o);
  const started = await c.json<{ jobId: string; versions: number }>('POST', '/_meridian/replication/batch', { bucket: o.bucket, status: o.status, prefix: o.prefix });
  if (!o.wait) {
    out(o.json ? JSON.stringify(started, null, 2) : `Batch replication job ${started.jobId}: ${started.versions} version(s) queued`);
    return;
  }
  const deadline = Date.now() + Number(o.timeout) * 1000;
  for (;;) {
    const r = await report(c, o, started.jobId);
    if (r.status === 'Complete' || Date.now() >= deadline) {
      await printReport(c, o, started.jobId, r);
      if (r.status !== 'Complete') process.exit(2);
      return;
    }
    await new Promise((res) => setTimeout(res, 250));
  }
}

async function batchReportCommand(o: Common & { bucket: string; job: string; csv?: boolean }): Promise<void> {
  const c = client(o);
  await printReport(c, o, o.job, await report(c, o, o.job));
}

function common(c: Command): Command {
  return c
    .option('--endpoint <url>', 'Meridian endpoint (default: $MERIDIAN_ENDPOINT, $AWS_ENDPOINT_URL or http://127.0.0.1:9000)')
    .option('--region <region>', 'region to sign requests for (default: $AWS_REGION or us-east-1)')
    .option('--json', 'print JSON instead of text');
}

export function replicationCommands(program: Command): void {
  const r = program.command('replication').description('replication status, waiting, explanations and events of a running server');
  common(r.command('status').description('pending operations and bytes, failures by reason, retries, lag percentiles').requiredOption('--bucket <bucket>', 'source bucket')).action(status);
  common(
    r
      .command('wait')
      .description('return when nothing is pending for the bucket (exit 2 on timeout): for CI')
      .requiredOption('--bucket <bucket>', 'source bucket')
      .option('--timeout <seconds>', 'give up after this long', '300'),
  ).action(wait);
  common(
    r
      .command('explain')
      .description("the path of one version through replication: rules, role, every permission check, KMS, the outcome, and what to change")
      .requiredOption('--bucket <bucket>', 'source bucket')
      .requiredOption('--key <key>', 'object key')
      .option('--version-id <id>', 'version (default: the latest)'),
  ).action(explain);
  common(
    r
      .command('batch')
      .description('Batch Replication: replicate existing versions (never replicated, FAILED, …) and report per version')
      .requiredOption('--bucket <bucket>', 'source bucket')
      .option('--status <list>', 'which versions, by state towards each destination: NONE, FAILED, COMPLETED, REPLICA', 'NONE,FAILED')
      .option('--prefix <prefix>', 'only keys with this prefix')
      .option('--wait', 'wait for the job to complete and print its completion report')
      .option('--timeout <seconds>', 'with --wait: give up after this long (exit 2)', '300')
      .option('--csv', "print the completion report as CSV (AWS's completion report columns)"),
  ).action(batch);
  common(
    r
      .command('batch-report')
      .description('the completion report of a batch replication job')
      .requiredOption('--bucket <bucket>', 'source bucket')
      .requiredOption('--job <id>', 'job id')
      .option('--csv', 'print as CSV'),
  ).action(batchReportCommand);
  common(r.command('events').description('tail replication events (one S3 event notification JSON per line)').option('--bucket <bucket>', 'only this source bucket')).action(events);
}
