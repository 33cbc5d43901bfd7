/**
 * The index as the library uses it, whichever store holds it: open the published generation,
 * notice when another process publishes one, and write the next through the pipeline's target.
 * `fileIndexStore` (here: generations under INDEX_DIR, a poll of `CURRENT`) is the embedded
 * implementation and `PgIndexStore` (src/store/pg) the PostgreSQL one (LISTEN/NOTIFY); the
 * composition root picks one, and the library never asks which it has.
 */
import { currentGeneration } from './generations.js';
import { IndexReader } from './reader.js';
import type { IndexView, OpenFailure } from './search-index.js';
import { fileTarget, type IndexTarget } from './target.js';

/** Where the index lives. */
export interface IndexStore {
  /** Where the indexing pipeline writes. */
  target(): IndexTarget;
  /** The number of the published generation, or null when none is published yet (cheap: read on every check). */
  publishedGeneration(): Promise<number | null>;
  /**
   * Opens the published generation, or says why not (none yet, damaged). `previous` is the one
   * served now, which a store may reuse parts of; `verify` re-checks stored checksums.
   */
  open(previous: IndexView | null, verify: boolean): Promise<IndexView | OpenFailure>;
  /**
   * Calls `onChange` whenever another process may have published (and after a lost connection
   * came back); the caller compares generations. Resolves to a function that stops watching.
   */
  watch(onChange: () => void, intervalMs: number): Promise<() => Promise<void>>;
}

/** True when `open` returned a failure rather than an index. */
export function isOpenFailure(opened: IndexView | OpenFailure): opened is OpenFailure {
  return !('manifest' in opened);
}

/**
 * The embedded index in `indexDir`. Watching polls the one-line `CURRENT` file: it costs one small
 * read a second and works wherever the folder lives, where `fs.watch` misses renames on network
 * and container-mounted folders.
 */
export function fileIndexStore(indexDir: string, efSearch: number): IndexStore {
  return {
    target: () => fileTarget(indexDir),
    publishedGeneration: async () => currentGeneration(indexDir)?.n ?? null,
    open: async (_previous, verify) => IndexReader.open(indexDir, { efSearch, verify }),
    watch: async (onChange, intervalMs) => {
      const timer = setInterval(onChange, intervalMs);
      // Watching must never be what keeps the process alive.
      timer.unref();
      return async () => clearInterval(timer);
    },
  };
}
