import { describe, expect, it } from 'vitest';
import { chunkArticle, chunkerSettingsId } from '../../src/chunking/index.js';
import type { TokenCounter } from '../../src/types.js';
import {
  article,
  codePointCounter,
  expectValidChunks,
  metered,
  newlineCounter,
  punctuationCounter,
  seedArticle,
  sentences,
  wordCounter,
} from './helpers.js';

const counters: TokenCounter[] = [wordCounter, punctuationCounter, newlineCounter];

/** `n` short sentences of 6 words each ("Sentence 3 of the list." ...). */
function shortSentences(n: number, tag = 'list'): string {
  return Array.from({ length: n }, (_, i) => `Sentence ${i} of the ${tag} here.`).join(' ');
}

describe('chunkArticle on the seed article', () => {
  for (const counter of counters) {
    for (const maxTokens of [32, 64, 256]) {
      for (const overlapSentences of [0, 1, 2]) {
        it(`keeps every invariant with ${counter.id}, budget ${maxTokens}, overlap ${overlapSentences}`, () => {
          const a = seedArticle();
          const chunks = chunkArticle(a, { maxTokens, overlapSentences, counter });
          expect(chunks.length).toBeGreaterThan(0);
          expectValidChunks(a, chunks, maxTokens, counter);
        });
      }
    }
  }

  it('fits the short seed article in few chunks at a generous budget', () => {
    const a = seedArticle();
    const chunks = chunkArticle(a, { maxTokens: 512, overlapSentences: 1, counter: wordCounter });
    // ~370 words: one chunk, or two if a paragraph boundary was preferred.
    expect(chunks.length).toBeLessThanOrEqual(2);
  });

  it('puts title and date in the header of every chunk', () => {
    const a = seedArticle();
    const chunks = chunkArticle(a, { maxTokens: 256, overlapSentences: 1, counter: wordCounter });
    for (const c of chunks) expect(c.embedText).toBe(`${a.title} (2024-06-27)\n\n${c.text}`);
  });

  it('is deterministic', () => {
    const options = { maxTokens: 64, overlapSentences: 1, counter: punctuationCounter };
    expect(chunkArticle(seedArticle(), options)).toEqual(chunkArticle(seedArticle(), options));
  });
});

describe('header', () => {
  it('is just the title when the date is unknown', () => {
    const a = article('One sentence here.', { title: 'Plain title', date: null });
    const [c] = chunkArticle(a, { maxTokens: 64, overlapSentences: 0, counter: wordCounter });
    expect(c?.embedText).toBe('Plain title\n\nOne sentence here.');
  });

  it('truncates a very long title to a quarter of the budget but keeps the date', () => {
    const title = Array.from({ length: 200 }, (_, i) => `word${i}`).join(' ');
    const a = article(shortSentences(20), { title });
    const chunks = chunkArticle(a, { maxTokens: 64, overlapSentences: 0, counter: wordCounter });
    expectValidChunks(a, chunks, 64, wordCounter);
    const header = chunks[0]?.embedText.split('\n\n')[0] ?? '';
    expect(header.startsWith('word0 word1')).toBe(true);
    expect(header).toContain('…');
    expect(header.endsWith('(2024-06-27)')).toBe(true);
    expect(wordCounter.count(header) - wordCounter.count('')).toBeLessThanOrEqual(16);
  });

  it('truncates a long title without spaces between characters', () => {
    const a = article(shortSentences(5), { title: 'x'.repeat(5000), date: null });
    const chunks = chunkArticle(a, { maxTokens: 64, overlapSentences: 0, counter: punctuationCounter });
    expectValidChunks(a, chunks, 64, punctuationCounter);
    const header = chunks[0]?.embedText.split('\n\n')[0] ?? '';
    expect(header).toMatch(/^x+…$/);
    expect(punctuationCounter.count(header) - punctuationCounter.count('')).toBeLessThanOrEqual(16);
  });

  it('collapses line breaks inside the title so the header stays one line', () => {
    const a = article('Body.', { title: 'Two\nlines', date: null });
    expect(chunkArticle(a, { maxTokens: 64, overlapSentences: 0, counter: wordCounter })[0]?.embedText).toBe('Two lines\n\nBody.');
  });
});

describe('overlap', () => {
  const a = article(shortSentences(60));

  it('starts each chunk with the last sentence of the previous one', () => {
    const chunks = chunkArticle(a, { maxTokens: 64, overlapSentences: 1, counter: wordCounter });
    expect(chunks.length).toBeGreaterThan(3);
    for (let i = 1; i < chunks.length; i++) {
      const last = sentences((chunks[i - 1] as { text: string }).text).at(-1) ?? '';
      expect(chunks[i]?.text.startsWith(last + ' ')).toBe(true);
      expect(chunks[i]?.start).toBe((chunks[i - 1]?.end ?? 0) - last.length);
    }
  });

  it('repeats the last two sentences with overlap 2', () => {
    const chunks = chunkArticle(a, { maxTokens: 64, overlapSentences: 2, counter: wordCounter });
    for (let i = 1; i < chunks.length; i++) {
      const lastTwo = sentences(chunks[i - 1]?.text ?? '')
        .slice(-2)
        .join(' ');
      expect(chunks[i]?.text.startsWith(lastTwo + ' ')).toBe(true);
    }
  });

  it('shares no text between chunks with overlap 0', () => {
    const chunks = chunkArticle(a, { maxTokens: 64, overlapSentences: 0, counter: wordCounter });
    for (let i = 1; i < chunks.length; i++) expect(chunks[i]?.start).toBeGreaterThan(chunks[i - 1]?.end ?? Infinity);
  });

  it('gives up overlap rather than exceeding the budget', () => {
    // Each sentence costs 20 of the 28 text tokens: a sentence plus its overlap never fits.
    const long = Array.from({ length: 6 }, (_, i) => `Long sentence ${i} ${'filler '.repeat(16)}ends.`).join(' ');
    const b = article(long);
    const chunks = chunkArticle(b, { maxTokens: 34, overlapSentences: 3, counter: wordCounter });
    expectValidChunks(b, chunks, 34, wordCounter);
    expect(chunks).toHaveLength(6);
  });
});

describe('title abbreviations', () => {
  // Node's ICU segmenter ends a sentence after "Mr."; the chunker must not cut there.
  const text = Array.from({ length: 24 }, (_, i) => `Talks ${i} were held with Mr. Lacroix and Dr. Volk in the city today.`).join(' ');
  const a = article(text);

  for (const overlapSentences of [0, 1, 2]) {
    it(`never ends a chunk right after "Mr." or "Dr." (overlap ${overlapSentences})`, () => {
      for (const maxTokens of [20, 40, 64]) {
        const chunks = chunkArticle(a, { maxTokens, overlapSentences, counter: wordCounter });
        expectValidChunks(a, chunks, maxTokens, wordCounter);
        expect(chunks.length).toBeGreaterThan(3);
        for (const c of chunks) {
          expect(c.text).not.toMatch(/\b(?:Mr|Dr)\.$/);
          // Every chunk holds whole sentences: it starts a sentence and ends one.
          expect(c.text).toMatch(/^Talks \d+ /);
          expect(c.text.endsWith('today.')).toBe(true);
        }
      }
    });
  }

  it('repeats the whole last sentence, title and name included, as overlap', () => {
    const chunks = chunkArticle(a, { maxTokens: 40, overlapSentences: 1, counter: wordCounter });
    expect(chunks.length).toBeGreaterThan(3);
    for (let i = 1; i < chunks.length; i++) {
      const prev = chunks[i - 1]!.text;
      const last = prev.slice(prev.lastIndexOf('Talks '));
      // Not "Talks 2 were held with Mr.": the overlap is a whole sentence.
      expect(last).toMatch(/^Talks \d+ were held with Mr\. Lacroix and Dr\. Volk in the city today\.$/);
      expect(chunks[i]!.text.startsWith(last + ' ')).toBe(true);
      expect(chunks[i]!.start).toBe(chunks[i - 1]!.end - last.length);
    }
  });
});

describe('paragraphs', () => {
  it('breaks at a paragraph boundary once a chunk is reasonably full', () => {
    const first = shortSentences(6, 'first');
    const text = `${first}\n\n${shortSentences(6, 'second')}`;
    const a = article(text, { title: 'T', date: null });
    // 37 words per paragraph: both do not fit in 60 text tokens, one does and fills it over half.
    const chunks = chunkArticle(a, { maxTokens: 64, overlapSentences: 0, counter: wordCounter });
    expectValidChunks(a, chunks, 64, wordCounter);
    expect(chunks[0]?.text).toBe(first);
  });

  it('keeps filling across paragraphs while a chunk is mostly empty', () => {
    const text = `Short opener.\n\n${shortSentences(20)}`;
    const a = article(text, { title: 'T', date: null });
    const chunks = chunkArticle(a, { maxTokens: 64, overlapSentences: 0, counter: wordCounter });
    expect(chunks[0]?.text.startsWith('Short opener.\n\nSentence 0')).toBe(true);
  });

  it('joins small paragraphs into one chunk', () => {
    const text = 'First paragraph.\n\nSecond paragraph.\r\n\r\nThird one.';
    const a = article(text);
    const chunks = chunkArticle(a, { maxTokens: 64, overlapSentences: 1, counter: wordCounter });
    expect(chunks).toHaveLength(1);
    expect(chunks[0]?.text).toBe(text);
  });

  it('slices exactly around surrounding and inner whitespace', () => {
    const text = '\n\n  First paragraph here.  \r\n \r\n\tSecond one.\u00a0 Third.  \n\n\n';
    const a = article(text);
    for (const maxTokens of [10, 64]) {
      const chunks = chunkArticle(a, { maxTokens, overlapSentences: 1, counter: wordCounter });
      expectValidChunks(a, chunks, maxTokens, wordCounter);
    }
  });
});

describe('long inputs', () => {
  it('packs a long paragraph into nearly full chunks', () => {
    const a = article(shortSentences(400));
    const chunks = chunkArticle(a, { maxTokens: 128, overlapSentences: 1, counter: punctuationCounter });
    expectValidChunks(a, chunks, 128, punctuationCounter);
    for (const c of chunks.slice(0, -1)) expect(c.tokens).toBeGreaterThan(100);
  });

  it('splits a single 5,000-word sentence at word boundaries', () => {
    const words = Array.from({ length: 5000 }, (_, i) => `w${i}`);
    const a = article(`${words.join(' ')}.`);
    for (const counter of [wordCounter, punctuationCounter]) {
      const chunks = chunkArticle(a, { maxTokens: 64, overlapSentences: 1, counter });
      expectValidChunks(a, chunks, 64, counter);
      for (const c of chunks) {
        expect(c.text).toMatch(/^w\d+( |$)/);
        expect(c.text).toMatch(/(^| )w\d+\.?$/);
      }
    }
  });

  it('counts tokens in near-linear work for a giant sentence', () => {
    const words = Array.from({ length: 5000 }, (_, i) => `w${i}`);
    const a = article(`${words.join(' ')}.`);
    const counter = metered(punctuationCounter);
    const chunks = chunkArticle(a, { maxTokens: 64, overlapSentences: 1, counter });
    expectValidChunks(a, chunks, 64, punctuationCounter);
    // Re-counting growing prefixes would cost ~chunks × text length (~300×) here.
    expect(counter.chars).toBeLessThan(30 * a.text.length);
    expect(counter.calls).toBeLessThan(20 * chunks.length);
  });

  it('keeps a 20k-character word whole when the counter says it is one token', () => {
    const a = article(`Intro sentence. ${'a'.repeat(20_000)} outro.`);
    const chunks = chunkArticle(a, { maxTokens: 32, overlapSentences: 1, counter: wordCounter });
    expectValidChunks(a, chunks, 32, wordCounter);
  });

  it('hard-splits a 20k-character string without spaces', () => {
    const a = article(`Intro sentence. ${'a'.repeat(20_000)} outro.`);
    const counter = metered(punctuationCounter);
    const chunks = chunkArticle(a, { maxTokens: 32, overlapSentences: 1, counter });
    expectValidChunks(a, chunks, 32, punctuationCounter);
    expect(chunks.length).toBeGreaterThan(100);
    expect(counter.chars).toBeLessThan(30 * a.text.length);
    expect(counter.calls).toBeLessThan(20 * chunks.length);
  });

  it('splits a 20k-character URL at its punctuation before cutting inside words', () => {
    const url = 'https://example.com/' + Array.from({ length: 2500 }, (_, i) => `p${i}`).join('/');
    const a = article(`See ${url} for details.`);
    const alnum = (ch: string | undefined) => ch !== undefined && /[a-z0-9]/i.test(ch);
    for (const counter of [punctuationCounter, codePointCounter]) {
      const chunks = chunkArticle(a, { maxTokens: 48, overlapSentences: 1, counter });
      expectValidChunks(a, chunks, 48, counter);
      expect(chunks.length).toBeGreaterThan(50);
      // Word boundaries inside the URL are enough: no path segment like "p1234" is cut in two.
      for (const c of chunks) {
        expect(alnum(a.text[c.start - 1]) && alnum(a.text[c.start])).toBe(false);
        expect(alnum(a.text[c.end - 1]) && alnum(a.text[c.end])).toBe(false);
      }
    }
  });

  it('never cuts a surrogate pair in half', () => {
    const a = article('😀'.repeat(5000));
    const chunks = chunkArticle(a, { maxTokens: 40, overlapSentences: 0, counter: codePointCounter });
    expectValidChunks(a, chunks, 40, codePointCounter);
    for (const c of chunks) expect(c.text).toMatch(/^(😀)+$/u);
  });

  it('never cuts a multi-code-point grapheme in half', () => {
    // One 6,000-code-point "word" of e + combining accent, so only grapheme cuts are left. No
    // header, so the text budget is 39 code points: odd, while each letter is two.
    const a = article('e\u0301'.repeat(3000), { title: '', date: null });
    const chunks = chunkArticle(a, { maxTokens: 41, overlapSentences: 0, counter: codePointCounter });
    expectValidChunks(a, chunks, 41, codePointCounter);
    expect(chunks.length).toBeGreaterThan(100);
    for (const c of chunks) {
      expect(c.embedText).toBe(c.text);
      expect(c.text).toMatch(/^(e\u0301)+$/u);
    }
  });

  it('stays within budget when separators cost tokens the sentence counts missed', () => {
    const text = Array.from({ length: 40 }, (_, i) => `Para ${i} says a thing.\n\n\n\n`).join('');
    const a = article(text);
    const chunks = chunkArticle(a, { maxTokens: 40, overlapSentences: 1, counter: newlineCounter });
    expectValidChunks(a, chunks, 40, newlineCounter);
  });
});

describe('edge cases', () => {
  it('yields no chunks for empty or blank text', () => {
    expect(chunkArticle(article(''), { maxTokens: 64, overlapSentences: 1, counter: wordCounter })).toEqual([]);
    expect(chunkArticle(article(' \n\n \t'), { maxTokens: 64, overlapSentences: 1, counter: wordCounter })).toEqual([]);
  });

  it('rejects a budget too small to hold text after the special tokens', () => {
    expect(() => chunkArticle(article('Some text.'), { maxTokens: 2, overlapSentences: 0, counter: wordCounter })).toThrow(RangeError);
  });

  it('rejects nonsensical options', () => {
    expect(() => chunkArticle(article('x'), { maxTokens: 0, overlapSentences: 0, counter: wordCounter })).toThrow(RangeError);
    expect(() => chunkArticle(article('x'), { maxTokens: 64, overlapSentences: -1, counter: wordCounter })).toThrow(RangeError);
  });

  it('works at the smallest budget that still holds a word', () => {
    const a = seedArticle();
    const chunks = chunkArticle(a, { maxTokens: 4, overlapSentences: 1, counter: wordCounter });
    expectValidChunks(a, chunks, 4, wordCounter);
  });
});

describe('chunkerSettingsId', () => {
  it('changes with each setting', () => {
    const base = { maxTokens: 256, overlapSentences: 1, counter: wordCounter };
    const id = chunkerSettingsId(base);
    expect(id).toContain('256');
    expect(id).toContain('test:words');
    expect(chunkerSettingsId({ ...base, maxTokens: 128 })).not.toBe(id);
    expect(chunkerSettingsId({ ...base, overlapSentences: 2 })).not.toBe(id);
    expect(chunkerSettingsId({ ...base, counter: punctuationCounter })).not.toBe(id);
    expect(chunkerSettingsId({ ...base })).toBe(id);
  });
});
