/**
 * A question file may give each question's language; the report then gives Hit@5 and MRR per
 * language, so a translated copy of a set measures cross-language retrieval.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseQuestions } from '../../src/eval/dataset.js';
import { formatLanguageTable, languageRows } from '../../src/eval/languages.js';
import type { ModeResult, RetrievalQuestionResult } from '../../src/eval/retrieval.js';

const line = (o: object) => JSON.stringify(o);

function result(ranks: Record<string, number | null>): ModeResult {
  const questions: RetrievalQuestionResult[] = Object.entries(ranks).map(([id, rank]) => ({
    id,
    rank,
    hit: rank !== null && rank <= 10,
    quoteFound: null,
    notCovered: false,
    articles: [],
    ms: 1,
  }));
  return { metrics: {} as ModeResult['metrics'], questions };
}

describe('question languages in the evaluation', () => {
  it('reads an optional lang and refuses one that is not a language code', () => {
    const d = parseQuestions(
      [
        line({ id: 'a', question: 'Who?', articles: ['x'], lang: 'EN' }),
        line({ id: 'b', question: 'Кто?', articles: ['x'], lang: 'ru' }),
      ].join('\n'),
    );
    expect(d.questions.map((q) => q.lang)).toEqual(['en', 'ru']);
    expect(d.warnings).toEqual([]);
    expect(() => parseQuestions(line({ id: 'c', question: 'Who?', articles: ['x'], lang: 'Russian' }))).toThrow(/lang.*ISO 639-1/);
  });

  it('gives Hit@5 and MRR@10 per language over answerable questions, per mode', () => {
    const { questions } = parseQuestions(
      [
        line({ id: 'en-1', question: 'Who?', articles: ['x'], lang: 'en' }),
        line({ id: 'en-2', question: 'What?', articles: ['x'], lang: 'en' }),
        line({ id: 'ru-1', question: 'Кто?', articles: ['x'], lang: 'ru' }),
        line({ id: 'ru-2', question: 'Что?', articles: ['x'], lang: 'ru' }),
        line({ id: 'ru-3', question: 'Где?', articles: [], unanswerable: true, lang: 'ru' }),
      ].join('\n'),
    );
    const rows = languageRows(
      questions,
      new Map([
        ['baseline', result({ 'en-1': 1, 'en-2': 2, 'ru-1': null, 'ru-2': 7, 'ru-3': null })],
        ['lexical', result({ 'en-1': 1, 'en-2': 1, 'ru-1': 4, 'ru-2': null, 'ru-3': null })],
      ]),
    );
    expect(rows).toEqual([
      { mode: 'baseline', lang: 'en', answerable: 2, hitAt5: 1, mrrAt10: 0.75 },
      { mode: 'baseline', lang: 'ru', answerable: 2, hitAt5: 0, mrrAt10: 1 / 7 / 2 },
      { mode: 'lexical', lang: 'en', answerable: 2, hitAt5: 1, mrrAt10: 1 },
      { mode: 'lexical', lang: 'ru', answerable: 2, hitAt5: 0.5, mrrAt10: 0.125 },
    ]);
    expect(formatLanguageTable(rows)).toMatch(/lexical\s+ru\s+2\s+50\.0%\s+0\.125/);
  });

  it('prints no language rows for a file without languages', () => {
    const { questions } = parseQuestions(line({ id: 'a', question: 'Who?', articles: ['x'] }));
    expect(languageRows(questions, new Map([['lexical', result({ a: 1 })]]))).toEqual([]);
  });

  it('ships a translated copy of part of the readers set: the same questions in English, Russian and Spanish', () => {
    const { questions } = parseQuestions(fs.readFileSync('eval/readers/translated.jsonl', 'utf8'));
    const by = (lang: string) => questions.filter((q) => q.lang === lang);
    expect(by('en').length).toBeGreaterThanOrEqual(30);
    for (const lang of ['ru', 'es']) {
      expect(by(lang).map((q) => q.id.slice(3))).toEqual(by('en').map((q) => q.id.slice(3)));
      expect(by(lang).map((q) => q.articles)).toEqual(by('en').map((q) => q.articles));
      for (const [i, q] of by(lang).entries()) expect(q.question, q.id).not.toBe(by('en')[i]!.question);
    }
  });
});
