/**
 * The file work of a replica-local generation (see local.ts), run in a worker thread: the
 * embedded store's `GenerationWriter` writes the SQLite + hnswlib files from rows the main thread
 * reads out of PostgreSQL, so SQLite's synchronous calls and building the vector graph never
 * hold up the bot's event loop. One generation is written at a time per builder.
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import { DB_FILE, readManifest } from '../manifest.js';
import { type ArticleRecord, GenerationWriter, type StoreSettings } from '../writer.js';

/**
 * Added points a local generation keeps as changes beside its base's graph (`vectors.delta`,
 * replayed when it is opened: a few milliseconds per hundred points) before the graph is written
 * whole again.
 */
export const VECTOR_DELTA_POINTS = 500;

/** What `begin` needs: where, from which local generation (null: empty), and what to record. */
export interface BuildStart {
  indexDir: string;
  baseDir: string | null;
  settings: StoreSettings;
  generation: number;
  builtAt: string;
  articlesDir: string | null;
}

/** The builder's operations, called in order: begin, remove/add (any number), then commit or abort. */
export interface LocalBuilder {
  begin(start: BuildStart): void;
  removeArticles(ids: string[]): void;
  addArticles(records: ArticleRecord[]): void;
  commit(): { generation: number; chunks: number };
  abort(): void;
  /** Row id and article id of every article in a local generation's folder. */
  articleRows(dir: string): [number, string][];
}

/** A builder working in the calling thread (the worker runs one of these). */
export function inThreadBuilder(): LocalBuilder {
  let writer: GenerationWriter | null = null;
  const current = (): GenerationWriter => {
    if (!writer) throw new Error('No local generation is being written.');
    return writer;
  };
  return {
    begin: (s) => {
      writer?.abort();
      writer = null;
      let base = null;
      if (s.baseDir) {
        const checked = readManifest(s.baseDir, false);
        if ('problem' in checked) throw new Error(`The local generation in ${s.baseDir} is unusable: ${checked.problem}.`);
        base = { dir: s.baseDir, manifest: checked.manifest };
      }
      writer = GenerationWriter.begin({
        indexDir: s.indexDir,
        base,
        settings: s.settings,
        generation: s.generation,
        builtAt: s.builtAt,
        // Checksums are worked out by the upload, the only reader of them.
        checksums: false,
        // PostgreSQL keeps the vectors: the copy is rebuilt (not compacted) when too many are deleted.
        storeVectors: false,
        // The graph's changes go beside the base's graph, linked: a one-article change writes no graph.
        vectorDelta: VECTOR_DELTA_POINTS,
        // PostgreSQL keeps the texts the vectors were made from; the FTS5 index keeps its own copy.
        storeEmbedText: false,
        ...(s.articlesDir ? { articlesDir: s.articlesDir } : {}),
      });
    },
    removeArticles: (ids) => current().removeArticles(ids),
    addArticles: (records) => current().addArticles(records),
    commit: () => {
      const w = current();
      writer = null;
      try {
        const { generation, counts } = w.commit();
        return { generation, chunks: counts.chunks };
      } catch (err) {
        w.abort();
        throw err;
      }
    },
    abort: () => {
      writer?.abort();
      writer = null;
    },
    articleRows: (dir) => {
      const db = new Database(path.join(dir, DB_FILE), { readonly: true, fileMustExist: true });
      try {
        return db.prepare('SELECT rowid, id FROM articles').raw().all() as [number, string][];
      } finally {
        db.close();
      }
    },
  };
}
