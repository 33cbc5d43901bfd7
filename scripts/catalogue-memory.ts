/**
 * What one replica's index reader holds of the catalogue (titles, dates, chunk → article) at a
 * given size, without the vector graph: a lexical-only synthetic embedded index (the same articles
 * the bench makes, written by the real indexing pipeline; a PG_SEARCH=local copy is this format),
 * then, in a fresh process, RSS and V8 heap after opening it, after the chunk → article map is
 * built, and after every article was looked up (the bounded article cache, and an unbounded one
 * for comparison). The vector graph (hnswlib) comes on top: about 1.7 KB per 384-dimension chunk.
 *
 *   tsx scripts/catalogue-memory.ts build <chunks> <dir>     # build once (slow at 1M)
 *   node --expose-gc --import tsx scripts/catalogue-memory.ts measure <dir> [articleCache]
 *   node --expose-gc --import tsx scripts/catalogue-memory.ts synthetic <dir> <chunks> <articles>
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadArticles } from '../src/articles/index.js';
import { createRng, sentencePool, syntheticArticles } from '../src/bench/synthetic.js';
import { loadConfig } from '../src/config/index.js';
import { approximateTokenCounter } from '../src/embedding/index.js';
import { indexArticles } from '../src/library/pipeline.js';
import { IndexReader, type StoredArticle } from '../src/store/reader.js';
import { createLogger } from '../src/util/log.js';

const [mode, a, b] = process.argv.slice(2);
const MB = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
const seed = 20240501;

if (mode === 'build') {
  const chunks = Number(a);
  const dir = b!;
  const config = loadConfig();
  const corpus = (await loadArticles('/work/wt/shared/corpora/wikinews-en', { maxFileBytes: 10_000_000 })).articles;
  let t = performance.now();
  const articles = syntheticArticles(
    sentencePool(corpus),
    chunks,
    { ...config.chunking, counter: approximateTokenCounter },
    createRng(seed + chunks),
  );
  console.log(`articles ${articles.length} made in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  t = performance.now();
  await indexArticles({
    indexDir: dir,
    loaded: { articles, skipped: [], warnings: [] },
    embedder: null,
    counter: approximateTokenCounter,
    chunking: config.chunking,
    hnsw: config.hnsw,
    batchSize: 1024,
    full: true,
    logger: createLogger('warn'),
  });
  console.log(`built in ${((performance.now() - t) / 1000).toFixed(1)} s`);
} else if (mode === 'synthetic') {
  // Without a 1M-chunk index: the structures a reader holds, built as reader.ts builds them, from
  // the real article rows of a smaller index (`dir`) repeated under new ids up to <articles>, with
  // <chunks> labels. Heap deltas only (no SQLite page cache).
  const dir = a!;
  const chunks = Number(b);
  const articlesWanted = Number(process.argv[5]);
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  const heap = () => {
    gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.external + m.arrayBuffers;
  };
  const reader = IndexReader.open(dir, { verify: false });
  if (!(reader instanceof IndexReader)) throw new Error(reader.message);
  const rows: StoredArticle[] = [];
  for (let off = 0; off < reader.manifest.counts.articles; off += 5000)
    for (const it of reader.listArticles(off, 5000).items) rows.push(reader.article(it.id)!);
  reader.close();
  const h0 = heap();
  // The chunk → article map (reader.ts labelMap): one Int32 per label and each article id once.
  const articleOf = new Int32Array(chunks + 1).fill(-1);
  const ids: string[] = [];
  for (let i = 0; i < articlesWanted; i++) ids.push(`${rows[i % rows.length]!.id}~${Math.floor(i / rows.length)}`);
  for (let l = 1; l <= chunks; l++) articleOf[l] = l % articlesWanted;
  const h1 = heap();
  const { LruCache } = await import('../src/util/lru.js');
  // A row as SQLite returns it: fresh strings, not shared with the template row.
  const fresh = (i: number) => {
    const r = rows[i % rows.length]!;
    const copy = (v: string | null) => (v === null ? null : (v + ' ').slice(0, -1));
    return { id: ids[i]!, title: copy(r.title), date: copy(r.date), url: copy(r.url), source: copy(r.source), path: copy(r.path) };
  };
  const lru = new LruCache<string, unknown>(5000);
  for (let i = 0; i < articlesWanted; i++) {
    lru.getOrLoad(ids[i]!, () => fresh(i));
  }
  const h2 = heap();
  const all = new Map<string, unknown>();
  for (let i = 0; i < articlesWanted; i++) {
    all.set(ids[i]!, fresh(i));
  }
  const h3 = heap();
  console.log(
    JSON.stringify({
      chunks,
      articles: articlesWanted,
      labelMap: MB(h1 - h0),
      boundedArticleCache: { entries: lru.size, bytes: MB(h2 - h1) },
      unboundedArticleMap: { entries: all.size, bytes: MB(h3 - h2) },
      rss: MB(process.memoryUsage.rss()),
      keep: articleOf.length + ids.length,
      load: fs.readFileSync('/proc/loadavg', 'utf8').trim(),
    }),
  );
} else if (mode === 'measure') {
  const dir = a!;
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  const snap = () => {
    gc();
    const m = process.memoryUsage();
    return { rss: m.rss, heap: m.heapUsed + m.external + m.arrayBuffers };
  };
  const base = snap();
  let t = performance.now();
  const reader = IndexReader.open(dir, { verify: false, ...(b ? { articleCache: Number(b) } : {}) });
  if (!(reader instanceof IndexReader)) throw new Error(reader.message);
  const openSeconds = (performance.now() - t) / 1000;
  const opened = snap();
  t = performance.now();
  reader.articlesOfChunks([1]);
  const mapSeconds = (performance.now() - t) / 1000;
  const mapped = snap();
  const total = reader.manifest.counts.articles;
  t = performance.now();
  for (let off = 0; off < total; off += 5000) for (const it of reader.listArticles(off, 5000).items) reader.article(it.id);
  const lookupSeconds = (performance.now() - t) / 1000;
  const looked = snap();
  const m = reader.catalogueMemory();
  console.log(
    JSON.stringify({
      chunks: reader.manifest.counts.chunks,
      articles: total,
      diskBytes: reader.sizeBytes(),
      openSeconds,
      labelMapSeconds: mapSeconds,
      lookupAllSeconds: lookupSeconds,
      catalogue: m,
      rss: { base: MB(base.rss), opened: MB(opened.rss), labelMap: MB(mapped.rss), allArticlesLookedUp: MB(looked.rss) },
      heapDelta: {
        labelMap: MB(mapped.heap - opened.heap),
        articleCache: MB(looked.heap - mapped.heap),
        perCachedArticleBytes: Math.round((looked.heap - mapped.heap) / Math.max(1, m.cachedArticles)),
      },
      maxRss: MB(process.resourceUsage().maxRSS * 1024),
      load: fs.readFileSync('/proc/loadavg', 'utf8').trim(),
    }),
  );
  reader.close();
  void path;
}
