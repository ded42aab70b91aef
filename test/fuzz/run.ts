/**
 * `npm run fuzz -- [--seconds N] [--seed S] [--concurrency C]`: fuzz a fresh local server for a
 * bounded time and print the report (findings with the request that caused each). Exits 1 on any
 * finding, so a long run can gate a release.
 */
import { parseArgs } from 'node:util';
import { runFuzz } from './live-fuzz.js';
import { startFuzzTarget } from './fuzz-target.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' }, seed: { type: 'string', default: String(Date.now() % 100000) }, concurrency: { type: 'string', default: '8' } } });
const seconds = Number(values.seconds);
const seed = Number(values.seed);
const concurrency = Number(values.concurrency);

const t = await startFuzzTarget();
let failed = false;
try {
  const started = Date.now();
  const report = await runFuzz({ host: t.host, port: t.port, pid: t.pid, seconds, seed, concurrency, target: t.target });
  const rssKb = report.alive ? Number(/VmRSS:\s+(\d+)/.exec((await import('node:fs')).readFileSync(`/proc/${t.pid}/status`, 'utf8'))?.[1] ?? 0) : 0;
  console.log(`seed ${seed}: ${report.requests} requests in ${((Date.now() - started) / 1000).toFixed(0)} s, concurrency ${concurrency}`);
  console.log(`statuses: ${JSON.stringify(report.statuses)}`);
  console.log(`server alive: ${report.alive}; descriptors ${report.fdBefore} → ${report.fdAfter}; RSS ${(rssKb / 1024).toFixed(0)} MiB`);
  console.log(`findings: ${report.findings.length}`);
  for (const f of report.findings.slice(0, 30)) console.log(`\n#${f.index} [${f.label}] ${f.problem}\n${f.request}`);
  failed = report.findings.length > 0 || !report.alive || report.fdAfter > report.fdBefore + 2;
  if (!report.alive) console.log(`server logs (tail):\n${t.m.logs().slice(-3000)}`);
} finally {
  await t.m.stop();
}
process.exit(failed ? 1 : 0);
