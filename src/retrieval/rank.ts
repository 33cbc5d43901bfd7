/**
 * Article ranking: the evidence of each search (whole-article BM25, chunk BM25, dense chunk
 * similarity) is gathered per article, each scaled to [0, 1] against the best candidate of its
 * own list, and combined with the recency preference. Scores, not ranks, are combined: when
 * one article matches far better than the next, a fresher article cannot overtake it, and when
 * same-topic stories match about equally, the date decides.
 */
import type { ArticleHit, Hit } from '../store/reader.js';

/** How much each kind of evidence counts. A weight of 0 leaves that search out. */
export interface EvidenceWeights {
  /** Whole-article BM25 (title and text). */
  article: number;
  /** Best chunk's BM25. */
  chunk: number;
  /** Best chunk's dense similarity. */
  dense: number;
}

/** A chunk hit with the article it belongs to. */
export interface ChunkHit extends Hit {
  articleId: string;
}

/** One candidate article with its evidence, best first once ranked. */
export interface RankedArticle {
  articleId: string;
  date: string | null;
  /** Combined score: weighted evidence in [0, 1] plus the recency preference. */
  score: number;
  /** Scaled evidence per search (0 when the article was not among its candidates). */
  article: number;
  chunk: number;
  dense: number;
  /** Raw best scores, for display and "not covered" checks. */
  lexicalScore?: number;
  denseScore?: number;
}

/** The searches' candidates. */
export interface Evidence {
  articles: ArticleHit[];
  chunks: ChunkHit[];
  dense: ChunkHit[];
}

/**
 * Ranks candidate articles. `dateOf` gives an article's date for those found only through
 * chunks; `prior` is the recency preference of a date (already weighted).
 */
export function rankArticles(
  evidence: Evidence,
  weights: EvidenceWeights,
  options: { dateOf: (articleId: string) => string | null; prior: (date: string | null) => number },
): RankedArticle[] {
  const byId = new Map<string, RankedArticle>();
  const entry = (articleId: string, date?: string | null): RankedArticle => {
    let e = byId.get(articleId);
    if (!e) {
      e = { articleId, date: date !== undefined ? date : options.dateOf(articleId), score: 0, article: 0, chunk: 0, dense: 0 };
      byId.set(articleId, e);
    }
    return e;
  };

  const topArticle = evidence.articles[0]?.score ?? 0;
  if (weights.article > 0 && topArticle > 0) {
    for (const h of evidence.articles) entry(h.articleId, h.date).article = h.score / topArticle;
  }
  const topChunk = evidence.chunks[0]?.score ?? 0;
  if (weights.chunk > 0 && topChunk > 0) {
    for (const h of evidence.chunks) {
      const e = entry(h.articleId);
      e.chunk = Math.max(e.chunk, h.score / topChunk);
      e.lexicalScore = Math.max(e.lexicalScore ?? 0, h.score);
    }
  }
  if (weights.dense > 0 && evidence.dense.length > 0) {
    // Cosine similarities crowd into a narrow band; scale them across the candidate list.
    const scores = evidence.dense.map((h) => h.score);
    const hi = Math.max(...scores);
    const lo = Math.min(...scores);
    for (const h of evidence.dense) {
      const e = entry(h.articleId);
      const scaled = hi > lo ? (h.score - lo) / (hi - lo) : 1;
      e.dense = Math.max(e.dense, scaled);
      e.denseScore = Math.max(e.denseScore ?? -1, h.score);
    }
  }

  const active =
    (topArticle > 0 ? weights.article : 0) + (topChunk > 0 ? weights.chunk : 0) + (evidence.dense.length > 0 ? weights.dense : 0);
  const ranked = [...byId.values()];
  for (const e of ranked) {
    const match = active > 0 ? (weights.article * e.article + weights.chunk * e.chunk + weights.dense * e.dense) / active : 0;
    e.score = match + options.prior(e.date);
  }
  // Ties break by id so results are deterministic.
  return ranked.sort((a, b) => b.score - a.score || (a.articleId < b.articleId ? -1 : a.articleId > b.articleId ? 1 : 0));
}
