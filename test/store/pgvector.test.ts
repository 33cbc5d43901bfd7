import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { indexArticles, loadForIndexing } from '../../src/library/pipeline.js';
import { PgIndexReader, PgIndexStore, pgvectorIndexName } from '../../src/store/pg/index.js';
import { CORPUS } from '../support/corpus.js';
import { createPgliteDb } from '../support/pglite.js';
import { tempDir, testApp, writeFiles } from '../support/stack.js';

/**
 * The pgvector path (vector column + HNSW index) runs on PGlite, which ships pgvector: the test
 * servers have none. Both dense paths read the same stored vectors, so they must return the same
 * neighbours. (On the whole eval set: scripts/pg-dense-compare.ts; PGlite is too slow for that here.)
 */
const QUESTIONS = [
  'volcano erupted ash island',
  'How many players were in the chess tournament?',
  'bridge collapse',
  'rocket launch',
  'vaccine trial results',
];

describe('dense search with pgvector (PGlite) and with the in-memory hnswlib graph', () => {
  let app: App;
  let root: string;
  let pglite: Awaited<ReturnType<typeof createPgliteDb>>;
  let store: PgIndexStore;

  beforeAll(async () => {
    root = tempDir();
    writeFiles(path.join(root, 'articles'), CORPUS);
    app = await testApp(root);
    pglite = await createPgliteDb();
    store = await PgIndexStore.connect(pglite.db, { efSearch: 100, dense: 'auto' });
    const loaded = await loadForIndexing(app.config.articlesDir, { maxFileBytes: 1e7 });
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
  });
  afterAll(async () => {
    app?.close();
    await pglite?.close();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('uses pgvector when the server has it, with an HNSW index the planner picks', async () => {
    expect(store.dense).toBe('pgvector');
    const name = pgvectorIndexName(app.embedder!.id, app.embedder!.dimension);
    const { rows } = await pglite.db.query<{ indexdef: string }>('SELECT indexdef FROM pg_indexes WHERE indexname = $1', [name]);
    expect(rows[0]?.indexdef).toMatch(/USING hnsw .*vector_ip_ops/);
    const reader = (await store.openReader())!;
    const q = await app.embedder!.embedQuery('volcano ash flights');
    const plan = await pglite.db.transaction(async (tx) => {
      await tx.query('SET LOCAL enable_seqscan = off');
      const d = app.embedder!.dimension;
      const r = await tx.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN SELECT e.chunk_label FROM index_embeddings e JOIN index_chunks c ON c.label = e.chunk_label
         WHERE e.embedder_id = '${app.embedder!.id}' AND c.added_gen <= 1 AND (c.removed_gen IS NULL OR c.removed_gen > 1)
         ORDER BY e.embedding::vector(${d}) <#> $1::vector(${d}) LIMIT 10`,
        [`[${Array.from(q).join(',')}]`],
      );
      return r.rows.map((x) => x['QUERY PLAN']).join('\n');
    });
    expect(plan).toContain(name);
    expect((await reader.denseSearch(q, 3)).length).toBe(3);
  });

  it('gives the same neighbours, in the same order with the same scores, as the hnswlib graph (also inside a date range)', async () => {
    const g = (await store.published())!;
    const viaPgvector = (await store.openReader())!;
    const viaHnswlib = await PgIndexReader.open(pglite.db, g, { dense: 'hnswlib', efSearch: 100 });
    expect(viaHnswlib.memory).not.toBeNull();
    const chunks = g.manifest.counts.chunks;
    for (const question of QUESTIONS) {
      const q = await app.embedder!.embedQuery(question);
      const a = await viaPgvector.denseSearch(q, chunks);
      const b = await viaHnswlib.denseSearch(q, chunks);
      expect(
        a.map((h) => h.label),
        question,
      ).toEqual(b.map((h) => h.label));
      for (const [i, h] of a.entries()) expect(h.score).toBeCloseTo(b[i]!.score, 5);
      const range = { from: '2024-01-01', to: '2024-12-31' };
      expect((await viaPgvector.denseSearch(q, 3, range)).map((h) => h.label)).toEqual(
        (await viaHnswlib.denseSearch(q, 3, range)).map((h) => h.label),
      );
    }
  });
});
