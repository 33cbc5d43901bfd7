/**
 * The write side of the store. A new generation is written in a private temp folder, either a
 * copy of the previous generation patched in place (removed articles out, new ones in) or an
 * empty one, and published by one atomic rename plus the switch of `CURRENT`: a crash at any
 * point leaves the previous generation serving. The store takes articles, chunks and vectors as
 * data; how they are made (chunking, embedding) is the library's business.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import type { Article, Chunk } from '../types.js';
import { BusyError, UserError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { acquireLock, cleanup, currentGeneration, fsyncPath, genName, highestGeneration, switchTo } from './generations.js';
import {
  DB_FILE,
  describeFiles,
  FORMAT_VERSION,
  MANIFEST_FILE,
  type Manifest,
  readManifest,
  VECTORS_DELTA_FILE,
  VECTORS_FILE,
} from './manifest.js';
import { encodeStems } from '../util/stems.js';
import { addLanguageColumn, addStemColumns, SCHEMA_SQL } from './schema.js';
import {
  type HnswParams,
  type LabelledVector,
  openDeltaVectorWriter,
  openVectorWriter,
  type VectorWriter,
  vectorToBuffer,
} from './vectors.js';

/** What a generation is built with; recorded in its manifest. */
export interface StoreSettings {
  /** null for a lexical-only generation. */
  embedder: { id: string; dimension: number } | null;
  /** The chunker's settings id: chunks made with other settings must not be mixed in. */
  chunker: string;
  hnsw: HnswParams;
}

/** A published generation. */
export interface Generation {
  dir: string;
  manifest: Manifest;
}

/** One article to write with its chunks and, for a dense generation, one vector per chunk. */
export interface ArticleRecord {
  article: Article;
  chunks: readonly Chunk[];
  vectors: readonly Float32Array[] | null;
  /** The article's language (ISO 639-1) as detected at indexing, null when unsure. */
  lang?: string | null;
  /**
   * Row number and chunk labels to store them under, when another store assigned them (a
   * replica's local copy of a PostgreSQL generation keeps its row ids); absent: the next free ones.
   */
  rowid?: number;
  labels?: readonly number[];
}

/** Where and how to write a generation. */
export interface GenerationWriteOptions {
  indexDir: string;
  /** The generation to copy and patch; null writes a fresh one. */
  base: Generation | null;
  settings: StoreSettings;
  /** The articles folder this generation is built from, recorded in its manifest. */
  articlesDir?: string;
  /** Test hook: called after each step so crash tests can kill the process at a chosen point. */
  onStep?: (step: string) => void;
  /**
   * Writes generation `generation` as a standalone folder: no `CURRENT` switch and no cleanup of
   * other folders (a replica-local copy of a PostgreSQL generation, numbered as there). When the
   * folder already exists (another process on this machine wrote it first), it is kept and this
   * copy dropped.
   */
  generation?: number;
  /** The build time the manifest records (the publishing time of the generation copied). */
  builtAt?: string;
  /**
   * False: the manifest records file sizes only (sha256 ''), sparing a read of every file at commit,
   * for a copy whose checksums are worked out when (if ever) it is uploaded. Default true.
   */
  checksums?: boolean;
  /**
   * False: chunks' vectors go into the graph only, not into the SQLite file too (a third of its
   * size), and the graph is never compacted (that rebuilds it from the stored vectors): for a copy
   * of a store that keeps the vectors itself, which rebuilds the copy instead. Default true.
   */
  storeVectors?: boolean;
  /**
   * With a base: its graph file is linked into the new generation, not copied, and the graph's
   * changes (the base's own and this generation's) are written beside it as `vectors.delta` for
   * the reader to replay, until they add more than this many points; then the whole graph is
   * written. For a copy that is never compacted (`storeVectors: false`). Default: always whole.
   */
  vectorDelta?: number;
  /**
   * False: chunks keep an empty `embed_text` (no reader reads it; the lexical index keeps its own
   * copy of the text), for a copy whose source keeps the texts: a seventh less to copy and ship.
   * Default true.
   */
  storeEmbedText?: boolean;
}

/** Share of HNSW points that may be marked deleted before the vector index is rebuilt compactly. */
export const COMPACT_AT = 0.3;

/**
 * Runs `write` holding the cross-process writer lock (after removing what killed runs left
 * behind). Throws `BusyError` when another process writes; a full or read-only disk becomes a
 * `UserError` for the admin.
 */
export async function withWriteLock<T>(indexDir: string, write: () => Promise<T>): Promise<T> {
  let release: (() => void) | null = null;
  try {
    release = acquireLock(indexDir);
    if (!release) throw new BusyError('Another indexing run is already in progress.');
    cleanup(indexDir);
    return await write();
  } catch (err) {
    throw storageError(err, indexDir) ?? err;
  } finally {
    try {
      release?.();
    } catch {
      // A lock file we cannot delete (read-only disk) is taken over by the next run: its pid is dead.
    }
  }
}

/** Turns a full or read-only disk into a message for the admin; the previous index stays in use. */
function storageError(err: unknown, indexDir: string): UserError | null {
  const code = (err as { code?: unknown }).code;
  if (code === 'ENOSPC' || code === 'SQLITE_FULL' || code === 'EDQUOT') {
    return new UserError('Indexing failed: the disk is full. The previous index is still in use.');
  }
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM' || code === 'SQLITE_READONLY' || code === 'SQLITE_CANTOPEN') {
    return new UserError(`Indexing failed: cannot write to ${indexDir} (${String(code)}). The previous index is still in use.`);
  }
  if (err instanceof Error && /std::bad_alloc|No space left|Cannot open file/i.test(err.message)) {
    // hnswlib reports write failures as plain exceptions.
    return new UserError(
      `Indexing failed: could not write the vector index in ${indexDir} (${err.message}). The previous index is still in use.`,
    );
  }
  return null;
}

/** The current generation when it is intact; a damaged one is logged and treated as absent. */
export function intactGeneration(indexDir: string, log: Logger): Generation | null {
  const cur = currentGeneration(indexDir);
  if (!cur) return null;
  const checked = readManifest(cur.dir);
  if ('problem' in checked) {
    log.warn('index.damaged', { generation: cur.n, problem: checked.problem, action: 'full rebuild' });
    return null;
  }
  return { dir: cur.dir, manifest: checked.manifest };
}

/** Content hash of every article in a generation, by article id. */
export function storedArticleHashes(generation: Generation): Map<string, string> {
  const db = new Database(path.join(generation.dir, DB_FILE), { readonly: true });
  try {
    const rows = db.prepare('SELECT id, hash FROM articles').all() as { id: string; hash: string }[];
    return new Map(rows.map((r) => [r.id, r.hash]));
  } finally {
    db.close();
  }
}

/** Why a generation cannot be patched (or served) with these settings, or null when it can. */
export function incompatibility(manifest: Pick<Manifest, 'embedder' | 'chunker' | 'hnsw'>, settings: StoreSettings): string | null {
  const { embedder, chunker, hnsw } = settings;
  const had = manifest.embedder ? `${manifest.embedder.id} (${manifest.embedder.dimension}d)` : 'no embedding model';
  const has = embedder ? `${embedder.id} (${embedder.dimension}d)` : 'no embedding model';
  if (had !== has) return `the index was built with ${had}, the current setting is ${has}`;
  if (manifest.chunker !== chunker) return `the index was built with chunker settings ${manifest.chunker}, the current ones are ${chunker}`;
  // The graph is patched in place on incremental builds, so new graph settings need a rebuild to apply.
  const g = manifest.hnsw;
  if (g && (g.m !== hnsw.m || g.efConstruction !== hnsw.efConstruction)) {
    return `the vector index was built with HNSW_M=${g.m}, HNSW_EF_CONSTRUCTION=${g.efConstruction}; the current ones are ${hnsw.m}, ${hnsw.efConstruction}`;
  }
  return null;
}

/**
 * One generation being written: `begin`, then `removeArticles` and `addArticles`, then `commit`
 * publishes it (or `abort` deletes it). Call inside `withWriteLock`.
 */
export class GenerationWriter {
  private readonly db: Database.Database;
  private readonly vectors: VectorWriter | null;
  /** Graph points marked deleted so far (carried over from the base generation). */
  private deleted: number;
  private readonly pending: LabelledVector[] = [];

  private constructor(
    private readonly options: GenerationWriteOptions,
    private readonly n: number,
    private readonly tmpDir: string,
  ) {
    const { base, settings } = options;
    this.db = new Database(path.join(tmpDir, DB_FILE));
    // The generation is private until the rename; durability comes from the fsync before it.
    this.db.pragma('journal_mode = OFF');
    this.db.pragma('synchronous = OFF');
    try {
      this.db.exec(SCHEMA_SQL);
      addStemColumns(this.db);
      addLanguageColumn(this.db);
      const dim = settings.embedder?.dimension;
      this.vectors =
        dim === undefined
          ? null
          : base && options.vectorDelta !== undefined
            ? openDeltaVectorWriter(tmpDir, dim, options.vectorDelta)
            : openVectorWriter(tmpDir, dim, settings.hnsw, base !== null);
    } catch (err) {
      this.db.close();
      throw err;
    }
    this.deleted = base?.manifest.hnsw?.deleted ?? 0;
  }

  /** Creates the private folder of the next generation, starting from a copy of `base` when given. */
  static begin(options: GenerationWriteOptions): GenerationWriter {
    const { indexDir, base } = options;
    const n = options.generation ?? highestGeneration(indexDir) + 1;
    const tmpDir = path.join(indexDir, `${genName(n)}.tmp-${process.pid}`);
    fs.mkdirSync(tmpDir, { recursive: true });
    try {
      if (base) {
        fs.copyFileSync(path.join(base.dir, DB_FILE), path.join(tmpDir, DB_FILE));
        if (base.manifest.embedder && options.vectorDelta !== undefined) linkGraph(base, tmpDir);
        else if (base.manifest.embedder) fs.copyFileSync(path.join(base.dir, VECTORS_FILE), path.join(tmpDir, VECTORS_FILE));
      }
      options.onStep?.('copied');
      return new GenerationWriter(options, n, tmpDir);
    } catch (err) {
      fs.rmSync(tmpDir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Drops articles with their chunks from both the lexical and the vector half. */
  removeArticles(ids: readonly string[]): void {
    const db = this.db;
    const labelsOf = db.prepare<[string], { rowid: number }>('SELECT rowid FROM chunks WHERE article_id = ?');
    const delFts = db.prepare('DELETE FROM chunks_fts WHERE rowid = ?');
    const delChunks = db.prepare('DELETE FROM chunks WHERE article_id = ?');
    const delArticle = db.prepare('DELETE FROM articles WHERE id = ?');
    const delArticleFts = db.prepare('DELETE FROM articles_fts WHERE rowid = (SELECT rowid FROM articles WHERE id = ?)');
    db.transaction(() => {
      for (const id of ids) {
        delArticleFts.run(id);
        for (const { rowid } of labelsOf.all(id)) {
          delFts.run(rowid);
          if (this.vectors) {
            this.vectors.markDelete(rowid);
            this.deleted++;
          }
        }
        delChunks.run(id);
        delArticle.run(id);
      }
    })();
    this.options.onStep?.('dropped');
  }

  /** Inserts articles, their chunks and vectors in one transaction; the graph is updated at commit. */
  addArticles(records: readonly ArticleRecord[]): void {
    const db = this.db;
    const insArticle = db.prepare(
      'INSERT INTO articles (rowid, id, title, date, url, source, path, hash, text, stems, lang) VALUES (@rowid, @id, @title, @date, @url, @source, @path, @hash, @text, @stems, @lang)',
    );
    // A null rowid takes the next free one.
    const insChunk = db.prepare(
      'INSERT INTO chunks (rowid, id, article_id, ordinal, start, end, text, embed_text, tokens, vector, stems) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const insFts = db.prepare('INSERT INTO chunks_fts (rowid, embed_text) VALUES (?, ?)');
    const insArticleFts = db.prepare('INSERT INTO articles_fts (rowid, title, text) VALUES (?, ?, ?)');
    db.transaction(() => {
      for (const { article, chunks, vectors, lang, rowid, labels } of records) {
        const stems = encodeStems(`${article.title} ${article.text}`);
        const { lastInsertRowid: articleRow } = insArticle.run({ ...article, stems, lang: lang ?? null, rowid: rowid ?? null });
        insArticleFts.run(articleRow, article.title, article.text);
        for (const [i, c] of chunks.entries()) {
          const vec = this.vectors ? vectors?.[i] : undefined;
          const blob = vec && this.options.storeVectors !== false ? vectorToBuffer(vec) : null;
          const { lastInsertRowid } = insChunk.run(
            labels?.[i] ?? null,
            c.id,
            c.articleId,
            c.ordinal,
            c.start,
            c.end,
            c.text,
            this.options.storeEmbedText === false ? '' : c.embedText,
            c.tokens,
            blob,
            encodeStems(c.text),
          );
          insFts.run(lastInsertRowid, c.embedText);
          if (vec) this.pending.push({ label: Number(lastInsertRowid), vector: vec });
        }
      }
    })();
    if (this.vectors && this.options.storeVectors === false) {
      // Never compacted (see `storeVectors`): into the graph now, so a large build holds no batch of vectors.
      this.vectors.add(this.pending);
      this.pending.length = 0;
    }
    this.options.onStep?.('inserted');
  }

  /** Writes the graph and the manifest, publishes the generation and makes it current. */
  commit(): { generation: number; counts: Manifest['counts'] } {
    const step = this.options.onStep ?? (() => {});
    this.writeVectors();
    step('vectors-written');
    const counts = {
      articles: (this.db.prepare('SELECT count(*) AS n FROM articles').get() as { n: number }).n,
      chunks: (this.db.prepare('SELECT count(*) AS n FROM chunks').get() as { n: number }).n,
    };
    const languages = this.db.prepare('SELECT lang, count(*) AS n FROM articles GROUP BY lang').all() as {
      lang: string | null;
      n: number;
    }[];
    this.db.close();
    this.writeManifest(counts, Object.fromEntries(languages.map((l) => [l.lang ?? '', l.n])));
    step('manifest-written');
    const { indexDir } = this.options;
    if (this.options.generation !== undefined) {
      this.publishStandalone();
      return { generation: this.n, counts };
    }
    fs.renameSync(this.tmpDir, path.join(indexDir, genName(this.n)));
    fsyncPath(indexDir);
    step('renamed');
    switchTo(indexDir, this.n);
    step('switched');
    cleanup(indexDir);
    return { generation: this.n, counts };
  }

  /** Renames a standalone generation into place, or drops it when another process got there first. */
  private publishStandalone(): void {
    const { indexDir } = this.options;
    try {
      fs.renameSync(this.tmpDir, path.join(indexDir, genName(this.n)));
      fsyncPath(indexDir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      fs.rmSync(this.tmpDir, { recursive: true, force: true });
    }
  }

  /** Deletes the unpublished generation (frees the space, leaves nothing half-built). */
  abort(): void {
    if (this.db.open) this.db.close();
    fs.rmSync(this.tmpDir, { recursive: true, force: true });
  }

  private writeVectors(): void {
    if (!this.vectors) return;
    const live = (this.db.prepare('SELECT count(*) AS n FROM chunks').get() as { n: number }).n;
    const canCompact = this.options.storeVectors !== false;
    if (canCompact && this.deleted > 0 && this.deleted / Math.max(1, live + this.deleted) > COMPACT_AT) {
      // Marked-deleted points still cost search time and memory; rebuild from the stored vectors.
      this.vectors.rebuildFrom(this.db);
      this.deleted = 0;
    } else {
      this.vectors.add(this.pending);
    }
    this.vectors.write();
  }

  private writeManifest(counts: Manifest['counts'], languages: Record<string, number>): void {
    const { embedder, chunker, hnsw } = this.options.settings;
    const names = embedder ? [DB_FILE, VECTORS_FILE] : [DB_FILE];
    if (embedder && fs.existsSync(path.join(this.tmpDir, VECTORS_DELTA_FILE))) names.push(VECTORS_DELTA_FILE);
    const manifest: Manifest = {
      formatVersion: FORMAT_VERSION,
      generation: this.n,
      builtAt: this.options.builtAt ?? new Date().toISOString(),
      embedder,
      chunker,
      hnsw: embedder ? { m: hnsw.m, efConstruction: hnsw.efConstruction, deleted: this.deleted } : null,
      counts,
      articlesDir: this.options.articlesDir ?? null,
      languages,
      files:
        this.options.checksums === false
          ? Object.fromEntries(names.map((n) => [n, { bytes: fs.statSync(path.join(this.tmpDir, n)).size, sha256: '' }]))
          : describeFiles(this.tmpDir, names),
    };
    fs.writeFileSync(path.join(this.tmpDir, MANIFEST_FILE), JSON.stringify(manifest, null, 2));
    for (const name of [...names, MANIFEST_FILE]) fsyncPath(path.join(this.tmpDir, name));
  }
}

/**
 * The base's graph linked into `tmpDir` (a second name for the same file: neither generation ever
 * writes to it) with a copy of its recorded changes; copied where the file system cannot link.
 */
function linkGraph(base: Generation, tmpDir: string): void {
  const to = path.join(tmpDir, VECTORS_FILE);
  try {
    fs.linkSync(path.join(base.dir, VECTORS_FILE), to);
  } catch {
    fs.copyFileSync(path.join(base.dir, VECTORS_FILE), to);
  }
  if (base.manifest.files[VECTORS_DELTA_FILE])
    fs.copyFileSync(path.join(base.dir, VECTORS_DELTA_FILE), path.join(tmpDir, VECTORS_DELTA_FILE));
}
