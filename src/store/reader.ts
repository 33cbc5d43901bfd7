/**
 * Read side of one index generation. Opened read-only; a reindex builds a new generation
 * and the owner swaps readers, so searches never see a half-written index.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import hnswlib from 'hnswlib-node';
import type { ArticleInfo } from '../types.js';
import { errorMessage } from '../util/errors.js';
import { LruCache } from '../util/lru.js';
import { countStoredStems } from '../util/stems.js';
import { applyVectorOps, bufferToVector, readVectorDelta } from './vectors.js';
import { currentGeneration } from './generations.js';
import { DB_FILE, type Manifest, readManifest, VECTORS_DELTA_FILE, VECTORS_FILE } from './manifest.js';
import { Retirable } from './retirable.js';
import { hasColumn } from './schema.js';
import { LexicalMemory } from './lexical-memory.js';
import type { ArticleFieldWeights, ArticleHit, ChunkMatch, DateRange, Hit, IndexView, StoredArticle, StoredChunk } from './search-index.js';

const { HierarchicalNSW } = hnswlib;

export type { ArticleFieldWeights, ArticleHit, DateRange, Hit, StoredArticle, StoredChunk } from './search-index.js';

import type { OpenFailure } from './search-index.js';

/** Why an index could not be opened (defined with the seam's other types); `kind` tells the caller whether a rebuild fixes it. */
export type { OpenFailure } from './search-index.js';

/** How to open a generation. */
export interface ReaderOptions {
  efSearch?: number;
  /** Article rows kept in memory (least recently used ones are dropped; default ARTICLE_CACHE). */
  articleCache?: number;
  /** Largest generation (tokens in its lexical indexes) whose BM25 is answered from memory; 0: always FTS5. */
  lexicalMemoryTokens?: number;
  /**
   * An open reader of a generation this one was patched from (rowids in both hold the same rows,
   * as in a replica's local copies): when its in-memory BM25 is loaded or loading, this one's is
   * worked out from it and the diff, starting at open, instead of read in full.
   */
  lexicalBase?: IndexReader | null;
}

/** An open, read-only index generation. */
export class IndexReader extends Retirable implements IndexView {
  readonly manifest: Manifest;
  readonly dir: string;
  private readonly db: Database.Database;
  private readonly vectors: InstanceType<typeof HierarchicalNSW> | null;
  private readonly liveVectors: number;
  private readonly stmts;
  private labels: { articleOf: Int32Array; ids: string[] } | null = null;
  /**
   * Article rows read recently (the generation never changes, so neither does a row): ranking asks
   * for the same candidates' dates on every query. Bounded, so a replica's memory does not grow
   * with the catalogue as questions reach more of it; an evicted row is read again from SQLite.
   */
  private readonly articles: LruCache<string, StoredArticle | undefined>;
  /** Both BM25 searches from memory once loaded (FTS5 until then, and for what it cannot answer). */
  private readonly memory: LexicalMemory;

  private constructor(dir: string, manifest: Manifest, o: ReaderSettings, graph?: InstanceType<typeof HierarchicalNSW>) {
    super();
    const efSearch = o.efSearch;
    this.dir = dir;
    this.manifest = manifest;
    this.articles = new LruCache(o.articleCache);
    this.db = new Database(path.join(dir, DB_FILE), { readonly: true, fileMustExist: true });
    this.memory = new LexicalMemory(this.db, path.join(dir, DB_FILE), o.lexicalMemoryTokens, o.lexicalBase?.memory ?? null);
    try {
      if (manifest.embedder) {
        const index = graph ?? new HierarchicalNSW('ip', manifest.embedder.dimension);
        if (!graph) {
          index.readIndexSync(path.join(dir, VECTORS_FILE));
          replayDelta(index, dir, manifest);
        }
        index.setEf(efSearch);
        this.vectors = index;
      } else {
        this.vectors = null;
      }
    } catch (err) {
      // open() reports this as a damaged index; the database handle must not leak with it.
      this.db.close();
      throw err;
    }
    this.liveVectors = manifest.embedder ? manifest.counts.chunks : 0;
    // Generations written before stems were stored have no such column: their rows read as null.
    const stored = hasColumn(this.db, 'chunks', 'stems');
    const stems = stored ? 'stems' : 'NULL AS stems';
    this.stmts = {
      chunk: this.db.prepare('SELECT rowid AS label, id, article_id AS articleId, ordinal, start, end, text FROM chunks WHERE rowid = ?'),
      article: this.db.prepare('SELECT id, title, date, url, source, path FROM articles WHERE id = ?'),
      articleText: this.db.prepare('SELECT text FROM articles WHERE id = ?'),
      lexical: this.db.prepare(
        'SELECT rowid AS label, -bm25(chunks_fts) AS score FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY bm25(chunks_fts) LIMIT ?',
      ),
      lexicalDated: this.db.prepare(
        `SELECT f.rowid AS label, -bm25(chunks_fts) AS score FROM chunks_fts f
         JOIN chunks c ON c.rowid = f.rowid JOIN articles a ON a.id = c.article_id
         WHERE chunks_fts MATCH ? AND a.date BETWEEN ? AND ? ORDER BY bm25(chunks_fts) LIMIT ?`,
      ),
      articleLexical: this.db.prepare(
        // Rank inside the FTS table first, then look up the few winners: joining before the
        // LIMIT would fetch every matching article's row.
        `SELECT a.id AS articleId, a.date AS date, f.score AS score
         FROM (SELECT rowid, -bm25(articles_fts, @title, @text) AS score FROM articles_fts
               WHERE articles_fts MATCH @match ORDER BY bm25(articles_fts, @title, @text) LIMIT @limit) f
         JOIN articles a ON a.rowid = f.rowid ORDER BY f.score DESC`,
      ),
      articleLexicalDated: this.db.prepare(
        `SELECT a.id AS articleId, a.date AS date, -bm25(articles_fts, @title, @text) AS score
         FROM articles_fts f JOIN articles a ON a.rowid = f.rowid
         WHERE articles_fts MATCH @match AND a.date BETWEEN @from AND @to ORDER BY bm25(articles_fts, @title, @text) LIMIT @limit`,
      ),
      lexicalIn: this.db.prepare(
        `SELECT f.rowid AS label, -bm25(chunks_fts) AS score FROM chunks_fts f JOIN chunks c ON c.rowid = f.rowid
         WHERE chunks_fts MATCH ? AND c.article_id IN (SELECT value FROM json_each(?)) ORDER BY bm25(chunks_fts) LIMIT ?`,
      ),
      chunksOf: this.db.prepare(
        `SELECT rowid AS label, id, article_id AS articleId, ordinal, start, end, text, ${stems} FROM chunks WHERE article_id = ? ORDER BY ordinal`,
      ),
      // Positions and stems only, as arrays: an article can have dozens of chunks, and their
      // text (and a row object each) cost more than the rest of the passage picking.
      chunkMatches: this.db
        .prepare(`SELECT rowid, id, ordinal, start, end, ${stems} FROM chunks WHERE article_id = ? ORDER BY ordinal`)
        .raw(),
      chunkTexts: this.db.prepare('SELECT rowid AS label, text FROM chunks WHERE rowid IN (SELECT value FROM json_each(?))'),
      articleStems: this.db.prepare(
        `SELECT id, ${stems} FROM articles WHERE id IN (SELECT value FROM json_each(?)) AND ${stored ? 'stems IS NOT NULL' : '0'}`,
      ),
      countInRange: this.db.prepare('SELECT count(*) AS n FROM articles WHERE date BETWEEN ? AND ?'),
      labelsInRange: this.db.prepare(
        'SELECT c.rowid AS label FROM chunks c JOIN articles a ON a.id = c.article_id WHERE a.date BETWEEN ? AND ?',
      ),
      list: this.db.prepare(
        `SELECT a.id, a.title, a.date, a.url, (SELECT count(*) FROM chunks c WHERE c.article_id = a.id) AS chunks
         FROM articles a ORDER BY a.date DESC NULLS LAST, a.title LIMIT ? OFFSET ?`,
      ),
      byPath: this.db.prepare(
        `SELECT a.id, a.title, a.date, a.url, (SELECT count(*) FROM chunks c WHERE c.article_id = a.id) AS chunks
         FROM articles a WHERE a.path = ? ORDER BY a.id`,
      ),
      dates: this.db.prepare('SELECT min(date) AS first, max(date) AS last FROM articles'),
      vector: this.db.prepare('SELECT vector FROM chunks WHERE rowid = ?'),
    };
  }

  /** Opens the current generation of `indexDir`, checking the manifest and file checksums. */
  static open(indexDir: string, options: ReaderOptions & { verify?: boolean } = {}): IndexReader | OpenFailure {
    const cur = currentGeneration(indexDir);
    if (!cur) return { kind: 'missing', message: `No index in ${indexDir} yet.` };
    const checked = readManifest(cur.dir, options.verify !== false);
    if ('problem' in checked) return { kind: 'damaged', message: `The index in ${cur.dir} is damaged: ${checked.problem}.` };
    try {
      return new IndexReader(cur.dir, checked.manifest, readerSettings(options));
    } catch (err) {
      return { kind: 'damaged', message: `The index in ${cur.dir} could not be opened: ${errorMessage(err).split('\n')[0]}.` };
    }
  }

  /**
   * Opens the generation in folder `dir` (not necessarily `CURRENT`'s), reading the vector graph
   * off the event loop: what a replica serving a copy of a PostgreSQL generation opens. `verify`
   * re-reads every file for its checksum (without it, sizes are still checked).
   */
  static async openFolder(
    dir: string,
    options: ReaderOptions & { verify?: boolean; graph?: Promise<InstanceType<typeof HierarchicalNSW>> | null } = {},
  ): Promise<IndexReader | OpenFailure> {
    const checked = readManifest(dir, options.verify === true);
    if ('problem' in checked) return { kind: 'damaged', message: `The index in ${dir} is damaged: ${checked.problem}.` };
    const { manifest } = checked;
    try {
      let graph: InstanceType<typeof HierarchicalNSW> | undefined;
      if (manifest.embedder) {
        // A graph read ahead (`loadGraph` on a file with the same contents), else this folder's.
        graph =
          (await options.graph?.catch(() => undefined)) ?? (await loadGraph(path.join(dir, VECTORS_FILE), manifest.embedder.dimension));
        replayDelta(graph, dir, manifest);
      }
      return new IndexReader(dir, manifest, readerSettings(options), graph);
    } catch (err) {
      return { kind: 'damaged', message: `The index in ${dir} could not be opened: ${errorMessage(err).split('\n')[0]}.` };
    }
  }

  /** True when the index has vectors for dense search. */
  get dense(): boolean {
    return this.vectors !== null;
  }

  /** BM25 search over the FTS5 index; `match` must be a valid FTS5 expression. */
  lexical(match: string, limit: number, range?: DateRange): Hit[] {
    if (!match) return [];
    const fromMemory = range ? null : this.memory.chunks(match, limit);
    if (fromMemory) return fromMemory;
    const rows = (range ? this.stmts.lexicalDated.all(match, range.from, range.to, limit) : this.stmts.lexical.all(match, limit)) as Hit[];
    return rows;
  }

  /** BM25 over whole articles (title and text, weighted per column); `match` must be a valid FTS5 expression. */
  articleLexical(match: string, limit: number, options: { range?: DateRange; weights?: ArticleFieldWeights } = {}): ArticleHit[] {
    if (!match) return [];
    const w = options.weights ?? { title: 1, text: 1 };
    const r = options.range;
    const fromMemory = r ? null : this.memory.articles(match, limit, w);
    if (fromMemory) return fromMemory;
    const params = { match, limit, title: w.title, text: w.text };
    return (
      r ? this.stmts.articleLexicalDated.all({ ...params, from: r.from, to: r.to }) : this.stmts.articleLexical.all(params)
    ) as ArticleHit[];
  }

  /** BM25 search over the chunks of the given articles only. */
  lexicalIn(match: string, articleIds: readonly string[], limit: number): Hit[] {
    if (!match || articleIds.length === 0) return [];
    return this.stmts.lexicalIn.all(match, JSON.stringify(articleIds), limit) as Hit[];
  }

  /** An article's chunks in reading order. */
  chunksOf(articleId: string): StoredChunk[] {
    return this.stmts.chunksOf.all(articleId) as StoredChunk[];
  }

  /** An article's chunks without their text, each with how many of `stems` its stored stems hold (null: none stored). */
  chunkMatches(articleId: string, stems: readonly string[]): ChunkMatch[] {
    const rows = this.stmts.chunkMatches.all(articleId) as [number, string, number, number, number, string | null][];
    return rows.map(([label, id, ordinal, start, end, kept]) => ({
      label,
      id,
      articleId,
      ordinal,
      start,
      end,
      found: kept == null ? null : countStoredStems(kept, stems),
    }));
  }

  /** The text of these chunks by label. */
  chunkTexts(labels: readonly number[]): Map<number, string> {
    const rows = this.stmts.chunkTexts.all(JSON.stringify(labels)) as { label: number; text: string }[];
    return new Map(rows.map((r) => [r.label, r.text]));
  }

  /** How many articles are dated inside the range. */
  countInRange(range: DateRange): number {
    return (this.stmts.countInRange.get(range.from, range.to) as { n: number }).n;
  }

  /** Nearest neighbours by inner product (vectors are normalised: this is cosine). */
  denseSearch(query: Float32Array, limit: number, range?: DateRange): Hit[] {
    if (!this.vectors || this.liveVectors === 0) return [];
    let allowed: Set<number> | undefined;
    if (range) {
      allowed = new Set((this.stmts.labelsInRange.all(range.from, range.to) as { label: number }[]).map((r) => r.label));
      if (allowed.size === 0) return [];
    }
    // hnswlib throws when asked for more neighbours than it can return.
    const k = Math.min(limit, allowed ? allowed.size : this.liveVectors);
    if (k <= 0) return [];
    const res = allowed
      ? this.vectors.searchKnn(Array.from(query), k, (label: number) => allowed.has(label))
      : this.vectors.searchKnn(Array.from(query), k);
    return res.neighbors.map((label, i) => ({ label, score: 1 - (res.distances[i] ?? 1) }));
  }

  /** Exact nearest neighbours by scanning every stored vector (for recall measurement). */
  exactSearch(query: Float32Array, limit: number): Hit[] {
    const rows = this.db.prepare('SELECT rowid AS label, vector FROM chunks WHERE vector IS NOT NULL').all() as {
      label: number;
      vector: Buffer;
    }[];
    const scored = rows.map((r) => {
      const v = bufferToVector(r.vector);
      let dot = 0;
      for (let i = 0; i < v.length; i++) dot += v[i]! * query[i]!;
      return { label: r.label, score: dot };
    });
    return scored.sort((a, b) => b.score - a.score).slice(0, limit);
  }

  /**
   * Exact nearest neighbours of each query in one scan of the stored vectors (the bench's ground
   * truth for recall: scanning once per query costs a full read of the vectors each time).
   */
  exactSearchAll(queries: readonly Float32Array[], limit: number): Hit[][] {
    const best: Hit[][] = queries.map(() => []);
    const rows = this.db.prepare('SELECT rowid AS label, vector FROM chunks WHERE vector IS NOT NULL').raw().iterate() as Iterable<
      [number, Buffer]
    >;
    for (const [label, blob] of rows) {
      const v = bufferToVector(blob);
      for (let q = 0; q < queries.length; q++) {
        const query = queries[q]!;
        let dot = 0;
        for (let i = 0; i < v.length; i++) dot += v[i]! * query[i]!;
        const top = best[q]!;
        if (top.length < limit || dot > top[top.length - 1]!.score) {
          let at = top.length;
          while (at > 0 && top[at - 1]!.score < dot) at--;
          top.splice(at, 0, { label, score: dot });
          if (top.length > limit) top.pop();
        }
      }
    }
    return best;
  }

  /** The chunk with this label. */
  chunk(label: number): StoredChunk | undefined {
    return this.stmts.chunk.get(label) as StoredChunk | undefined;
  }

  /** The article of each chunk label (labels no longer stored are left out). */
  articlesOfChunks(labels: readonly number[]): Map<number, string> {
    const out = new Map<number, string>();
    if (labels.length === 0) return out;
    const { articleOf, ids } = this.labelMap();
    for (const label of labels) {
      const at = label >= 0 && label < articleOf.length ? articleOf[label]! : -1;
      if (at >= 0) out.set(label, ids[at]!);
    }
    return out;
  }

  /**
   * Every chunk label's article, read once per generation (which never changes) on first use: a
   * query maps up to a hundred labels, and a lookup per query cost more than the search itself.
   * 4 bytes per label plus the article ids (about 0.5 MB at 100k chunks).
   */
  private labelMap(): { articleOf: Int32Array; ids: string[] } {
    if (this.labels) return this.labels;
    const { max } = this.db.prepare('SELECT coalesce(max(rowid), 0) AS max FROM chunks').get() as { max: number };
    const articleOf = new Int32Array(max + 1).fill(-1);
    const ids: string[] = [];
    const idIndex = new Map<string, number>();
    const rows = this.db.prepare('SELECT rowid, article_id FROM chunks').raw().iterate() as Iterable<[number, string]>;
    for (const [label, articleId] of rows) {
      let at = idIndex.get(articleId);
      if (at === undefined) {
        at = ids.push(articleId) - 1;
        idIndex.set(articleId, at);
      }
      articleOf[label] = at;
    }
    this.labels = { articleOf, ids };
    return this.labels;
  }

  /** Stored vector of a chunk, if any. */
  vector(label: number): Float32Array | undefined {
    const row = this.stmts.vector.get(label) as { vector: Buffer | null } | undefined;
    return row?.vector ? bufferToVector(row.vector) : undefined;
  }

  /** Article metadata by id (the most recently used rows are kept: ranking asks for the same candidates' dates on every query). */
  article(id: string): StoredArticle | undefined {
    return this.articles.getOrLoad(id, this.readArticle);
  }

  private readonly readArticle = (id: string) => this.stmts.article.get(id) as StoredArticle | undefined;

  /**
   * What this reader holds in memory of the catalogue: article rows cached (at most
   * `articleCacheLimit`) and, once a query mapped chunks to articles, the chunk → article map
   * (4 bytes per chunk label plus each article id once).
   */
  catalogueMemory(): { cachedArticles: number; articleCacheLimit: number; labelMapLabels: number; labelMapArticles: number } {
    return {
      cachedArticles: this.articles.size,
      articleCacheLimit: this.articles.limit,
      labelMapLabels: this.labels?.articleOf.length ?? 0,
      labelMapArticles: this.labels?.ids.length ?? 0,
    };
  }

  /** Full text of an article. */
  articleText(id: string): string | undefined {
    return (this.stmts.articleText.get(id) as { text: string } | undefined)?.text;
  }

  /** Stored stems of these articles (those kept without any are left out). */
  articleStems(ids: readonly string[]): Map<string, string> {
    if (ids.length === 0) return new Map();
    const rows = this.stmts.articleStems.all(JSON.stringify(ids)) as { id: string; stems: string }[];
    return new Map(rows.map((r) => [r.id, r.stems]));
  }

  /** Articles, newest first. */
  listArticles(offset: number, limit: number): { total: number; items: ArticleInfo[] } {
    return {
      total: this.manifest.counts.articles,
      items: this.stmts.list.all(limit, offset) as ArticleInfo[],
    };
  }

  /** Articles loaded from one file of the articles folder. */
  articlesInFile(relPath: string): ArticleInfo[] {
    return this.stmts.byPath.all(relPath) as ArticleInfo[];
  }

  /** Earliest and latest publication dates. */
  dateRange(): { first: string | null; last: string | null } {
    return this.stmts.dates.get() as { first: string | null; last: string | null };
  }

  /** Bytes on disk of this generation. */
  sizeBytes(): number {
    return Object.values(this.manifest.files).reduce((s, f) => s + f.bytes, 0) + safeSize(path.join(this.dir, 'manifest.json'));
  }

  /**
   * Loads the in-memory BM25 now (it otherwise loads in the background after the first lexical
   * search); true when both searches are then answered from memory, false when this generation
   * stays on FTS5 (over the token budget, or the load failed).
   */
  lexicalMemoryReady(): Promise<boolean> {
    return this.memory.whenReady();
  }

  /** How the in-memory BM25 was built: read in full, or from the base reader's and the diff (null while not loaded). */
  lexicalMemorySource(): 'full' | 'delta' | null {
    return this.memory.source;
  }

  /** Bytes the in-memory BM25 holds (0 while it is not loaded). */
  lexicalMemoryBytes(): number {
    return this.memory.bytes;
  }

  /** Releases the database handle. */
  close(): void {
    this.memory.close();
    if (this.db.open) this.db.close();
  }
}

/**
 * Reads a graph file off the event loop (without its `vectors.delta`: `openFolder` replays that),
 * so a caller can start it early and pass the promise to `openFolder`; each graph serves one reader.
 */
export async function loadGraph(file: string, dimension: number): Promise<InstanceType<typeof HierarchicalNSW>> {
  const graph = new HierarchicalNSW('ip', dimension);
  await graph.readIndex(file);
  return graph;
}

/** Applies a replica-local copy's recorded graph changes (`vectors.delta`, a few hundred points at most). */
function replayDelta(graph: InstanceType<typeof HierarchicalNSW>, dir: string, manifest: Manifest): void {
  if (!manifest.embedder || !manifest.files[VECTORS_DELTA_FILE]) return;
  applyVectorOps(graph, readVectorDelta(path.join(dir, VECTORS_DELTA_FILE), manifest.embedder.dimension));
}

/**
 * Article rows a reader keeps by default: a query's candidates are a few hundred articles at most,
 * so this holds many queries' worth, and at about 0.5 KB a row it is a few MB however large the
 * catalogue is.
 */
export const ARTICLE_CACHE = 5000;

type ReaderSettings = { efSearch: number; articleCache: number; lexicalMemoryTokens?: number; lexicalBase?: IndexReader | null };

function readerSettings(options: ReaderOptions): ReaderSettings {
  return {
    efSearch: options.efSearch ?? 100,
    articleCache: options.articleCache ?? ARTICLE_CACHE,
    lexicalMemoryTokens: options.lexicalMemoryTokens,
    lexicalBase: options.lexicalBase ?? null,
  };
}

function safeSize(p: string): number {
  try {
    return fs.statSync(p).size;
  } catch {
    return 0;
  }
}
