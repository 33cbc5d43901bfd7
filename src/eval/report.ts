/**
 * The evaluation report: its JSON shape (written to `--out`), the terminal tables, and the
 * comparison of two saved reports.
 */
import fs from 'node:fs';
import { UserError } from '../util/errors.js';
import type { MachineInfo } from '../util/machine.js';
import { formatTable } from '../util/table.js';
import type { AnswerMetrics, AnswerQuestionResult } from './answers.js';
import { formatLanguageTable, type LanguageRow } from './languages.js';
import { EVAL_MODES, type EvalMode, type ModeMetrics, type RetrievalQuestionResult } from './retrieval.js';

/** Bumped when a field changes meaning, so `--compare` can refuse to mix them. */
export const REPORT_VERSION = 1;

/**
 * The machine a report was made on: the fields every evaluation report carries (reports written
 * now hold the full `MachineInfo` from `util/machine.ts`; older ones only these).
 */
export type EvalMachineInfo = Pick<MachineInfo, 'os' | 'arch' | 'cpus' | 'cpuModel' | 'memoryGb' | 'node'>;

/** Settings that decide the numbers. */
export interface ReportConfig {
  articlesDir: string;
  questionsFile: string;
  indexDir: string;
  /** Embedder id the index was built with (e.g. `transformers:Xenova/bge-small-en-v1.5`); null when lexical-only. */
  embeddingModel: string | null;
  /** Passages per question for the retrieval metrics (`--k`). */
  k: number;
  /** Passages the answerer retrieves per question (RETRIEVAL_K): answers run with the product's setting. */
  answerK: number;
  denseWeight: number;
  lexicalWeight: number;
  maxChunksPerArticle: number;
  chunkMaxTokens: number;
  rerankModel: string | null;
  /** How follow-ups were turned into standalone queries for the retrieval metrics. */
  condense: 'deterministic';
}

/** Sizes of what was evaluated. */
export interface DatasetInfo {
  articles: number;
  chunks: number;
  questions: number;
  answerable: number;
  unanswerable: number;
  followUps: number;
  withQuote: number;
  withAnswer: number;
}

/** Per-question details across modes. */
export interface QuestionReport {
  id: string;
  question: string;
  followUpOf: string | null;
  unanswerable: boolean;
  gold: string[];
  /** The standalone query used for the retrieval metrics. */
  query: string;
  retrieval: Partial<Record<EvalMode, Omit<RetrievalQuestionResult, 'id'>>>;
  answer: Omit<AnswerQuestionResult, 'id'> | null;
}

/** A whole evaluation run. */
export interface EvalReport {
  version: number;
  timestamp: string;
  machine: EvalMachineInfo;
  config: ReportConfig;
  dataset: DatasetInfo;
  index: { seconds: number; added: number; changed: number; removed: number; unchanged: number };
  modes: Partial<Record<EvalMode, ModeMetrics>>;
  /** Hit@5 and MRR per question language and mode, when the questions give languages (absent in older reports). */
  languages?: LanguageRow[];
  skippedModes: { mode: EvalMode; reason: string }[];
  answers: AnswerMetrics | null;
  /** Why there are no answer metrics, when there are none. */
  answersSkipped: string | null;
  questions: QuestionReport[];
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const dec = (x: number) => x.toFixed(3);

/** The retrieval table: one row per mode that ran. */
function formatRetrievalTable(report: Pick<EvalReport, 'modes' | 'config'>): string {
  const rows = EVAL_MODES.flatMap((mode) => {
    const m = report.modes[mode];
    if (!m) return [];
    // The baseline ranks whole articles: it has no passages to find a quote in and never says "not covered".
    const own = (x: number) => (mode === 'baseline' ? 'n/a' : pct(x));
    return [
      [
        mode,
        pct(m.hitAt1),
        pct(m.hitAt5),
        pct(m.hitAt10),
        dec(m.mrrAt10),
        dec(m.ndcgAt10),
        own(m.quoteRecall),
        own(m.unanswerableNotCovered),
        own(m.answerableNotCovered),
        m.latencyMs.p50.toFixed(1),
      ],
    ];
  });
  return formatTable(
    ['mode', 'Hit@1', 'Hit@5', 'Hit@10', 'MRR@10', 'nDCG@10', `Quote@${report.config.k}`, 'Unans→NC', 'Ans→NC', 'p50 ms'],
    rows,
  );
}

/** The answer table: one row for the answering mode that ran. */
function formatAnswerTable(a: AnswerMetrics): string {
  const label = a.answerMode === 'llm' ? `llm (${a.model ?? '?'})` : 'extractive';
  return formatTable(
    ['answers', 'Correct', 'First', 'Words', 'Judge', 'Cites valid', 'Verbatim', 'Gold cited', 'Unans→NC', 'Ans→NC', 'p50 ms'],
    [
      [
        label,
        `${pct(a.correct)} of ${a.withGoldAnswer}`,
        pct(a.first),
        String(a.medianWords),
        a.judgeCorrect === null ? 'n/a' : `${pct(a.judgeCorrect)} of ${a.judged}`,
        `${pct(a.citationValidity)} of ${a.citations}`,
        pct(a.citationVerbatim),
        pct(a.goldCited),
        pct(a.unanswerableNotCovered),
        pct(a.answerableNotCovered),
        String(a.latencyMs.p50),
      ],
    ],
  );
}

/** Everything printed at the end of a run. */
export function formatReport(report: EvalReport): string {
  const d = report.dataset;
  const parts = [
    `Evaluation over ${d.articles} articles (${d.chunks} chunks), ${d.questions} questions: ` +
      `${d.answerable} answerable (${d.followUps} follow-ups), ${d.unanswerable} unanswerable; k=${report.config.k}.`,
    `Embedding model: ${report.config.embeddingModel ?? 'none (lexical only)'}.`,
    '',
    formatRetrievalTable(report),
  ];
  for (const s of report.skippedModes) parts.push(`  (${s.mode} skipped: ${s.reason})`);
  if (report.languages && report.languages.length > 0) parts.push('', 'By question language:', formatLanguageTable(report.languages));
  parts.push(
    '',
    'Hit@k/MRR/nDCG: first gold article among distinct retrieved articles. Quote@k: gold quote inside a top-k passage.',
    'Unans→NC: unanswerable questions flagged "not covered" (higher is better). Ans→NC: answerable ones wrongly flagged (lower is better).',
  );
  if (report.answers) {
    parts.push(
      '',
      formatAnswerTable(report.answers),
      '',
      'Correct: gold answer inside the answer text (case, accents and punctuation ignored). First: inside its first sentence (first quote).',
      'Words: median length of the answers given to answerable questions (the extractive label not counted). Judge: LLM grading, when a model is configured.',
      'Cites valid: the quote is passage text (up to three joined fragments). Verbatim: the whole quote is one contiguous passage string. Gold cited: a citation names a gold article.',
    );
  } else if (report.answersSkipped) parts.push('', `Answers not evaluated: ${report.answersSkipped}`);
  return parts.join('\n');
}

/** Reads a saved report, refusing files that are not evaluation reports. */
export function readReport(file: string): EvalReport {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `Report not found: ${file}.` : `${file} is not a JSON evaluation report.`);
  }
  const r = json as Partial<EvalReport> | null;
  if (!r || typeof r !== 'object' || typeof r.version !== 'number' || typeof r.modes !== 'object' || r.modes === null) {
    throw new UserError(`${file} is not an evaluation report (no "version" or "modes").`);
  }
  if (r.version !== REPORT_VERSION) {
    throw new UserError(`${file} is a version ${r.version} report; this program reads version ${REPORT_VERSION}.`);
  }
  return r as EvalReport;
}

const RETRIEVAL_FIELDS: [keyof ModeMetrics, string, 'pct' | 'dec' | 'ms'][] = [
  ['hitAt1', 'Hit@1', 'pct'],
  ['hitAt5', 'Hit@5', 'pct'],
  ['hitAt10', 'Hit@10', 'pct'],
  ['mrrAt10', 'MRR@10', 'dec'],
  ['ndcgAt10', 'nDCG@10', 'dec'],
  ['quoteRecall', 'Quote@k', 'pct'],
  ['unanswerableNotCovered', 'Unans→NC', 'pct'],
  ['answerableNotCovered', 'Ans→NC', 'pct'],
];
const ANSWER_FIELDS: [keyof AnswerMetrics, string, 'pct' | 'num'][] = [
  ['correct', 'Correct', 'pct'],
  ['first', 'First', 'pct'],
  ['medianWords', 'Words', 'num'],
  ['judgeCorrect', 'Judge', 'pct'],
  ['citationValidity', 'Cites valid', 'pct'],
  ['citationVerbatim', 'Verbatim', 'pct'],
  ['goldCited', 'Gold cited', 'pct'],
  ['unanswerableNotCovered', 'Unans→NC', 'pct'],
  ['answerableNotCovered', 'Ans→NC', 'pct'],
];

// 'ms' and 'num' (a count such as words) print alike, with one decimal.
type Kind = 'pct' | 'dec' | 'ms' | 'num';

function show(x: number | null | undefined, kind: Kind): string {
  if (x === null || x === undefined) return '—';
  return kind === 'pct' ? pct(x) : kind === 'dec' ? dec(x) : x.toFixed(1);
}

function delta(a: number | null | undefined, b: number | null | undefined, kind: Kind): string {
  if (a === null || a === undefined || b === null || b === undefined) return '';
  const d = b - a;
  const sign = d > 0 ? '+' : d < 0 ? '−' : '±';
  const mag = Math.abs(d);
  return kind === 'pct' ? `${sign}${(100 * mag).toFixed(1)} pt` : kind === 'dec' ? `${sign}${mag.toFixed(3)}` : `${sign}${mag.toFixed(1)}`;
}

/** A table of every metric in A and B with B − A, plus a note on settings that differ. */
export function compareReports(a: EvalReport, b: EvalReport, names: [string, string] = ['A', 'B']): string {
  const rows: string[][] = [];
  for (const mode of EVAL_MODES) {
    const ma = a.modes[mode];
    const mb = b.modes[mode];
    if (!ma && !mb) continue;
    for (const [field, label, kind] of RETRIEVAL_FIELDS) {
      const va = ma?.[field] as number | undefined;
      const vb = mb?.[field] as number | undefined;
      rows.push([`${mode} ${label}`, show(va, kind), show(vb, kind), delta(va, vb, kind)]);
    }
    const la = ma?.latencyMs.p50;
    const lb = mb?.latencyMs.p50;
    rows.push([`${mode} p50 ms`, show(la, 'ms'), show(lb, 'ms'), delta(la, lb, 'ms')]);
  }
  if (a.answers || b.answers) {
    for (const [field, label, kind] of ANSWER_FIELDS) {
      const va = a.answers?.[field] as number | null | undefined;
      const vb = b.answers?.[field] as number | null | undefined;
      rows.push([`answers ${label}`, show(va, kind), show(vb, kind), delta(va, vb, kind)]);
    }
  }
  const out = [`${names[0]}: ${a.timestamp}`, `${names[1]}: ${b.timestamp}`, '', formatTable(['metric', 'A', 'B', 'B − A'], rows)];
  const differ = settingDifferences(a, b);
  if (differ.length > 0) out.push('', `Settings differ: ${differ.join('; ')}.`);
  return out.join('\n');
}

function settingDifferences(a: EvalReport, b: EvalReport): string[] {
  const out: string[] = [];
  const keys = new Set([...Object.keys(a.config ?? {}), ...Object.keys(b.config ?? {})]) as Set<keyof ReportConfig>;
  for (const key of keys) {
    // Each run picks its own index folder; that alone changes no number.
    if (key === 'indexDir') continue;
    const va = a.config?.[key];
    const vb = b.config?.[key];
    if (JSON.stringify(va) !== JSON.stringify(vb)) out.push(`${key} ${JSON.stringify(va)} → ${JSON.stringify(vb)}`);
  }
  if (a.dataset?.questions !== b.dataset?.questions || a.dataset?.articles !== b.dataset?.articles) {
    out.push(`dataset ${a.dataset?.questions}q/${a.dataset?.articles}a → ${b.dataset?.questions}q/${b.dataset?.articles}a`);
  }
  if (a.answers && b.answers && a.answers.answerMode !== b.answers.answerMode) {
    out.push(`answers ${a.answers.answerMode} → ${b.answers.answerMode}`);
  }
  return out;
}
