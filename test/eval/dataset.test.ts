import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadArticles } from '../../src/articles/index.js';
import {
  askedAt,
  historyFor,
  isAnswerable,
  loadQuestions,
  parseQuestions,
  resolveGold,
  type EvalQuestion,
} from '../../src/eval/dataset.js';
import { normaliseWhitespace } from '../../src/eval/metrics.js';
import type { Article } from '../../src/types.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ARTICLES = path.join(ROOT, 'eval', 'articles');
const QUESTIONS = path.join(ROOT, 'eval', 'questions.jsonl');
const SEED_ID = '000_cc2b64a9889106ac';

describe('the shipped evaluation set', () => {
  let articles: Map<string, Article>;
  let questions: EvalQuestion[];

  beforeAll(async () => {
    const loaded = await loadArticles(ARTICLES);
    expect(loaded.skipped).toEqual([]);
    articles = new Map(loaded.articles.map((a) => [a.id, a]));
    questions = loadQuestions(QUESTIONS).questions;
  });

  it('has a development corpus of the seed plus about forty articles, all loadable', () => {
    expect(articles.has(SEED_ID)).toBe(true);
    expect(articles.size).toBeGreaterThanOrEqual(41);
  });

  it('ships the seed article byte for byte', () => {
    const seed = fs.readFileSync(path.join(ROOT, 'seeds', `${SEED_ID}.txt`));
    expect(fs.readFileSync(path.join(ARTICLES, `${SEED_ID}.txt`)).equals(seed)).toBe(true);
  });

  it('records every copied article in SOURCES.md with its licence', () => {
    const sources = fs.readFileSync(path.join(ARTICLES, 'SOURCES.md'), 'utf8');
    for (const file of fs.readdirSync(ARTICLES).filter((f) => f.endsWith('.md') && f !== 'SOURCES.md')) {
      expect(sources, file).toContain(`\`${file}\``);
      const licence = /^license: "(.*)"$/m.exec(fs.readFileSync(path.join(ARTICLES, file), 'utf8'))?.[1];
      expect(['CC BY 2.5', 'Public domain'], file).toContain(licence);
    }
    expect(sources).toContain('https://creativecommons.org/licenses/by/2.5/');
    expect(sources).toMatch(/changes were made/i);
  });

  it('has at least 45 questions with unique ids', () => {
    expect(questions.length).toBeGreaterThanOrEqual(45);
    expect(new Set(questions.map((q) => q.id)).size).toBe(questions.length);
  });

  it('names only gold articles that exist', () => {
    for (const q of questions) for (const id of q.articles) expect(articles.has(id), `${q.id}: ${id}`).toBe(true);
  });

  it('gives every answerable question a gold answer and a quote that occurs verbatim in a gold article', () => {
    for (const q of questions.filter(isAnswerable)) {
      expect(q.answer, q.id).toBeTruthy();
      expect(q.quote, q.id).toBeTruthy();
      const found = q.articles.some((id) => normaliseWhitespace(articles.get(id)!.text).includes(normaliseWhitespace(q.quote!)));
      expect(found, `${q.id}: "${q.quote}"`).toBe(true);
    }
  });

  it('has at least 8 questions about the seed article', () => {
    expect(questions.filter((q) => q.articles.includes(SEED_ID)).length).toBeGreaterThanOrEqual(8);
  });

  it('has at least 6 unanswerable questions, with no gold evidence', () => {
    const unanswerable = questions.filter((q) => q.unanswerable === true);
    expect(unanswerable.length).toBeGreaterThanOrEqual(6);
    for (const q of unanswerable) expect(q.articles, q.id).toEqual([]);
  });

  it('has at least 6 follow-ups whose earlier question exists and comes first', () => {
    const order = new Map(questions.map((q, i) => [q.id, i]));
    const followUps = questions.filter((q) => q.follow_up_of !== undefined);
    expect(followUps.length).toBeGreaterThanOrEqual(6);
    for (const q of followUps) expect(order.get(q.follow_up_of!), q.id).toBeLessThan(order.get(q.id)!);
  });

  it('has a few questions with time expressions', () => {
    const dated = questions.filter((q) =>
      /\bin (january|february|march|april|may|june|july|august|september|october|november|december) \d{4}\b/i.test(q.question),
    );
    expect(dated.length).toBeGreaterThanOrEqual(2);
  });
});

describe('parseQuestions', () => {
  const ok = { id: 'a', question: 'Q?', answer: 'A', articles: ['x'], quote: 'q' };
  const lines = (...rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n');

  it('accepts a minimal file, skipping blank lines', () => {
    const d = parseQuestions(`${lines(ok)}\n\n${lines({ id: 'b', question: 'Q2?', articles: [], unanswerable: true })}\n`);
    expect(d.questions.map((q) => q.id)).toEqual(['a', 'b']);
  });

  it('names the line of bad JSON', () => {
    expect(() => parseQuestions(`${lines(ok)}\n{oops`, 'q.jsonl')).toThrow(/q\.jsonl:2: not valid JSON/);
  });

  it('rejects a field name that looks like a typo of a known one, naming the field meant', () => {
    expect(() => parseQuestions(lines({ ...ok, artciles: ['y'] }))).toThrow(/:1: unknown field "artciles"; did you mean "articles"\?/);
    expect(() => parseQuestions(lines(ok, { ...ok, id: 'b', asked_on: '2024-06-30' }))).toThrow(/:2: .*"asked_on".*"asked_at"/);
    expect(() => parseQuestions(lines({ ...ok, Follow_Up_Of: 'x' }))).toThrow(/did you mean "follow_up_of"/);
  });

  it('ignores fields the evaluation does not use, with one warning that counts them', () => {
    const d = parseQuestions(
      lines({ ...ok, source: 'quiz 12', category: 'politics' }, { ...ok, id: 'b', source: 'quiz 13' }),
      'quiz.jsonl',
    );
    expect(d.questions.map((q) => q.id)).toEqual(['a', 'b']);
    expect(d.questions[0]).not.toHaveProperty('source');
    expect(d.warnings).toHaveLength(1);
    expect(d.warnings[0]).toMatch(
      /^quiz\.jsonl: ignored field\(s\) the evaluation does not use: "source" \(2 lines\), "category" \(1 line\)\./,
    );
    expect(parseQuestions(lines(ok)).warnings).toEqual([]);
  });

  it('rejects duplicate ids', () => {
    expect(() => parseQuestions(lines(ok, ok))).toThrow(/duplicate id "a"/);
  });

  it('rejects a follow-up of an unknown or later question', () => {
    expect(() => parseQuestions(lines({ ...ok, id: 'b', follow_up_of: 'a' }, ok))).toThrow(/follow_up_of "a"/);
  });

  it('rejects an unanswerable question with gold articles, and an answerable one without', () => {
    expect(() => parseQuestions(lines({ ...ok, unanswerable: true }))).toThrow(/unanswerable/);
    expect(() => parseQuestions(lines({ id: 'c', question: 'Q?' }))).toThrow(/gold "articles"/);
  });

  it('rejects an empty file', () => {
    expect(() => parseQuestions('\n\n')).toThrow(/no questions/);
  });
});

describe('historyFor', () => {
  const qs = parseQuestions(
    [
      { id: 'a', question: 'Who is meeting Lacroix?', articles: ['s'] },
      { id: 'b', question: 'What did he ask for?', articles: ['s'], follow_up_of: 'a' },
      { id: 'c', question: 'And then?', articles: ['s'], follow_up_of: 'b' },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n'),
  ).questions;
  const byId = new Map(qs.map((q) => [q.id, q]));

  it('is empty for a standalone question', () => {
    expect(historyFor(qs[0]!, byId)).toEqual([]);
  });

  it('replays the whole chain oldest first, with answers when known', () => {
    expect(historyFor(qs[2]!, byId, new Map([['a', 'Kolokoltsev.']]))).toEqual([
      { role: 'user', content: 'Who is meeting Lacroix?' },
      { role: 'assistant', content: 'Kolokoltsev.' },
      { role: 'user', content: 'What did he ask for?' },
    ]);
  });
});

describe('resolveGold', () => {
  const listing = [
    { id: 'news/a', url: 'https://news.example/A_Story' },
    { id: 'b', url: null },
  ];

  it('passes ids through and maps URLs (case, trailing slash and escapes aside) to ids', () => {
    expect(resolveGold(['b', 'https://news.example/a_story/', 'https://news.example/A%5FStory'], listing)).toEqual({
      ids: ['b', 'news/a'],
      unknown: [],
    });
  });

  it('also takes an article by its file name', () => {
    expect(resolveGold(['news/a.md', 'b.txt', 'b.pdf.txt'], listing)).toEqual({ ids: ['news/a', 'b'], unknown: ['b.pdf.txt'] });
  });

  it('reports references it cannot find', () => {
    expect(resolveGold(['nope', 'https://other.example/x'], listing)).toEqual({ ids: [], unknown: ['nope', 'https://other.example/x'] });
  });
});

describe('asked_at', () => {
  const line = (o: object) => JSON.stringify({ id: 'q', question: 'Who won?', articles: ['a'], ...o });

  it('reads a date as noon UTC that day, a date-time as written, and lets a follow-up inherit it', () => {
    const { questions } = parseQuestions(
      [
        line({ id: 'a', asked_at: '2019-09-26' }),
        JSON.stringify({ id: 'b', question: 'And who lost?', articles: ['a'], follow_up_of: 'a' }),
        line({ id: 'c', asked_at: '2019-09-26T08:30:00Z' }),
        line({ id: 'd' }),
      ].join('\n'),
    );
    const byId = new Map(questions.map((q) => [q.id, q]));
    expect(askedAt(byId.get('a')!, byId)?.toISOString()).toBe('2019-09-26T12:00:00.000Z');
    expect(askedAt(byId.get('b')!, byId)?.toISOString()).toBe('2019-09-26T12:00:00.000Z');
    expect(askedAt(byId.get('c')!, byId)?.toISOString()).toBe('2019-09-26T08:30:00.000Z');
    expect(askedAt(byId.get('d')!, byId)).toBeUndefined();
  });

  it('refuses a date that is not a real ISO date, naming the line', () => {
    for (const bad of ['2019-02-30', '26/09/2019', 'last week', '2019-9-1']) {
      expect(() => parseQuestions(line({ asked_at: bad }), 'q.jsonl'), bad).toThrow(/q\.jsonl:1: asked_at: must be an ISO date/);
    }
  });
});

describe('the readers\u2019 development set', () => {
  it('loads, every gold article exists, and every question says when it was asked', async () => {
    const dir = path.join(ROOT, 'eval', 'readers');
    const loaded = await loadArticles(path.join(dir, 'articles'));
    expect(loaded.skipped).toEqual([]);
    expect(loaded.articles).toHaveLength(314);
    for (const file of ['questions.jsonl', 'holdout.jsonl']) {
      const { questions } = loadQuestions(path.join(dir, file));
      const byId = new Map(questions.map((q) => [q.id, q]));
      for (const q of questions) {
        expect(askedAt(q, byId), q.id).toBeInstanceOf(Date);
        expect(resolveGold(q.articles, loaded.articles).unknown, q.id).toEqual([]);
      }
    }
  });
});
