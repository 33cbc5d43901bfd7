/** Token counters and invariant checks shared by the chunking tests. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { Article, Chunk, TokenCounter } from '../../src/types.js';

/** One token per whitespace-separated word, plus CLS and SEP. */
export const wordCounter: TokenCounter = {
  id: 'test:words',
  count: (text) => (text.match(/\S+/g)?.length ?? 0) + 2,
};

/**
 * WordPiece-like: punctuation marks are tokens of their own and long letter/digit runs cost
 * several tokens, so a 20k-character run without spaces is far over any budget.
 */
export const punctuationCounter: TokenCounter = {
  id: 'test:punct',
  count: (text) => {
    let n = 2;
    for (const m of text.matchAll(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu)) n += /[\p{L}\p{N}]/u.test(m[0]) ? Math.ceil(m[0].length / 6) : 1;
    return n;
  },
};

/** Charges for line breaks, so sentence counts underestimate chunks that span paragraphs. */
export const newlineCounter: TokenCounter = {
  id: 'test:newline',
  count: (text) => punctuationCounter.count(text) + (text.match(/\n/g)?.length ?? 0),
};

/** One token per code point, so surrogate pairs make a difference. */
export const codePointCounter: TokenCounter = {
  id: 'test:codepoints',
  count: (text) => [...text].length + 2,
};

/** Wraps a counter to record how much work chunking asks of it. */
export function metered(inner: TokenCounter): TokenCounter & { calls: number; chars: number } {
  const m = {
    id: inner.id,
    calls: 0,
    chars: 0,
    count(text: string): number {
      m.calls++;
      m.chars += text.length;
      return inner.count(text);
    },
  };
  return m;
}

const SEED = fileURLToPath(new URL('../../seeds/000_cc2b64a9889106ac.txt', import.meta.url));

/** The shipped seed article, with its `date ...` prefix moved into the date field as the loader does. */
export function seedArticle(): Article {
  const raw = readFileSync(SEED, 'utf8');
  const m = /^\s*date\s+(\d{4}-\d{2}-\d{2})\s+/.exec(raw);
  if (!m) throw new Error('seed article no longer starts with a date line');
  return article(raw.slice(m[0].length), { title: 'Russian interior minister Kolokoltsev at UN police summit', date: m[1] ?? null });
}

/** An article around `text` with test defaults. */
export function article(text: string, over: Partial<Article> = {}): Article {
  return { id: 'a/1.txt', title: 'Test title', date: '2024-06-27', url: null, source: null, text, hash: 'h', path: 'a/1.txt', ...over };
}

/** Asserts everything the index relies on about a chunk list. */
export function expectValidChunks(a: Article, chunks: Chunk[], maxTokens: number, counter: TokenCounter): void {
  let header: string | undefined;
  chunks.forEach((c, i) => {
    expect(c.ordinal).toBe(i);
    expect(c.id).toBe(`${a.id}#${i}`);
    expect(c.articleId).toBe(a.id);
    expect(c.text.length).toBeGreaterThan(0);
    expect(a.text.slice(c.start, c.end)).toBe(c.text);
    expect(c.text.trim()).toBe(c.text);
    expect(c.embedText.endsWith(c.text)).toBe(true);
    const h = c.embedText.slice(0, c.embedText.length - c.text.length);
    header ??= h;
    expect(h).toBe(header);
    expect(c.tokens).toBe(counter.count(c.embedText));
    expect(c.tokens).toBeLessThanOrEqual(maxTokens);
    const prev = chunks[i - 1];
    if (prev) {
      expect(c.start).toBeGreaterThan(prev.start);
      expect(c.end).toBeGreaterThan(prev.end);
    }
  });
  expectCoverage(a.text, chunks);
}

/** Every non-whitespace character lies inside some chunk. */
export function expectCoverage(text: string, chunks: Chunk[]): void {
  let covered = 0;
  for (const c of chunks) {
    expect(text.slice(covered, Math.max(covered, c.start)).trim()).toBe('');
    covered = Math.max(covered, c.end);
  }
  expect(text.slice(covered).trim()).toBe('');
}

/** Sentences of `text` as Intl.Segmenter sees them, trimmed. */
export function sentences(text: string): string[] {
  const seg = new Intl.Segmenter('en', { granularity: 'sentence' });
  return [...seg.segment(text)].map((s) => s.segment.trim()).filter((s) => s.length > 0);
}
