/**
 * The `baseline` evaluation mode: plain whole-article BM25, the simplest retriever that works
 * on news. One FTS5 row per article (title and text as one document, porter stemming), the
 * question's words ORed together, ordered by bm25. No chunks, no dates, no "not covered".
 * Every report shows the product next to it: a change that does not beat this is no progress.
 */
import Database from 'better-sqlite3';
import { wordsOf } from '../retrieval/terms.js';

/** A built baseline index; close it when done. */
export interface Baseline {
  /** Article ids, best first. */
  search(question: string, k: number): string[];
  close(): void;
}

/** Indexes the articles in memory. */
export function createBaseline(articles: Iterable<{ id: string; title: string; text: string }>): Baseline {
  const db = new Database(':memory:');
  db.exec("CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, body, tokenize = 'porter unicode61 remove_diacritics 2')");
  const insert = db.prepare('INSERT INTO docs (id, body) VALUES (?, ?)');
  db.transaction(() => {
    for (const a of articles) insert.run(a.id, `${a.title}\n\n${a.text}`);
  })();
  const query = db.prepare<[string, number], { id: string }>('SELECT id FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?');
  return {
    search(question, k) {
      const words = [...new Set(wordsOf(question))];
      if (words.length === 0) return [];
      const match = words.map((w) => `"${w.replace(/"/g, '""')}"`).join(' OR ');
      return query.all(match, k).map((r) => r.id);
    },
    close: () => db.close(),
  };
}
