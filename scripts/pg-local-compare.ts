/**
 * PostgreSQL mode's local copies against the embedded store (docs/postgresql.md), in one process:
 * the bench's synthetic articles indexed into both stores, then the copy built from the rows, the
 * snapshot uploaded, a cold open from it, a one-article delta, and retrieval timed alternately on
 * the embedded folder and the copy. Usage:
 *   npx tsx scripts/pg-local-compare.ts CHUNKS [ROUNDS] [QUESTIONS] [SERVER_URL]
 * It creates and drops the database newsdesk_bench_pgl_CHUNKS on the server and works in .cache/pgl-CHUNKS.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseConfig } from '../src/config/index.js';
import { poolDb } from '../src/db/client.js';
import { migrate } from '../src/db/migrate.js';
import { createPool } from '../src/db/pool.js';
import { approximateTokenCounter } from '../src/embedding/index.js';
import { loadArticles } from '../src/articles/index.js';
import { indexArticles } from '../src/library/pipeline.js';
import { createRetriever } from '../src/retrieval/index.js';
import { MIGRATIONS } from '../src/schema.js';
import { PgIndexStore } from '../src/store/pg/index.js';
import { IndexReader } from '../src/store/reader.js';
import { isOpenFailure } from '../src/store/index-store.js';
import type { Embedder } from '../src/types.js';
import { createLogger } from '../src/util/log.js';
import { withScratchDatabase } from '../src/bench/pg-retrieval.js';

import { summarize } from '../src/bench/stats.js';
import {
  createRng,
  sentencePool,
  SyntheticSpace,
  syntheticArticles,
  syntheticEmbedder,
  syntheticQuestions,
} from '../src/bench/synthetic.js';

const target = Number(process.argv[2] ?? 10000);
const rounds = Number(process.argv[3] ?? 3);
const nq = Number(process.argv[4] ?? 100);
const server = process.argv[5] ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const work = path.resolve('.cache', `pgl-${target}`);
fs.rmSync(work, { recursive: true, force: true });
const config = parseConfig({ ARTICLES_DIR: work, INDEX_DIR: path.join(work, 'emb'), STATE_DIR: work, EMBEDDING_PROVIDER: 'none' }, work);
const logger = createLogger('warn');
const seed = 20240501;
const space = new SyntheticSpace({ dimension: 384, clusters: 256, seed });
const corpus = (await loadArticles(path.resolve('../shared/corpora/wikinews-en'), { maxFileBytes: 20e6 })).articles;
const pool = sentencePool(corpus);
const questions = syntheticQuestions(pool, nq, createRng(seed + 1));
const qrng = createRng(seed + 3);
const vectors = Array.from({ length: nq }, () => space.randomVector(qrng));
const chunking = { ...config.chunking, counter: approximateTokenCounter };
const articles = syntheticArticles(pool, target, chunking, createRng(seed + target));
const build = (indexDir: string, t: unknown, list = articles, full = true) =>
  indexArticles({
    indexDir,
    ...(t ? { target: t as never } : {}),
    loaded: { articles: list, skipped: [], warnings: [] },
    embedder: syntheticEmbedder(space, approximateTokenCounter, seed + 2),
    counter: approximateTokenCounter,
    chunking: config.chunking,
    hnsw: config.hnsw,
    batchSize: 1024,
    full,
    logger,
  });
const say = (s: string) => process.stderr.write(`${new Date().toISOString()} ${s}\n`);
const rss = () => Math.round(process.memoryUsage().rss / 1e6);
say(`building embedded ${target}`);
let t = performance.now();
await build(path.join(work, 'emb'), null);
say(`embedded build ${((performance.now() - t) / 1000).toFixed(1)} s`);
await withScratchDatabase(server, `pgl_${target}`, async (url) => {
  const settings = { ...config.database, url };
  const p = createPool(settings, logger);
  await migrate(p, MIGRATIONS, logger);
  const db = poolDb(p, settings, logger);
  const writer = await PgIndexStore.connect(db, { efSearch: config.hnsw.efSearch, search: 'database' });
  t = performance.now();
  await build(path.join(work, 'unused'), writer.target());
  say(`PG build ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const open = async (name: string) => {
    const s = await PgIndexStore.connect(db, { efSearch: config.hnsw.efSearch, localDir: path.join(work, name) });
    const t0 = performance.now();
    // Event-loop stall while opening: the longest gap between 10 ms ticks.
    let last = performance.now();
    let worst = 0;
    const tick = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last - 10);
      last = now;
    }, 10);
    const r = await s.open(null);
    clearInterval(tick);
    if (isOpenFailure(r)) throw new Error(r.message);
    return { s, r: r as IndexReader, seconds: (performance.now() - t0) / 1000, stallMs: worst };
  };
  const first = await open('local-1');
  say(
    `local from rows: ${first.seconds.toFixed(2)} s (${first.s.local!.lastOpen!.source}), worst loop stall ${first.stallMs.toFixed(0)} ms`,
  );
  t = performance.now();
  await first.s.local!.snapshotting;
  say(`snapshot upload ${((performance.now() - t) / 1000).toFixed(2)} s`);
  const snap = await db.query<{ bytes: string }>('SELECT bytes FROM index_snapshots');
  say(`snapshot bytes ${snap.rows.map((r) => r.bytes).join(',')}`);
  const second = await open('local-2');
  say(
    `cold open from snapshot: ${second.seconds.toFixed(2)} s ${JSON.stringify(second.s.local!.lastOpen)}, worst loop stall ${second.stallMs.toFixed(0)} ms`,
  );
  // One-article delta: an incremental run adding one article.
  const extra = syntheticArticles(pool, 20, chunking, createRng(seed + 7))
    .slice(0, 1)
    .map((a) => ({ ...a, id: `extra-${a.id}`, path: `extra/${a.path}` }));
  t = performance.now();
  await build(path.join(work, 'unused'), writer.target(), [...articles, ...extra], false);
  say(`publish one-article add ${((performance.now() - t) / 1000).toFixed(2)} s`);
  const d = await open('local-2');
  say(`delta open: ${d.seconds.toFixed(2)} s ${JSON.stringify(d.s.local!.lastOpen)}, worst loop stall ${d.stallMs.toFixed(0)} ms`);
  // Retrieval, alternated: embedded folder vs the local copy (of generation 1, same articles).
  const emb = IndexReader.open(path.join(work, 'emb'), { efSearch: config.hnsw.efSearch }) as IndexReader;
  const loc = second.r;
  const e = emb.manifest.embedder!;
  let next = 0;
  const qe: Embedder = {
    id: e.id,
    dimension: e.dimension,
    maxTokens: 512,
    tokenizer: { id: 'none', count: (x) => x.length },
    embedDocuments: () => Promise.reject(new Error('no')),
    embedQuery: async () => vectors[next++ % vectors.length]!,
  };
  for (const mode of ['lexical', 'hybrid'] as const) {
    const emb2 = createRetriever({ getReader: () => emb, embedder: mode === 'hybrid' ? qe : null, options: config.retrieval, logger });
    const loc2 = createRetriever({ getReader: () => loc, embedder: mode === 'hybrid' ? qe : null, options: config.retrieval, logger });
    for (const q of questions.slice(0, 5)) {
      await emb2.retrieveDetailed(q);
      await loc2.retrieveDetailed(q);
    }
    const te: number[] = [];
    const tl: number[] = [];
    let same = 0;
    for (let r = 0; r < rounds; r++) {
      for (const [i, q] of questions.entries()) {
        next = i;
        const a = await emb2.retrieveDetailed(q);
        te.push(a.timings.total);
        next = i;
        const b = await loc2.retrieveDetailed(q);
        tl.push(b.timings.total);
        if (
          r === 0 &&
          JSON.stringify(a.passages.map((x) => [x.articleId, x.text])) === JSON.stringify(b.passages.map((x) => [x.articleId, x.text]))
        )
          same++;
      }
    }
    const se = summarize(te) as { p50: number; p95: number };
    const sl = summarize(tl) as { p50: number; p95: number };
    say(
      `${target} ${mode}: embedded p50/p95 ${se.p50.toFixed(2)}/${se.p95.toFixed(2)} ms; local-PG ${sl.p50.toFixed(2)}/${sl.p95.toFixed(2)} ms; ratio p50 ${(sl.p50 / se.p50).toFixed(2)} p95 ${(sl.p95 / se.p95).toFixed(2)}; identical results ${same}/${questions.length}`,
    );
  }
  say(`rss now ${rss()} MB`);
  emb.close();
  for (const x of [first, second, d]) {
    x.r.close();
    await x.s.close();
  }
  await p.end();
});
say(`local folder sizes: ${fs.readdirSync(path.join(work, 'local-2')).join(',')}`);
