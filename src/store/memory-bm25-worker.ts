/**
 * Entry point of the worker thread that reads a generation's lexical postings for the in-memory
 * BM25 (`memory-bm25.ts`): `workerData.path` is the generation's SQLite file; the answer is
 * `{ chunks, articles, articleRows }` (arrays transferred, not copied) or `{ error }`.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { readLexicalMemory } from './memory-bm25.js';

const port = parentPort;
if (port) {
  try {
    const db = new Database((workerData as { path: string }).path, { readonly: true, fileMustExist: true });
    try {
      const data = readLexicalMemory(db);
      port.postMessage(data, [
        ...[data.chunks, data.articles].flatMap((d) => [d.starts.buffer, d.docs.buffer, d.tfs.buffer, d.docLength.buffer]),
      ] as ArrayBuffer[]);
    } finally {
      db.close();
    }
  } catch (err) {
    port.postMessage({ error: err instanceof Error ? err.message : String(err) });
  }
}
