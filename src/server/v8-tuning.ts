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

/** Flags V8 honours at any time: set on a cluster worker's command line, or by a single process as it starts. */
const RUNTIME_FLAGS: readonly string[] = ['--interrupt-budget=16384'];

/**
 * Flags V8 reads only when it creates the heap, so only a worker's command line can carry them (node
 * refuses them in NODE_OPTIONS). `--initial-old-space-size` also lets V8 skip full collections while the
 * old generation is below it: without it, a worker serving 1 MiB GETs (live heap ~13 MB) ran a full
 * mark-compact every 30–50 ms, because V8 starts marking as soon as the room left below its limit is
 * no more than the young generation (16 MB), and each full collection promotes the requests in flight
 * into the old generation, which brings the next one on. Measured (request-cost, 1 MiB GETs, alternated):
 * 23–57 full collections without it, 2–4 with 64 MB; server CPU 3.7–4.9 ms per GET against 2.4–3.6 ms
 * (docs/decisions.md). 32 MB left most of them in place. 4 KiB requests and 1 MiB PUTs cost the same either way.
 */
const HEAP_FLAGS: readonly string[] = ['--initial-old-space-size=64'];

/**
 * `ArrayBuffer.prototype.transfer`, with which a worker frees a response's decrypted chunks as soon as
 * the socket has them (common/buffer-release.ts). V8 installs it when it creates a context, so only the
 * command line can turn it on; Node 21 and later have it without the flag (and would refuse the flag,
 * which they no longer know), so it is asked for only where the method is missing.
 */
const FEATURE_FLAGS: readonly string[] =
  typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function' ? [] : ['--harmony-rab-gsab-transfer'];

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
  return [...RUNTIME_FLAGS, ...HEAP_FLAGS, ...FEATURE_FLAGS].filter((f) => !setByOperator(f));
}

/** For a process that will serve in itself (MERIDIAN_WORKERS=1): call before importing the server. */
export function applyServerV8Flags(): void {
  for (const flag of RUNTIME_FLAGS.filter((f) => !setByOperator(f))) setFlagsFromString(flag);
}
