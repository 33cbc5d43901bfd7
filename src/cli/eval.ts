/**
 * `npm run eval`: retrieval and answer quality over an articles folder and a questions file.
 * The articles get their own index under `.cache/eval-index/`, so the product's `index-data/`
 * is never touched and reruns only index what changed.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createApp } from '../app.js';
import { parseCommandArgs } from './args.js';
import type { Config } from '../config/index.js';
import { loadQuestions } from '../eval/dataset.js';
import { compareReports, formatReport, readReport } from '../eval/report.js';
import { formatSeconds } from '../util/format.js';
import { EVAL_MODES, type EvalMode } from '../eval/retrieval.js';
import { runEvaluation } from '../eval/run.js';
import type { IndexProgress } from '../types.js';
import { UserError } from '../util/errors.js';
import type { Logger } from '../util/log.js';

/** Where the command writes: the table on `out`, progress and notes on `err`. */
export interface EvalIO {
  out: (text: string) => void;
  err: (text: string) => void;
}

const processIO: EvalIO = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

const USAGE = `Usage: npm run eval -- [options]
  --articles DIR        articles to evaluate on (default eval/articles)
  --questions FILE      questions, JSON Lines (default eval/questions.jsonl)
  --modes LIST          comma-separated: ${EVAL_MODES.join(',')} (default: all that can run;
                        baseline, plain whole-article BM25, always runs beside them)
  --k N                 passages retrieved per question (default 10)
  --out FILE            JSON report (default reports/eval-<timestamp>.json)
  --no-answers          retrieval metrics only
  --no-judge            do not grade answers with the LLM even when one is configured
  --index-dir DIR       where the evaluation index lives (default .cache/eval-index/<hash>)
  --compare A.json B.json   print the metric differences between two reports and exit`;

const DEFAULT_K = 10;

function parseEvalArgs(argv: string[]) {
  return parseCommandArgs('eval', {
    args: argv,
    allowPositionals: true,
    options: {
      articles: { type: 'string' },
      questions: { type: 'string' },
      modes: { type: 'string' },
      k: { type: 'string' },
      out: { type: 'string' },
      compare: { type: 'boolean', default: false },
      'no-answers': { type: 'boolean', default: false },
      'no-judge': { type: 'boolean', default: false },
      'index-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}

/** Runs the `eval` command; returns the process exit code. */
export async function runEval(config: Config, logger: Logger, argv: string[], io: EvalIO = processIO): Promise<number> {
  const { values, positionals } = parseEvalArgs(argv);
  if (values.help) {
    io.out(USAGE + '\n');
    return 0;
  }
  if (values.compare) {
    if (positionals.length !== 2) throw new UserError(`--compare needs two report files.\n${USAGE}`);
    const [fa, fb] = positionals as [string, string];
    io.out(compareReports(readReport(fa), readReport(fb), [fa, fb]) + '\n');
    return 0;
  }
  if (positionals.length > 0) throw new UserError(`Unexpected argument "${positionals[0]}".\n${USAGE}`);

  const articlesDir = path.resolve(values.articles ?? 'eval/articles');
  if (!fs.existsSync(articlesDir) || !fs.statSync(articlesDir).isDirectory()) {
    throw new UserError(`Articles folder not found: ${articlesDir}. Pass --articles DIR.`);
  }
  const questionsFile = path.resolve(values.questions ?? 'eval/questions.jsonl');
  const dataset = loadQuestions(questionsFile);
  for (const warning of dataset.warnings) io.err(`Note: ${warning}\n`);
  const modes = parseModes(values.modes);
  const k = parseK(values.k);
  const indexDir = path.resolve(values['index-dir'] ?? path.join('.cache', 'eval-index', indexKey(articlesDir, config)));
  const outFile = path.resolve(values.out ?? path.join('reports', `eval-${new Date().toISOString().replace(/[:.]/g, '-')}.json`));

  io.err(`Evaluating ${dataset.questions.length} questions over ${articlesDir} (index in ${indexDir}).\n`);
  const app = await createApp({ ...config, articlesDir, indexDir }, logger);
  try {
    if (app.embedderWarning) io.err(`Note: ${app.embedderWarning}\n`);
    const index = await app.library.reindex({ onProgress: phasePrinter(io) });
    io.err(
      `Index: ${index.articles} articles, ${index.chunks} chunks (${index.added} added, ${index.changed} changed, ` +
        `${index.removed} removed, ${index.unchanged} unchanged) in ${formatSeconds(index.seconds)}.\n`,
    );
    for (const s of index.skipped) io.err(`  skipped ${s.file}: ${s.reason}\n`);
    const report = await runEvaluation(app, {
      dataset,
      modes,
      k,
      answers: !values['no-answers'],
      judge: !values['no-judge'],
      questionsFile,
      index,
      logger,
      onProgress: (line) => io.err(line + '\n'),
    });
    io.out(formatReport(report) + '\n');
    fs.mkdirSync(path.dirname(outFile), { recursive: true });
    fs.writeFileSync(outFile, JSON.stringify(report, null, 2) + '\n');
    io.err(`Report written to ${outFile}\n`);
    return 0;
  } finally {
    app.close();
  }
}

function parseModes(list: string | undefined): EvalMode[] {
  if (list === undefined || list.trim() === '') return [...EVAL_MODES];
  const modes = list
    .split(',')
    .map((m) => m.trim().toLowerCase())
    .filter(Boolean);
  const bad = modes.filter((m) => !(EVAL_MODES as readonly string[]).includes(m));
  if (bad.length > 0) throw new UserError(`Unknown mode "${bad[0]}" in --modes; use any of ${EVAL_MODES.join(', ')}.`);
  // Every report shows the product next to the simple baseline; it costs milliseconds.
  return [...new Set(['baseline', ...modes])] as EvalMode[];
}

function parseK(value: string | undefined): number {
  if (value === undefined) return DEFAULT_K;
  const k = Number(value);
  if (!Number.isInteger(k) || k < 1 || k > 50) throw new UserError(`--k must be a whole number from 1 to 50 (got "${value}").`);
  return k;
}

/** One index per articles folder and embedding model, so switching models does not rebuild the other's index. */
function indexKey(articlesDir: string, config: Config): string {
  const e = config.embedding;
  const model = e.provider === 'openai' ? e.openaiModel : e.provider === 'none' ? 'none' : `${e.model}:${e.quantized ? 'q' : 'f'}`;
  return createHash('sha256').update(`${articlesDir}\0${e.provider}\0${model}`).digest('hex').slice(0, 16);
}

/** A line per indexing phase: enough to show life on a slow first build without flooding a log. */
function phasePrinter(io: EvalIO): (p: IndexProgress) => void {
  let last = '';
  return (p) => {
    if (p.phase === last || p.phase === 'done') return;
    last = p.phase;
    io.err(`index: ${p.phase}…\n`);
  };
}
