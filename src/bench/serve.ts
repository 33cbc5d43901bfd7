/**
 * The serving half of the query benchmark, run in a fresh process per index size (see
 * `child.ts`): load the embedding model, open the index, answer queries, and report latency per
 * retrieval stage, HNSW recall against exact search, and peak RSS while serving.
 */
import type { Config } from '../config/index.js';
import { createEmbedder } from '../embedding/index.js';
import { IndexReader } from '../store/reader.js';
import { createRetriever, type RetrievalTimings } from '../retrieval/index.js';
import type { Embedder } from '../types.js';
import { createLogger } from '../util/log.js';
import { OtherCpuMeter } from './machine.js';
import { PeakRssSampler } from './memory.js';
import { mean } from '../util/stats.js';
import { recallAtK, summarize, type ScoredLabel, type Summary } from './stats.js';

/** What the serving child is given. */
export interface ServeInput {
  indexDir: string;
  efSearch: number;
  retrieval: Config['retrieval'];
  /** The model to embed queries with, or null for none. */
  embedding: Config['embedding'] | null;
  llm: Config['llm'];
  questions: string[];
  /**
   * Query vectors from the same synthetic space as the index: all are timed against HNSW alone,
   * the first `recallQueries` also give recall. Made by the parent, so this process holds nothing
   * but what serving needs when its memory is measured.
   */
  vectors: Float32Array[];
  recallQueries: number;
}

/** Latency of each stage, in milliseconds. */
export interface StageLatency {
  /** Query embedding with the model (null without one). */
  queryEmbed: Summary | null;
  /** HNSW search for the retriever's candidates (k = 50). */
  dense: Summary;
  /** HNSW search for the 10 nearest neighbours alone. */
  denseTop10: Summary;
  lexical: Summary;
  /** Fusion, diversity cap and passage assembly. */
  fuse: Summary;
  /** The whole `retrieve` call (embedding included, model load excluded). */
  total: Summary;
  /**
   * CPU time of this process during the whole call: on a busy machine wall time includes the
   * time other processes held the cores, CPU time does not (the model's threads count in full).
   * Absent in reports written before it was measured.
   */
  totalCpu?: Summary;
}

/** What the serving child reports. */
export interface ServeResult {
  chunks: number;
  articles: number;
  modelLoadSeconds: number | null;
  modelId: string | null;
  /** RSS of the fresh process before the model is loaded (code and native libraries only). */
  rssBaseBytes: number;
  /** RSS once the model is loaded, before the index is opened. */
  rssModelBytes: number;
  /** RSS once the model is loaded and the index open (its in-memory BM25 loaded), before any query. */
  rssReadyBytes: number;
  /**
   * The in-memory BM25 (`src/store/lexical-memory.ts`): seconds to load it and bytes of its
   * arrays, or null when the generation stays on FTS5 (over its token budget). Absent in reports
   * written before it existed.
   */
  lexicalMemory?: { seconds: number; bytes: number } | null;
  /** Peak RSS from process start through the last timed query (recall measurement excluded). */
  peakRssBytes: number;
  latencyMs: StageLatency;
  recallAt10: number;
  recallQueries: number;
  /** Exact brute-force search latency, for comparison with HNSW. */
  exactSearchMs: Summary;
  /** Cores other processes kept busy during the timed queries (null off Linux): a busy machine slows every number. */
  otherCpuCores: number | null;
}

// Untimed queries first: the first calls pay for lazy initialisation (ONNX sessions, SQLite pages).
const WARMUP = 5;

/** Runs the serving measurement in this process. */
export async function serveAndMeasure(input: ServeInput): Promise<ServeResult> {
  const sampler = new PeakRssSampler();
  const logger = createLogger('warn');
  const rssBaseBytes = process.memoryUsage.rss();
  let model: Embedder | null = null;
  let modelLoadSeconds: number | null = null;
  if (input.embedding) {
    const t = performance.now();
    model = (await createEmbedder(input.embedding, input.llm, logger)).embedder;
    modelLoadSeconds = model ? (performance.now() - t) / 1000 : null;
  }
  const rssModelBytes = process.memoryUsage.rss();
  const opened = IndexReader.open(input.indexDir, { efSearch: input.efSearch });
  if (!(opened instanceof IndexReader)) throw new Error(opened.message);
  const reader = opened;
  // Loaded before the timed queries (it loads in the background after the first lexical search
  // otherwise, and FTS5 answers until then): a server pays this once per generation.
  const tm = performance.now();
  const lexicalMemory = (await reader.lexicalMemoryReady())
    ? { seconds: (performance.now() - tm) / 1000, bytes: reader.lexicalMemoryBytes() }
    : null;
  const indexEmbedder = reader.manifest.embedder;
  if (!indexEmbedder) throw new Error('The benchmark index has no vectors.');

  // The index holds synthetic vectors; the retriever only searches it densely when the query
  // embedder's id matches, so queries are embedded by the real model under the index's id.
  // Without a model (or with one of another width) query vectors are synthetic and cost nothing.
  const useModel = model !== null && model.dimension === indexEmbedder.dimension;
  let next = 0;
  const queryEmbedder: Embedder = {
    id: indexEmbedder.id,
    dimension: indexEmbedder.dimension,
    maxTokens: model?.maxTokens ?? 512,
    tokenizer: model?.tokenizer ?? { id: 'none', count: (t) => t.length },
    embedDocuments: () => Promise.reject(new Error('not used')),
    embedQuery: useModel ? (text) => model!.embedQuery(text) : async () => input.vectors[next++ % input.vectors.length]!,
  };
  const retriever = createRetriever({ getReader: () => reader, embedder: queryEmbedder, options: input.retrieval, logger });
  const rssReadyBytes = process.memoryUsage.rss();

  const meter = new OtherCpuMeter();
  for (const q of input.questions.slice(0, WARMUP)) await retriever.retrieveDetailed(q);
  const timings: RetrievalTimings[] = [];
  const cpuMs: number[] = [];
  for (const q of input.questions) {
    const before = process.cpuUsage();
    timings.push((await retriever.retrieveDetailed(q)).timings);
    const used = process.cpuUsage(before);
    cpuMs.push((used.user + used.system) / 1000);
  }

  const vectors = input.vectors;
  for (const v of vectors.slice(0, WARMUP)) reader.denseSearch(v, 10);
  const top10: number[] = [];
  for (const v of vectors) {
    const t = performance.now();
    reader.denseSearch(v, 10);
    top10.push(performance.now() - t);
  }
  const otherCpuCores = meter.stop();
  const peakRssBytes = await sampler.stop();

  // Exact search reads every stored vector per query, so it runs after the memory measurement.
  const { recalls, exactMs } = measureRecall(reader, vectors.slice(0, input.recallQueries));
  const pick = (f: (t: RetrievalTimings) => number) => summarize(timings.map(f));
  const result: ServeResult = {
    chunks: reader.manifest.counts.chunks,
    articles: reader.manifest.counts.articles,
    modelLoadSeconds,
    modelId: useModel ? model!.id : null,
    rssBaseBytes,
    rssModelBytes,
    rssReadyBytes,
    lexicalMemory,
    peakRssBytes,
    latencyMs: {
      queryEmbed: useModel ? pick((t) => t.embed) : null,
      dense: pick((t) => t.dense),
      denseTop10: summarize(top10),
      lexical: pick((t) => t.lexical),
      fuse: pick((t) => t.fuse),
      total: pick((t) => t.total),
      totalCpu: summarize(cpuMs),
    },
    recallAt10: mean(recalls),
    recallQueries: recalls.length,
    exactSearchMs: summarize(exactMs),
    otherCpuCores,
  };
  reader.close();
  return result;
}

// `exactSearch` costs about a second per query at 100k chunks; this many are timed with it.
const TIMED_EXACT = 5;

/**
 * HNSW recall@10 against exact search. The product's `exactSearch` is timed and used as the truth
 * for the first few queries; for the rest, the same brute-force scan runs over all stored vectors
 * read once, which gives identical neighbours (checked on the timed queries) in a fraction of the time.
 */
function measureRecall(reader: IndexReader, queries: Float32Array[]): { recalls: number[]; exactMs: number[] } {
  if (queries.length === 0) return { recalls: [], exactMs: [] };
  const exactMs: number[] = [];
  const timed: ScoredLabel[][] = [];
  let everything: ScoredLabel[] = [];
  for (const [i, q] of queries.slice(0, TIMED_EXACT).entries()) {
    const t = performance.now();
    const top = reader.exactSearch(q, 10);
    exactMs.push(performance.now() - t);
    timed.push(top);
    // One unlimited call lists every label, which is what the batched scan needs.
    if (i === 0) everything = reader.exactSearch(q, Number.MAX_SAFE_INTEGER);
  }
  const dim = queries[0]!.length;
  const labels = everything.map((h) => h.label);
  const matrix = new Float32Array(labels.length * dim);
  labels.forEach((label, row) => {
    const v = reader.vector(label);
    if (v) matrix.set(v, row * dim);
  });
  const recalls: number[] = [];
  queries.forEach((q, i) => {
    const exact = bruteForceTop(matrix, labels, q, 10);
    const check = timed[i];
    if (check && recallAtK(exact, check, 10) < 1) throw new Error('The batched exact scan disagrees with IndexReader.exactSearch.');
    recalls.push(recallAtK(reader.denseSearch(q, 10), exact, 10));
  });
  return { recalls, exactMs };
}

function bruteForceTop(matrix: Float32Array, labels: number[], q: Float32Array, k: number): ScoredLabel[] {
  const dim = q.length;
  const best: ScoredLabel[] = [];
  for (let row = 0; row < labels.length; row++) {
    let dot = 0;
    const off = row * dim;
    for (let j = 0; j < dim; j++) dot += matrix[off + j]! * q[j]!;
    if (best.length === k && dot <= best[k - 1]!.score) continue;
    let at = best.length < k ? best.length : k - 1;
    if (best.length < k) best.push({ label: labels[row]!, score: dot });
    // Insertion into the short sorted list of the best so far.
    while (at > 0 && best[at - 1]!.score < dot) {
      best[at] = best[at - 1]!;
      at--;
    }
    best[at] = { label: labels[row]!, score: dot };
  }
  return best;
}
