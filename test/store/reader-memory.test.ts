import { describe, expect, it } from 'vitest';
import { ARTICLE_CACHE, IndexReader } from '../../src/store/reader.js';
import { mdArticle } from '../support/stack.js';
import { setup } from './helpers.js';

const ARTICLES = 40;
const files = Object.fromEntries(
  Array.from({ length: ARTICLES }, (_, i) => [
    `a${i}.md`,
    mdArticle(`Story number ${i}`, `2024-01-${String((i % 28) + 1).padStart(2, '0')}`, `Body of story ${i} about harbour cranes.`),
  ]),
);

describe('an index reader holds a bounded part of the catalogue', () => {
  it('keeps at most articleCache article rows however many are looked up, and still answers every one', async () => {
    const { app, indexDir } = await setup(files);
    await app.library.reindex({});
    const reader = IndexReader.open(indexDir, { articleCache: 8 });
    if (!(reader instanceof IndexReader)) throw new Error(reader.message);
    try {
      const ids = reader.listArticles(0, 100).items.map((a) => a.id);
      expect(ids).toHaveLength(ARTICLES);
      for (const round of [1, 2])
        for (const id of ids) {
          expect(reader.article(id)?.id, `round ${round}`).toBe(id);
          expect(reader.catalogueMemory().cachedArticles).toBeLessThanOrEqual(8);
        }
      expect(reader.article('no-such-article')).toBeUndefined();
      expect(reader.catalogueMemory()).toMatchObject({ cachedArticles: 8, articleCacheLimit: 8 });
      // The chunk → article map is one entry per chunk label, built on the first lookup.
      expect(reader.catalogueMemory().labelMapLabels).toBe(0);
      reader.articlesOfChunks([1]);
      const m = reader.catalogueMemory();
      expect(m.labelMapArticles).toBe(ARTICLES);
      expect(m.labelMapLabels).toBeGreaterThanOrEqual(reader.manifest.counts.chunks);
    } finally {
      reader.close();
    }
  });

  it('has a default limit', async () => {
    const { app, indexDir } = await setup(files);
    await app.library.reindex({});
    const reader = IndexReader.open(indexDir);
    if (!(reader instanceof IndexReader)) throw new Error(reader.message);
    try {
      expect(reader.catalogueMemory().articleCacheLimit).toBe(ARTICLE_CACHE);
    } finally {
      reader.close();
    }
  });
});
