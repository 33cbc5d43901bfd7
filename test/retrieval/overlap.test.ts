import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { createRetriever, type HybridRetriever } from '../../src/retrieval/index.js';
import type { SearchIndex } from '../../src/store/search-index.js';
import type { Embedder } from '../../src/types.js';
import { CORPUS } from '../support/corpus.js';
import { tempDir, testApp, writeFiles } from '../support/stack.js';

// The query vector is asked for first; the lexical searches, which do not need it, run while it is
// on its way (an API call, a model in another thread), and only the dense stage waits for it.

let root: string;
let app: App;

beforeAll(async () => {
  root = tempDir();
  writeFiles(path.join(root, 'articles'), CORPUS);
  app = await testApp(root);
  await app.library.reindex({});
});

afterAll(() => {
  app.close();
  fs.rmSync(root, { recursive: true, force: true });
});

const questions = [
  'Which volcano erupted and how many people were evacuated?',
  'Who won the national chess championship?',
  'How much will the Elm river bridge cost?',
  'What happened in June 2024?',
];

/** The app's index with every search recorded, in call order. */
function recordingReader(calls: string[]): SearchIndex {
  const reader = app.library.searchIndex()!;
  return new Proxy(reader, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (prop === 'lexical' || prop === 'articleLexical' || prop === 'denseSearch') calls.push(prop);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** The app's embedder, its query vectors held back until `release` is called (or 2 s pass). */
function heldEmbedder(events: string[]): { embedder: Embedder; release: () => void } {
  const inner = app.embedder!;
  let release = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
    setTimeout(resolve, 2000).unref();
  });
  return {
    release: () => release(),
    embedder: {
      ...inner,
      async embedQuery(text) {
        events.push('embed started');
        await gate;
        events.push('vector arrived');
        return inner.embedQuery(text);
      },
    },
  };
}

function retrieverOver(reader: SearchIndex, embedder: Embedder): HybridRetriever {
  return createRetriever({
    getReader: () => reader,
    embedder,
    options: { k: 3, denseWeight: 1, lexicalWeight: 1, maxChunksPerArticle: 2 },
  });
}

describe('query embedding overlapping the lexical searches', () => {
  it('runs both BM25 searches before the query vector arrives, and the dense search after', async () => {
    const events: string[] = [];
    const calls: string[] = [];
    const held = heldEmbedder(events);
    const reader = recordingReader(calls);
    const retriever = retrieverOver(
      new Proxy(reader, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver) as unknown;
          if (prop !== 'lexical' || typeof value !== 'function') return value;
          // The vector is released only once the chunk search has been asked for.
          return (...args: unknown[]) => {
            events.push('lexical');
            held.release();
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      }),
      held.embedder,
    );
    const r = await retriever.retrieveDetailed(questions[0]!);
    expect(r.mode).toBe('hybrid');
    expect(events).toEqual(['embed started', 'lexical', 'vector arrived']);
    expect(calls.indexOf('denseSearch')).toBeGreaterThan(calls.indexOf('articleLexical'));
    expect(calls.indexOf('denseSearch')).toBeGreaterThan(calls.indexOf('lexical'));
  });

  it('returns what the same retrieval returns when the vector is there at once', async () => {
    const reader = app.library.searchIndex()!;
    const plain = retrieverOver(reader, app.embedder!);
    for (const q of questions) {
      const events: string[] = [];
      const held = heldEmbedder(events);
      setTimeout(held.release, 20);
      const delayed = retrieverOver(reader, held.embedder);
      const now = new Date('2024-07-01T12:00:00Z');
      const [a, b] = [await plain.retrieveDetailed(q, { now }), await delayed.retrieveDetailed(q, { now })];
      expect(b.passages).toEqual(a.passages);
      expect([b.notCovered, b.coverage, b.mode, b.dateRange]).toEqual([a.notCovered, a.coverage, a.mode, a.dateRange]);
      expect(a.passages.length).toBeGreaterThan(0);
    }
  });

  it('a failed query embedding fails the retrieval, also when the lexical search fails first', async () => {
    const reader = app.library.searchIndex()!;
    const failing: Embedder = {
      ...app.embedder!,
      embedQuery: () => Promise.reject(new Error('embedding service down')),
    };
    await expect(retrieverOver(reader, failing).retrieveDetailed(questions[1]!)).rejects.toThrow('embedding service down');

    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const broken = new Proxy(reader, {
        get(target, prop, receiver) {
          if (prop === 'lexical') return () => Promise.reject(new Error('lexical search broke'));
          const value = Reflect.get(target, prop, receiver) as unknown;
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
      await expect(retrieverOver(broken, failing).retrieveDetailed(questions[1]!)).rejects.toThrow('lexical search broke');
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
