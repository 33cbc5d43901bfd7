import { describe, expect, it } from 'vitest';
import { chunkArticle } from '../../src/chunking/index.js';
import { approximateTokenCounter } from '../../src/embedding/index.js';
import {
  createRng,
  sentencePool,
  SyntheticSpace,
  syntheticArticles,
  syntheticEmbedder,
  syntheticQuestions,
} from '../../src/bench/synthetic.js';
import type { Article } from '../../src/types.js';

const SENTENCES = [
  'The city council approved the new budget for public transport after a long debate on Tuesday.',
  'Engineers said the bridge would reopen to traffic once the final safety inspection was complete.',
  'Researchers at the university published a study on the migration of birds across the northern sea.',
  'The football club announced that its captain had signed a contract extension for three more seasons.',
  'Officials warned residents near the volcano to prepare for a possible evacuation later this week.',
  'In March 2021 the national museum reopened its galleries with twelve hundred restored paintings.',
];
const corpus: Article[] = [
  { id: 'a', title: 'Budget news', date: '2020-01-01', url: null, source: null, text: SENTENCES.join(' '), hash: 'x', path: 'a.md' },
];

describe('synthetic benchmark data', () => {
  it('makes exactly the requested number of chunks, as the index build will cut them', () => {
    const chunking = { maxTokens: 128, overlapSentences: 1, counter: approximateTokenCounter };
    const pool = sentencePool(corpus);
    for (const target of [1, 37, 250]) {
      const articles = syntheticArticles(pool, target, chunking, createRng(target));
      const chunks = articles.reduce((n, a) => n + chunkArticle(a, chunking).length, 0);
      expect(chunks).toBe(target);
      expect(new Set(articles.map((a) => a.id)).size).toBe(articles.length);
    }
  });

  it('gives normalised, clustered, reproducible vectors', async () => {
    const space = new SyntheticSpace({ dimension: 64, clusters: 4, seed: 1 });
    const again = new SyntheticSpace({ dimension: 64, clusters: 4, seed: 1 });
    const a = space.vector(2, createRng(5));
    expect(Array.from(again.vector(2, createRng(5)))).toEqual(Array.from(a));
    const norm = Math.hypot(...a);
    expect(norm).toBeCloseTo(1, 5);
    const dot = (x: Float32Array, y: Float32Array) => x.reduce((s, v, i) => s + v * y[i]!, 0);
    const rng = createRng(9);
    // Same topic: clearly similar; different topics: close to orthogonal.
    expect(dot(space.vector(1, rng), space.vector(1, rng))).toBeGreaterThan(0.3);
    expect(Math.abs(dot(space.vector(1, rng), space.vector(3, rng)))).toBeLessThan(0.3);

    const embedder = syntheticEmbedder(space, approximateTokenCounter, 3);
    const [x, y] = await embedder.embedDocuments(['Title one\n\nfirst chunk', 'Title one\n\nsecond chunk']);
    expect(embedder.dimension).toBe(64);
    // Chunks of one article (same header line) share a topic.
    expect(dot(x!, y!)).toBeGreaterThan(0.3);
  });

  it('gives a text the same vector whatever order and batches it is embedded in (both stores hold the same vectors)', async () => {
    const space = new SyntheticSpace({ dimension: 32, clusters: 4, seed: 1 });
    const texts = ['Title a\n\none', 'Title a\n\ntwo', 'Title b\n\nthree'];
    const inOrder = await syntheticEmbedder(space, approximateTokenCounter, 3).embedDocuments(texts);
    const other = syntheticEmbedder(space, approximateTokenCounter, 3);
    const last = await other.embedDocuments([texts[2]!]);
    const firstTwo = await other.embedDocuments([texts[1]!, texts[0]!]);
    expect(Array.from(last[0]!)).toEqual(Array.from(inOrder[2]!));
    expect(Array.from(firstTwo[0]!)).toEqual(Array.from(inOrder[1]!));
    expect(Array.from(firstTwo[1]!)).toEqual(Array.from(inOrder[0]!));
    expect(Array.from(inOrder[0]!)).not.toEqual(Array.from(inOrder[1]!));
  });

  it('builds questions from corpus words, without numbers or month names', () => {
    const questions = syntheticQuestions(sentencePool(corpus), 10, createRng(2));
    expect(questions).toHaveLength(10);
    for (const q of questions) {
      expect(q).toMatch(/^What about [A-Za-z ]+\?$/);
      expect(q).not.toMatch(/\d|March/);
    }
  });
});
