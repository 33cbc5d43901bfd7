/**
 * PostgreSQL mode with an archive much larger than the pool (2 connections, a 100 ms wait for
 * one): every path that reads many articles or answers many questions at once must hold at most
 * a question's share of connections, never queue hundreds of queries on the pool, and never fail
 * with "the database is busy". Counted at the pool: `query` calls in flight (waiting or running).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopicMatcher } from '../../src/alerts/index.js';
import type { App } from '../../src/app.js';
import { runEval } from '../../src/cli/eval.js';
import { CONNECTIONS_PER_QUESTION, QueueFullError } from '../../src/db/admission.js';
import type { EvalReport } from '../../src/eval/report.js';
import { createRetriever } from '../../src/retrieval/index.js';
import { createLogger, silentLogger } from '../../src/util/log.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { mdArticle, tempDir, testApp, testConfig, writeFiles } from '../support/stack.js';
import { TelegramHarness, textOf } from '../support/telegram.js';

const TOPICS = [
  'volcano eruption ash cloud grounded flights over the northern islands',
  'chess tournament players gathered for the championship final rounds',
  'bridge collapse injured commuters during the morning rush hour',
  'election results counted votes in the capital district overnight',
  'flood waters closed mountain roads after heavy rain in the valley',
  'hospital strike nurses demanded higher wages and more staff',
  'satellite launch rocket carried weather instruments into orbit',
  'marathon runner broke the course record in the spring race',
];
/** 240 articles: 30 per topic, each with a word of its own, over 8 months. */
const ARTICLES = Object.fromEntries(
  Array.from({ length: 240 }, (_, i) => {
    const topic = TOPICS[i % TOPICS.length]!;
    const date = `2024-0${1 + (i % 8)}-${String(1 + (i % 27)).padStart(2, '0')}`;
    const body = `Reporters covered the ${topic}. The story, marked codeword${i}, drew wide attention. ${topic.split(' ').reverse().join(' ')}.`;
    return [`report-${String(i).padStart(3, '0')}.md`, mdArticle(`Report ${i}: ${topic.split(' ').slice(0, 3).join(' ')}`, date, body)];
  }),
);
const QUESTIONS = Array.from(
  { length: 40 },
  (_, i) => `What happened with the ${TOPICS[i % TOPICS.length]!.split(' ').slice(0, 2).join(' ')} codeword${i * 5}?`,
);

/** Counts the pool's `query` calls in flight; `peak` since the last `reset`. */
function meter(app: App) {
  const pool = app.database!;
  const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
  const m = { now: 0, peak: 0, calls: 0, reset: () => Object.assign(m, { peak: 0, calls: 0 }) };
  (pool as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = async (...args: unknown[]) => {
    m.calls++;
    m.peak = Math.max(m.peak, ++m.now);
    try {
      return await query(...args);
    } finally {
      m.now--;
    }
  };
  return m;
}

describe('PostgreSQL mode with an archive larger than the pool', () => {
  let db: TestDatabase;
  let root: string;
  let pg: App;
  let embedded: App;
  let inFlight: ReturnType<typeof meter>;
  const logs: { event: string; [k: string]: unknown }[] = [];
  const env = { EMBEDDING_PROVIDER: 'none', DATABASE_POOL_MAX: '2', DATABASE_CONNECT_TIMEOUT_MS: '100' };

  beforeAll(async () => {
    db = await createTestDatabase();
    root = tempDir('pg-burst-');
    writeFiles(path.join(root, 'articles'), ARTICLES);
    const logger = createLogger('info', [], (line) => logs.push(JSON.parse(line) as (typeof logs)[number]));
    pg = await testApp(root, { ...env, DATABASE_URL: db.url }, logger);
    embedded = await testApp(root, { EMBEDDING_PROVIDER: 'none' });
    await pg.library.ensure();
    await embedded.library.ensure();
    inFlight = meter(pg);
  }, 120_000);
  afterAll(async () => {
    for (const a of [pg, embedded]) a?.library.close();
    await pg?.database?.end();
    fs.rmSync(root, { recursive: true, force: true });
    await db?.drop();
  });

  it('answers 40 questions asked at once with no error, as the embedded store does, holding one question’s connections', async () => {
    expect(pg.library.stats().articles).toBe(240);
    inFlight.reset();
    logs.length = 0;
    const now = new Date('2024-09-01T00:00:00Z');
    const results = await Promise.allSettled(QUESTIONS.map((q) => pg.retriever.retrieve(q, { now })));
    expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
    expect(inFlight.peak).toBeLessThanOrEqual(CONNECTIONS_PER_QUESTION);
    const expected = await Promise.all(QUESTIONS.map((q) => embedded.retriever.retrieve(q, { now })));
    const ids = (r: { passages: { articleId: string }[] }) => r.passages.map((p) => p.articleId);
    expect(results.map((r) => ids((r as PromiseFulfilledResult<{ passages: { articleId: string }[] }>).value))).toEqual(expected.map(ids));
    // The waits are in the logs: length of the queue and how long each question waited.
    const queued = logs.filter((l) => l.event === 'db.question_queued');
    expect(queued.length).toBeGreaterThan(30);
    expect(Math.max(...queued.map((l) => Number(l.queued)))).toBeGreaterThan(30);
    expect(queued.every((l) => Number(l.wait_ms) >= 0)).toBe(true);
    // And in the metrics: every question's wait, and the queue empty again.
    const scraped = await pg.metrics.registry.metrics();
    expect(Number(/^newsdesk_question_queue_wait_seconds_count (\d+)/m.exec(scraped)?.[1])).toBeGreaterThanOrEqual(40);
    expect(scraped).toMatch(/^newsdesk_question_queue_length 0$/m);
  });

  it('a question never holds more than its share of connections, whatever it reads (measured)', async () => {
    for (const q of QUESTIONS.slice(0, 10)) {
      inFlight.reset();
      await pg.retriever.retrieveDetailed(q, { k: 10 });
      expect(inFlight.peak, q).toBeLessThanOrEqual(CONNECTIONS_PER_QUESTION);
    }
  });

  it('reranking reads the candidates’ best chunks in one search, not one query per article', async () => {
    const reranker = { id: 'test:reverse', score: async (_q: string, passages: string[]) => passages.map((_, i) => -i) };
    const retriever = createRetriever({
      getReader: () => pg.library.searchIndex(),
      embedder: null,
      options: pg.config.retrieval,
      reranker,
    });
    const plain = createRetriever({
      getReader: () => embedded.library.searchIndex(),
      embedder: null,
      options: pg.config.retrieval,
      reranker,
    });
    for (const q of QUESTIONS.slice(0, 4)) {
      inFlight.reset();
      const found = await retriever.retrieveDetailed(q, { k: 5 });
      expect(found.reranker).toBe('test:reverse');
      expect(inFlight.peak, q).toBeLessThanOrEqual(CONNECTIONS_PER_QUESTION);
      expect(
        found.passages.map((p) => [p.articleId, p.text]),
        q,
      ).toEqual((await plain.retrieveDetailed(q, { k: 5 })).passages.map((p) => [p.articleId, p.text]));
    }
  });

  it('matches a topic against every article as new at once, as the embedded store does', async () => {
    const all = new Set(pg.library.listArticles(0, 1000).items.map((a) => a.id));
    expect(all.size).toBe(240);
    const matcher = createTopicMatcher({ retriever: pg.retriever, getReader: () => pg.library.reader() });
    const reference = createTopicMatcher({ retriever: embedded.retriever, getReader: () => embedded.library.reader() });
    inFlight.reset();
    const found = await matcher.match('volcano eruption ash', all);
    expect(inFlight.peak).toBeLessThanOrEqual(CONNECTIONS_PER_QUESTION);
    expect(found.length).toBeGreaterThan(0);
    expect(found).toEqual(
      await reference.match('volcano eruption ash', new Set(embedded.library.listArticles(0, 1000).items.map((a) => a.id))),
    );
  });

  it('lists every article (/sources) from memory, without a query', () => {
    inFlight.reset();
    const listed = pg.library.listArticles(0, 1000);
    expect(listed.total).toBe(240);
    expect(listed.items).toEqual(embedded.library.listArticles(0, 1000).items);
    expect(inFlight.calls).toBe(0);
  });

  it('npm run eval completes and scores as the embedded mode does (the baseline reads every article)', async () => {
    const questions = path.join(root, 'questions.jsonl');
    fs.writeFileSync(
      questions,
      QUESTIONS.slice(0, 8)
        .map((q, i) =>
          JSON.stringify({ id: `b${i}`, question: q, articles: [`report-${String(i * 5).padStart(3, '0')}`], asked_at: '2024-09-01' }),
        )
        .join('\n'),
    );
    const evaluate = async (extra: Record<string, string>, name: string) => {
      const out = path.join(root, `${name}.json`);
      const io = { out: () => {}, err: () => {} };
      const args = [
        '--articles',
        path.join(root, 'articles'),
        '--questions',
        questions,
        '--out',
        out,
        '--no-answers',
        '--modes',
        'lexical',
      ];
      const code = await runEval(
        testConfig(root, { ...env, ...extra, INDEX_DIR: path.join(root, `index-${name}`) }),
        silentLogger,
        args,
        io,
      );
      expect(code).toBe(0);
      return JSON.parse(fs.readFileSync(out, 'utf8')) as EvalReport;
    };
    const [inPg, inFiles] = [await evaluate({ DATABASE_URL: db.url }, 'pg'), await evaluate({}, 'embedded')];
    for (const mode of ['baseline', 'lexical'] as const) {
      expect(inPg.modes[mode]!.hitAt5, mode).toBe(inFiles.modes[mode]!.hitAt5);
      expect(inPg.modes[mode]!.mrrAt10, mode).toBe(inFiles.modes[mode]!.mrrAt10);
    }
    expect(inPg.modes.baseline!.hitAt5).toBeGreaterThan(0);
  }, 120_000);
});

describe('the question queue in front of the database', () => {
  let db: TestDatabase;
  let root: string;
  let app: App;
  beforeAll(async () => {
    db = await createTestDatabase();
    root = tempDir('pg-queue-');
    writeFiles(path.join(root, 'articles'), Object.fromEntries(Object.entries(ARTICLES).slice(0, 16)));
    // One question at a time, and at most 100 ms of waiting: the queue holds one question.
    app = await testApp(root, {
      EMBEDDING_PROVIDER: 'none',
      DATABASE_URL: db.url,
      DATABASE_POOL_MAX: '2',
      DATABASE_QUESTION_CONCURRENCY: '1',
      DATABASE_QUESTION_WAIT_MS: '100',
    });
    await app.library.ensure();
  }, 60_000);
  afterAll(async () => {
    app?.library.close();
    await app?.database?.end();
    fs.rmSync(root, { recursive: true, force: true });
    await db?.drop();
  });

  it('refuses only what does not fit in the queue, and says when to ask again in the rate limit’s words', async () => {
    expect(app.questionQueue!.stats()).toMatchObject({ active: 0, queued: 0, capacity: 1 });
    const results = await Promise.allSettled(QUESTIONS.slice(0, 6).map((q) => app.retriever.retrieve(q)));
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
    // One searching, one waiting; the other four are refused at once.
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    expect(refused).toHaveLength(4);
    for (const e of refused) {
      expect(e).toBeInstanceOf(QueueFullError);
      expect(e.message).toMatch(
        /^Many readers are asking right now, more than I can answer at once\. Please wait \d+ seconds?, then ask again\.$/,
      );
    }
    expect(await app.metrics.registry.metrics()).toMatch(/^newsdesk_question_queue_refused_total 4$/m);
    // Afterwards the queue is empty and takes questions again.
    expect(app.questionQueue!.stats()).toMatchObject({ active: 0, queued: 0 });
    await expect(app.retriever.retrieve(QUESTIONS[0]!)).resolves.toBeTruthy();
  });

  it('a reader of the bot is told to wait and ask again while the queue is full, and answered once it has room', async () => {
    const h = await TelegramHarness.start({ answerer: app.answerer, library: app.library, database: app.database! });
    try {
      // Two long questions hold the queue: one searching, one waiting.
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      const holding = [app.questionQueue!.run(() => held), app.questionQueue!.run(() => held)];
      const reader = h.privateChat(4242);
      await reader.send('What happened with the volcano eruption?');
      expect(textOf((await reader.waitForReplies(1))[0]!)).toMatch(
        /^Many readers are asking right now, more than I can answer at once\. Please wait \d+ seconds?, then ask again\.$/,
      );
      release();
      await Promise.all(holding);
      await reader.send('What happened with the volcano eruption?');
      const answer = await reader.waitForNew((m) => /volcano/i.test(textOf(m)), 15_000, 'the answer');
      expect(textOf(answer)).not.toMatch(/Many readers/);
    } finally {
      await h.stop();
    }
  });
});
