/**
 * A bounded least-recently-used cache for key material: unwrapped data keys and derived segment
 * keys of recently read objects, so a hot object is not unwrapped and derived again on every GET
 * (together about a sixth of a 4 KiB GET's CPU). Entries leave in LRU order once `capacity` is
 * reached, and `onEvict` runs for each one that leaves (callers zero key bytes there).
 *
 * Map keys must never be key material (strings cannot be zeroed): callers key entries by what is
 * stored anyway (wrapped keys, salts, labels), never by the secret itself.
 */
/**
 * A copy of key bytes with memory of its own, for keeping in a cache: a slice of node's shared 8 KiB
 * buffer pool (what Buffer.from makes of a small buffer) would keep the whole slab, and whatever else
 * was cut from it, alive for as long as the entry lives.
 */
export function ownCopy(bytes: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(copy);
  return copy;
}

export class KeyCache<V> {
  readonly #entries = new Map<string, V>();
  /**
   * Where eviction left off: the least recent entry is the next this iterator yields. A Map keeps
   * deleted entries as holes until it rehashes, and an LRU deletes one on every hit, so a fresh
   * `entries()` skipped up to thousands of holes per eviction (a cache missing on most reads, as with
   * the benchmark's GETs over 15,000 objects: ~1 µs per eviction in a microbenchmark, 5 µs per
   * `set` in a server profile). A live iterator passes each hole once; entries re-inserted on a hit
   * come up again at their new place, as insertion order says.
   */
  #oldest: Iterator<string> = this.#entries.keys();

  constructor(
    readonly capacity: number,
    private readonly onEvict: (value: V) => void = () => {},
  ) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError('a key cache holds at least one entry');
  }

  get size(): number {
    return this.#entries.size;
  }

  get(id: string): V | undefined {
    const value = this.#entries.get(id);
    if (value !== undefined) {
      // Re-inserted: Map iteration order is insertion order, so the first entry is the least recent.
      this.#entries.delete(id);
      this.#entries.set(id, value);
    }
    return value;
  }

  set(id: string, value: V): void {
    const old = this.#entries.get(id);
    if (old !== undefined) {
      this.#entries.delete(id);
      if (old !== value) this.onEvict(old);
    }
    this.#entries.set(id, value);
    if (this.#entries.size > this.capacity) {
      let next = this.#oldest.next();
      // A finished iterator stays finished (it was run to the end while the map was empty at some point).
      if (next.done) {
        this.#oldest = this.#entries.keys();
        next = this.#oldest.next();
      }
      const oldestId = next.value as string;
      const oldest = this.#entries.get(oldestId)!;
      this.#entries.delete(oldestId);
      this.onEvict(oldest);
    }
  }

  clear(): void {
    for (const value of this.#entries.values()) this.onEvict(value);
    this.#entries.clear();
    this.#oldest = this.#entries.keys();
  }
}
