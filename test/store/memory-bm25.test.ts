import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { contentTerms, ftsQuery } from '../../src/retrieval/terms.js';
import { IndexReader } from '../../src/store/reader.js';
import { CORPUS } from '../support/corpus.js';
import { mdArticle, tempDir, testApp, writeFiles } from '../support/stack.js';

// Not ./helpers.js: its clean-up hook belongs to the first unit file that imports it (the unit
// files share one process), so folders made through it here would be left behind.
const roots: string[] = [];
const apps: App[] = [];
afterEach(() => {
  for (const a of apps.splice(0)) a.close();
  for (const r of roots.splice(0)) fs.rmSync(r, { recursive: true, force: true });
});

async function setup() {
  const root = tempDir();
  roots.push(root);
  writeFiles(path.join(root, 'articles'), CORPUS);
  const app = await testApp(root);
  apps.push(app);
  return { app, articles: path.join(root, 'articles'), indexDir: path.join(root, 'index-data') };
}

function open(indexDir: string, lexicalMemoryTokens?: number): IndexReader {
  const r = IndexReader.open(indexDir, lexicalMemoryTokens === undefined ? {} : { lexicalMemoryTokens });
  if (!(r instanceof IndexReader)) throw new Error(r.message);
  return r;
}

/** Questions made of the corpus's own words: runs of 2–8 content words from every article, common and rare. */
function questionsOf(files: Record<string, string>): string[] {
  const words = contentTerms(Object.values(files).join(' '));
  const out: string[] = [];
  for (let i = 0; i + 8 < words.length; i += 3) out.push(words.slice(i, i + 2 + (i % 7)).join(' '));
  return out;
}

/** Both searches of `a` (FTS5 only) and `b` (from memory) agree, scores to the last bit, order and ties included. */
function expectSameSearches(a: IndexReader, b: IndexReader, questions: string[]): void {
  const weights = [
    { title: 2, text: 1 },
    { title: 1, text: 1 },
    { title: 1.7, text: 0.3 },
  ];
  for (const q of questions) {
    const match = ftsQuery(contentTerms(q));
    for (const limit of [1, 5, 50]) {
      expect(b.lexical(match, limit), q).toEqual(a.lexical(match, limit));
      for (const w of weights)
        expect(b.articleLexical(match, limit, { weights: w }), q).toEqual(a.articleLexical(match, limit, { weights: w }));
    }
  }
}

describe('in-memory BM25', () => {
  it("answers both lexical searches from memory with FTS5's exact scores and order", async () => {
    const { app, indexDir } = await setup();
    await app.library.reindex({});
    const fts = open(indexDir, 0);
    const mem = open(indexDir);
    try {
      expect(await fts.lexicalMemoryReady()).toBe(false);
      expect(await mem.lexicalMemoryReady()).toBe(true);
      expect(mem.lexicalMemoryBytes()).toBeGreaterThan(0);
      const questions = questionsOf(CORPUS);
      expect(questions.length).toBeGreaterThan(50);
      expectSameSearches(fts, mem, questions);
      // Terms FTS5 reads as phrases of several tokens, accents and quotes: FTS5 still answers those.
      expectSameSearches(fts, mem, ['volcano ash-cloud', "player's don't chess", 'éruption volcano', 'say "chess" 240']);
    } finally {
      fts.close();
      mem.close();
    }
  });

  it('leaves out what an update deleted, as FTS5 does', async () => {
    const { app, articles, indexDir } = await setup();
    await app.library.reindex({});
    fs.rmSync(path.join(articles, 'volcano.md'));
    fs.writeFileSync(path.join(articles, 'chess.md'), CORPUS['chess.md']!.replace('240 players', '310 players'));
    writeFiles(articles, {
      'flood.md': mdArticle('Floods close mountain roads', '2024-07-01', 'Heavy rain flooded mountain roads near Altavista.'),
    });
    await app.library.reindex({});
    const fts = open(indexDir, 0);
    const mem = open(indexDir);
    try {
      expect(await mem.lexicalMemoryReady()).toBe(true);
      expect(mem.lexical('"volcano"', 5)).toEqual([]);
      expect(mem.articleLexical('"volcano"', 5)).toEqual([]);
      expect(mem.lexical('"310"', 5)).toHaveLength(1);
      const files = { ...CORPUS, 'flood.md': 'Floods close mountain roads Heavy rain flooded mountain roads near Altavista' };
      expectSameSearches(fts, mem, questionsOf(files));
    } finally {
      fts.close();
      mem.close();
    }
  });

  it("works out a patched generation's memory from its base's and the diff, equal to a full load", async () => {
    const { app, articles, indexDir } = await setup();
    await app.library.reindex({});
    const before = open(indexDir);
    const notLoaded = open(indexDir);
    const loading = open(indexDir);
    expect(await before.lexicalMemoryReady()).toBe(true);
    fs.rmSync(path.join(articles, 'volcano.md'));
    fs.writeFileSync(path.join(articles, 'chess.md'), CORPUS['chess.md']!.replace('240 players', '310 players'));
    writeFiles(articles, {
      'flood.md': mdArticle(
        'Floods close mountain roads',
        '2024-07-01',
        'Heavy rain flooded mountain roads near Altavista. Ünïcode 𝔘 café',
      ),
    });
    await app.library.reindex({});
    const cur = open(indexDir, 0);
    expect(cur.manifest.generation).toBeGreaterThan(before.manifest.generation);
    const fts = IndexReader.open(indexDir, { lexicalMemoryTokens: 0 }) as IndexReader;
    const full = open(indexDir);
    const delta = IndexReader.open(indexDir, { lexicalBase: before }) as IndexReader;
    // A base whose memory is not loaded yet: the new generation loads in full.
    const fallback = IndexReader.open(indexDir, { lexicalBase: notLoaded }) as IndexReader;
    // A base still loading when the new generation opens, and closed (retired) right after: its
    // load goes on for the new one.
    void loading.lexicalMemoryReady();
    const afterLoading = IndexReader.open(indexDir, { lexicalBase: loading }) as IndexReader;
    loading.close();
    try {
      expect(await afterLoading.lexicalMemoryReady()).toBe(true);
      expect(afterLoading.lexicalMemorySource()).toBe('delta');
      expect(await full.lexicalMemoryReady()).toBe(true);
      expect(await delta.lexicalMemoryReady()).toBe(true);
      expect(await fallback.lexicalMemoryReady()).toBe(true);
      expect(full.lexicalMemorySource()).toBe('full');
      expect(delta.lexicalMemorySource()).toBe('delta');
      expect(fallback.lexicalMemorySource()).toBe('full');
      expect(delta.lexicalMemoryBytes()).toBe(full.lexicalMemoryBytes());
      expect(delta.lexical('"volcano"', 5)).toEqual([]);
      expect(delta.articleLexical('"volcano"', 5)).toEqual([]);
      expect(delta.lexical('"310"', 5)).toHaveLength(1);
      expect(delta.lexical('"240"', 5)).toEqual(fts.lexical('"240"', 5));
      const files = { ...CORPUS, 'flood.md': 'Floods close mountain roads Heavy rain flooded mountain roads near Altavista café' };
      const questions = questionsOf(files);
      expectSameSearches(fts, delta, questions);
      expectSameSearches(full, delta, questions);
      expectSameSearches(full, afterLoading, questions.slice(0, 40));
    } finally {
      for (const r of [before, notLoaded, cur, fts, full, delta, fallback, afterLoading]) r.close();
    }
  });

  it('keeps a generation over the token budget on FTS5', async () => {
    const { app, indexDir } = await setup();
    await app.library.reindex({});
    const small = open(indexDir, 10);
    try {
      expect(await small.lexicalMemoryReady()).toBe(false);
      expect(small.lexicalMemoryBytes()).toBe(0);
      expect(small.lexical('"volcano"', 5).length).toBeGreaterThan(0);
    } finally {
      small.close();
    }
  });
});
