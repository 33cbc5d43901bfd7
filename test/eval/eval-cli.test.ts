/**
 * `npm run eval` end to end through `runEval`, on the shipped articles and a five-question
 * subset, with the offline fixture embedding model (its scores mean nothing; the run must
 * simply finish and write a complete report).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEval, type EvalIO } from '../../src/cli/eval.js';
import { parseQuestions } from '../../src/eval/dataset.js';
import type { EvalReport } from '../../src/eval/report.js';
import { silentLogger } from '../../src/util/log.js';
import { startFakeOpenAI, defaultHandler, type FakeOpenAI } from '../support/fake-openai.js';
import { tempDir, testConfig } from '../support/stack.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ARTICLES = path.join(ROOT, 'eval', 'articles');
// Two standalone questions, a follow-up pair, and one the articles cannot answer.
const SUBSET = ['q01', 'q12a', 'q12b', 'q52', 'q79'];

const REPORT_FIELDS = [
  'version',
  'timestamp',
  'machine',
  'config',
  'dataset',
  'index',
  'modes',
  'skippedModes',
  'answers',
  'answersSkipped',
  'questions',
];
const MACHINE_FIELDS = ['os', 'arch', 'cpus', 'cpuModel', 'memoryGb', 'node'];
const CONFIG_FIELDS = [
  'articlesDir',
  'questionsFile',
  'indexDir',
  'embeddingModel',
  'k',
  'answerK',
  'denseWeight',
  'lexicalWeight',
  'maxChunksPerArticle',
  'chunkMaxTokens',
  'rerankModel',
  'condense',
];
const DATASET_FIELDS = ['articles', 'chunks', 'questions', 'answerable', 'unanswerable', 'followUps', 'withQuote', 'withAnswer'];
const MODE_FIELDS = [
  'mode',
  'answerable',
  'hitAt1',
  'hitAt5',
  'hitAt10',
  'mrrAt10',
  'ndcgAt10',
  'withQuote',
  'quoteRecall',
  'unanswerable',
  'unanswerableNotCovered',
  'answerableNotCovered',
  'latencyMs',
];
const ANSWER_FIELDS = [
  'answerMode',
  'model',
  'questions',
  'byMode',
  'withGoldAnswer',
  'correct',
  'first',
  'medianWords',
  'judgeCorrect',
  'judged',
  'citations',
  'citationValidity',
  'citationVerbatim',
  'goldCited',
  'unanswerable',
  'unanswerableNotCovered',
  'answerable',
  'answerableNotCovered',
  'latencyMs',
];
const QUESTION_FIELDS = ['id', 'question', 'followUpOf', 'unanswerable', 'gold', 'query', 'retrieval', 'answer'];
const PER_MODE_FIELDS = ['rank', 'hit', 'quoteFound', 'notCovered', 'articles', 'ms'];
const PER_ANSWER_FIELDS = [
  'query',
  'mode',
  'correct',
  'first',
  'words',
  'judged',
  'citations',
  'validCitations',
  'verbatimCitations',
  'goldCited',
  'notCovered',
  'ms',
];

function expectFields(obj: unknown, fields: string[], where: string): void {
  expect(obj, where).toBeTypeOf('object');
  expect(obj, where).not.toBeNull();
  for (const f of fields) expect(Object.keys(obj as object), `${where}.${f}`).toContain(f);
}

function expectRate(x: number, where: string): void {
  expect(Number.isFinite(x) && x >= 0 && x <= 1, `${where} = ${x}`).toBe(true);
}

function capture(): EvalIO & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    stdout: () => out,
    stderr: () => err,
  };
}

let root: string;
let questionsFile: string;
let indexDir: string;

beforeAll(() => {
  root = tempDir('eval-cli-');
  indexDir = path.join(root, 'eval-index');
  const all = parseQuestions(fs.readFileSync(path.join(ROOT, 'eval', 'questions.jsonl'), 'utf8')).questions;
  const subset = SUBSET.map((id) => all.find((q) => q.id === id)!);
  expect(subset.every(Boolean)).toBe(true);
  questionsFile = path.join(root, 'questions.jsonl');
  fs.writeFileSync(questionsFile, subset.map((q) => JSON.stringify(q)).join('\n') + '\n');
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

async function run(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; io: ReturnType<typeof capture> }> {
  const io = capture();
  const config = testConfig(root, env);
  const code = await runEval(config, silentLogger, argv, io);
  return { code, io };
}

describe('npm run eval', () => {
  let first: EvalReport;

  it('evaluates retrieval in every available mode with the fixture model and writes a complete report', async () => {
    const out = path.join(root, 'reports', 'no-answers.json');
    const { code, io } = await run([
      '--articles',
      ARTICLES,
      '--questions',
      questionsFile,
      '--index-dir',
      indexDir,
      '--out',
      out,
      '--no-answers',
    ]);
    expect(code).toBe(0);
    const report = JSON.parse(fs.readFileSync(out, 'utf8')) as EvalReport;
    first = report;

    expectFields(report, REPORT_FIELDS, 'report');
    expectFields(report.machine, MACHINE_FIELDS, 'machine');
    expectFields(report.config, CONFIG_FIELDS, 'config');
    expectFields(report.dataset, DATASET_FIELDS, 'dataset');
    expect(report.config.embeddingModel).toContain('fixture/tiny-bert');
    expect(report.config.k).toBe(10);
    expect(report.dataset).toMatchObject({ questions: 5, answerable: 4, unanswerable: 1, followUps: 1, articles: 41 });

    expect(Object.keys(report.modes).sort()).toEqual(['baseline', 'dense', 'hybrid', 'lexical']);
    for (const [mode, m] of Object.entries(report.modes)) {
      expectFields(m, MODE_FIELDS, `modes.${mode}`);
      expect(m!.answerable).toBe(4);
      expect(m!.unanswerable).toBe(1);
      for (const f of [
        'hitAt1',
        'hitAt5',
        'hitAt10',
        'mrrAt10',
        'ndcgAt10',
        'quoteRecall',
        'unanswerableNotCovered',
        'answerableNotCovered',
      ] as const) {
        expectRate(m![f], `${mode}.${f}`);
      }
      expect(m!.hitAt1).toBeLessThanOrEqual(m!.hitAt5);
      expect(m!.hitAt5).toBeLessThanOrEqual(m!.hitAt10);
      expect(m!.mrrAt10).toBeLessThanOrEqual(m!.hitAt10);
    }
    expect(report.skippedModes).toEqual([{ mode: 'rerank', reason: 'RERANK_MODEL is not set' }]);
    expect(report.answers).toBeNull();
    expect(report.answersSkipped).toMatch(/--no-answers/);

    expect(report.questions.map((q) => q.id)).toEqual(SUBSET);
    for (const q of report.questions) {
      expectFields(q, QUESTION_FIELDS, `questions.${q.id}`);
      for (const mode of ['lexical', 'dense', 'hybrid'] as const) expectFields(q.retrieval[mode], PER_MODE_FIELDS, `${q.id}.${mode}`);
    }
    // The follow-up is retrieved with the earlier question's names carried along.
    const followUp = report.questions.find((q) => q.id === 'q12b')!;
    expect(followUp.followUpOf).toBe('q12a');
    expect(followUp.query).toMatch(/^What did he ask for\? .*Kolokoltsev/);
    // Lexical search finds the seed article for a question naming Kolokoltsev.
    expect(report.questions.find((q) => q.id === 'q01')!.retrieval.lexical!.rank).toBe(1);
    expect(report.questions.find((q) => q.id === 'q79')!.retrieval.lexical!.rank).toBeNull();

    const table = io.stdout();
    expect(table).toMatch(/mode\s+Hit@1\s+Hit@5\s+Hit@10\s+MRR@10/);
    for (const mode of ['lexical', 'dense', 'hybrid']) expect(table).toMatch(new RegExp(`^${mode}\\s+\\d`, 'm'));
    expect(table).toContain('rerank skipped: RERANK_MODEL is not set');
    expect(io.stderr()).toMatch(/lexical: 5\/5 questions/);
    expect(io.stderr()).toContain(`Report written to ${out}`);
  });

  it('answers in extractive mode', async () => {
    const out = path.join(root, 'reports', 'answers.json');
    const { code, io } = await run([
      '--articles',
      ARTICLES,
      '--questions',
      questionsFile,
      '--index-dir',
      indexDir,
      '--out',
      out,
      '--modes',
      'lexical',
    ]);
    expect(code).toBe(0);
    const report = JSON.parse(fs.readFileSync(out, 'utf8')) as EvalReport;

    expect(Object.keys(report.modes)).toEqual(['baseline', 'lexical']);
    expectFields(report.answers, ANSWER_FIELDS, 'answers');
    const a = report.answers!;
    expect(a.answerMode).toBe('extractive');
    expect(a.model).toBeNull();
    expect(a.judgeCorrect).toBeNull();
    expect(a.questions).toBe(5);
    expect(a.byMode.llm).toBe(0);
    expect(a.byMode.extractive + a.byMode['not-covered']).toBe(5);
    expect(a.withGoldAnswer).toBe(4);
    for (const f of [
      'correct',
      'first',
      'citationValidity',
      'citationVerbatim',
      'goldCited',
      'unanswerableNotCovered',
      'answerableNotCovered',
    ] as const) {
      expectRate(a[f], f);
    }
    // Extractive answers quote the passages themselves, so every citation must check out.
    expect(a.citations).toBeGreaterThan(0);
    expect(a.citationValidity).toBe(1);
    for (const q of report.questions) expectFields(q.answer, PER_ANSWER_FIELDS, `${q.id}.answer`);
    const lacroix = report.questions.find((q) => q.id === 'q01')!.answer!;
    expect(lacroix.mode).toBe('extractive');
    expect(lacroix.correct).toBe(true);
    // First counts only answers whose first quote holds the gold answer; Words is the median length.
    expect(a.first).toBeLessThanOrEqual(a.correct);
    expect(lacroix.words).toBeGreaterThan(0);
    expect(a.medianWords).toBeGreaterThan(0);
    expect(io.stdout()).toMatch(/^extractive\s+\S+% of 4/m);
  });

  it('compares two reports and exits 0', async () => {
    const io = capture();
    const a = path.join(root, 'reports', 'no-answers.json');
    const b = path.join(root, 'reports', 'answers.json');
    const code = await runEval(testConfig(root), silentLogger, ['--compare', a, b], io);
    expect(code).toBe(0);
    const lexical = first.modes.lexical!;
    expect(io.stdout()).toMatch(new RegExp(`lexical Hit@1\\s+${(100 * lexical.hitAt1).toFixed(1)}%`));
    expect(io.stdout()).toMatch(/dense Hit@1\s+\S+\s+—/);
    expect(io.stdout()).toMatch(/answers Correct\s+—\s+\S+%/);
    expect(io.stdout()).toMatch(/answers First\s+—\s+\S+%/);
    expect(io.stdout()).toMatch(/answers Words\s+—\s+\d+\.\d/);
  });

  it('skips dense, hybrid and rerank with a note when there is no embedding model, and reindexes nothing on a rerun', async () => {
    const out = path.join(root, 'reports', 'lexical-only.json');
    // Lexical-only, so a concurrent rebuild of the shared fixture model cannot force a full reindex.
    const argv = [
      '--articles',
      ARTICLES,
      '--questions',
      questionsFile,
      '--index-dir',
      path.join(root, 'lexical-index'),
      '--out',
      out,
      '--no-answers',
      '--k',
      '5',
    ];
    const firstRun = await run(argv, { EMBEDDING_PROVIDER: 'none' });
    expect(firstRun.code).toBe(0);
    expect((JSON.parse(fs.readFileSync(out, 'utf8')) as EvalReport).index).toMatchObject({ added: 41, unchanged: 0 });
    const { code, io } = await run(argv, { EMBEDDING_PROVIDER: 'none' });
    expect(code).toBe(0);
    const report = JSON.parse(fs.readFileSync(out, 'utf8')) as EvalReport;
    expect(report.index).toMatchObject({ added: 0, changed: 0, removed: 0, unchanged: 41 });
    expect(Object.keys(report.modes)).toEqual(['baseline', 'lexical']);
    expect(report.config.embeddingModel).toBeNull();
    expect(report.config.k).toBe(5);
    expect(report.skippedModes.map((s) => s.mode)).toEqual(['dense', 'hybrid', 'rerank']);
    expect(io.stdout()).toContain('dense skipped: no embedding model is loaded');
    expect(io.stdout()).toMatch(/Quote@5/);
  });

  it('runs a questions file that carries fields of its own, and says which it ignored', async () => {
    const extra = path.join(root, 'quiz.jsonl');
    const rows = fs
      .readFileSync(questionsFile, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.stringify({ ...(JSON.parse(l) as object), source: 'weekly quiz' }));
    fs.writeFileSync(extra, rows.join('\n') + '\n');
    const argv = [
      '--articles',
      ARTICLES,
      '--questions',
      extra,
      '--index-dir',
      path.join(root, 'lexical-index'),
      '--out',
      path.join(root, 'quiz.json'),
      '--no-answers',
    ];
    const { code, io } = await run(argv, { EMBEDDING_PROVIDER: 'none' });
    expect(code).toBe(0);
    expect(io.stderr()).toContain(`Note: ${extra}: ignored field(s) the evaluation does not use: "source" (${rows.length} lines).`);
    expect(io.stdout()).toMatch(/^lexical /m);
  });

  it('refuses bad arguments with a clear message', async () => {
    await expect(run(['--modes', 'lexical,sparse'])).rejects.toThrow(/Unknown mode "sparse"/);
    await expect(run(['--k', '0'])).rejects.toThrow(/--k must be a whole number/);
    await expect(run(['--compare', 'only-one.json'])).rejects.toThrow(/two report files/);
    await expect(run(['--articles', path.join(root, 'nope')])).rejects.toThrow(/Articles folder not found/);
    await expect(run(['--articles', ARTICLES, '--questions', path.join(root, 'nope.jsonl')])).rejects.toThrow(/Questions file not found/);
  });

  it('names gold articles that are not in the articles folder', async () => {
    const bad = path.join(root, 'bad-gold.jsonl');
    fs.writeFileSync(bad, JSON.stringify({ id: 'x1', question: 'Who?', answer: 'A', articles: ['no-such-article'] }) + '\n');
    await expect(
      run([
        '--articles',
        ARTICLES,
        '--questions',
        bad,
        '--index-dir',
        indexDir,
        '--out',
        path.join(root, 'bad.json'),
        '--no-answers',
        '--modes',
        'lexical',
      ]),
    ).rejects.toThrow(/x1: no-such-article/);
  });
});

describe('npm run eval with an LLM', () => {
  let fake: FakeOpenAI;

  beforeAll(async () => {
    fake = await startFakeOpenAI({
      handler: (request) => (request.messages[0]?.content.startsWith('You grade answers') ? 'YES' : defaultHandler(request)),
    });
  });

  afterAll(async () => {
    await fake.close();
  });

  it('labels the answers with the model and reports the judge separately from the contains match', async () => {
    const out = path.join(root, 'reports', 'llm.json');
    const { code, io } = await run(
      ['--articles', ARTICLES, '--questions', questionsFile, '--index-dir', indexDir, '--out', out, '--modes', 'lexical'],
      { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test-key', OPENAI_MODEL: 'fake-model', LLM_MAX_RETRIES: '0' },
    );
    expect(code).toBe(0);
    const a = (JSON.parse(fs.readFileSync(out, 'utf8')) as EvalReport).answers!;
    expect(a.answerMode).toBe('llm');
    expect(a.model).toBe('fake-model');
    expect(a.byMode.llm).toBeGreaterThan(0);
    // The fake judge says YES to everything it is asked about.
    expect(a.judged).toBeGreaterThan(0);
    expect(a.judgeCorrect).toBe(1);
    const judgeRequests = fake.chatRequests().filter((r) => r.messages?.[0]?.content.startsWith('You grade answers'));
    expect(judgeRequests.length).toBe(a.judged);
    expect(io.stdout()).toMatch(/^llm \(fake-model\)\s+\S+% of 4\s+\S+%\s+[\d.]+\s+100\.0% of \d/m);
  });
});
