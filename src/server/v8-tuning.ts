/**
 * V8 settings of a serving process.
 *
 * A freshly started server spent about twice the CPU per request on its first few thousand requests
 * (a 4 KiB PUT: 623–647 µs over the first 3,000 against 350–397 µs later, one process; 1,100–1,280
 * against 580–700 µs with two workers) while V8 profiled the request path and tiered it up, function
 * by function. The interrupt budget is how much bytecode a function runs between V8's checks on
 * whether to optimize it; a quarter of the default (67,584) gets the hot path optimized after a
 * quarter of the calls. Measured: the first 3,000 PUTs 440–463 µs each (one process) and 767–817 µs
 * (two workers); later requests cost the same as before. Every process that serves requests gets it:
 * cluster workers on their command line, a single process as it starts (before the server's modules
 * are loaded, so every function of the request path is compiled with it). An operator's own value
 * on node's command line wins.
 */
import { setFlagsFromString } from 'node:v8';

const FLAGS: readonly string[] = ['--interrupt-budget=16384'];

/** A V8 flag's name: `--no-foo_bar=1` and `--foo-bar` are both `foo-bar` (V8 reads `_` as `-`). */
function flagName(arg: string): string {
  return arg.split('=')[0]!.replace(/^--?/, '').replace(/_/g, '-').replace(/^no-/, '');
}

/** Whether the operator set this flag (`--name`, `--no-name` or `--name=value`) on node's command line (NODE_OPTIONS cannot carry it). */
function setByOperator(flag: string): boolean {
  const name = flagName(flag);
  return process.execArgv.some((a) => flagName(a) === name);
}

/** The flags for a cluster worker's command line: those the operator did not set already. */
export function serverV8Flags(): string[] {
  return FLAGS.filter((f) => !setByOperator(f));
}

/** For a process that will serve in itself (MERIDIAN_WORKERS=1): call before importing the server. */
export function applyServerV8Flags(): void {
  for (const flag of serverV8Flags()) setFlagsFromString(flag);
}
