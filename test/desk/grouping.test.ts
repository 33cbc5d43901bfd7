/**
 * The pieces /gaps is made of: grouping questions by stems (typos included) and, when given, the
 * embedding model's vectors; the language guess; the CSV export that must stay text in a
 * spreadsheet; and the gaps report's ranking and trend over a log.
 */
import { describe, expect, it } from 'vitest';
import { QuestionDesk } from '../../src/desk/index.js';
import { baselineGroups, editDistance, groupQuestions } from '../../src/desk/grouping.js';
import { guessLanguage } from '../../src/desk/language.js';
import { type NewQuestion, SqliteQuestionLog } from '../../src/desk/log.js';
import { gapsCsv } from '../../src/desk/report.js';
import { tempDir } from '../support/stack.js';
import fs from 'node:fs';

const texts = (groups: number[][], all: string[]) => groups.map((g) => g.map((i) => all[i]));

describe('grouping questions', () => {
  it('puts paraphrases and misspellings of one topic together and keeps other topics apart', () => {
    const qs = [
      'Is the bus strike still on?',
      'when will the bus stike end',
      'bus drivers strike update',
      'How much will the new bridge toll be?',
      'bridge toll price increase',
      'toll on harbor brige how much for trucks',
    ];
    expect(texts(groupQuestions(qs), qs)).toEqual([qs.slice(0, 3), qs.slice(3)]);
    // The baseline links anything sharing a stem ("much" is not a stop word, "will" is): here it still splits.
    expect(baselineGroups(qs)).toHaveLength(2);
  });

  it('lets the embedding model join questions that share no word', () => {
    const qs = ['Are the buses running tomorrow?', 'transit workers walkout'];
    expect(groupQuestions(qs)).toHaveLength(2);
    const same = new Float32Array([1, 0]);
    expect(groupQuestions(qs, { vectors: [same, same] })).toEqual([[0, 1]]);
    expect(groupQuestions(qs, { vectors: [new Float32Array([1, 0]), new Float32Array([0, 1])] })).toHaveLength(2);
  });

  it('counts a swap of two letters as one edit', () => {
    expect(editDistance('strike', 'stirke', 2)).toBe(1);
    expect(editDistance('ferry', 'ferri', 2)).toBe(1);
    expect(editDistance('ferry', 'bridge', 2)).toBe(3);
  });
});

describe('language guess', () => {
  it('names English and Russian by their function words, scripts by their letters, and nothing else', () => {
    expect(guessLanguage('When does the ferry leave?')).toBe('en');
    expect(guessLanguage('Кто выиграл выборы?')).toBe('ru');
    expect(guessLanguage('東京の天気')).toBe('ja');
    expect(guessLanguage('ferri schedule')).toBeNull();
    expect(guessLanguage('Wann fährt die Fähre?')).toBeNull();
  });
});

describe('the gaps report', () => {
  it('ranks topics by distinct readers, counts the previous period, and leaves answered questions out', async () => {
    const dir = tempDir('gaps-report-');
    const log = new SqliteQuestionLog(dir);
    const now = Date.UTC(2026, 0, 20);
    const day = 86_400_000;
    const desk = new QuestionDesk(log, { retentionDays: 30, secret: 'x'.repeat(16) }, undefined, () => now);
    const q = (fields: Partial<NewQuestion>): NewQuestion => ({
      at: now - day,
      text: '',
      chatType: 'private',
      outcome: 'not-covered',
      weak: false,
      language: 'en',
      reader: 'r1',
      chat: 'c1',
      cited: [],
      ...fields,
    });
    try {
      // Ferry: 3 questions by one reader this week, 2 the week before. Bus strike: 2 readers.
      for (const text of ['ferry to elm island?', 'elm island ferry times', 'elm island ferry price']) log.add(q({ text, reader: 'r1' }));
      for (const text of ['elm island ferry', 'ferry elm island schedule']) log.add(q({ text, at: now - 9 * day }));
      log.add(q({ text: 'is the bus strike over', reader: 'r2' }));
      log.add(q({ text: 'bus strike news', reader: 'r3' }));
      log.add(q({ text: 'bus strike today', outcome: 'answered', cited: [{ articleId: 'a', title: 'A', score: 1 }], reader: 'r4' }));
      const report = await desk.gaps(7);
      expect(report.topics.map((t) => [t.readers, t.count, t.previous])).toEqual([
        [2, 2, 0],
        [1, 3, 2],
      ]);
      expect(report.topics[0]!.examples).not.toContain('bus strike today');
      expect(report.gapQuestions).toBe(5);
    } finally {
      log.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('groups with the embedding model when given one, embedding each question once across calls', async () => {
    const dir = tempDir('gaps-model-');
    const log = new SqliteQuestionLog(dir);
    const now = Date.UTC(2026, 0, 20);
    const desk = new QuestionDesk(log, { retentionDays: 30, secret: 'x'.repeat(16) }, undefined, () => now);
    const embedded: string[] = [];
    // A stand-in model that sees the two transit questions as the same and the rest as unrelated.
    const embedder = {
      id: 'stand-in',
      dimension: 2,
      maxTokens: 512,
      tokenizer: { id: 'stand-in', count: () => 1 },
      embedDocuments: async () => [],
      embedQuery: async (t: string) => {
        embedded.push(t);
        return /bus|transit/.test(t) ? new Float32Array([1, 0]) : new Float32Array([0, 1]);
      },
    };
    const base = { chatType: 'private', outcome: 'not-covered' as const, weak: false, language: 'en', chat: 'c', cited: [] };
    try {
      log.add({ ...base, at: now - 1000, text: 'Are the buses running tomorrow?', reader: 'r1' });
      log.add({ ...base, at: now - 900, text: 'transit workers walkout', reader: 'r2' });
      expect((await desk.gaps(7)).topics.map((t) => t.count)).toEqual([1, 1]);
      expect((await desk.gaps(7, embedder)).topics.map((t) => [t.readers, t.count])).toEqual([[2, 2]]);
      await desk.gaps(7, embedder);
      expect(embedded.sort()).toEqual(['Are the buses running tomorrow?', 'transit workers walkout']);
    } finally {
      log.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exports CSV that a spreadsheet reads as text, not formulas', () => {
    const csv = gapsCsv({
      days: 7,
      from: 0,
      to: 1,
      gapQuestions: 1,
      topics: [{ label: 'sum', readers: 1, count: 1, previous: 0, examples: ['=SUM(A1:A9), "really"?'] }],
    });
    expect(csv.split('\n')[1]).toBe(`1,sum,1,1,0,"'=SUM(A1:A9), ""really""?"`);
  });
});
