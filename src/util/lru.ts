/**
 * A least-recently-used map with a fixed number of entries: what a long-running process may keep
 * of something that is otherwise as large as the data (an index's article rows). Entries are kept
 * in a Map, whose iteration order is insertion order; a hit re-inserts its entry at the end, and
 * an insert past the limit drops the first (least recently used) one.
 */
export class LruCache<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`An LRU cache needs a limit of at least 1 entry (got ${limit}).`);
  }

  /** Entries held now (never more than `limit`). */
  get size(): number {
    return this.entries.size;
  }

  /** The value for `key`: the cached one (now the most recently used), or `load(key)`, then cached (`undefined` too). */
  getOrLoad(key: K, load: (key: K) => V): V {
    const entries = this.entries;
    const cached = entries.get(key);
    if (cached !== undefined || entries.has(key)) {
      entries.delete(key);
      entries.set(key, cached as V);
      return cached as V;
    }
    const value = load(key);
    entries.set(key, value);
    if (entries.size > this.limit) entries.delete(entries.keys().next().value as K);
    return value;
  }

  /** True when `key` is cached (without making it recently used). */
  has(key: K): boolean {
    return this.entries.has(key);
  }
}
