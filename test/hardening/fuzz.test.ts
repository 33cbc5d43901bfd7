/**
 * Property-based tests: random strings and bytes through the loaders, the chunker and the
 * Telegram formatter. Nothing may throw (bad input becomes a skipped entry), and every output
 * keeps its invariants.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseArticleFile } from '../../src/articles/index.js';
import { renderAnswerHtml, splitHtml, TELEGRAM_MAX_CHARS } from '../../src/bot/format.js';
import { chunkArticle } from '../../src/chunking/index.js';
import type { Answer, Article, TokenCounter } from '../../src/types.js';
import { checkTelegramHtml } from '../support/telegram-html.js';

const words: TokenCounter = { id: 'words', count: (t) => t.split(/\s+/).filter(Boolean).length + Math.ceil(t.length / 50) + 2 };
const EXTS = ['.txt', '.md', '.html', '.json', '.jsonl', '.pdf'];
const RUNS = { numRuns: 150 };
// Telegram refuses text that is not valid UTF-8, which is what a lone surrogate becomes.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe('fuzz: loaders', () => {
  it('never throw on random bytes under any extension; each file is either articles or one skip reason', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), fc.constantFrom(...EXTS), async (bytes, ext) => {
        const r = await parseArticleFile(`fuzz${ext}`, bytes);
        expect(r.articles.length > 0 || r.skipped.length > 0).toBe(true);
        for (const s of r.skipped) expect(s.reason.length).toBeGreaterThan(0);
        for (const a of r.articles) expect(a.text.trim().length).toBeGreaterThan(0);
      }),
      RUNS,
    );
  });

  it('never throw on random text (including surrogates and control characters)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 2000 }), fc.constantFrom(...EXTS), async (text, ext) => {
        const r = await parseArticleFile(`fuzz${ext}`, new TextEncoder().encode(text));
        expect(r.articles.length + r.skipped.length).toBeGreaterThan(0);
      }),
      RUNS,
    );
  });
});

describe('fuzz: chunker', () => {
  it('keeps the token bound, exact offsets and full coverage for random text', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 3000 }),
        fc.integer({ min: 24, max: 200 }),
        fc.integer({ min: 0, max: 2 }),
        (text, maxTokens, overlap) => {
          const article: Article = { id: 'a', title: 'T', date: '2024-01-01', url: null, source: null, text, hash: 'h', path: 'a.txt' };
          const chunks = chunkArticle(article, { maxTokens, overlapSentences: overlap, counter: words });
          for (const c of chunks) {
            expect(words.count(c.embedText)).toBeLessThanOrEqual(maxTokens);
            expect(text.slice(c.start, c.end)).toBe(c.text);
          }
          const covered = new Array<boolean>(text.length).fill(false);
          for (const c of chunks) for (let i = c.start; i < c.end; i++) covered[i] = true;
          for (let i = 0; i < text.length; i++) if (!/\s/.test(text[i]!)) expect(covered[i]).toBe(true);
        },
      ),
      RUNS,
    );
  });
});

describe('fuzz: Telegram formatting', () => {
  it('renders any answer text and metadata as valid Telegram HTML within the length limit', () => {
    const str = fc.string({ unit: 'binary', maxLength: 600 });
    fc.assert(
      fc.property(str, str, fc.option(str), fc.integer({ min: 1, max: 6 }), (text, title, url, n) => {
        const answer: Answer = {
          text: `${text} [1]`,
          mode: 'llm',
          query: text,
          passages: [],
          citations: Array.from({ length: n }, (_, i) => ({
            n: i + 1,
            articleId: `a${i}`,
            title,
            date: '2024-06-27',
            url: url ?? null,
            quote: text.slice(0, 100),
          })),
        };
        const html = renderAnswerHtml(answer);
        for (const part of splitHtml(html)) {
          expect(part.length).toBeLessThanOrEqual(TELEGRAM_MAX_CHARS);
          expect(checkTelegramHtml(part)).toMatchObject({ ok: true });
          expect(part).not.toMatch(LONE_SURROGATE);
        }
      }),
      RUNS,
    );
  });

  it('splits very long HTML into valid messages', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 4000, maxLength: 20000 }), (text) => {
        const answer: Answer = { text, mode: 'llm', query: 'q', passages: [], citations: [] };
        const parts = splitHtml(renderAnswerHtml(answer));
        expect(parts.length).toBeGreaterThan(0);
        for (const p of parts) {
          expect(p.length).toBeLessThanOrEqual(TELEGRAM_MAX_CHARS);
          expect(checkTelegramHtml(p)).toMatchObject({ ok: true });
          expect(p).not.toMatch(LONE_SURROGATE);
        }
      }),
      { numRuns: 40 },
    );
  });
});
