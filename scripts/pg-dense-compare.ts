/**
 * Compares the two dense paths of the PostgreSQL store on an eval set: pgvector (HNSW index in
 * the database, run here on PGlite, which ships pgvector) and the per-process hnswlib graph loaded
 * from the same stored vectors. Prints how many top-10 lists are identical, and how many of each
 * path's lists equal exact search (up to ties). Not part of CI: PGlite takes minutes to index.
 * Usage: EF=100 npx tsx scripts/pg-dense-compare.ts [articlesDir] [questions.jsonl]
 * (the fixture model: run the test suite once so test/.fixtures exists)
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadQuestions } from '../src/eval/dataset.js';
import { indexArticles, loadForIndexing } from '../src/library/pipeline.js';
import { PgIndexReader, PgIndexStore } from '../src/store/pg/index.js';
import type { Hit } from '../src/store/reader.js';
import { createPgliteDb } from '../test/support/pglite.js';
import { tempDir, testApp } from '../test/support/stack.js';

const EF = Number(process.env.EF ?? 100);
const K = 10;

async function main(): Promise<void> {
  const root = tempDir();
  const app = await testApp(root, { ARTICLES_DIR: path.resolve(process.argv[2] ?? 'eval/readers/articles'), HNSW_EF_SEARCH: String(EF) });
  const pg = await createPgliteDb();
  try {
    const store = await PgIndexStore.connect(pg.db, { efSearch: EF });
    const loaded = await loadForIndexing(app.config.articlesDir, { maxFileBytes: 1e7 });
    const started = performance.now();
    await indexArticles({
      indexDir: app.config.indexDir,
      target: store.target(),
      loaded,
      embedder: app.embedder,
      counter: app.embedder!.tokenizer,
      chunking: app.config.chunking,
      hnsw: app.config.hnsw,
      batchSize: 64,
    });
    console.log(`indexed into PGlite in ${((performance.now() - started) / 1000).toFixed(1)} s; dense mode ${store.dense}`);
    const g = (await store.published())!;
    const viaPgvector = (await store.openReader())!;
    const viaHnswlib = await PgIndexReader.open(pg.db, g, { dense: 'hnswlib', efSearch: EF });
    const stored = (await pg.db.query<{ label: number; vector: number[] }>('SELECT chunk_label AS label, vector FROM index_embeddings'))
      .rows;
    const questions = loadQuestions(process.argv[3] ?? 'eval/readers/questions.jsonl').questions;
    let identical = 0;
    let exactPgvector = 0;
    let exactHnswlib = 0;
    for (const question of questions) {
      const q = await app.embedder!.embedQuery(question.question);
      const a = await viaPgvector.denseSearch(q, K);
      const b = await viaHnswlib.denseSearch(q, K);
      const exact = stored
        .map((r) => ({ label: r.label, score: r.vector.reduce((s, x, i) => s + x * q[i]!, 0) }))
        .sort((x, y) => y.score - x.score)
        .slice(0, K);
      if (a.map((h) => h.label).join() === b.map((h) => h.label).join()) identical++;
      if (matchesExact(a, exact)) exactPgvector++;
      if (matchesExact(b, exact)) exactHnswlib++;
    }
    const n = questions.length;
    const pct = (x: number) => `${x}/${n} (${((100 * x) / n).toFixed(1)}%)`;
    console.log(`ef_search ${EF}, top-${K} over ${g.manifest.counts.chunks} chunks, ${n} questions:`);
    console.log(`  identical lists, pgvector vs hnswlib: ${pct(identical)}`);
    console.log(`  equal to exact search (up to ties): pgvector ${pct(exactPgvector)}, hnswlib ${pct(exactHnswlib)}`);
  } finally {
    await pg.close();
    app.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** The same neighbours as exact search; a different one only where it ties the k-th score. */
function matchesExact(hits: Hit[], exact: Hit[]): boolean {
  const kth = exact[exact.length - 1]!.score;
  return hits.length === exact.length && hits.every((h) => exact.some((e) => e.label === h.label) || Math.abs(h.score - kth) < 1e-5);
}

await main();
