/**
 * Query → ranked passages. Dense (HNSW) and lexical (BM25) candidates are fused with weighted
 * reciprocal rank fusion, optionally reordered by a cross-encoder, capped per article for
 * diversity, and adjacent chunks of one article are merged into one passage. Weak evidence is
 * reported as "not covered" instead of guessed at.
 */
import type { IndexReader, Hit, DateRange } from '../index/reader.js';
import type { Embedder, Passage, RetrievalResult, Retriever } from '../types.js';
import { silentLogger, type Logger } from '../util/log.js';
import type { Reranker } from './rerank.js';
import { contentTerms, ftsQuery, stem, wordsOf } from './terms.js';
import { parseTimeFilter } from './time.js';

/** Tuning knobs (defaults from Config['retrieval']). */
export interface RetrievalOptions {
  k: number;
  rrfK: number;
  denseWeight: number;
  lexicalWeight: number;
  maxChunksPerArticle: number;
  /** Candidates taken from each half before fusion. */
  candidates?: number;
  /** Share of query content terms the best passage must contain to count as covering the question. */
  minCoverage?: number;
  /** A dense similarity at or above this also counts as covering the question (model-specific). */
  minDenseScore?: number;
  /** Fused chunks the cross-encoder rescores in 'rerank' mode (at least k are always rescored). */
  rerankCandidates?: number;
}

/**
 * What to search with. 'rerank' is hybrid (or lexical, when the index has no vectors) followed
 * by the cross-encoder; without a reranker it runs as hybrid and reports `reranker: null`.
 */
export type RetrievalMode = 'hybrid' | 'lexical' | 'dense' | 'rerank';

/** Per-stage timings of one retrieval, in milliseconds. */
export interface RetrievalTimings {
  embed: number;
  dense: number;
  lexical: number;
  fuse: number;
  /** Cross-encoder scoring; 0 when nothing was reranked. */
  rerank: number;
  total: number;
}

/** A retrieval with what eval and bench need to see. */
export interface DetailedRetrieval extends RetrievalResult {
  timings: RetrievalTimings;
  /** The date filter applied, if the query named a time. */
  dateRange?: DateRange & { matched: string };
  /** Query content terms. */
  terms: string[];
  /** Share of content terms found in the best passage. */
  coverage: number;
  /** Id of the cross-encoder that ordered the passages, or null when none did. */
  reranker: string | null;
}

/** A retriever over whatever index is current (the getter lets the owner swap indexes after a reindex). */
export interface HybridRetriever extends Retriever {
  retrieveDetailed(query: string, options?: { k?: number; mode?: RetrievalMode }): Promise<DetailedRetrieval>;
}

/**
 * Builds the hybrid retriever. `getReader` returns the index to search now (null when there is none).
 * With a `reranker` the default mode is 'rerank': the caller only passes one when the admin configured it.
 */
export function createRetriever(deps: {
  getReader: () => IndexReader | null;
  embedder: Embedder | null;
  options: RetrievalOptions;
  reranker?: Reranker | null;
  logger?: Logger;
}): HybridRetriever {
  const log = deps.logger ?? silentLogger;
  const opts = { candidates: 50, minCoverage: 0.5, minDenseScore: 0.8, rerankCandidates: 20, ...deps.options };
  const reranker = deps.reranker ?? null;
  const defaultMode: RetrievalMode = reranker ? 'rerank' : 'hybrid';

  async function retrieveDetailed(query: string, o: { k?: number; mode?: RetrievalMode } = {}): Promise<DetailedRetrieval> {
    const t0 = performance.now();
    const k = Math.max(1, o.k ?? opts.k);
    const requested = o.mode ?? defaultMode;
    const timings: RetrievalTimings = { embed: 0, dense: 0, lexical: 0, fuse: 0, rerank: 0, total: 0 };
    const reader = deps.getReader();
    // Held across the awaits below, so a reindex that swaps indexes cannot close this one mid-query.
    reader?.retain();
    try {
      return await search(query, o, reader, t0, k, requested, timings);
    } finally {
      reader?.release();
    }
  }

  async function search(
    query: string,
    o: { k?: number; mode?: RetrievalMode },
    reader: IndexReader | null,
    t0: number,
    k: number,
    requested: RetrievalMode,
    timings: RetrievalTimings,
  ): Promise<DetailedRetrieval> {
    const empty = (mode: RetrievalResult['mode']): DetailedRetrieval => ({
      passages: [],
      notCovered: true,
      mode,
      timings: { ...timings, total: performance.now() - t0 },
      terms: contentTerms(query),
      coverage: 0,
      reranker: null,
    });
    if (!reader || reader.manifest.counts.chunks === 0) return empty('lexical');

    const canDense = reader.dense && deps.embedder !== null && deps.embedder.id === reader.manifest.embedder?.id;
    // Which halves of the index to search; 'rerank' searches like hybrid and reorders afterwards.
    const mode: RetrievalResult['mode'] = requested === 'lexical' || !canDense ? 'lexical' : requested === 'dense' ? 'dense' : 'hybrid';
    if (requested === 'dense' && !canDense) return empty('dense');

    const newest = reader.dateRange().last;
    const time = newest ? parseTimeFilter(query, newest) : null;
    const searchText = time && time.cleanedQuery.trim() ? time.cleanedQuery : query;
    const terms = contentTerms(searchText);
    const range = time ? { from: time.from, to: time.to } : undefined;

    let queryVector: Float32Array | null = null;
    if (mode !== 'lexical' && deps.embedder) {
      const te = performance.now();
      queryVector = await deps.embedder.embedQuery(query);
      timings.embed = performance.now() - te;
    }

    const search = (r: DateRange | undefined) => {
      const td = performance.now();
      const dense = queryVector ? reader.denseSearch(queryVector, opts.candidates, r) : [];
      timings.dense += performance.now() - td;
      const tl = performance.now();
      const lexical = mode === 'dense' ? [] : reader.lexical(ftsQuery(terms), opts.candidates, r);
      timings.lexical += performance.now() - tl;
      return { dense, lexical };
    };
    let hits = search(range);
    let appliedRange = range;
    if (range && hits.dense.length === 0 && hits.lexical.length === 0) {
      // Nothing in that period: answer from the whole collection rather than claim ignorance.
      hits = search(undefined);
      appliedRange = undefined;
    }

    const tf = performance.now();
    let fused = fuse(
      mode === 'lexical' ? [] : hits.dense,
      mode === 'dense' ? [] : hits.lexical,
      opts.rrfK,
      mode === 'lexical' ? 0 : opts.denseWeight,
      mode === 'dense' ? 0 : opts.lexicalWeight,
    );
    timings.fuse = performance.now() - tf;

    let rerankedBy: string | null = null;
    if (requested === 'rerank' && reranker && fused.length > 0) {
      const tr = performance.now();
      const pool = rerankPool(reader, fused, Math.max(opts.rerankCandidates, k), opts.maxChunksPerArticle);
      const reordered = await rerank(reranker, searchText, pool, log);
      timings.rerank = performance.now() - tr;
      if (reordered) {
        fused = reordered;
        rerankedBy = reranker.id;
      }
    }

    const tp = performance.now();
    const passages = toPassages(reader, fused, k, opts.maxChunksPerArticle);
    timings.fuse += performance.now() - tp;

    const coverage = bestCoverage(terms, passages);
    const topDense = hits.dense[0]?.score ?? 0;
    const lexicallyCovered = terms.length > 0 && coverage >= opts.minCoverage;
    const denselyCovered = topDense >= opts.minDenseScore;
    const notCovered = passages.length === 0 || !(lexicallyCovered || denselyCovered);
    timings.total = performance.now() - t0;
    log.debug('retrieval', { mode, reranker: rerankedBy, k, passages: passages.length, coverage, topDense, notCovered, ms: timings.total });
    return {
      passages,
      notCovered,
      mode,
      timings,
      terms,
      coverage,
      reranker: rerankedBy,
      ...(appliedRange && time ? { dateRange: { ...appliedRange, matched: time.matched } } : {}),
    };
  }

  return {
    retrieveDetailed,
    async retrieve(query, o) {
      const { passages, notCovered, mode } = await retrieveDetailed(query, o);
      return { passages, notCovered, mode };
    },
  };
}

interface Fused {
  label: number;
  /** RRF score, or the cross-encoder's score once reranked; passages are ordered by it. */
  score: number;
  dense?: number;
  lexical?: number;
}

/**
 * The best `size` fused chunks with the per-article cap already applied, each with the text the
 * cross-encoder reads (title + chunk, the context the chunk was indexed with). Capping first
 * matters: otherwise one long article could fill the pool, and after reranking the cap would
 * leave fewer than k chunks where the fused list had enough.
 */
function rerankPool(reader: IndexReader, fused: Fused[], size: number, perArticle: number): { f: Fused; text: string }[] {
  const pool: { f: Fused; text: string }[] = [];
  const perArticleCount = new Map<string, number>();
  for (const f of fused) {
    if (pool.length >= size) break;
    const c = reader.chunk(f.label);
    if (!c) continue;
    const n = perArticleCount.get(c.articleId) ?? 0;
    if (n >= perArticle) continue;
    perArticleCount.set(c.articleId, n + 1);
    const title = reader.article(c.articleId)?.title;
    pool.push({ f, text: title ? `${title}\n\n${c.text}` : c.text });
  }
  return pool;
}

/**
 * Rescores the pool with the cross-encoder and returns it best first, or null when the model
 * failed at query time: the fused order is still a good answer, so a broken reranker degrades
 * retrieval, it does not stop it.
 */
async function rerank(reranker: Reranker, query: string, items: { f: Fused; text: string }[], log: Logger): Promise<Fused[] | null> {
  let scores: number[];
  try {
    scores = await reranker.score(query, items.map((i) => i.text));
  } catch (err) {
    log.warn('rerank.failed', { reranker: reranker.id, error: err instanceof Error ? err.message : String(err) });
    return null;
  }
  if (scores.length !== items.length || scores.some((x) => !Number.isFinite(x))) {
    log.warn('rerank.failed', { reranker: reranker.id, error: `expected ${items.length} finite scores, got ${scores.length}` });
    return null;
  }
  // Ties break by label so results are deterministic.
  return items.map(({ f }, i) => ({ ...f, score: scores[i]! })).sort((a, b) => b.score - a.score || a.label - b.label);
}

/** Weighted reciprocal rank fusion: score = Σ w / (rrfK + rank), ranks from 1. */
export function fuse(dense: Hit[], lexical: Hit[], rrfK: number, denseWeight: number, lexicalWeight: number): Fused[] {
  const byLabel = new Map<number, Fused>();
  const add = (hits: Hit[], weight: number, field: 'dense' | 'lexical') => {
    if (weight <= 0) return;
    hits.forEach((h, i) => {
      const f = byLabel.get(h.label) ?? { label: h.label, score: 0 };
      f.score += weight / (rrfK + i + 1);
      f[field] = h.score;
      byLabel.set(h.label, f);
    });
  };
  add(dense, denseWeight, 'dense');
  add(lexical, lexicalWeight, 'lexical');
  // Ties break by label so results are deterministic.
  return [...byLabel.values()].sort((a, b) => b.score - a.score || a.label - b.label);
}

/** Separates non-adjacent excerpts of one article inside a passage. */
export const EXCERPT_GAP = '\n\n[…]\n\n';

/**
 * Picks chunks with a per-article cap, then makes one passage per article: adjacent chunks are
 * merged into one excerpt, and non-adjacent excerpts are joined with `EXCERPT_GAP`, so each
 * article is one numbered source for the answer and its citations.
 */
function toPassages(reader: IndexReader, fused: Fused[], k: number, perArticle: number): Passage[] {
  const picked: (Fused & { articleId: string; ordinal: number; start: number; end: number; id: string })[] = [];
  const perArticleCount = new Map<string, number>();
  for (const f of fused) {
    if (picked.length >= k) break;
    const c = reader.chunk(f.label);
    if (!c) continue;
    const n = perArticleCount.get(c.articleId) ?? 0;
    if (n >= perArticle) continue;
    perArticleCount.set(c.articleId, n + 1);
    picked.push({ ...f, articleId: c.articleId, ordinal: c.ordinal, start: c.start, end: c.end, id: c.id });
  }
  const groups = new Map<string, typeof picked>();
  for (const p of picked) groups.set(p.articleId, [...(groups.get(p.articleId) ?? []), p]);
  const passages: Passage[] = [];
  for (const [articleId, chunks] of groups) {
    const art = reader.article(articleId);
    const text = reader.articleText(articleId);
    if (!art || text === undefined) continue;
    chunks.sort((a, b) => a.ordinal - b.ordinal);
    // Runs of consecutive chunks; overlapping chunk text is merged through the offsets.
    const runs: { start: number; end: number }[] = [];
    let prevOrdinal = Number.NaN;
    for (const c of chunks) {
      const last = runs[runs.length - 1];
      if (last && c.ordinal === prevOrdinal + 1) last.end = Math.max(last.end, c.end);
      else runs.push({ start: c.start, end: c.end });
      prevOrdinal = c.ordinal;
    }
    const best = chunks.reduce((a, b) => (b.score > a.score ? b : a));
    passages.push({
      articleId,
      title: art.title,
      date: art.date,
      url: art.url,
      source: art.source,
      chunkIds: chunks.map((c) => c.id),
      start: runs[0]!.start,
      end: runs[runs.length - 1]!.end,
      text: runs.map((r) => text.slice(r.start, r.end)).join(EXCERPT_GAP),
      score: best.score,
      ...(best.dense !== undefined ? { denseScore: best.dense } : {}),
      ...(best.lexical !== undefined ? { lexicalScore: best.lexical } : {}),
    });
  }
  return passages.sort((a, b) => b.score - a.score);
}

/** Largest share of query terms (by crude stem) found in any of the top passages, title included. */
function bestCoverage(terms: string[], passages: Passage[]): number {
  if (terms.length === 0) return 0;
  const want = terms.map(stem);
  let best = 0;
  for (const p of passages.slice(0, 3)) {
    const have = new Set(wordsOf(`${p.title} ${p.text}`).map(stem));
    const got = want.filter((t) => have.has(t)).length / want.length;
    best = Math.max(best, got);
  }
  return best;
}
