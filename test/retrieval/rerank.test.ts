/**
 * Cross-encoder reranking: the fixture cross-encoder through the real transformers.js path,
 * the retriever's 'rerank' mode on a corpus where fused ranks and the cross-encoder disagree,
 * the way a missing or wrong model turns reranking off, and the eval's rerank mode.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { runEval, type EvalIO } from '../../src/cli/eval.js';
import { parseQuestions } from '../../src/eval/dataset.js';
import type { EvalReport } from '../../src/eval/report.js';
import { createRetriever } from '../../src/retrieval/index.js';
import { createReranker, type Reranker } from '../../src/retrieval/rerank.js';
import { silentLogger, type Logger } from '../../src/util/log.js';
import {
  ensureFixtureModel,
  ensureFixtureReranker,
  FIXTURE_MODEL_ID,
  FIXTURE_MODELS_DIR,
  FIXTURE_RERANKER_ID,
} from '../support/fixture-model.js';
import { mdArticle, tempDir, testApp, testConfig, writeFiles } from '../support/stack.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A logger that keeps every event, to check what reached the user and at which level. */
function recordingLogger(): Logger & { events: { level: string; event: string; fields?: Record<string, unknown> }[] } {
  const events: { level: string; event: string; fields?: Record<string, unknown> }[] = [];
  const at = (level: string) => (event: string, fields?: Record<string, unknown>) =>
    void events.push({ level, event, ...(fields ? { fields } : {}) });
  return { events, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

const fixtureSource = { localModelDir: FIXTURE_MODELS_DIR, allowRemoteModels: false } as const;

async function fixtureReranker(batchSize?: number): Promise<Reranker> {
  const { reranker, warning } = await createReranker({
    model: FIXTURE_RERANKER_ID,
    ...fixtureSource,
    quantized: false,
    ...(batchSize ? { batchSize } : {}),
  });
  expect(warning).toBeUndefined();
  return reranker!;
}

// Words the question asks about, checked against the fixture vocabulary in a test below:
// the cross-encoder ignores word pieces, so an unknown word would silently weaken the case.
const QUESTION = 'What is the city government doing about the rocket launch?';

/**
 * X is short and all about two of the question's four words ("rocket launch"), so BM25 (short
 * text, repeated rare terms) and the bag-of-words fixture embedder (a vector made of those two
 * words) both put it first. Y has all four words once each in a longer text, and the fillers make
 * "city" and "government" so common that BM25 gives them almost no weight. A cross-encoder that
 * reads the pair sees that Y answers all of the question and X only half, so it must move Y above X.
 * (No dates in the question: a named time would filter the articles.)
 */
const RERANK_CORPUS: Record<string, string> = {
  'x.md': mdArticle('Rocket launch', '2024-05-02', 'The rocket launch went well. Another rocket launch follows.'),
  'y.md': mdArticle(
    'Diary',
    '2024-05-03',
    // The other words are common ones the fixture vocabulary knows, so they dilute the embedding.
    'The city government plans a rocket launch party by the water, with music, film, art, a book market, ' +
      'a football match, a church choir, a museum night and a festival for every family in the country.',
  ),
  'f1.md': mdArticle('Library news', '2024-05-04', 'The city government will close the library early for repairs.'),
  'f2.md': mdArticle('Traffic', '2024-05-05', 'Roads in the city centre stay closed while government workers fix pipes.'),
  'f3.md': mdArticle('Schools', '2024-05-06', 'City schools start exams soon, and the government told parents to plan ahead.'),
  'f4.md': mdArticle('Weather', '2024-05-07', 'Rain will fall on the city for days, government forecasters said.'),
  'f5.md': mdArticle('Markets', '2024-05-08', 'The city market opens an hour earlier, with government approval, for summer fruit.'),
  'f6.md': mdArticle('Sport', '2024-05-09', 'The city marathon, backed by the government, drew runners from every district.'),
  // Many chunks about one thing, for the per-article cap (none of the question's words).
  'long.md': mdArticle(
    'Harbour works',
    '2024-05-10',
    Array.from(
      { length: 10 },
      (_, i) =>
        `Stage ${i + 1} of the harbour works moved the harbour wall, and the harbour office said the harbour ` +
        `would stay open for fishing boats while divers checked the old stones under the water near the harbour gate.`,
    ).join('\n\n'),
  ),
};

describe('createReranker', () => {
  beforeAll(async () => {
    await ensureFixtureReranker();
  });

  it('loads the fixture cross-encoder through transformers.js and scores shared words above unrelated text', async () => {
    const reranker = await fixtureReranker();
    expect(reranker.id).toBe(`transformers:${FIXTURE_RERANKER_ID}?fp32`);
    const [shared, partial, unrelated] = await reranker.score('Who won the national chess championship?', [
      'The national chess championship was won by a sixteen year old.',
      'The chess club meets on Tuesdays.',
      'A volcano erupted and thousands of people were evacuated.',
    ]);
    expect(shared).toBeGreaterThan(partial!);
    expect(partial).toBeGreaterThan(unrelated!);
  });

  it('reads the query and the passage as two segments, not one bag of words', async () => {
    const reranker = await fixtureReranker();
    // The same words on the query side only must not count as overlap: the pair is what is scored.
    const [inPassage, queryOnly] = await reranker.score('chess championship', ['chess championship', 'volcano eruption']);
    const [selfOverlap] = await reranker.score('chess championship chess', ['volcano eruption']);
    expect(inPassage).toBeGreaterThan(queryOnly!);
    expect(selfOverlap).toBeCloseTo(queryOnly!, 5);
  });

  it('gives the same scores batched (padded) as one by one, and truncates passages longer than the model', async () => {
    const single = await fixtureReranker(1);
    const batched = await fixtureReranker(4);
    const query = 'festival museum rocket';
    const passages = [
      'rocket',
      'The museum opened a festival about the rocket age with talks, films and a model rocket workshop for children.',
      'nothing here',
      'festival '.repeat(1000),
      'museum festival',
      '',
      // The only matching word sits past token 512, so it is cut off and cannot count.
      'nothing '.repeat(600) + 'festival museum rocket',
    ];
    const one = await single.score(query, passages);
    const many = await batched.score(query, passages);
    expect(many).toHaveLength(passages.length);
    for (const [i, s] of many.entries()) expect(s, passages[i]!.slice(0, 30)).toBeCloseTo(one[i]!, 4);
    expect(one.every(Number.isFinite)).toBe(true);
    // Over-long passages are cut to the model's 512 tokens instead of failing: the first still
    // matches "festival" early on; the last lost its matching words to the cut.
    expect(one[3]).toBeGreaterThan(one[2]!);
    expect(one[6]).toBeCloseTo(one[2]!, 5);
    expect(await single.score(query, [])).toEqual([]);
  });

  it('is off without a model, and never throws for one it cannot load: null and one warning line', async () => {
    const logger = recordingLogger();
    expect(await createReranker({ model: undefined, ...fixtureSource, logger })).toEqual({ reranker: null });
    expect(await createReranker({ model: '  ', ...fixtureSource, logger })).toEqual({ reranker: null });

    const cacheDir = tempDir('rerank-cache-');
    const missing = await createReranker({ model: 'nobody/no-such-cross-encoder', ...fixtureSource, cacheDir, logger });
    expect(missing.reranker).toBeNull();
    expect(missing.warning).toMatch(
      /^Rerank model nobody\/no-such-cross-encoder could not be loaded \(not found locally and remote downloads are disabled\); retrieval runs without reranking\./,
    );
    expect(missing.warning).toContain('ALLOW_REMOTE_MODELS=true');
    expect(missing.warning).toContain(path.join(FIXTURE_MODELS_DIR, 'nobody', 'no-such-cross-encoder'));
    expect(missing.warning).toContain('RERANK_MODEL');
    expect(missing.warning).not.toMatch(/\n|\s+at \S+ \(/);
    // The caller shows the warning; the module itself must not add a second visible line.
    expect(logger.events.filter((e) => e.level !== 'debug')).toEqual([]);
    fs.rmSync(cacheDir, { recursive: true, force: true });
  });

  it('refuses an embedding model given as RERANK_MODEL, and a corrupt model file, with a warning', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rerank-models-'));
    // The bi-encoder has the same tokenizer and config type but no `logits` output.
    fs.cpSync(await ensureFixtureModel(), path.join(dir, 'fixture', 'embedder-only'), { recursive: true });
    const wrong = await createReranker({ model: 'fixture/embedder-only', localModelDir: dir, allowRemoteModels: false, quantized: false });
    expect(wrong.reranker).toBeNull();
    expect(wrong.warning).toMatch(/^Rerank model fixture\/embedder-only could not be loaded \(the model failed its first run: /);
    expect(wrong.warning).not.toContain('\n');

    fs.cpSync(await ensureFixtureReranker(), path.join(dir, 'fixture', 'broken'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'fixture', 'broken', 'onnx', 'model.onnx'), 'not an onnx file');
    const broken = await createReranker({ model: 'fixture/broken', localModelDir: dir, allowRemoteModels: false, quantized: false });
    expect(broken.reranker).toBeNull();
    expect(broken.warning).toMatch(/^Rerank model fixture\/broken could not be loaded \(.+\); retrieval runs without reranking\./);
    expect(broken.warning).not.toContain('\n');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("retrieval in 'rerank' mode", () => {
  let root: string;
  let app: App;

  beforeAll(async () => {
    root = tempDir('rerank-retrieval-');
    writeFiles(path.join(root, 'articles'), RERANK_CORPUS);
    app = await testApp(root, { RERANK_MODEL: FIXTURE_RERANKER_ID });
    await app.library.reindex({});
  });

  afterAll(() => {
    app.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('uses only words the fixture vocabulary knows, so the case tests ranking and not tokenization', async () => {
    const reranker = app.reranker!;
    // Each query word scores as a full match against itself; an unknown word would score as no match.
    const words = ['rocket', 'launch', 'city', 'government'];
    const scores = await reranker.score(words.join(' '), words);
    const [none] = await reranker.score(words.join(' '), ['unrelated']);
    for (const s of scores) expect(s).toBeGreaterThan(none!);
    expect(new Set(scores.map((s) => s.toFixed(4))).size).toBe(1);
  });

  it('hybrid ranks the focused article first; the cross-encoder prefers the one answering all of the question', async () => {
    // The premise: both halves, and so their fusion, put X first.
    for (const mode of ['lexical', 'dense', 'hybrid'] as const) {
      const r = await app.retriever.retrieveDetailed(QUESTION, { mode, k: 10 });
      expect(r.passages[0]?.articleId, mode).toBe('x');
      expect(r.reranker, mode).toBeNull();
      expect(r.timings.rerank, mode).toBe(0);
    }

    const reranked = await app.retriever.retrieveDetailed(QUESTION, { mode: 'rerank', k: 10 });
    expect(reranked.mode).toBe('hybrid');
    expect(reranked.reranker).toBe(app.reranker!.id);
    const order = reranked.passages.map((p) => p.articleId);
    expect(order[0]).toBe('y');
    expect(order).toContain('x');
    expect(reranked.timings.rerank).toBeGreaterThan(0);
    expect(reranked.timings.total).toBeGreaterThanOrEqual(reranked.timings.rerank);
    // Passages are ordered by the cross-encoder's score.
    const scores = reranked.passages.map((p) => p.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it('reranks by default once RERANK_MODEL is configured, in the product path too', async () => {
    const detailed = await app.retriever.retrieveDetailed(QUESTION);
    expect(detailed.reranker).toBe(app.reranker!.id);
    const plain = await app.retriever.retrieve(QUESTION, { k: 2 });
    expect(plain.mode).toBe('hybrid');
    expect(plain.passages.map((p) => p.articleId)[0]).toBe('y');
    expect(plain.passages.length).toBeLessThanOrEqual(2);
    const answer = await app.answerer.ask(QUESTION, []);
    expect(answer.passages[0]?.articleId).toBe('y');
  });

  // Scores the pool in reverse of the fused order, so the rerank visibly changes the order.
  function reverseReranker(seen: number[] = []): Reranker {
    return {
      id: 'test:reverse',
      score: async (_q, passages) => {
        seen.push(passages.length);
        return passages.map((_, i) => i);
      },
    };
  }
  const retrieverDeps = (rerankCandidates: number) => ({
    getReader: () => app.library.searchIndex(),
    embedder: app.embedder,
    options: { ...app.config.retrieval, rerankCandidates },
  });

  it('rescores max(rerankCandidates, k) fused chunks and orders passages by the new scores', async () => {
    const seen: number[] = [];
    const reverse = reverseReranker(seen);
    const base = retrieverDeps(3);
    const fused = await createRetriever(base).retrieveDetailed(QUESTION, { k: 8, mode: 'hybrid' });
    expect(fused.passages.length).toBeGreaterThan(3);

    const reversed = await createRetriever({ ...base, reranker: reverse }).retrieveDetailed(QUESTION, { k: 8, mode: 'rerank' });
    expect(seen).toEqual([8]);
    expect(reversed.reranker).toBe('test:reverse');
    expect(reversed.passages.map((p) => p.articleId)).toEqual(fused.passages.map((p) => p.articleId).reverse());

    await createRetriever({ ...base, reranker: reverse }).retrieveDetailed(QUESTION, { k: 1, mode: 'rerank' });
    expect(seen).toEqual([8, 3]);
  });

  it('reorders whole articles, so one long article with many matching chunks cannot crowd out the rest', async () => {
    // Reranking must reorder the same articles hybrid would return, not fewer of them.
    const harbour = 'harbour wall stones';
    const capped = retrieverDeps(4);
    const reverse = reverseReranker();
    const articlesOf = (r: { passages: { articleId: string }[] }) => r.passages.map((p) => p.articleId).sort();
    const hybridHarbour = await createRetriever(capped).retrieveDetailed(harbour, { k: 4, mode: 'hybrid' });
    // The long article has more matching chunks than the cap lets through (at least six).
    const reader = app.library.reader()!;
    const longStored = reader
      .lexical('harbour', 100)
      .map((h) => reader.chunk(h.label))
      .filter((c) => c?.articleId === 'long');
    expect(longStored.map((c) => c!.ordinal)).toContain(5);
    const long = hybridHarbour.passages.find((p) => p.articleId === 'long')!;
    expect(long.chunkIds.length).toBeLessThanOrEqual(app.config.retrieval.maxChunksPerArticle);
    const rerankHarbour = await createRetriever({ ...capped, reranker: reverse }).retrieveDetailed(harbour, { k: 4, mode: 'rerank' });
    expect(rerankHarbour.reranker).toBe('test:reverse');
    expect(articlesOf(rerankHarbour)).toEqual(articlesOf(hybridHarbour));
    expect(articlesOf(rerankHarbour)).toHaveLength(4);
  });

  it('keeps the fused order, and says so, when the model fails at query time', async () => {
    const base = retrieverDeps(20);
    const fused = await createRetriever(base).retrieveDetailed(QUESTION, { k: 8, mode: 'hybrid' });
    const logger = recordingLogger();
    const failing: Reranker = { id: 'test:failing', score: async () => Promise.reject(new Error('onnx exploded')) };
    const fallback = await createRetriever({ ...base, reranker: failing, logger }).retrieveDetailed(QUESTION, { k: 8 });
    expect(fallback.reranker).toBeNull();
    expect(fallback.passages.map((p) => p.articleId)).toEqual(fused.passages.map((p) => p.articleId));
    expect(logger.events.filter((e) => e.level === 'warn')).toEqual([
      { level: 'warn', event: 'rerank.failed', fields: { reranker: 'test:failing', error: 'onnx exploded' } },
    ]);
  });

  it('with RERANK_MODEL naming a missing model: no reranker, one warning, and hybrid retrieval as before', async () => {
    const otherRoot = tempDir('rerank-missing-');
    writeFiles(path.join(otherRoot, 'articles'), RERANK_CORPUS);
    const logger = recordingLogger();
    const plain = await testApp(otherRoot, { RERANK_MODEL: 'nobody/no-such-cross-encoder' }, logger);
    try {
      await plain.library.reindex({});
      expect(plain.reranker).toBeNull();
      expect(plain.rerankerWarning).toMatch(/^Rerank model nobody\/no-such-cross-encoder could not be loaded/);
      const visible = logger.events.filter((e) => e.level === 'warn' || e.level === 'error');
      // The warning is the front end's to show once (the CLI prints it as a Note line); nothing else is logged.
      expect(visible).toEqual([]);

      const r = await plain.retriever.retrieveDetailed(QUESTION);
      expect(r.mode).toBe('hybrid');
      expect(r.reranker).toBeNull();
      expect(r.passages[0]?.articleId).toBe('x');
      // Asking for rerank without a reranker runs hybrid and says so.
      const asked = await plain.retriever.retrieveDetailed(QUESTION, { mode: 'rerank' });
      expect(asked.reranker).toBeNull();
      expect(asked.passages.map((p) => p.articleId)).toEqual(r.passages.map((p) => p.articleId));
    } finally {
      plain.close();
      fs.rmSync(otherRoot, { recursive: true, force: true });
    }
  });

  it('without RERANK_MODEL there is no reranker and no warning', async () => {
    const otherRoot = tempDir('rerank-off-');
    const logger = recordingLogger();
    const off = await testApp(otherRoot, {}, logger);
    try {
      expect(off.reranker).toBeNull();
      expect(off.rerankerWarning).toBeUndefined();
      expect(logger.events.filter((e) => e.event.startsWith('rerank'))).toEqual([]);
    } finally {
      off.close();
      fs.rmSync(otherRoot, { recursive: true, force: true });
    }
  });
});

describe('npm run eval with a reranker', () => {
  // A standalone question, a follow-up pair, and one the articles cannot answer.
  const SUBSET = ['q01', 'q12a', 'q12b', 'q79'];
  let root: string;
  let questionsFile: string;

  beforeAll(() => {
    root = tempDir('rerank-eval-');
    const all = parseQuestions(fs.readFileSync(path.join(ROOT, 'eval', 'questions.jsonl'), 'utf8')).questions;
    questionsFile = path.join(root, 'questions.jsonl');
    fs.writeFileSync(questionsFile, SUBSET.map((id) => JSON.stringify(all.find((q) => q.id === id)!)).join('\n') + '\n');
  });

  afterAll(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  async function evaluate(env: Record<string, string>, out: string): Promise<{ report: EvalReport; stdout: string }> {
    let stdout = '';
    const io: EvalIO = {
      out: (t) => {
        stdout += t;
      },
      err: () => undefined,
    };
    const argv = [
      '--articles',
      path.join(ROOT, 'eval', 'articles'),
      '--questions',
      questionsFile,
      '--index-dir',
      path.join(root, 'index'),
      '--out',
      out,
      '--no-answers',
      '--modes',
      'hybrid,rerank',
    ];
    const code = await runEval(testConfig(root, env), silentLogger, argv, io);
    expect(code).toBe(0);
    return { report: JSON.parse(fs.readFileSync(out, 'utf8')) as EvalReport, stdout };
  }

  it('runs the rerank mode with the fixture cross-encoder and reports it beside hybrid', async () => {
    const { report, stdout } = await evaluate({ RERANK_MODEL: FIXTURE_RERANKER_ID }, path.join(root, 'rerank.json'));
    expect(report.config.embeddingModel).toContain(FIXTURE_MODEL_ID);
    expect(report.config.rerankModel).toBe(FIXTURE_RERANKER_ID);
    expect(report.skippedModes).toEqual([]);
    expect(Object.keys(report.modes).sort()).toEqual(['baseline', 'hybrid', 'rerank']);
    const m = report.modes.rerank!;
    expect(m).toMatchObject({ mode: 'rerank', answerable: 3, unanswerable: 1 });
    for (const q of report.questions) expect(q.retrieval.rerank, q.id).toBeDefined();
    // The question naming Kolokoltsev shares its rare words with the seed article only.
    expect(report.questions.find((q) => q.id === 'q01')!.retrieval.rerank!.rank).toBe(1);
    expect(stdout).toMatch(/^rerank\s+\d/m);
    expect(stdout).not.toContain('rerank skipped');
  });

  it('skips rerank with the reason when RERANK_MODEL cannot be loaded', async () => {
    const { report, stdout } = await evaluate({ RERANK_MODEL: 'nobody/no-such-cross-encoder' }, path.join(root, 'missing.json'));
    expect(Object.keys(report.modes)).toEqual(['baseline', 'hybrid']);
    expect(report.skippedModes).toEqual([{ mode: 'rerank', reason: 'rerank model nobody/no-such-cross-encoder could not be loaded' }]);
    expect(stdout).toContain('rerank skipped: rerank model nobody/no-such-cross-encoder could not be loaded');
  });
});
