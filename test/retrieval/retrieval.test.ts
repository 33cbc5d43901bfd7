import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { EXCERPT_GAP } from '../../src/retrieval/index.js';
import { rankArticles } from '../../src/retrieval/rank.js';
import { recencyPrior } from '../../src/retrieval/recency.js';
import { CORPUS } from '../support/corpus.js';
import { mdArticle, tempDir, testApp, writeFiles } from '../support/stack.js';

let root: string;
let lexRoot: string;
let app: App;
let lexicalOnly: App;

beforeAll(async () => {
  root = tempDir();
  writeFiles(path.join(root, 'articles'), CORPUS);
  writeFiles(path.join(root, 'articles'), { 'seed.txt': fs.readFileSync('seeds/000_cc2b64a9889106ac.txt') });
  app = await testApp(root);
  await app.library.reindex({});
  lexRoot = tempDir();
  writeFiles(path.join(lexRoot, 'articles'), CORPUS);
  lexicalOnly = await testApp(lexRoot, { EMBEDDING_PROVIDER: 'none' });
  await lexicalOnly.library.reindex({});
});

afterAll(() => {
  app.close();
  lexicalOnly.close();
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(lexRoot, { recursive: true, force: true });
});

const cases: [string, string][] = [
  ['Which volcano erupted and how many people were evacuated?', 'volcano'],
  ['Who won the national chess championship?', 'chess'],
  ['How much will the Elm river bridge cost?', 'bridge'],
  ['What is the measles vaccination campaign about?', 'vaccine'],
  ['Who is Kolokoltsev meeting at the UN?', 'seed'],
];

describe('retrieval', () => {
  it.each(cases)('hybrid: "%s" → %s', async (q, id) => {
    const r = await app.retriever.retrieveDetailed(q);
    expect(r.mode).toBe('hybrid');
    expect(r.passages[0]?.articleId).toBe(id);
    expect(r.notCovered).toBe(false);
  });

  it.each(cases)('lexical: "%s" → %s', async (q, id) => {
    const r = await app.retriever.retrieveDetailed(q, { mode: 'lexical' });
    expect(r.mode).toBe('lexical');
    expect(r.passages[0]?.articleId).toBe(id);
  });

  it.each(cases)('dense (fixture model): "%s" → %s', async (q, id) => {
    const r = await app.retriever.retrieveDetailed(q, { mode: 'dense' });
    expect(r.mode).toBe('dense');
    // The fixture model is a bag-of-words stand-in, not a real encoder: top-3 is what it can promise.
    expect(r.passages.map((p) => p.articleId).slice(0, 3)).toContain(id);
  });

  it('works lexical-only when the index has no vectors', async () => {
    const r = await lexicalOnly.retriever.retrieveDetailed('Who won the chess championship?');
    expect(r.mode).toBe('lexical');
    expect(r.passages[0]?.articleId).toBe('chess');
  });

  it('passages carry article metadata and exact excerpts of the article text', async () => {
    const r = await app.retriever.retrieve('Kolokoltsev Lacroix bilateral meetings');
    const p = r.passages[0]!;
    expect(p.title).toMatch(/Kolokoltsev/);
    expect(p.date).toBe('2024-06-27');
    const text = app.library.reader()!.articleText(p.articleId)!;
    for (const excerpt of p.text.split(EXCERPT_GAP)) expect(text).toContain(excerpt);
    expect(text.slice(p.start, p.start + 20)).toBe(p.text.slice(0, 20));
  });

  it('gives one passage per article, capped in chunks, with adjacent chunks merged', async () => {
    const r = await app.retriever.retrieve('Kolokoltsev Russia Ukraine UN sanctions Lacroix Volk', { k: 10 });
    const ids = r.passages.map((p) => p.articleId);
    expect(new Set(ids).size).toBe(ids.length);
    const seed = r.passages.find((p) => p.articleId === 'seed')!;
    expect(seed.chunkIds.length).toBeLessThanOrEqual(app.config.retrieval.maxChunksPerArticle);
    const ords = seed.chunkIds.map((id) => Number(id.split('#')[1]));
    const runs = ords.filter((o, i) => i === 0 || o !== ords[i - 1]! + 1).length;
    expect(seed.text.split(EXCERPT_GAP)).toHaveLength(runs);
  });

  it('narrows to a named period when the question asks about nothing else', async () => {
    const r = await app.retriever.retrieveDetailed('What happened in June 2024?');
    expect(r.dateRange).toMatchObject({ from: '2024-06-01', to: '2024-06-30' });
    expect(r.passages.length).toBeGreaterThan(0);
    for (const p of r.passages) expect(p.date?.startsWith('2024-06')).toBe(true);
  });

  it('treats a named period inside a question about something as a preference, never a filter', async () => {
    const nov = await app.retriever.retrieveDetailed('vaccination campaign in November 2023');
    expect(nov.passages[0]?.articleId).toBe('vaccine');
    expect(nov.dateRange).toBeUndefined();
    // The chess article is from May: "in June" (when the reader heard of it) must not hide it.
    const chess = await app.retriever.retrieveDetailed('Which teenager won the chess championship in June 2024?', { mode: 'lexical' });
    expect(chess.passages[0]?.articleId).toBe('chess');
  });

  it('never excludes an article for loose time words, and prefers the recent one among equals', async () => {
    const now = new Date('2024-06-30T12:00:00Z');
    // The chess article is 47 days old: "recently" must not bury it.
    const r = await app.retriever.retrieveDetailed('Who won the chess championship recently?', { mode: 'lexical', now });
    expect(r.passages[0]?.articleId).toBe('chess');
    expect(r.dateRange).toBeUndefined();
    expect(r.period).toBeUndefined();
  });

  it('says when the collection does not reach the week asked about: not covered, with the closest articles', async () => {
    const now = new Date('2026-12-02T10:00:00Z');
    const r = await app.retriever.retrieveDetailed('Any news on the Elm river bridge this week?', { mode: 'lexical', now });
    expect(r.period).toEqual({ matched: 'this week', from: '2026-11-30', to: '2026-12-02', newest: '2024-06-27' });
    // A 2024 article does not say what happened this week, however many words it shares with the question.
    expect(r.notCovered).toBe(true);
    expect(r.passages[0]?.articleId).toBe('bridge');
    const yesterday = await app.retriever.retrieveDetailed('What did the city council decide about the Elm river bridge yesterday?', {
      mode: 'lexical',
      now,
    });
    expect(yesterday.notCovered).toBe(true);
  });

  it('names a year the collection does not reach, but not a year an article may look back on or one still ahead', async () => {
    const now = new Date('2026-12-02T10:00:00Z');
    const after = await app.retriever.retrieveDetailed('Was the Elm river bridge finished in 2026?', { mode: 'lexical', now });
    expect(after.period).toEqual({ matched: 'in 2026', from: '2026-01-01', to: '2026-12-31', newest: '2024-06-27' });
    expect(after.passages[0]?.articleId).toBe('bridge');
    // A story may recall an earlier year; that is no reason to say the collection has nothing from it.
    const before = await app.retriever.retrieveDetailed('Did the 2019 measles outbreak lead to the vaccination campaign?', {
      mode: 'lexical',
      now,
    });
    expect(before.period).toBeUndefined();
    expect(before.passages[0]?.articleId).toBe('vaccine');
    const ahead = await app.retriever.retrieveDetailed('Will the Elm river bridge still be open in 2040?', { mode: 'lexical', now });
    expect(ahead.period).toBeUndefined();
    // A question about nothing but the period still gets the notice, whenever the period is.
    expect((await app.retriever.retrieveDetailed('What happened in 2019?', { mode: 'lexical', now })).period?.matched).toBe('in 2019');
  });

  it('answers "the latest" from the newest it has, saying how old that is', async () => {
    const r = await app.retriever.retrieveDetailed("What's the latest on the Elm river bridge?", {
      mode: 'lexical',
      now: new Date('2026-12-02T10:00:00Z'),
    });
    expect(r.period?.newest).toBe('2024-06-27');
    expect(r.notCovered).toBe(false);
    expect(r.passages[0]?.articleId).toBe('bridge');
  });

  it('counts articles published after a recent period as reporting on it', async () => {
    // Asked on Wednesday 26 June: last weekend (22–23 June) has no article, but the rocket story
    // came out on Tuesday and the bridge story the Thursday before.
    const now = new Date('2024-06-26T09:00:00Z');
    const r = await app.retriever.retrieveDetailed('Did the private rocket reach orbit last weekend?', { mode: 'lexical', now });
    expect(r.period).toBeUndefined();
    expect(r.notCovered).toBe(false);
    expect(r.passages[0]?.articleId).toBe('rocket');
  });

  it('counts other forms of a word as the same term when judging coverage ("eruption" / "erupted")', async () => {
    const r = await lexicalOnly.retriever.retrieveDetailed('Eruption on Tamuna: how many evacuations by ferries?');
    expect(r.passages[0]?.articleId).toBe('volcano');
    expect(r.notCovered).toBe(false);
    expect(r.coverage).toBe(1);
  });

  it('says "not covered" for questions the articles do not answer', async () => {
    for (const q of [
      'What is the recipe for sourdough bread?',
      'Who won the football world cup final?',
      'the of and what is',
      '🙂🙂🙂',
      '',
    ]) {
      const r = await app.retriever.retrieveDetailed(q);
      expect(r.notCovered, q).toBe(true);
    }
  });

  it('handles k larger than the index, k=1, an empty index and a one-article index', async () => {
    const all = await app.retriever.retrieve('chess', { k: 500 });
    expect(all.passages.length).toBeGreaterThan(0);
    expect((await app.retriever.retrieve('chess', { k: 1 })).passages).toHaveLength(1);
    const emptyRoot = tempDir();
    const empty = await testApp(emptyRoot);
    await empty.library.reindex({});
    expect(await empty.retriever.retrieve('anything at all')).toMatchObject({ passages: [], notCovered: true });
    writeFiles(path.join(emptyRoot, 'articles'), {
      'one.md': mdArticle('Lone article about otters', '2024-01-01', 'Otters returned to the river after forty years.'),
    });
    await empty.library.reindex({});
    const one = await empty.retriever.retrieve('otters river', { k: 50 });
    expect(one.passages).toHaveLength(1);
    empty.close();
    fs.rmSync(emptyRoot, { recursive: true, force: true });
  });
});

describe('rankArticles', () => {
  const dateOf = () => null;
  it('combines each search scaled to its best candidate, and leaves out searches with no weight', () => {
    const ranked = rankArticles(
      {
        articles: [
          { articleId: 'a', date: null, score: 10 },
          { articleId: 'b', date: null, score: 5 },
        ],
        chunks: [
          { label: 1, articleId: 'b', score: 4 },
          { label: 2, articleId: 'c', score: 2 },
        ],
        dense: [],
      },
      { article: 0.5, chunk: 0.5, dense: 1 },
      { dateOf, prior: () => 0 },
    );
    // a: 0.5·1 = 0.5; b: 0.5·0.5 + 0.5·1 = 0.75; c: 0.5·0.5 = 0.25 (dense ran no search, so it does not dilute).
    expect(ranked.map((r) => [r.articleId, r.score])).toEqual([
      ['b', 0.75],
      ['a', 0.5],
      ['c', 0.25],
    ]);
    const lexOnly = rankArticles(
      { articles: [], chunks: [{ label: 1, articleId: 'x', score: 1 }], dense: [{ label: 2, articleId: 'y', score: 0.9 }] },
      { article: 1, chunk: 1, dense: 0 },
      { dateOf, prior: () => 0 },
    );
    expect(lexOnly.map((r) => r.articleId)).toEqual(['x']);
  });

  it('lets the recency preference choose between near-equal matches but not overturn a clearly better one', () => {
    const prior = (date: string | null) => 0.15 * recencyPrior(date, new Date('2024-06-30T12:00:00Z'), 10);
    const evidence = (oldScore: number) => ({
      articles: [
        { articleId: 'old', date: '2024-03-01', score: oldScore },
        { articleId: 'new', date: '2024-06-28', score: 9 },
      ],
      chunks: [],
      dense: [],
    });
    const w = { article: 1, chunk: 0, dense: 0 };
    expect(rankArticles(evidence(9.5), w, { dateOf, prior })[0]!.articleId).toBe('new');
    expect(rankArticles(evidence(20), w, { dateOf, prior })[0]!.articleId).toBe('old');
  });
});

describe('recencyPrior', () => {
  const now = new Date('2024-06-30T08:00:00Z');
  it('is 1 for the last day or two, halves every half-life, and is 0 for undated or future articles', () => {
    expect(recencyPrior('2024-06-30', now, 10)).toBe(1);
    expect(recencyPrior('2024-06-29', now, 10)).toBe(1);
    expect(recencyPrior('2024-06-19', now, 10)).toBeCloseTo(0.5);
    expect(recencyPrior('2024-07-01', now, 10)).toBe(1);
    expect(recencyPrior('2024-07-05', now, 10)).toBe(0);
    expect(recencyPrior(null, now, 10)).toBe(0);
    expect(recencyPrior('not a date', now, 10)).toBe(0);
  });
});
