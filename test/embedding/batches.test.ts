import fc from 'fast-check';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadArticles } from '../../src/articles/index.js';
import { chunkArticle } from '../../src/chunking/index.js';
import { lengthSortedBatches, paddedTokens } from '../../src/embedding/batches.js';
import { estimatedWordPieceCounter } from '../../src/embedding/index.js';
import { indexArticles } from '../../src/library/pipeline.js';
import { IndexReader } from '../../src/store/reader.js';
import type { Embedder } from '../../src/types.js';
import { CORPUS } from '../support/corpus.js';
import { tempDir, writeFiles } from '../support/stack.js';

describe('length-sorted embedding batches', () => {
  it('hold every input once, at most batchSize each, longest first inside a window', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 512 }), { maxLength: 300 }), fc.integer({ min: 1, max: 20 }), (lengths, size) => {
        const batches = lengthSortedBatches(lengths, size);
        expect(batches.flat().sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
        for (const b of batches) expect(b.length).toBeLessThanOrEqual(size);
        const order = batches.flat();
        const window = size * 32;
        for (let i = 1; i < order.length; i++) {
          if (i % window !== 0) expect(lengths[order[i]!]!).toBeLessThanOrEqual(lengths[order[i - 1]!]!);
        }
      }),
    );
  });

  it('pad less than batches in reading order', () => {
    // Articles of three full chunks and a short last one, as news articles are chunked.
    const lengths = Array.from({ length: 64 }, (_, i) => (i % 4 === 3 ? 40 : 250));
    const inOrder = Array.from({ length: 16 }, (_, b) => [0, 1, 2, 3].map((j) => b * 4 + j));
    const real = lengths.reduce((a, b) => a + b, 0);
    expect(paddedTokens(lengths, inOrder) / real).toBeGreaterThan(1.2);
    expect(paddedTokens(lengths, lengthSortedBatches(lengths, 4))).toBe(real);
  });

  it('the index stores each chunk with its own vector, whatever order the batches ran in', async () => {
    const root = tempDir();
    try {
      writeFiles(path.join(root, 'articles'), CORPUS);
      const loaded = await loadArticles(path.join(root, 'articles'), { maxFileBytes: 1e6 });
      const vectorOf = (text: string) => {
        const v = new Float32Array(8);
        for (let i = 0; i < text.length; i++) v[i % 8]! += text.charCodeAt(i);
        const n = Math.hypot(...v);
        return v.map((x) => x / n);
      };
      const calls: string[][] = [];
      const embedder: Embedder = {
        id: 'test:text-vectors',
        dimension: 8,
        maxTokens: 512,
        tokenizer: estimatedWordPieceCounter,
        embedDocuments: async (texts) => {
          calls.push(texts);
          return texts.map(vectorOf);
        },
        embedQuery: async (text) => vectorOf(text),
      };
      const chunking = { maxTokens: 60, overlapSentences: 0 };
      const indexDir = path.join(root, 'index');
      await indexArticles({
        indexDir,
        loaded,
        embedder,
        counter: estimatedWordPieceCounter,
        chunking,
        hnsw: { m: 8, efConstruction: 50 },
        batchSize: 3,
      });
      const reader = IndexReader.open(indexDir) as IndexReader;
      try {
        let checked = 0;
        for (const article of loaded.articles) {
          const made = chunkArticle(article, { ...chunking, counter: estimatedWordPieceCounter });
          for (const stored of reader.chunksOf(article.id)) {
            const embedText = made.find((c) => c.id === stored.id)!.embedText;
            expect(Array.from(reader.vector(stored.label)!)).toEqual(Array.from(vectorOf(embedText)));
            checked++;
          }
        }
        expect(checked).toBe(calls.flat().length);
        expect(calls.flat()).not.toEqual(
          loaded.articles.flatMap((a) => chunkArticle(a, { ...chunking, counter: estimatedWordPieceCounter }).map((c) => c.embedText)),
        );
      } finally {
        reader.close();
      }
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
