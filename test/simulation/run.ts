/**
 * The long run of the replication simulation: `npm run simulate -- --seeds 100000 [--from N]`, or
 * one seed with its violations and statistics: `npm run simulate -- --seed N`. Prints the seeds run,
 * the failing seeds (each with how to rerun it) and the time taken; exits 1 if any seed failed.
 */
import { cpus, hostname } from 'node:os';
import { rerunHint, runSeed } from './harness.js';

function arg(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const n = Number(process.argv[i + 1]);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} wants a whole number, got ${process.argv[i + 1]}`);
  return n;
}

const one = arg('seed');
const from = one ?? arg('from') ?? 0;
const count = one !== undefined ? 1 : (arg('seeds') ?? 1000);
/** Stop early after this many seconds (0: run every seed). */
const maxSeconds = arg('max-seconds') ?? 0;

const began = Date.now();
const failures: { seed: number; violations: string[] }[] = [];
let ran = 0;
let versions = 0;
let crashes = 0;
for (let seed = from; seed < from + count; seed++) {
  const r = await runSeed(seed);
  ran++;
  versions += r.stats.versions;
  crashes += r.stats.crashes;
  if (one !== undefined) console.log(JSON.stringify({ ...r.stats, ...r.scenario }));
  if (r.violations.length) {
    failures.push({ seed, violations: r.violations });
    console.log(`seed ${seed} FAILED:\n  ${r.violations.slice(0, one !== undefined ? 1000 : 5).join('\n  ')}\n  ${rerunHint(seed)}`);
  }
  if (ran % 1000 === 0) console.log(`… ${ran} seeds, ${failures.length} failed, ${((Date.now() - began) / 1000).toFixed(0)} s`);
  if (maxSeconds && Date.now() - began > maxSeconds * 1000) break;
}
const secs = (Date.now() - began) / 1000;
console.log(
  `replication simulation: seeds ${from}..${from + ran - 1} (${ran} run), ${failures.length} failed${failures.length ? ` (${failures.map((f) => f.seed).join(', ')})` : ''}; ` +
    `${versions} source versions, ${crashes} crashes; ${secs.toFixed(1)} s (${((secs * 1000) / ran).toFixed(1)} ms a seed) on ${hostname()}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`,
);
process.exit(failures.length ? 1 : 0);
