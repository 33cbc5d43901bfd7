/**
 * One evaluation run over a built app: which modes can run, the retrieval metrics per mode,
 * the answer metrics, and the report that ties them together.
 */
import { llmOptions, type App } from '../app.js';
import { createLlmClient, type LlmClient } from '../answering/index.js';
import type { IndexSummary } from '../types.js';
import { UserError } from '../util/errors.js';
import { silentLogger, type Logger } from '../util/log.js';
import { evaluateAnswers, type AnswerRun } from './answers.js';
import { createBaseline, type Baseline } from './baseline.js';
import { languageRows } from './languages.js';
import { isAnswerable, resolveGold, type EvalDataset } from './dataset.js';
import { machineInfo } from '../util/machine.js';
import { REPORT_VERSION, type EvalReport, type QuestionReport } from './report.js';
import { evaluateMode, evaluationQuery, EVAL_MODES, type EvalMode, type ModeResult } from './retrieval.js';

/** What to run. */
export interface EvalRunOptions {
  dataset: EvalDataset;
  /** Modes asked for; unavailable ones are skipped with a reason. */
  modes: readonly EvalMode[];
  k: number;
  answers: boolean;
  /** Grade answers with the LLM as well, when one is configured. */
  judge: boolean;
  questionsFile: string;
  index: IndexSummary;
  logger?: Logger;
  /** One human-readable progress line at a time (stderr in the CLI). */
  onProgress?: (line: string) => void;
}

/** Why `mode` cannot run with this app, or null when it can. */
function modeUnavailable(app: App, mode: EvalMode): string | null {
  if (mode === 'lexical' || mode === 'baseline') return null;
  if (mode === 'rerank') {
    const model = app.config.retrieval.rerankModel;
    if (!model) return 'RERANK_MODEL is not set';
    // The full reason (app.rerankerWarning) is logged once when the app starts.
    if (!app.reranker) return `rerank model ${model} could not be loaded`;
    // Rerank reorders hybrid candidates; measured on anything else it would not compare with the hybrid row.
    const hybrid = modeUnavailable(app, 'hybrid');
    return hybrid === null ? null : `it reranks hybrid candidates and hybrid cannot run (${hybrid})`;
  }
  const stats = app.library.stats();
  // The full reason (app.embedderWarning) is printed once when the app starts; repeating it per mode is noise.
  if (!app.embedder) return 'no embedding model is loaded';
  if (!stats.dense || stats.embeddingModel !== app.embedder.id) return `the index has no vectors for ${app.embedder.id}`;
  return null;
}

/** Articles whose texts the baseline reads per round trip. */
const BASELINE_PAGE = 500;

/** The baseline's own whole-article index, over the articles the product indexed. */
async function baselineOf(app: App, listing: readonly { id: string; title: string }[]): Promise<Baseline> {
  const reader = app.library.searchIndex();
  // Page by page and one article at a time: in PostgreSQL mode a read per article all at once
  // would queue thousands of queries on the pool and overrun its wait.
  const texts: string[] = [];
  for (let at = 0; at < listing.length; at += BASELINE_PAGE) {
    const page = listing.slice(at, at + BASELINE_PAGE);
    await reader?.prefetch?.(page.map((a) => a.id));
    for (const a of page) texts.push((await reader?.articleText(a.id)) ?? '');
  }
  return createBaseline(listing.map((a, i) => ({ id: a.id, title: a.title, text: texts[i]! })));
}

/** Gold article ids per question; throws `UserError` naming the references not in the articles folder. */
function resolveAllGold(
  questions: readonly EvalDataset['questions'][number][],
  listing: readonly { id: string; url: string | null }[],
): Map<string, string[]> {
  const gold = new Map<string, string[]>();
  const unknown: string[] = [];
  for (const q of questions) {
    const resolved = resolveGold(q.articles, listing);
    gold.set(q.id, resolved.ids);
    for (const ref of resolved.unknown) unknown.push(`${q.id}: ${ref}`);
  }
  if (unknown.length > 0) {
    throw new UserError(
      `${unknown.length} gold article reference(s) are not in the articles folder (${unknown.slice(0, 3).join(', ')}${unknown.length > 3 ? ', …' : ''}). ` +
        'Use article ids (file path without extension) or article URLs.',
    );
  }
  return gold;
}

/** Per-question details: gold, the query asked, each mode's result and the answer. */
function questionReports(
  dataset: EvalDataset,
  runs: { gold: Map<string, string[]>; queries: Map<string, string>; modeResults: Map<EvalMode, ModeResult>; answerRun: AnswerRun | null },
): QuestionReport[] {
  const { gold, queries, modeResults, answerRun } = runs;
  return dataset.questions.map((q) => {
    const retrieval: QuestionReport['retrieval'] = {};
    for (const [mode, result] of modeResults) {
      const r = result.questions.find((x) => x.id === q.id);
      if (r) {
        const { id: _id, ...rest } = r;
        retrieval[mode] = rest;
      }
    }
    const a = answerRun?.questions.find((x) => x.id === q.id);
    let answer: QuestionReport['answer'] = null;
    if (a) {
      const { id: _id, ...rest } = a;
      answer = rest;
    }
    return {
      id: q.id,
      question: q.question,
      followUpOf: q.follow_up_of ?? null,
      unanswerable: !isAnswerable(q),
      gold: gold.get(q.id) ?? [],
      query: queries.get(q.id) ?? q.question,
      retrieval,
      answer,
    };
  });
}

/** The retrieval modes that can run, each over every question; the others with the reason they cannot. */
async function runModes(
  app: App,
  options: EvalRunOptions,
  inputs: { listing: { id: string; title: string; url: string | null }[]; gold: Map<string, string[]>; queries: Map<string, string> },
): Promise<{ modeResults: Map<EvalMode, ModeResult>; skippedModes: EvalReport['skippedModes'] }> {
  const log = options.logger ?? silentLogger;
  const progress = options.onProgress ?? (() => undefined);
  const { questions } = options.dataset;
  const { listing, gold, queries } = inputs;
  const modeResults = new Map<EvalMode, ModeResult>();
  const skippedModes: EvalReport['skippedModes'] = [];
  for (const mode of EVAL_MODES.filter((m) => options.modes.includes(m))) {
    const reason = modeUnavailable(app, mode);
    if (reason !== null) {
      skippedModes.push({ mode, reason });
      progress(`${mode}: skipped (${reason})`);
      continue;
    }
    const every = Math.max(1, Math.ceil(questions.length / 5));
    const baseline = mode === 'baseline' ? await baselineOf(app, listing) : null;
    const result = await evaluateMode({
      retriever: app.retriever,
      baseline,
      mode,
      questions,
      gold,
      queries,
      k: options.k,
      onProgress: (done, total) => {
        if (done % every === 0 || done === total) progress(`${mode}: ${done}/${total} questions`);
      },
    });
    baseline?.close();
    modeResults.set(mode, result);
    log.info('eval.mode', { ...result.metrics });
  }

  return { modeResults, skippedModes };
}

/** Every question through the answerer (extractive or LLM), graded. */
async function runAnswers(app: App, options: EvalRunOptions, gold: Map<string, string[]>): Promise<AnswerRun> {
  const log = options.logger ?? silentLogger;
  const progress = options.onProgress ?? (() => undefined);
  const { questions } = options.dataset;
  const llm = llmOptions(app.config);
  const judge: LlmClient | null = options.judge && llm ? createLlmClient(llm, log) : null;
  const every = Math.max(1, Math.ceil(questions.length / 10));
  const mode = app.llmEnabled ? 'llm' : 'extractive';
  return evaluateAnswers({
    answerer: app.answerer,
    questions,
    gold,
    answerMode: mode,
    model: llm ? llm.model : null,
    judge,
    onProgress: (done, total) => {
      if (done % every === 0 || done === total) progress(`answers (${mode}): ${done}/${total} questions`);
    },
  });
}

/** Runs the evaluation and assembles the report. Throws `UserError` when gold articles are missing. */
export async function runEvaluation(app: App, options: EvalRunOptions): Promise<EvalReport> {
  const { questions } = options.dataset;
  const byId = new Map(questions.map((q) => [q.id, q]));

  const listing = app.library.listArticles(0, Number.MAX_SAFE_INTEGER).items;
  const gold = resolveAllGold(questions, listing);
  const queries = new Map(questions.map((q) => [q.id, evaluationQuery(q, byId)]));

  const { modeResults, skippedModes } = await runModes(app, options, { listing, gold, queries });
  const answerRun = options.answers ? await runAnswers(app, options, gold) : null;
  const answersSkipped = options.answers ? null : 'turned off with --no-answers';

  const stats = app.library.stats();
  const c = app.config;
  const perQuestion = questionReports(options.dataset, { gold, queries, modeResults, answerRun });
  const answerable = questions.filter(isAnswerable);
  return {
    version: REPORT_VERSION,
    timestamp: new Date().toISOString(),
    machine: machineInfo(),
    config: {
      articlesDir: c.articlesDir,
      questionsFile: options.questionsFile,
      indexDir: c.indexDir,
      embeddingModel: stats.dense ? stats.embeddingModel : null,
      k: options.k,
      answerK: c.retrieval.k,
      denseWeight: c.retrieval.denseWeight,
      lexicalWeight: c.retrieval.lexicalWeight,
      maxChunksPerArticle: c.retrieval.maxChunksPerArticle,
      chunkMaxTokens: c.chunking.maxTokens,
      rerankModel: c.retrieval.rerankModel ?? null,
      condense: 'deterministic',
    },
    dataset: {
      articles: stats.articles,
      chunks: stats.chunks,
      questions: questions.length,
      answerable: answerable.length,
      unanswerable: questions.length - answerable.length,
      followUps: questions.filter((q) => q.follow_up_of !== undefined).length,
      withQuote: answerable.filter((q) => q.quote !== undefined).length,
      withAnswer: answerable.filter((q) => q.answer !== undefined).length,
    },
    index: {
      seconds: options.index.seconds,
      added: options.index.added,
      changed: options.index.changed,
      removed: options.index.removed,
      unchanged: options.index.unchanged,
    },
    modes: Object.fromEntries([...modeResults].map(([mode, r]) => [mode, r.metrics])),
    languages: languageRows(questions, modeResults),
    skippedModes,
    answers: answerRun?.metrics ?? null,
    answersSkipped,
    questions: perQuestion,
  };
}
