/**
 * Two checkouts' retrieval in one process, alternating per question: the way to compare query
 * cost on a busy machine, where runs minutes apart see different loads. Each side imports its own
 * checkout's modules and opens its own index; per query it records wall time, CPU time (which
 * other processes cannot inflate) and the stage timings. With --dump, each side's passages (ids,
 * offsets, scores, a hash of the text), coverage and "not covered" are written as JSON, so two
 * runs can be compared byte for byte.
 *
 *   EMBEDDING_PROVIDER=none npx tsx scripts/retrieval-ab.ts BASE_CHECKOUT BASE_INDEX . NEW_INDEX [--rounds 2] [--dump DIR]
 *
 * The indexes must exist (`npm run index` with INDEX_DIR in each checkout); questions are the
 * readers' and held-out sets, each asked at its `asked_at`.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { DetailedRetrieval, HybridRetriever, RetrievalMode } from '../src/retrieval/index.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '2' },
    mode: { type: 'string', default: 'lexical' },
    dump: { type: 'string' },
    synthetic: { type: 'string' },
  },
});
const [rootA, indexA, rootB, indexB] = positionals;
if (!rootA || !indexA || !rootB || !indexB)
  throw new Error('Usage: retrieval-ab.ts ROOT_A INDEX_A ROOT_B INDEX_B [--rounds N] [--mode M] [--dump DIR]');
const mode = values.mode as RetrievalMode;

/**
 * With --synthetic N: the query bench's N questions (its generator and seed, over the Wikinews
 * corpus) and its synthetic query vectors, for indexes `buildSyntheticIndex` wrote; hybrid mode
 * then searches those vectors densely, as `npm run bench -- --only query` does without a model.
 */
const synthetic = values.synthetic === undefined ? null : await syntheticQueries(Number(values.synthetic));

async function syntheticQueries(n: number): Promise<Map<string, Float32Array>> {
  const { loadArticles } = await import('../src/articles/loader.js');
  const { sentencePool, syntheticQuestions, SyntheticSpace, createRng } = await import('../src/bench/synthetic.js');
  const seed = 20240501;
  const corpus = (await loadArticles(path.resolve(rootB!, '../shared/corpora/wikinews-en'))).articles;
  const qs = syntheticQuestions(sentencePool(corpus), n, createRng(seed + 1));
  const space = new SyntheticSpace({ dimension: 384, clusters: 256, seed });
  const rng = createRng(seed + 3);
  return new Map(qs.map((q) => [q, space.randomVector(rng)]));
}

async function side(root: string, indexDir: string): Promise<HybridRetriever> {
  const imp = (p: string) => import(path.resolve(root, p));
  const { IndexReader } = await imp('src/store/reader.ts');
  const { createRetriever } = await imp('src/retrieval/index.ts');
  const { loadConfig } = await imp('src/config/index.ts');
  const { createEmbedder } = await imp('src/embedding/index.ts');
  const config = loadConfig();
  const reader = IndexReader.open(path.resolve(indexDir), { efSearch: config.hnsw.efSearch });
  const { embedder } = synthetic
    ? { embedder: { ...reader.manifest.embedder, embedQuery: async (q: string) => synthetic.get(q)! } }
    : await createEmbedder(config.embedding, config.llm);
  if (!reader.manifest) throw new Error(`No index in ${indexDir}: ${reader.message}`);
  // A checkout with the in-memory BM25 loads it now, so every timed query uses it.
  const t = performance.now();
  if (typeof reader.lexicalMemoryReady === 'function') {
    const ready = await reader.lexicalMemoryReady();
    process.stdout.write(
      `${root}: in-memory BM25 ${ready ? `loaded in ${(performance.now() - t).toFixed(0)} ms, ${(reader.lexicalMemoryBytes() / 1e6).toFixed(1)} MB` : 'not used'}\n`,
    );
  }
  return createRetriever({ getReader: () => reader, embedder, options: config.retrieval });
}

const questions: { q: string; now: Date }[] = synthetic ? [...synthetic.keys()].map((q) => ({ q, now: new Date() })) : [];
for (const f of synthetic ? [] : ['eval/readers/questions.jsonl', 'eval/readers/holdout.jsonl']) {
  for (const line of fs.readFileSync(path.resolve(rootB, f), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const j = JSON.parse(line) as { question: string; asked_at?: string };
    questions.push({ q: j.question, now: new Date(`${j.asked_at ?? '2025-01-01'}T12:00:00Z`) });
  }
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;
const rss0 = process.memoryUsage.rss();
const sideA = await side(rootA, indexA);
const rssA = process.memoryUsage.rss();
const sideB = await side(rootB, indexB);
const rssB = process.memoryUsage.rss();
process.stdout.write(`RSS: ${mb(rss0)} before opening, +${mb(rssA - rss0)} A open, +${mb(rssB - rssA)} B open (and loaded)\n`);
const sides = { A: sideA, B: sideB };
type Series = Record<'wall' | 'cpu' | 'search' | 'lexical' | 'dense' | 'fuse', number[]>;
const series: Record<'A' | 'B', Series> = {
  A: { wall: [], cpu: [], search: [], lexical: [], dense: [], fuse: [] },
  B: { wall: [], cpu: [], search: [], lexical: [], dense: [], fuse: [] },
};
const dumps: Record<'A' | 'B', unknown[]> = { A: [], B: [] };

async function ask(name: 'A' | 'B', q: { q: string; now: Date }, record: boolean, dump: boolean): Promise<void> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r: DetailedRetrieval = await sides[name].retrieveDetailed(q.q, { mode, now: q.now });
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  if (record) {
    const s = series[name];
    s.wall.push(wall);
    s.cpu.push((cpu.user + cpu.system) / 1000);
    s.search.push(r.timings.total - r.timings.embed);
    s.lexical.push(r.timings.lexical);
    s.dense.push(r.timings.dense);
    s.fuse.push(r.timings.fuse);
  }
  if (dump) {
    dumps[name].push({
      q: q.q,
      notCovered: r.notCovered,
      coverage: r.coverage,
      passages: r.passages.map((p) => ({
        articleId: p.articleId,
        chunkIds: p.chunkIds,
        start: p.start,
        end: p.end,
        score: p.score,
        text: createHash('sha256').update(p.text).digest('hex'),
      })),
    });
  }
}

// Warm-up: the first queries pay for lazy set-up (SQLite pages, the label table).
for (const q of questions.slice(0, 20)) for (const name of ['A', 'B'] as const) await ask(name, q, false, false);
const rounds = Number(values.rounds);
for (let r = 0; r < rounds; r++) {
  for (const [i, q] of questions.entries()) {
    const order: ('A' | 'B')[] = (i + r) % 2 === 0 ? ['A', 'B'] : ['B', 'A'];
    for (const name of order) await ask(name, q, true, r === 0 && values.dump !== undefined);
  }
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? 0;
for (const name of ['A', 'B'] as const) {
  const s = series[name];
  const cells = Object.entries(s).map(
    ([k, v]) => `${k} p50 ${pct(v, 0.5).toFixed(2)} p95 ${pct(v, 0.95).toFixed(2)} p99 ${pct(v, 0.99).toFixed(2)}`,
  );
  process.stdout.write(`${name} (${s.wall.length} queries, ms): ${cells.join(' | ')}\n`);
}
if (values.dump) {
  fs.mkdirSync(values.dump, { recursive: true });
  for (const name of ['A', 'B'] as const) fs.writeFileSync(path.join(values.dump, `${name}.json`), JSON.stringify(dumps[name]));
  const same = JSON.stringify(dumps.A) === JSON.stringify(dumps.B);
  process.stdout.write(`Retrieval output ${same ? 'identical' : 'DIFFERENT'} (${path.join(values.dump, 'A.json')}, B.json)\n`);
}
