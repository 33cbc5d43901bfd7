import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LlmUnavailableError, type LlmClient } from '../../src/answering/index.js';
import { answerWords, citationIsValid, citationIsVerbatim, firstSentence, judgeAnswer } from '../../src/eval/answers.js';
import { compareReports, readReport, REPORT_VERSION, type EvalReport } from '../../src/eval/report.js';
import { formatTable } from '../../src/util/table.js';
import type { ModeMetrics } from '../../src/eval/retrieval.js';
import type { Citation, Passage } from '../../src/types.js';
import { tempDir } from '../support/stack.js';

const passage = (articleId: string, text: string): Passage => ({
  articleId,
  title: 't',
  date: null,
  url: null,
  source: null,
  chunkIds: [`${articleId}#0`],
  start: 0,
  end: text.length,
  text,
  score: 1,
});
const cite = (n: number, articleId: string, quote: string): Citation => ({ n, articleId, title: 't', date: null, url: null, quote });

describe('citation checks', () => {
  const answer = {
    passages: [passage('a', 'First sentence here. Second one follows.\n\nThird sentence ends it.'), passage('b', 'Other article text.')],
  };

  it('accepts a contiguous quote, whatever the line breaks', () => {
    const c = cite(1, 'a', 'Second one follows. Third sentence ends it.');
    expect(citationIsValid(c, answer)).toBe(true);
    expect(citationIsVerbatim(c, answer)).toBe(true);
  });

  it('accepts sentences joined across a gap as valid but not verbatim', () => {
    const c = cite(1, 'a', 'First sentence here. Third sentence ends it.');
    expect(citationIsValid(c, answer)).toBe(true);
    expect(citationIsVerbatim(c, answer)).toBe(false);
  });

  it('accepts lines without final punctuation joined into one quote', () => {
    const listing = {
      passages: [
        passage('a', 'Conservative Party - 365 seats\n\nLabour Party - 203 seats\n\nThe Blyth Valley seat elected a conservative.'),
      ],
    };
    const c = cite(1, 'a', 'Conservative Party - 365 seats The Blyth Valley seat elected a conservative.');
    expect(citationIsValid(c, listing)).toBe(true);
    expect(citationIsVerbatim(c, listing)).toBe(false);
  });

  it('rejects a quote stitched from many short scraps of the passage', () => {
    // Short scraps occur anywhere; four reordered sentences are a collage, not a quote.
    const p = { passages: [passage('a', 'the seats were won. the party lost. it was not a majority. the vote was close.')] };
    expect(citationIsValid(cite(1, 'a', 'the party won the vote'), p)).toBe(false);
    expect(citationIsValid(cite(1, 'a', 'the vote was close. the party lost. the seats were won. it was not a majority.'), p)).toBe(false);
  });

  it('accepts a quote cut with an ellipsis', () => {
    expect(citationIsValid(cite(1, 'a', 'First sentence\u2026'), answer)).toBe(true);
  });

  it('rejects text the passage does not contain', () => {
    expect(citationIsValid(cite(1, 'a', 'First sentence here. Invented claim.'), answer)).toBe(false);
  });

  it('rejects a citation whose number names another article or no passage', () => {
    expect(citationIsValid(cite(2, 'a', 'Other article text.'), answer)).toBe(false);
    expect(citationIsValid(cite(3, 'a', 'First sentence here.'), answer)).toBe(false);
    expect(citationIsVerbatim(cite(0, 'a', 'First sentence here.'), answer)).toBe(false);
  });
});

describe('first sentence and words', () => {
  it("takes an extractive answer's first quote, past any label or notice", () => {
    const text =
      'I have no articles from 2003.\n\nExtracted from the articles (no AI summary):\n\n\u201COne is first.\u201D [1]\n\n\u201CTwo is next.\u201D [2]';
    expect(firstSentence({ text, mode: 'extractive' })).toBe('One is first.');
  });

  it("takes a model answer's first sentence, past a period notice", () => {
    expect(firstSentence({ text: 'Lacroix is meeting him [1]. He asked for more.', mode: 'llm' })).toBe('Lacroix is meeting him [1].');
    expect(firstSentence({ text: 'I have no articles from June 2003 (x).\n\nIt cost $5 [1]. More.', mode: 'llm' })).toBe('It cost $5 [1].');
  });

  it('has no first sentence for "not covered"', () => {
    expect(firstSentence({ text: "The articles I have don't cover this. The closest articles are: Ohio", mode: 'not-covered' })).toBe('');
  });

  it('counts words without the extractive label', () => {
    expect(answerWords('Extracted from the articles (no AI summary):\n\n\u201COne two three.\u201D [1]')).toBe(4);
  });
});

describe('judgeAnswer', () => {
  const client = (reply: string | Error): LlmClient => ({
    complete: async () => {
      if (reply instanceof Error) throw reply;
      return reply;
    },
    stream: async () => {
      throw new Error('the judge must not stream');
    },
  });

  it('reads YES and NO verdicts, tolerating case and punctuation', async () => {
    expect(await judgeAnswer(client('YES'), 'q', 'g', 'a')).toBe(true);
    expect(await judgeAnswer(client('no.'), 'q', 'g', 'a')).toBe(false);
    expect(await judgeAnswer(client('"Yes", it does'), 'q', 'g', 'a')).toBe(true);
  });

  it('gives no verdict for an unclear reply or an unavailable model', async () => {
    expect(await judgeAnswer(client('Maybe'), 'q', 'g', 'a')).toBeNull();
    expect(await judgeAnswer(client('Yesterday it was'), 'q', 'g', 'a')).toBeNull();
    const down = new LlmUnavailableError({ kind: 'connection', retryable: true }, new Error('down'));
    expect(await judgeAnswer(client(down), 'q', 'g', 'a')).toBeNull();
  });

  it('lets programmer errors through', async () => {
    await expect(judgeAnswer(client(new TypeError('bug')), 'q', 'g', 'a')).rejects.toThrow('bug');
  });
});

function metrics(mode: ModeMetrics['mode'], hit: number): ModeMetrics {
  return {
    mode,
    answerable: 10,
    hitAt1: hit,
    hitAt5: hit,
    hitAt10: hit,
    mrrAt10: hit,
    ndcgAt10: hit,
    withQuote: 10,
    quoteRecall: hit,
    unanswerable: 2,
    unanswerableNotCovered: 0.5,
    answerableNotCovered: 0.1,
    latencyMs: { p50: 1, p95: 2 },
  };
}

function report(modes: EvalReport['modes'], k = 10): EvalReport {
  return {
    version: REPORT_VERSION,
    timestamp: '2024-06-27T00:00:00.000Z',
    machine: { os: 'x', arch: 'x', cpus: 2, cpuModel: 'x', memoryGb: 4, node: 'v20' },
    config: {
      articlesDir: '/a',
      questionsFile: '/q',
      indexDir: `/i${k}`,
      embeddingModel: null,
      k,
      answerK: 6,
      denseWeight: 1,
      lexicalWeight: 1,
      maxChunksPerArticle: 3,
      chunkMaxTokens: 256,
      rerankModel: null,
      condense: 'deterministic',
    },
    dataset: { articles: 3, chunks: 9, questions: 12, answerable: 10, unanswerable: 2, followUps: 1, withQuote: 10, withAnswer: 10 },
    index: { seconds: 0, added: 3, changed: 0, removed: 0, unchanged: 0 },
    modes,
    skippedModes: [],
    answers: null,
    answersSkipped: 'off',
    questions: [],
  };
}

describe('compareReports', () => {
  it('shows each metric of both reports and the signed difference', () => {
    const out = compareReports(
      report({ lexical: metrics('lexical', 0.5) }),
      report({ lexical: metrics('lexical', 0.6), dense: metrics('dense', 0.4) }, 5),
    );
    expect(out).toMatch(/lexical Hit@1\s+50\.0%\s+60\.0%\s+\+10\.0 pt/);
    expect(out).toMatch(/lexical MRR@10\s+0\.500\s+0\.600\s+\+0\.100/);
    expect(out).toMatch(/dense Hit@5\s+—\s+40\.0%/);
    expect(out).toContain('Settings differ: k 10 → 5');
    expect(out).not.toContain('indexDir');
  });

  it('shows a drop with a minus sign', () => {
    expect(compareReports(report({ lexical: metrics('lexical', 0.9) }), report({ lexical: metrics('lexical', 0.8) }))).toMatch(
      /lexical Hit@10\s+90\.0%\s+80\.0%\s+−10\.0 pt/,
    );
  });
});

describe('readReport', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads a report it wrote and refuses other JSON, other versions and missing files', () => {
    const d = tempDir('eval-report-');
    dir = d;
    const good = path.join(d, 'good.json');
    fs.writeFileSync(good, JSON.stringify(report({ lexical: metrics('lexical', 1) })));
    expect(readReport(good).modes.lexical?.hitAt1).toBe(1);
    const other = path.join(d, 'other.json');
    fs.writeFileSync(other, JSON.stringify({ hello: 1 }));
    expect(() => readReport(other)).toThrow(/not an evaluation report/);
    const old = path.join(d, 'old.json');
    fs.writeFileSync(old, JSON.stringify({ ...report({}), version: 99 }));
    expect(() => readReport(old)).toThrow(/version 99/);
    expect(() => readReport(path.join(d, 'missing.json'))).toThrow(/not found/);
  });
});

describe('formatTable', () => {
  it('aligns the first column left and the others right', () => {
    expect(
      formatTable(
        ['mode', 'Hit@1'],
        [
          ['lexical', '9.0%'],
          ['dense', '10.0%'],
        ],
      ),
    ).toBe(['mode     Hit@1', '-------  -----', 'lexical   9.0%', 'dense    10.0%'].join('\n'));
  });
});
