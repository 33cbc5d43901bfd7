/**
 * Where the indexing pipeline writes generations: the embedded store (files under `INDEX_DIR`)
 * or PostgreSQL. The pipeline plans, chunks and embeds; a target only locks, reports what is
 * stored, and writes and publishes one generation.
 */
import type { Queryable } from '../db/client.js';
import type { Logger } from '../util/log.js';
import type { Awaitable, IndexInfo } from './search-index.js';
import {
  type ArticleRecord,
  GenerationWriter,
  type Generation,
  intactGeneration,
  type StoreSettings,
  storedArticleHashes,
  withWriteLock,
} from './writer.js';

/** A generation to patch, as the target knows it. */
export interface BaseGeneration {
  manifest: IndexInfo;
}

/** One generation being written; `commit` publishes it, `abort` leaves nothing of it. */
export interface GenerationSink {
  removeArticles(ids: readonly string[]): Awaitable<void>;
  /** Records may come without vectors when the target embeds after writing (`embedsAfterWrite`). */
  addArticles(records: readonly ArticleRecord[]): Awaitable<void>;
  /**
   * Embeds the written chunks that have no vector yet, in batches, before commit. Only targets
   * with `embedsAfterWrite` have it.
   */
  embedPending?(
    embed: (texts: string[]) => Promise<Float32Array[]>,
    batchSize: number,
    onBatch: (done: number, total: number) => void,
  ): Promise<void>;
  commit(): Awaitable<{ generation: number; counts: IndexInfo['counts'] }>;
  abort(): Awaitable<void>;
}

/**
 * Work that must take effect together with publishing a generation: run inside the publishing
 * transaction when the store has one (`tx`, PostgreSQL), or right after the publish (files: `tx` is null).
 */
export type PublishStep = (tx: Queryable | null) => Promise<void>;

/** What a new generation records besides its settings. */
export interface BeginOptions {
  /** The folder its articles were loaded from. */
  articlesDir?: string;
  /** Runs with the publish (an article source deleted by `/remove`); a run that publishes nothing never runs it. */
  onPublish?: PublishStep;
  /** Test hook: called after each step so crash tests can kill the process at a chosen point. */
  onStep?: (step: string) => void;
}

/** A store the pipeline writes to. */
export interface IndexTarget<B extends BaseGeneration = BaseGeneration> {
  /**
   * True when chunks are written first and embedded afterwards (`GenerationSink.embedPending`):
   * the written chunks are the queue a separate embedding worker can take work from.
   */
  readonly embedsAfterWrite: boolean;
  /** Runs `write` as the only writer; throws `BusyError` when another one writes. */
  withWriteLock<T>(write: () => Promise<T>): Promise<T>;
  /** The published generation when it is usable (a damaged one is logged and treated as absent). */
  current(log: Logger): Promise<B | null>;
  /** Content hash of every article in `base`, by id. */
  storedHashes(base: B): Promise<Map<string, string>>;
  /** Starts the next generation, patching `base` (or empty when null). */
  begin(base: B | null, settings: StoreSettings, options?: BeginOptions): Promise<GenerationSink>;
}

/** The embedded store in `indexDir` as a target. */
export function fileTarget(indexDir: string): IndexTarget<Generation> {
  return {
    embedsAfterWrite: false,
    withWriteLock: (write) => withWriteLock(indexDir, write),
    current: async (log) => intactGeneration(indexDir, log),
    storedHashes: async (base) => storedArticleHashes(base),
    begin: async (base, settings, { onPublish, ...options } = {}) => {
      const writer = GenerationWriter.begin({ indexDir, base, settings, ...options });
      if (!onPublish) return writer;
      return {
        removeArticles: (ids) => writer.removeArticles(ids),
        addArticles: (records) => writer.addArticles(records),
        commit: async () => {
          const published = writer.commit();
          await onPublish(null);
          return published;
        },
        abort: () => writer.abort(),
      };
    },
  };
}
