/**
 * Retrieval evaluation: every answerable question is asked in each retrieval mode, and the
 * rank of its first gold article and whether a top passage holds the gold quote are recorded.
 * Unanswerable questions are asked too, to see whether retrieval admits it found nothing.
 */
import { condenseDeterministic } from '../answering/index.js';
import type { HybridRetriever } from '../retrieval/index.js';
import { mean, percentile } from '../util/stats.js';
import type { Baseline } from './baseline.js';
import { askedAt, historyFor, isAnswerable, type EvalQuestion } from './dataset.js';
import { binaryRelevances, containsNormalised, distinct, firstRelevantRank, hitAtK, mrrAtK, ndcgAtK, share } from './metrics.js';

/**
 * The modes the evaluation knows: `baseline` is plain whole-article BM25 (./baseline.ts), the
 * yardstick every other row is read against; `rerank` is hybrid followed by a cross-encoder.
 */
export const EVAL_MODES = ['baseline', 'lexical', 'dense', 'hybrid', 'rerank'] as const;
/** One of `EVAL_MODES`. */
export type EvalMode = (typeof EVAL_MODES)[number];

/** What one question got in one mode. */
export interface RetrievalQuestionResult {
  id: string;
  /** 1-based rank of the first gold article among distinct retrieved articles; null when absent. */
  rank: number | null;
  /** rank ≤ 10 (the article-level hit reported in the table at the widest cutoff). */
  hit: boolean;
  /** Whether a top-k passage contains the gold quote; null when the question has no quote. */
  quoteFound: boolean | null;
  notCovered: boolean;
  /** Distinct article ids in retrieved order. */
  articles: string[];
  ms: number;
}

/** Aggregate retrieval metrics for one mode. */
export interface ModeMetrics {
  mode: EvalMode;
  /** Answerable questions evaluated (the denominator of the Hit/MRR/nDCG figures). */
  answerable: number;
  hitAt1: number;
  hitAt5: number;
  hitAt10: number;
  mrrAt10: number;
  ndcgAt10: number;
  /** Questions with a gold quote (the denominator of `quoteRecall`). */
  withQuote: number;
  /** Share of those whose quote is inside one of the top-k passages. */
  quoteRecall: number;
  /** Unanswerable questions evaluated. */
  unanswerable: number;
  /** Share of unanswerable questions retrieval flagged as not covered (higher is better). */
  unanswerableNotCovered: number;
  /** Share of answerable questions wrongly flagged as not covered (lower is better). */
  answerableNotCovered: number;
  /** Whole-retrieval time per query, for orientation only (machine-dependent); percentiles as `util/stats.ts` defines them, 0 when nothing ran. */
  latencyMs: { p50: number; p95: number };
}

/** Everything one mode produced. */
export interface ModeResult {
  metrics: ModeMetrics;
  questions: RetrievalQuestionResult[];
}

/**
 * The standalone query retrieval is evaluated with. Follow-ups are condensed the way the
 * answerer does without an LLM, so every mode sees the same query and runs are reproducible.
 */
export function evaluationQuery(q: EvalQuestion, byId: ReadonlyMap<string, EvalQuestion>): string {
  return condenseDeterministic(q.question, historyFor(q, byId));
}

/** What one mode retrieved for one question. */
interface Retrieved {
  articles: string[];
  /** Passage texts, to look for the gold quote in; null when the mode has no passages (baseline). */
  passages: string[] | null;
  notCovered: boolean;
}

/** Asks one question in `mode`; throws when the retriever ran another mode than asked. */
async function retrieveFor(
  options: { retriever: HybridRetriever; baseline?: Baseline | null; mode: EvalMode; k: number },
  query: string,
  now: Date | undefined,
): Promise<Retrieved> {
  const { mode, k } = options;
  if (mode === 'baseline') {
    if (!options.baseline) throw new Error('The baseline mode needs its index.');
    return { articles: options.baseline.search(query, k), passages: null, notCovered: false };
  }
  const r = await options.retriever.retrieveDetailed(query, { k, mode, ...(now ? { now } : {}) });
  // Rerank searches like hybrid and must report the cross-encoder that ordered the passages.
  const ran = r.reranker !== null ? `${r.mode} + rerank` : r.mode;
  const wanted = mode === 'rerank' ? 'hybrid + rerank' : mode;
  if (ran !== wanted) {
    throw new Error(
      mode === 'rerank' && r.reranker === null
        ? 'Retrieval ran without the reranker when rerank was asked for; the rerank model failed during the run (see the log).'
        : `Retrieval ran as ${ran} when ${wanted} was asked for; the index or model changed during the run.`,
    );
  }
  return { articles: distinct(r.passages.map((p) => p.articleId)), passages: r.passages.map((p) => p.text), notCovered: r.notCovered };
}

/**
 * Runs every question through one retrieval mode, each asked at its `asked_at` (questions
 * without one are asked now). `gold` maps question id → resolved article ids.
 */
export async function evaluateMode(options: {
  retriever: HybridRetriever;
  /** The whole-article BM25 index, for the baseline mode. */
  baseline?: Baseline | null;
  mode: EvalMode;
  questions: readonly EvalQuestion[];
  gold: ReadonlyMap<string, string[]>;
  queries: ReadonlyMap<string, string>;
  k: number;
  onProgress?: (done: number, total: number) => void;
}): Promise<ModeResult> {
  const { mode, questions, gold, queries } = options;
  const byId = new Map(questions.map((q) => [q.id, q]));
  const results: RetrievalQuestionResult[] = [];
  let done = 0;
  for (const q of questions) {
    const query = queries.get(q.id) ?? q.question;
    const started = performance.now();
    const r = await retrieveFor(options, query, askedAt(q, byId));
    const ms = performance.now() - started;
    const goldIds = gold.get(q.id) ?? [];
    const answerable = isAnswerable(q);
    const rank = answerable ? firstRelevantRank(r.articles, goldIds) : null;
    const quote = answerable && r.passages && q.quote !== undefined ? q.quote : undefined;
    results.push({
      id: q.id,
      rank,
      hit: rank !== null && rank <= 10,
      quoteFound: quote !== undefined ? r.passages!.some((p) => containsNormalised(p, quote)) : null,
      notCovered: r.notCovered,
      articles: r.articles,
      ms,
    });
    options.onProgress?.(++done, questions.length);
  }
  return { metrics: summarise(mode, questions, gold, results), questions: results };
}

function summarise(
  mode: EvalMode,
  questions: readonly EvalQuestion[],
  gold: ReadonlyMap<string, string[]>,
  results: readonly RetrievalQuestionResult[],
): ModeMetrics {
  const byId = new Map(questions.map((q) => [q.id, q]));
  const answerable = results.filter((r) => isAnswerable(byId.get(r.id)!));
  const unanswerable = results.filter((r) => !isAnswerable(byId.get(r.id)!));
  const ranks = answerable.map((r) => r.rank);
  const ndcgs = answerable.map((r) => {
    const g = gold.get(r.id) ?? [];
    return ndcgAtK(
      binaryRelevances(r.articles, g),
      10,
      g.map(() => 1),
    );
  });
  const quoted = answerable.filter((r) => r.quoteFound !== null);
  const times = results.map((r) => r.ms);
  return {
    mode,
    answerable: answerable.length,
    hitAt1: hitAtK(ranks, 1),
    hitAt5: hitAtK(ranks, 5),
    hitAt10: hitAtK(ranks, 10),
    mrrAt10: mrrAtK(ranks, 10),
    ndcgAt10: mean(ndcgs, 0),
    withQuote: quoted.length,
    quoteRecall: share(quoted.map((r) => r.quoteFound === true)),
    unanswerable: unanswerable.length,
    unanswerableNotCovered: share(unanswerable.map((r) => r.notCovered)),
    answerableNotCovered: share(answerable.map((r) => r.notCovered)),
    latencyMs: { p50: round(percentile(times, 50, 0)), p95: round(percentile(times, 95, 0)) },
  };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
