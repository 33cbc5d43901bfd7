import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EXCERPT_GAP, passagesFor } from '../../src/retrieval/passages.js';
import type { ChunkMatch, SearchIndex, StoredChunk } from '../../src/store/search-index.js';
import { countStoredStems, encodeStems } from '../../src/util/stems.js';

const WORDS = ['volcano', 'erupted', 'village', 'ash', 'flights', 'cancelled', 'the', 'minister', 'said', 'é', 'Россия', '😀'];

/** One article's store: its text and chunks; `light` adds the count-only reads. */
function store(text: string, chunks: StoredChunk[], light: boolean): SearchIndex {
  const base = {
    article: (id: string) => (id === 'a' ? { id, title: 'T', date: '2024-01-01', url: null, source: null, path: 'a.md' } : undefined),
    articleText: (id: string) => (id === 'a' ? text : undefined),
    chunksOf: (id: string) => (id === 'a' ? chunks : []),
  };
  const extra = light
    ? {
        chunkMatches: (id: string, stems: readonly string[]): ChunkMatch[] =>
          (id === 'a' ? chunks : []).map(({ label, id: cid, articleId, ordinal, start, end, stems: kept }) => ({
            label,
            id: cid,
            articleId,
            ordinal,
            start,
            end,
            found: kept == null ? null : countStoredStems(kept, stems),
          })),
        chunkTexts: (labels: readonly number[]) =>
          new Map(chunks.filter((c) => labels.includes(c.label)).map((c) => [c.label, c.text] as const)),
      }
    : {};
  return { ...base, ...extra } as unknown as SearchIndex;
}

/** Chunks over `text` from (start, length) pairs in reading order: overlapping, touching or with gaps. */
function chunksOver(text: string, spans: [number, number][], stored: boolean): StoredChunk[] {
  return spans
    .map(([s, n]) => [Math.min(s, text.length), Math.min(s + n, text.length)] as const)
    .sort((x, y) => x[0] - y[0])
    .map(([start, end], ordinal) => {
      const t = text.slice(start, end);
      return {
        label: 100 + ordinal,
        id: `a#${ordinal}`,
        articleId: 'a',
        ordinal,
        start,
        end,
        text: t,
        stems: stored ? encodeStems(t) : null,
      };
    });
}

describe('passages', () => {
  it('are the same whether the store counts stems itself or hands over every chunk', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...WORDS, ' ', '. ', '\n\n'), { minLength: 1, maxLength: 80 }),
        fc.array(fc.tuple(fc.nat(300), fc.integer({ min: 1, max: 60 })), { minLength: 1, maxLength: 8 }),
        fc.array(fc.tuple(fc.nat(7), fc.double({ min: 0.1, max: 10, noNaN: true })), { maxLength: 4 }),
        fc.array(fc.tuple(fc.nat(7), fc.double({ min: -1, max: 1, noNaN: true })), { maxLength: 4 }),
        fc.subarray(['volcano', 'erupt', 'ash', 'flight', 'россия']),
        fc.boolean(),
        async (parts, spans, lexical, dense, queryStems, stored) => {
          const text = parts.join('');
          const chunks = chunksOver(text, spans, stored);
          const scoring = {
            lexical: new Map(lexical.map(([i, s]) => [100 + i, s])),
            queryStems,
            dense: new Map(dense.map(([i, s]) => [100 + i, s])),
            maxChunksPerArticle: 3,
          };
          const ranked = [{ articleId: 'a', date: '2024-01-01', score: 1, article: 1, chunk: 0, dense: 0 }];
          const full = await passagesFor(store(text, chunks, false), ranked, scoring);
          const light = await passagesFor(store(text, chunks, true), ranked, scoring);
          expect(light).toEqual(full);
          for (const p of light) {
            const picked = chunks.filter((c) => p.chunkIds.includes(c.id));
            expect(p.text.split(EXCERPT_GAP).join('')).toBe(
              runsOf(picked)
                .map(([s, e]) => text.slice(s, e))
                .join(''),
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('take the text between two adjacent chunks that do not overlap from the article', async () => {
    const text = 'Ash fell on the village.   Flights were cancelled.';
    const chunks = chunksOver(
      text,
      [
        [0, 24],
        [27, 23],
      ],
      true,
    );
    const scoring = {
      lexical: new Map([
        [100, 2],
        [101, 2],
      ]),
      queryStems: ['ash'],
      dense: new Map<number, number>(),
      maxChunksPerArticle: 2,
    };
    const ranked = [{ articleId: 'a', date: null, score: 1, article: 1, chunk: 0, dense: 0 }];
    const [p] = await passagesFor(store(text, chunks, true), ranked, scoring);
    expect(p?.text).toBe(text);
    expect(p?.chunkIds).toEqual(['a#0', 'a#1']);
  });
});

/** Merged [start, end) of runs of consecutive ordinals. */
function runsOf(chunks: StoredChunk[]): [number, number][] {
  const runs: [number, number][] = [];
  let prev = Number.NaN;
  for (const c of chunks) {
    const last = runs[runs.length - 1];
    if (last && c.ordinal === prev + 1) last[1] = Math.max(last[1], c.end);
    else runs.push([c.start, c.end]);
    prev = c.ordinal;
  }
  return runs;
}
