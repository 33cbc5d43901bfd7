/**
 * What a new generation costs the in-memory BM25: every generation's reader loads its postings
 * from FTS5 anew (src/store/lexical-memory.ts), so a one-article /add makes each process that
 * serves the index (each replica, in PostgreSQL mode) read the whole index's postings again.
 *
 *   npx tsx scripts/bm25-reload.ts build DIR CHUNKS   a synthetic CHUNKS-chunk index in DIR (the query bench's)
 *   npx tsx scripts/bm25-reload.ts add DIR CHUNKS N   the same articles and one more (number N): a new generation
 *   npx tsx scripts/bm25-reload.ts load DIR [ROUNDS]  opens DIR's current generation ROUNDS times, timing the BM25 load
 *
 * `load` prints wall and CPU seconds of each load and the bytes held.
 */
import path from 'node:path';
import { loadArticles } from '../src/articles/index.js';
import { buildSyntheticIndex } from '../src/bench/query.js';
import { createRng, SyntheticSpace, sentencePool, syntheticArticles, syntheticEmbedder } from '../src/bench/synthetic.js';
import { parseConfig } from '../src/config/index.js';
import { approximateTokenCounter } from '../src/embedding/index.js';
import { indexArticles } from '../src/library/pipeline.js';
import { IndexReader } from '../src/store/reader.js';

const [step, dirArg, nArg] = process.argv.slice(2);
if (!step || !dirArg) throw new Error('Usage: bm25-reload.ts build|add|load DIR [N]');
const dir = path.resolve(dirArg);
const config = parseConfig({ ARTICLES_DIR: dir, INDEX_DIR: dir, STATE_DIR: dir, EMBEDDING_PROVIDER: 'none' }, dir);
const seed = 20240501;
const space = new SyntheticSpace({ dimension: 384, clusters: 256, seed });
const chunking = { ...config.chunking, counter: approximateTokenCounter };

async function pool() {
  const corpus = (await loadArticles(path.resolve('../shared/corpora/wikinews-en'), { maxFileBytes: 20e6 })).articles;
  return sentencePool(corpus);
}

const base = async (target: number) => syntheticArticles(await pool(), target, chunking, createRng(seed + target));

if (step === 'build') {
  const articles = await base(Number(nArg));
  await buildSyntheticIndex({ indexDir: dir, articles, space, seed, config });
  process.stdout.write(`built ${articles.length} articles\n`);
} else if (step === 'add') {
  const articles = await base(Number(nArg));
  const n = Number(process.argv[5]);
  const extra = syntheticArticles(await pool(), 1, chunking, createRng(seed + 7 + n)).map((a) => ({ ...a, id: `added-${n}` }));
  const t = performance.now();
  await indexArticles({
    indexDir: dir,
    loaded: { articles: [...articles, ...extra], skipped: [], warnings: [] },
    embedder: syntheticEmbedder(space, approximateTokenCounter, seed + 2),
    counter: approximateTokenCounter,
    chunking: config.chunking,
    hnsw: config.hnsw,
    batchSize: 1024,
    full: false,
  });
  process.stdout.write(`one-article generation written in ${((performance.now() - t) / 1000).toFixed(2)} s\n`);
} else if (step === 'load') {
  for (let r = 0; r < Number(nArg ?? 1); r++) {
    const reader = IndexReader.open(dir, { efSearch: config.hnsw.efSearch });
    if (!(reader instanceof IndexReader)) throw new Error(reader.message);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const ok = await reader.lexicalMemoryReady();
    const cpu = process.cpuUsage(c0);
    process.stdout.write(
      `${reader.manifest.counts.chunks} chunks: BM25 ${ok ? 'loaded' : 'not loaded'} in ${((performance.now() - t0) / 1000).toFixed(2)} s wall, ` +
        `${((cpu.user + cpu.system) / 1e6).toFixed(2)} s CPU, ${(reader.lexicalMemoryBytes() / 1e6).toFixed(1)} MB\n`,
    );
    reader.close();
  }
}
