/**
 * Query → ranked passages, in named steps:
 *   1. plan: when the question was asked, the period it names, its search terms;
 *   2. search: whole-article BM25, chunk BM25 and dense chunk search (each where the mode allows);
 *   3. rank articles: the evidence per article, combined with a soft recency preference;
 *   4. rerank (optional): a cross-encoder reorders the best articles;
 *   5. passages: the best chunks inside each chosen article, adjacent chunks merged;
 *   6. coverage: weak evidence is reported as "not covered" instead of guessed at.
 * Articles are ranked first and passages picked inside them second: a question about a story
 * names facts spread over the article, and one chunk rarely holds them all.
 */
import type { ArticleFieldWeights, ArticleHit, DateRange, StoredChunk } from '../store/reader.js';
import type { SearchIndex } from '../store/search-index.js';
import type { Embedder, PeriodNote, RetrievalResult, Retriever } from '../types.js';
import { errorMessage } from '../util/errors.js';
import { silentLogger, type Logger } from '../util/log.js';
import { passagesFor } from './passages.js';
import { rankArticles, type ChunkHit, type EvidenceWeights, type RankedArticle } from './rank.js';
import { recencyPrior, type RecencyOptions } from './recency.js';
import type { Reranker } from './rerank.js';
import { countStoredStems } from '../util/stems.js';
import { contentTerms, ftsQuery, stem, stemSet, topicTerms } from './terms.js';
import { parseTimeFilter, type TimeFilter } from './time.js';

export { EXCERPT_GAP } from './passages.js';

/** Tuning knobs (defaults from Config['retrieval'] and `RETRIEVAL_DEFAULTS`). */
export interface RetrievalOptions {
  k: number;
  /** Weight of the dense evidence. */
  denseWeight: number;
  /** Weight of the lexical evidence (whole-article and chunk BM25 together). */
  lexicalWeight: number;
  maxChunksPerArticle: number;
  /** Candidates taken from each search. */
  candidates?: number;
  /** Share of the lexical weight given to whole-article BM25 (the rest goes to chunk BM25). */
  articleShare?: number;
  /** BM25 column weights of the whole-article index. */
  fieldWeights?: ArticleFieldWeights;
  recency?: RecencyOptions;
  /**
   * A named period ("in June", "in 2019") inside a question about something is a preference, not
   * a filter: the story may be reported days later, and "the 2020 race" or "the killing in
   * January" name an event, not when the article appeared. Articles dated in the period, or up
   * to `graceDays` after it, gain `weight`.
   */
  period?: { weight: number; graceDays: number };
  /** Share of query content terms the best passage must contain to count as covering the question. */
  minCoverage?: number;
  /** A dense similarity at or above this also counts as covering the question (model-specific). */
  minDenseScore?: number;
  /** Ranked articles the cross-encoder rescores in 'rerank' mode (at least k are always rescored). */
  rerankCandidates?: number;
}

/** Defaults of the options not in the configuration, chosen on the development sets (README, Evaluation). */
export const RETRIEVAL_DEFAULTS = {
  candidates: 50,
  articleShare: 0.6,
  fieldWeights: { title: 2, text: 1 },
  recency: { halfLifeDays: 14, weight: 0.4, relativeWeight: 0.6 },
  period: { weight: 0.15, graceDays: 14 },
  minCoverage: 0.5,
  minDenseScore: 0.8,
  rerankCandidates: 20,
} satisfies Partial<RetrievalOptions>;

/**
 * What to search with. 'rerank' is hybrid (or lexical, when the index has no vectors) followed
 * by the cross-encoder; without a reranker it runs as hybrid and reports `reranker: null`.
 */
export type RetrievalMode = 'hybrid' | 'lexical' | 'dense' | 'rerank';

/** Per-call options. */
export interface RetrieveOptions {
  k?: number;
  mode?: RetrievalMode;
  /** When the question was asked: relative times and the recency preference count from it. Default: the clock. */
  now?: Date;
}

/** Per-stage timings of one retrieval, in milliseconds. */
export interface RetrievalTimings {
  /**
   * From asking for the query vector until it arrived. Planning and the lexical searches run
   * meanwhile, so this overlaps `lexical`: the stages no longer add up to `total`.
   */
  embed: number;
  dense: number;
  lexical: number;
  /** Article ranking and passage picking. */
  fuse: number;
  /** Cross-encoder scoring; 0 when nothing was reranked. */
  rerank: number;
  total: number;
}

/** A retrieval with what eval and bench need to see. */
export interface DetailedRetrieval extends RetrievalResult {
  timings: RetrievalTimings;
  /** The date filter applied, if the query named a period and the collection has articles in it. */
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
  retrieveDetailed(query: string, options?: RetrieveOptions): Promise<DetailedRetrieval>;
}

/** The plan for one query: its terms, the period it names and how much recency counts. */
interface QueryPlan {
  terms: string[];
  match: string;
  /** The text the cross-encoder reads (the query without its time phrase). */
  searchText: string;
  time: TimeFilter | null;
  /** The absolute range searched first, when the collection has articles in it. */
  range?: DateRange;
  period?: PeriodNote;
  now: Date;
  recencyWeight: number;
  /** A named period the question prefers (dates inclusive, grace included). */
  preferred?: DateRange;
  /** The question asks about a calendar period ("this week") the collection does not reach. */
  outOfPeriod?: boolean;
}

interface Searches {
  articles: ArticleHit[];
  chunks: ChunkHit[];
  dense: ChunkHit[];
}

type Options = Required<Omit<RetrievalOptions, 'recency' | 'fieldWeights' | 'period'>> &
  Pick<typeof RETRIEVAL_DEFAULTS, 'recency' | 'fieldWeights' | 'period'>;

/**
 * Builds the retriever. `getReader` returns the index to search now (null when there is none).
 * With a `reranker` the default mode is 'rerank': the caller only passes one when the admin configured it.
 */
export function createRetriever(deps: {
  getReader: () => SearchIndex | null;
  embedder: Embedder | null;
  options: RetrievalOptions;
  reranker?: Reranker | null;
  logger?: Logger;
}): HybridRetriever {
  const log = deps.logger ?? silentLogger;
  const opts: Options = { ...RETRIEVAL_DEFAULTS, ...stripUndefined(deps.options) } as Options;
  const reranker = deps.reranker ?? null;
  const defaultMode: RetrievalMode = reranker ? 'rerank' : 'hybrid';

  async function retrieveDetailed(query: string, o: RetrieveOptions = {}): Promise<DetailedRetrieval> {
    const reader = deps.getReader();
    // Held across the awaits below, so a reindex that swaps indexes cannot close this one mid-query.
    reader?.retain();
    try {
      return await run({ query, reader, k: Math.max(1, o.k ?? opts.k), requested: o.mode ?? defaultMode, now: o.now ?? new Date() });
    } finally {
      reader?.release();
    }
  }

  async function run(call: {
    query: string;
    reader: SearchIndex | null;
    k: number;
    requested: RetrievalMode;
    now: Date;
  }): Promise<DetailedRetrieval> {
    const t0 = performance.now();
    const { query, reader, k, requested } = call;
    const timings: RetrievalTimings = { embed: 0, dense: 0, lexical: 0, fuse: 0, rerank: 0, total: 0 };
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
    if (requested === 'dense' && !canDense) return empty('dense');
    // Which searches run; 'rerank' searches like hybrid and reorders afterwards.
    const mode: RetrievalResult['mode'] = requested === 'lexical' || !canDense ? 'lexical' : requested === 'dense' ? 'dense' : 'hybrid';

    // The query vector is asked for first and awaited only when the dense stage needs it: planning
    // and the lexical searches do not need it, so they run while it is computed wherever it is
    // computed (a remote API, a model in another thread; in PostgreSQL mode the lexical searches
    // run in the database meanwhile). A local model runs on this thread (onnxruntime-node 1.14's
    // `run` is synchronous), so its run and this thread's JavaScript take turns instead.
    const vector = mode !== 'lexical' && deps.embedder ? startEmbedding(deps.embedder, query, timings) : null;
    // Handled at once: if it fails while planning or the lexical searches run, the failure must not
    // count as unhandled; awaiting it in the dense stage still throws it to the caller.
    vector?.catch(() => undefined);
    const plan = planQuery(reader, query, call.now, opts);

    let range = plan.range;
    let found = await search(reader, opts, { plan, mode, vector, range, timings });
    if (range && found.articles.length === 0 && found.chunks.length === 0 && found.dense.length === 0) {
      // Nothing on this in that period: answer from the whole collection rather than claim ignorance.
      range = undefined;
      found = await search(reader, opts, { plan, mode, vector, range, timings });
    }

    const tf = performance.now();
    let ranked = rankArticles(found, evidenceWeights(opts, mode), {
      dateOf: (id) => reader.article(id)?.date ?? null,
      prior: priorOf(plan, opts),
    });
    const lexicalScores = new Map(found.chunks.map((h) => [h.label, h.score]));
    timings.fuse = performance.now() - tf;

    let rerankedBy: string | null = null;
    if (requested === 'rerank' && reranker && ranked.length > 0) {
      const tr = performance.now();
      const reordered = await rerankArticles(reranker, reader, plan.searchText, ranked, Math.max(opts.rerankCandidates, k), log);
      timings.rerank = performance.now() - tr;
      if (reordered) {
        ranked = reordered;
        rerankedBy = reranker.id;
      }
    }

    const tp = performance.now();
    const chosen = ranked.slice(0, k);
    await reader.prefetch?.(chosen.map((a) => a.articleId));
    const queryStems = topicStems(plan.terms);
    const passages = await passagesFor(reader, chosen, {
      lexical: lexicalScores,
      queryStems: mode === 'dense' ? [] : queryStems,
      dense: new Map(found.dense.map((h) => [h.label, h.score])),
      maxChunksPerArticle: opts.maxChunksPerArticle,
    });
    const coverage = await bestCoverage(reader, queryStems, chosen.slice(0, 3));
    timings.fuse += performance.now() - tp;
    const topDense = Math.max(0, ...found.dense.map((h) => h.score));
    const notCovered = plan.outOfPeriod === true || passages.length === 0 || !isCovered(opts, { terms: plan.terms, coverage, topDense });
    timings.total = performance.now() - t0;
    log.debug('retrieval.done', {
      mode,
      reranker: rerankedBy,
      k,
      passages: passages.length,
      coverage,
      topDense,
      notCovered,
      ms: timings.total,
    });
    return {
      passages,
      notCovered,
      mode,
      timings,
      terms: plan.terms,
      coverage,
      reranker: rerankedBy,
      ...(range && plan.time ? { dateRange: { ...range, matched: plan.time.matched } } : {}),
      ...(plan.period ? { period: plan.period } : {}),
    };
  }

  return {
    retrieveDetailed,
    async retrieve(query, o) {
      const { passages, notCovered, mode, period } = await retrieveDetailed(query, o);
      return { passages, notCovered, mode, ...(period ? { period } : {}) };
    },
  };
}

/**
 * Step 2, started first: the query embedding, timed from its start until its vector arrives (so
 * with the lexical searches running meanwhile, `embed` and `lexical` overlap in the timings).
 */
function startEmbedding(embedder: Embedder, query: string, timings: RetrievalTimings): Promise<Float32Array> {
  const te = performance.now();
  return embedder.embedQuery(query).then((v) => {
    timings.embed = performance.now() - te;
    return v;
  });
}

/**
 * Step 2. Runs the searches the mode allows, each timed: the lexical ones first (they do not need
 * the query vector, which may still be on its way), then the dense one.
 */
async function search(
  reader: SearchIndex,
  opts: Options,
  q: {
    plan: QueryPlan;
    mode: RetrievalResult['mode'];
    vector: Promise<Float32Array> | null;
    range: DateRange | undefined;
    timings: RetrievalTimings;
  },
): Promise<Searches> {
  const withArticle = async (hits: { label: number; score: number }[]): Promise<ChunkHit[]> => {
    const articleOf = await reader.articlesOfChunks(hits.map((h) => h.label));
    return hits.flatMap((h) => {
      const articleId = articleOf.get(h.label);
      return articleId === undefined ? [] : [{ ...h, articleId }];
    });
  };
  const tl = performance.now();
  const lexical = q.mode !== 'dense';
  // Both at once: a database store runs them in parallel.
  const [articles, chunkHits] = lexical
    ? await Promise.all([
        reader.articleLexical(q.plan.match, opts.candidates, { range: q.range, weights: opts.fieldWeights }),
        reader.lexical(q.plan.match, opts.candidates, q.range),
      ])
    : [[], []];
  const chunks = await withArticle(chunkHits);
  q.timings.lexical += performance.now() - tl;
  const queryVector = q.vector ? await q.vector : null;
  const td = performance.now();
  const dense = queryVector ? await withArticle(await reader.denseSearch(queryVector, opts.candidates, q.range)) : [];
  q.timings.dense += performance.now() - td;
  return { articles, chunks, dense };
}

/** Step 3. How much each search counts in this mode. */
function evidenceWeights(opts: Options, mode: RetrievalResult['mode']): EvidenceWeights {
  const lexical = mode === 'dense' ? 0 : opts.lexicalWeight;
  return {
    article: lexical * opts.articleShare,
    chunk: lexical * (1 - opts.articleShare),
    dense: mode === 'lexical' ? 0 : opts.denseWeight,
  };
}

/** Step 3. The date preference of the query: recency from "now", plus a named period's bonus. */
function priorOf(plan: QueryPlan, opts: Options): (date: string | null) => number {
  const preferred = plan.preferred;
  return (date) =>
    plan.recencyWeight * recencyPrior(date, plan.now, opts.recency.halfLifeDays) +
    (preferred && date !== null && date >= preferred.from && date <= preferred.to ? opts.period.weight : 0);
}

/** Step 6. Enough of the question's topic words in one of the best articles, or a close dense match. */
function isCovered(opts: Options, e: { terms: string[]; coverage: number; topDense: number }): boolean {
  return (e.terms.length > 0 && e.coverage >= opts.minCoverage) || e.topDense >= opts.minDenseScore;
}

/**
 * Step 1. Loose recent time ("this week", "recently") never narrows the search, it only makes
 * recency count more, and its words are dropped from the search terms. A named period ("in June
 * 2024") narrows the search only when the question asks about nothing else ("what happened in
 * June 2024?"); inside a question about something it is a preference and its words stay search
 * terms ("the 2020 race"). Either way, when the collection holds nothing from the period, the
 * answer says so and names the newest date it has.
 */
function planQuery(reader: SearchIndex, query: string, now: Date, opts: Pick<Options, 'recency' | 'period'>): QueryPlan {
  const time = parseTimeFilter(query, now);
  const cleaned = time?.cleanedQuery.trim() ? time.cleanedQuery : query;
  const narrows = time?.kind === 'absolute' && topicTerms(contentTerms(cleaned)).length === 0;
  const searchText = time && (time.kind === 'relative' || narrows) ? cleaned : query;
  const terms = contentTerms(searchText);
  const plan: QueryPlan = { terms, match: ftsQuery(terms), searchText, time, now, recencyWeight: opts.recency.weight };
  if (!time) return plan;
  const period = { from: time.from, to: time.to };
  if (reader.countInRange(reportedIn(time, now)) === 0) {
    const newest = reader.dateRange().last;
    if (time.kind === 'relative' || narrows || beyondCollection(period, newest, now))
      plan.period = { matched: time.matched, ...period, newest };
    // "This week" or "yesterday" is meant literally: when the collection does not reach that
    // time, its older articles do not answer the question, whatever words they share with it.
    plan.outOfPeriod = time.kind === 'relative' && !time.vague;
  } else if (narrows) {
    plan.range = period;
  } else if (time.kind === 'absolute') {
    plan.preferred = { from: period.from, to: addDays(period.to, opts.period.graceDays) };
  }
  if (time.kind === 'relative') plan.recencyWeight = opts.recency.relativeWeight;
  return plan;
}

/**
 * A named period inside a question about something earns the "no articles from …" notice only
 * when it lies between the collection's newest article and the question: "the 2022 final" asked
 * of a 2020 archive. Articles refer to earlier years all the time ("Europe's 2003 heatwave"), and
 * nobody expects articles from the future ("cuts from 2075"), so neither gets the notice.
 */
function beyondCollection(period: DateRange, newest: string | null, now: Date): boolean {
  return newest !== null && period.from > newest && period.from <= now.toISOString().slice(0, 10);
}

/**
 * Days before a recent period that still count as reporting on it: readers say "this week" on a
 * Monday about Friday's story.
 */
const RECENT_SLACK_DAYS = 7;

/**
 * Where articles about the period named would be dated. A named period ("in 2003") is its own
 * dates. Recent time ("last weekend", "yesterday") runs on to the question, since the story is
 * reported after the event, and starts a little before the period.
 */
function reportedIn(time: TimeFilter, now: Date): DateRange {
  if (time.kind === 'absolute') return { from: time.from, to: time.to };
  // Recent periods never end after "now", so they run to the question's day.
  return { from: addDays(time.from, -RECENT_SLACK_DAYS), to: now.toISOString().slice(0, 10) };
}

function addDays(isoDate: string, days: number): string {
  return new Date(Date.parse(`${isoDate}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/**
 * Step 4. Rescores the best articles with the cross-encoder (title + the article's best
 * chunk) and returns them best first, followed by the rest in their order; null when the model
 * failed at query time: the ranked order is still a good answer, so a broken reranker degrades
 * retrieval, it does not stop it.
 */
async function rerankArticles(
  reranker: Reranker,
  reader: SearchIndex,
  query: string,
  ranked: RankedArticle[],
  size: number,
  log: Logger,
): Promise<RankedArticle[] | null> {
  const pool = ranked.slice(0, size);
  const ids = pool.map((a) => a.articleId);
  await reader.prefetch?.(ids);
  // One at a time and one search for all: a database store must not get a query per article at once.
  const chunksOf = new Map<string, StoredChunk[]>();
  for (const id of ids) chunksOf.set(id, await reader.chunksOf(id));
  const articleOf = new Map([...chunksOf.values()].flat().map((c) => [c.label, c.articleId]));
  // A chunk's BM25 score does not depend on which articles the search is restricted to, so the
  // first hit of each article here is the hit a search of that article alone would return first.
  const bestOf = new Map<string, number>();
  for (const h of await reader.lexicalIn(ftsQuery(contentTerms(query)), ids, articleOf.size)) {
    const id = articleOf.get(h.label);
    if (id !== undefined && !bestOf.has(id)) bestOf.set(id, h.label);
  }
  const texts = pool.map((a) => {
    const title = reader.article(a.articleId)?.title ?? '';
    const chunks = chunksOf.get(a.articleId) ?? [];
    const chunk = chunks.find((c) => c.label === bestOf.get(a.articleId)) ?? chunks[0];
    return title ? `${title}\n\n${chunk?.text ?? ''}` : (chunk?.text ?? '');
  });
  let scores: number[];
  try {
    scores = await reranker.score(query, texts);
  } catch (err) {
    log.warn('rerank.failed', { reranker: reranker.id, error: errorMessage(err) });
    return null;
  }
  if (scores.length !== pool.length || scores.some((x) => !Number.isFinite(x))) {
    log.warn('rerank.failed', { reranker: reranker.id, error: `expected ${pool.length} finite scores, got ${scores.length}` });
    return null;
  }
  // Ties break by id so results are deterministic.
  const reordered = pool
    .map((a, i) => ({ ...a, score: scores[i]! }))
    .sort((a, b) => b.score - a.score || (a.articleId < b.articleId ? -1 : 1));
  return [...reordered, ...ranked.slice(size)];
}

/** Stems of the query's topic terms (all its terms when it has only asking and time words). */
function topicStems(terms: string[]): string[] {
  const topic = topicTerms(terms);
  return [...new Set((topic.length > 0 ? topic : terms).map(stem))];
}

/**
 * Step 6. Largest share of the question's topic terms (by crude stem) found in one of the best
 * three articles, title and whole text: the passage shown is the article's best part, but the
 * question may name facts from all over it. Asking and time words ("how many", "this week") are
 * left out, so "how many people died in the crash?" is judged on "died" and "crash".
 */
async function bestCoverage(reader: SearchIndex, want: readonly string[], articles: readonly RankedArticle[]): Promise<number> {
  if (want.length === 0 || articles.length === 0) return 0;
  const ids = articles.map((a) => a.articleId);
  // Stored stems when the index keeps them (one lookup for all three); else the text is stemmed here.
  const stored = (await reader.articleStems?.(ids)) ?? new Map<string, string>();
  let best = 0;
  for (const id of ids) {
    const kept = stored.get(id);
    const found =
      kept !== undefined
        ? countStoredStems(kept, want)
        : countIn(stemSet(`${reader.article(id)?.title ?? ''} ${(await reader.articleText(id)) ?? ''}`), want);
    best = Math.max(best, found / want.length);
  }
  return best;
}

function countIn(have: ReadonlySet<string>, want: readonly string[]): number {
  return want.filter((t) => have.has(t)).length;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
