/**
 * The read side of the PostgreSQL index: one published generation. Searches run in the database
 * (BM25 from full-text search; pgvector's HNSW when the server has it) against the generation's
 * own rows, so a reader never sees a half-built or newer generation. The catalogue (titles,
 * dates, paths, chunk→article) is held in memory for the synchronous reads the bot makes. Without
 * pgvector, each process keeps its own hnswlib graph of the vectors, loaded at start and patched
 * from the previous reader's graph when a new generation is published.
 */
import hnswlib from 'hnswlib-node';
import type { Queryable } from '../../db/client.js';
import type { ArticleInfo } from '../../types.js';
import type { ArticleFieldWeights, ArticleHit, DateRange, Hit, StoredArticle, StoredChunk } from '../reader.js';
import { Retirable } from '../retirable.js';
import type { IndexInfo, IndexView } from '../search-index.js';
import { articleBm25, type Bm25Stats, chunkBm25 } from './lexical.js';
import { visible } from './sql.js';
import type { PgGeneration } from './writer.js';

const { HierarchicalNSW } = hnswlib;
type Graph = InstanceType<typeof HierarchicalNSW>;

/** How dense search runs. */
export type DenseMode = 'pgvector' | 'hnswlib';

/** Options of a reader. */
export interface PgReaderOptions {
  dense: DenseMode;
  efSearch: number;
  /** pgvector 0.8+: keep scanning the graph until enough rows pass the generation filter. */
  iterativeScan?: boolean;
}

interface CatalogArticle extends StoredArticle {
  chunks: number;
}

/** The in-memory half of a reader: articles and which article each chunk belongs to. */
interface Catalog {
  articles: Map<string, CatalogArticle>;
  /** Newest first, then by title: the order /sources lists. */
  listed: CatalogArticle[];
  byPath: Map<string, CatalogArticle[]>;
  labels: Map<number, string>;
  dates: { first: string | null; last: string | null };
  /** Articles per language ('' for unknown). */
  languages: Record<string, number>;
}

/** The in-process vector graph, shared by successive readers of one process and patched between them. */
interface MemoryVectors {
  graph: Graph;
  embedderId: string;
  /** Points marked deleted since the graph was built. */
  deleted: number;
}

/** Articles whose texts and chunks one prefetch query reads. */
const PREFETCH_PAGE = 250;
/** Articles whose texts and chunks a reader keeps (more are read again when asked for). */
const PREFETCH_CACHE = 2000;

/** Share of marked-deleted points above which the graph is rebuilt instead of patched. */
const REBUILD_AT = 0.3;

/** An open, read-only generation in PostgreSQL. */
export class PgIndexReader extends Retirable implements IndexView {
  /** Article texts and chunks already read from this generation. */
  private readonly cache = { texts: new Map<string, string>(), chunks: new Map<string, StoredChunk[]>() };

  private constructor(
    private readonly db: Queryable,
    readonly manifest: IndexInfo,
    private readonly catalog: Catalog,
    private readonly stats: { chunks: Bm25Stats; articles: Bm25Stats; bytes: number },
    private readonly options: PgReaderOptions,
    /** The hnswlib graph in 'hnswlib' mode with vectors, else null. */
    readonly memory: MemoryVectors | null,
  ) {
    super();
  }

  /**
   * Opens generation `generation`. With `previous` (the reader being replaced, same process), an
   * hnswlib graph is patched with the chunks that came and went instead of loaded again.
   */
  static async open(
    db: Queryable,
    generation: PgGeneration,
    options: PgReaderOptions,
    previous?: PgIndexReader | null,
  ): Promise<PgIndexReader> {
    const g = generation.id;
    const catalog = await loadCatalog(db, g);
    const stats = await loadStats(db, g);
    const embedder = generation.manifest.embedder;
    let memory: MemoryVectors | null = null;
    if (embedder && options.dense === 'hnswlib') {
      const graphSettings = { m: generation.manifest.hnsw?.m ?? 16, efConstruction: generation.manifest.hnsw?.efConstruction ?? 200 };
      const vectorSource = {
        g,
        embedderId: embedder.id,
        dimension: embedder.dimension,
        catalog,
        efSearch: options.efSearch,
        ...graphSettings,
      };
      memory = await patchOrLoadVectors(db, vectorSource, previous);
    }
    return new PgIndexReader(db, { ...generation.manifest, languages: catalog.languages }, catalog, stats, options, memory);
  }

  get dense(): boolean {
    return this.manifest.embedder !== null && this.manifest.counts.chunks > 0;
  }

  lexical(match: string, limit: number, range?: DateRange): Promise<Hit[]> {
    return chunkBm25(this.db, {
      match,
      generation: this.manifest.generation,
      limit,
      stats: this.stats.chunks,
      ...(range ? { range } : {}),
    });
  }

  articleLexical(match: string, limit: number, options: { range?: DateRange; weights?: ArticleFieldWeights } = {}): Promise<ArticleHit[]> {
    return articleBm25(this.db, {
      match,
      generation: this.manifest.generation,
      limit,
      stats: this.stats.articles,
      weights: options.weights ?? { title: 1, text: 1 },
      ...(options.range ? { range: options.range } : {}),
    });
  }

  async lexicalIn(match: string, articleIds: readonly string[], limit: number): Promise<Hit[]> {
    if (articleIds.length === 0) return [];
    return chunkBm25(this.db, { match, generation: this.manifest.generation, limit, stats: this.stats.chunks, articleIds });
  }

  async denseSearch(query: Float32Array, limit: number, range?: DateRange): Promise<Hit[]> {
    const embedder = this.manifest.embedder;
    if (!embedder || !this.dense) return [];
    const allowed = range ? this.labelsInRange(range) : null;
    if (allowed?.size === 0) return [];
    if (this.memory) return this.searchMemory(this.memory.graph, query, limit, allowed);
    return this.searchPgvector(embedder, query, limit, range);
  }

  private searchMemory(graph: Graph, query: Float32Array, limit: number, allowed: Set<number> | null): Hit[] {
    // The graph may be shared with a newer reader: only this generation's labels count.
    const mine = allowed ?? this.catalog.labels;
    const k = Math.min(limit, mine.size, graph.getCurrentCount());
    if (k <= 0) return [];
    const own = (label: number) => (allowed ? allowed.has(label) : this.catalog.labels.has(label));
    const res = graph.searchKnn(Array.from(query), k, own);
    return res.neighbors.map((label, i) => ({ label, score: 1 - (res.distances[i] ?? 1) }));
  }

  private async searchPgvector(
    embedder: { id: string; dimension: number },
    query: Float32Array,
    limit: number,
    range?: DateRange,
  ): Promise<Hit[]> {
    const d = embedder.dimension;
    const dateJoin = range ? 'JOIN index_articles a ON a.row_id = c.article_row AND a.date BETWEEN $4 AND $5' : '';
    // The embedder id is inlined so the planner can match the partial HNSW index for it.
    const sql = `SELECT e.chunk_label AS label, (-(e.embedding::vector(${d}) <#> $1::vector(${d})))::float8 AS score
      FROM index_embeddings e JOIN index_chunks c ON c.label = e.chunk_label ${dateJoin}
      WHERE e.embedder_id = ${quoteLiteral(embedder.id)} AND ${visible('c', '$2')}
      ORDER BY e.embedding::vector(${d}) <#> $1::vector(${d}) LIMIT $3`;
    const params: unknown[] = [
      `[${Array.from(query).join(',')}]`,
      this.manifest.generation,
      limit,
      ...(range ? [range.from, range.to] : []),
    ];
    const db = this.db as Queryable & { transaction?: <T>(fn: (tx: Queryable) => Promise<T>) => Promise<T> };
    const run = async (tx: Queryable) => {
      await tx.query(`SELECT set_config('hnsw.ef_search', $1, true)`, [String(Math.max(this.options.efSearch, limit))]);
      if (this.options.iterativeScan) await tx.query(`SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true)`);
      const { rows } = await tx.query<Hit>(sql, params);
      // relaxed_order may return neighbours slightly out of order.
      return rows.sort((a, b) => b.score - a.score);
    };
    return db.transaction ? db.transaction(run) : run(db);
  }

  articlesOfChunks(labels: readonly number[]): Map<number, string> {
    const out = new Map<number, string>();
    for (const l of labels) {
      const a = this.catalog.labels.get(l);
      if (a !== undefined) out.set(l, a);
    }
    return out;
  }

  async chunksOf(articleId: string): Promise<StoredChunk[]> {
    if (!this.cache.chunks.has(articleId)) await this.prefetch([articleId]);
    return this.cache.chunks.get(articleId) ?? [];
  }

  async articleText(id: string): Promise<string | undefined> {
    if (!this.cache.texts.has(id)) await this.prefetch([id]);
    return this.cache.texts.get(id);
  }

  /**
   * Reads texts and chunks of the articles not cached yet: two queries per page of
   * `PREFETCH_PAGE` articles, pages one after the other, so a caller asking for thousands (the
   * eval's baseline, alert matching over a large batch) holds two connections, not hundreds. A
   * generation never changes, so what was read stays true.
   */
  async prefetch(articleIds: readonly string[]): Promise<void> {
    const missing = [...new Set(articleIds)].filter((id) => !this.cache.texts.has(id) && this.catalog.articles.has(id));
    if (missing.length === 0) return;
    // Bounded: whole articles are large, and one question touches a few dozen at most. Cleared
    // before the read, so everything this call asked for is there when it returns.
    if (this.cache.texts.size + missing.length > PREFETCH_CACHE) {
      this.cache.texts.clear();
      this.cache.chunks.clear();
    }
    const g = this.manifest.generation;
    for (let at = 0; at < missing.length; at += PREFETCH_PAGE) {
      const page = missing.slice(at, at + PREFETCH_PAGE);
      const [texts, chunks] = await Promise.all([
        this.db.query<{ id: string; text: string }>(
          `SELECT a.id, a.text FROM index_articles a WHERE a.id = ANY($1::text[]) AND ${visible('a', '$2')}`,
          [page, g],
        ),
        // Through the article rows: index_chunks is indexed by article_row, not article_id. As an
        // array, so the planner uses that index (a join scanned the generation's chunks: 57-77 ms
        // instead of 2-18 ms for 5 articles of an 18k-chunk archive).
        this.db.query<StoredChunk>(
          `SELECT c.label, c.id, c.article_id AS "articleId", c.ordinal, c.start_offset AS start, c.end_offset AS "end", c.text
           FROM index_chunks c
           WHERE c.article_row = ANY(ARRAY(SELECT a.row_id FROM index_articles a WHERE a.id = ANY($1::text[]) AND ${visible('a', '$2')}))
             AND ${visible('c', '$2')} ORDER BY c.article_id, c.ordinal`,
          [page, g],
        ),
      ]);
      for (const id of page) this.cache.chunks.set(id, []);
      for (const c of chunks.rows) this.cache.chunks.get(c.articleId)?.push(c);
      for (const r of texts.rows) this.cache.texts.set(r.id, r.text);
    }
  }

  article(id: string): StoredArticle | undefined {
    const a = this.catalog.articles.get(id);
    return a ? { id: a.id, title: a.title, date: a.date, url: a.url, source: a.source, path: a.path } : undefined;
  }

  countInRange(range: DateRange): number {
    let n = 0;
    for (const a of this.catalog.articles.values()) if (a.date !== null && a.date >= range.from && a.date <= range.to) n++;
    return n;
  }

  dateRange(): { first: string | null; last: string | null } {
    return this.catalog.dates;
  }

  listArticles(offset: number, limit: number): { total: number; items: ArticleInfo[] } {
    return { total: this.catalog.listed.length, items: this.catalog.listed.slice(offset, offset + limit).map(info) };
  }

  articlesInFile(relPath: string): ArticleInfo[] {
    return (this.catalog.byPath.get(relPath) ?? []).map(info);
  }

  sizeBytes(): number {
    return this.stats.bytes;
  }

  /** Nothing to free but the reference: the database connection belongs to the pool, the graph to the next reader. */
  close(): void {}

  /** Chunk label → article id of every chunk this generation shows. */
  chunkLabels(): ReadonlyMap<number, string> {
    return this.catalog.labels;
  }

  private labelsInRange(range: DateRange): Set<number> {
    const ids = new Set<string>();
    for (const a of this.catalog.articles.values()) if (a.date !== null && a.date >= range.from && a.date <= range.to) ids.add(a.id);
    const out = new Set<number>();
    for (const [label, id] of this.catalog.labels) if (ids.has(id)) out.add(label);
    return out;
  }
}

function info(a: CatalogArticle): ArticleInfo {
  return { id: a.id, title: a.title, date: a.date, url: a.url, chunks: a.chunks };
}

function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

async function loadCatalog(db: Queryable, g: number): Promise<Catalog> {
  const { rows } = await db.query<StoredArticle & { lang: string | null }>(
    `SELECT a.id, a.title, a.date, a.url, a.source, a.path, a.lang FROM index_articles a WHERE ${visible('a', '$1')}`,
    [g],
  );
  // Articles per language, as the embedded store's manifest records them ('' for unknown).
  const languages: Record<string, number> = {};
  for (const a of rows) languages[a.lang ?? ''] = (languages[a.lang ?? ''] ?? 0) + 1;
  const arts: StoredArticle[] = rows.map(({ lang: _lang, ...a }) => a);
  const { rows: chunks } = await db.query<{ label: number; article_id: string }>(
    `SELECT c.label, c.article_id FROM index_chunks c WHERE ${visible('c', '$1')}`,
    [g],
  );
  const articles = new Map<string, CatalogArticle>(arts.map((a) => [a.id, { ...a, chunks: 0 }]));
  const labels = new Map<number, string>();
  for (const c of chunks) {
    labels.set(c.label, c.article_id);
    const a = articles.get(c.article_id);
    if (a) a.chunks++;
  }
  // The embedded store's order: date DESC NULLS LAST, then title (byte order, as SQLite compares).
  const listed = [...articles.values()].sort(
    (x, y) =>
      (x.date === y.date ? 0 : x.date === null ? 1 : y.date === null ? -1 : x.date < y.date ? 1 : -1) ||
      (x.title < y.title ? -1 : x.title > y.title ? 1 : 0),
  );
  const byPath = new Map<string, CatalogArticle[]>();
  for (const a of [...articles.values()].sort((x, y) => (x.id < y.id ? -1 : 1))) byPath.set(a.path, [...(byPath.get(a.path) ?? []), a]);
  const dated = listed.filter((a) => a.date !== null).map((a) => a.date!);
  return { articles, listed, byPath, labels, dates: { first: dated[dated.length - 1] ?? null, last: dated[0] ?? null }, languages };
}

async function loadStats(db: Queryable, g: number): Promise<{ chunks: Bm25Stats; articles: Bm25Stats; bytes: number }> {
  const { rows } = await db.query<{ cn: number; ct: number; an: number; at: number; bytes: number }>(
    `SELECT (SELECT count(*) FROM index_chunks c WHERE ${visible('c', '$1')})::float8 AS cn,
            (SELECT coalesce(avg(tokens), 0) FROM index_chunks c WHERE ${visible('c', '$1')})::float8 AS ct,
            (SELECT count(*) FROM index_articles a WHERE ${visible('a', '$1')})::float8 AS an,
            (SELECT coalesce(avg(tokens), 0) FROM index_articles a WHERE ${visible('a', '$1')})::float8 AS at,
            (pg_total_relation_size('index_articles') + pg_total_relation_size('index_chunks') + pg_total_relation_size('index_embeddings'))::float8 AS bytes`,
    [g],
  );
  const r = rows[0]!;
  return { chunks: { docs: r.cn, avgTokens: r.ct }, articles: { docs: r.an, avgTokens: r.at }, bytes: r.bytes };
}

/** Vectors of generation g for one embedder, for the labels given (all when null). */
async function loadVectors(
  db: Queryable,
  g: number,
  embedderId: string,
  labels: number[] | null,
): Promise<{ label: number; vector: number[] }[]> {
  const { rows } = await db.query<{ label: number; vector: number[] }>(
    `SELECT e.chunk_label AS label, e.vector FROM index_embeddings e JOIN index_chunks c ON c.label = e.chunk_label
     WHERE e.embedder_id = $2 AND ${visible('c', '$1')} ${labels ? 'AND e.chunk_label = ANY($3::int[])' : ''}`,
    labels ? [g, embedderId, labels] : [g, embedderId],
  );
  return rows.map((r) => ({ label: r.label, vector: r.vector.map(Number) }));
}

async function patchOrLoadVectors(
  db: Queryable,
  o: { g: number; embedderId: string; dimension: number; catalog: Catalog; efSearch: number; m: number; efConstruction: number },
  previous?: PgIndexReader | null,
): Promise<MemoryVectors> {
  const prev = previous?.memory;
  if (prev && prev.embedderId === o.embedderId && previous) {
    const before = previous.chunkLabels();
    const added = [...o.catalog.labels.keys()].filter((l) => !before.has(l));
    const removed = [...before.keys()].filter((l) => !o.catalog.labels.has(l));
    const deleted = prev.deleted + removed.length;
    if (deleted / Math.max(1, o.catalog.labels.size + deleted) <= REBUILD_AT) {
      for (const l of removed) prev.graph.markDelete(l);
      addPoints(prev.graph, await loadVectors(db, o.g, o.embedderId, added));
      prev.deleted = deleted;
      return prev;
    }
  }
  const points = await loadVectors(db, o.g, o.embedderId, null);
  const graph = new HierarchicalNSW('ip', o.dimension);
  graph.initIndex({ maxElements: Math.max(1024, points.length), m: o.m, efConstruction: o.efConstruction, randomSeed: 100 });
  graph.setEf(o.efSearch);
  addPoints(graph, points);
  return { graph, embedderId: o.embedderId, deleted: 0 };
}

function addPoints(graph: Graph, points: readonly { label: number; vector: number[] }[]): void {
  const need = graph.getCurrentCount() + points.length;
  if (need > graph.getMaxElements()) graph.resizeIndex(Math.max(need, Math.ceil(graph.getMaxElements() * 1.5)));
  for (const p of points) graph.addPoint(p.vector, p.label);
}
