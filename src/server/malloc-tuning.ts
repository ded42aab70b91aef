/**
 * glibc malloc settings for the serving processes (cluster workers), passed in their environment.
 *
 * Large bodies move through the server partly in buffers of 128 KiB and more (file reads of 256 KiB
 * for GETs, gathered writes). By default glibc serves such an allocation with a fresh mmap, and gives
 * the top of its heap back to the kernel as soon as more than twice that is free there; V8 frees
 * buffers in bulk when it collects, so nearly every such buffer was memory the kernel had to map and
 * zero-fill again, page by page. Measured on the development VM: allocating and filling a 1 MiB
 * buffer 198–305 µs, 30–34 µs with these settings; a 1 MiB GET about 15 % less server CPU with them,
 * a PUT (which allocates few such buffers) no measurable change (docs/decisions.md, "Workers keep
 * freed buffer memory for reuse"). The price is memory kept in the heap for reuse: at most the trim
 * threshold at the top of each malloc arena, which the 16-stream RSS benchmark does not show beyond
 * its noise.
 *
 * An operator who tunes malloc (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_ or any
 * `glibc.malloc.` tunable in GLIBC_TUNABLES) keeps exactly their settings. Other C libraries ignore
 * the variable. A single serving process (MERIDIAN_WORKERS=1) cannot change its own malloc once
 * started: its operator sets the same variable before starting it (README, "Using every core").
 */

/** Allocations below this come from the heap (and are reused) instead of a fresh mapping. */
export const MMAP_THRESHOLD_BYTES = 4 * 1024 * 1024;
/** Free memory at the top of the heap kept for reuse before any is given back. */
export const TRIM_THRESHOLD_BYTES = 32 * 1024 * 1024;

export const MALLOC_TUNABLES = `glibc.malloc.mmap_threshold=${MMAP_THRESHOLD_BYTES}:glibc.malloc.trim_threshold=${TRIM_THRESHOLD_BYTES}`;

/**
 * The environment entries to add for a worker, given the primary's environment: GLIBC_TUNABLES with
 * the malloc settings appended to whatever tunables the operator set, or nothing when the operator
 * tunes malloc already.
 */
export function workerMallocEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  if (env.MALLOC_MMAP_THRESHOLD_ !== undefined || env.MALLOC_TRIM_THRESHOLD_ !== undefined) return {};
  const current = env.GLIBC_TUNABLES ?? '';
  if (current.includes('glibc.malloc.')) return {};
  return { GLIBC_TUNABLES: current === '' ? MALLOC_TUNABLES : `${current}:${MALLOC_TUNABLES}` };
}
