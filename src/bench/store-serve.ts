/**
 * The serving half of the store comparison (`pg-retrieval` section), run in a fresh process per
 * store and size: open one generation from the embedded store (SQLite + hnswlib files) or from
 * PostgreSQL, then time the same questions through the real retriever, lexical-only and hybrid.
 * Query vectors are synthetic (from the index's space) in both stores, so the difference is the
 * store's, not a model's.
 */
import type { Config } from '../config/index.js';
import { poolDb } from '../db/client.js';
import { createPool } from '../db/pool.js';
import { createRetriever, type RetrievalTimings } from '../retrieval/index.js';
import { PgIndexStore } from '../store/pg/index.js';
import { isOpenFailure } from '../store/index-store.js';
import { IndexReader } from '../store/reader.js';
import type { SearchIndex } from '../store/search-index.js';
import type { Embedder } from '../types.js';
import { createLogger } from '../util/log.js';
import { OtherCpuMeter } from './machine.js';
import { recallAtK, summarize, type Summary } from './stats.js';

/** Which store to open. */
export type StoreRef =
  | { kind: 'embedded'; indexDir: string }
  | {
      kind: 'postgres';
      url: string;
      database: Config['database'];
      /** PG_SEARCH: in the database (default here) or from a local copy kept in `localDir`. */
      search?: 'local' | 'database';
      localDir?: string;
    };

/** What the store-serving child is given. */
export interface StoreServeInput {
  store: StoreRef;
  efSearch: number;
  retrieval: Config['retrieval'];
  questions: string[];
  /** Query vectors from the index's synthetic space, used in turn by the hybrid runs. */
  vectors: Float32Array[];
  /** Only open the store (and, with a local copy, finish its snapshot upload): no questions are timed. */
  openOnly?: boolean;
  /**
   * Dense recall@k against exact search: query vectors and, for each, the exact top k as chunk ids
   * (ids, not labels, so it compares stores whose labels differ) with their inner products.
   */
  recall?: RecallInput;
}

/** The ground truth a serving process measures its dense recall against. */
export interface RecallInput {
  k: number;
  vectors: Float32Array[];
  exact: { id: string; score: number }[][];
}

/** Latency of one retrieval mode, in milliseconds. */
export interface ModeLatency {
  total: Summary;
  lexical: Summary;
  dense: Summary;
  fuse: Summary;
}

/** What the store-serving child reports. */
export interface StoreServeResult {
  chunks: number;
  /** Time to open the published generation (PostgreSQL: catalogue and, without pgvector, the vectors into hnswlib). */
  openSeconds: number;
  /** PostgreSQL only: 'pgvector' or 'hnswlib' (the per-process graph). */
  dense: string | null;
  /** PG_SEARCH=local only: how the local copy was obtained ('rows', 'snapshot', …). */
  localSource?: string | null;
  lexical: ModeLatency;
  hybrid: ModeLatency;
  otherCpuCores: number | null;
  /** When the first question was answered (epoch ms; the parent subtracts when it forked this process). With `openOnly`, when the store was open. */
  firstAnswerAt: number;
  /** RSS with the generation open after the timed questions, and the process's peak. */
  rssBytes: number;
  maxRssBytes: number;
  /** Mean dense recall@k against exact search, when `recall` was given (null: not measured). */
  recall?: { k: number; queries: number; mean: number } | null;
}

const memory = () => ({ rssBytes: process.memoryUsage.rss(), maxRssBytes: process.resourceUsage().maxRSS * 1024 });

// Untimed queries first: the first calls pay for lazy initialisation (SQLite pages, plan caches).
const WARMUP = 5;

/** Opens the store, measures both retrieval modes, closes it. */
export async function serveStore(input: StoreServeInput): Promise<StoreServeResult> {
  const logger = createLogger('warn');
  const t = performance.now();
  const opened = await openStore(input);
  const openSeconds = (performance.now() - t) / 1000;
  try {
    if (input.openOnly) {
      const none = summarize([0]);
      const idle = { total: none, lexical: none, dense: none, fuse: none };
      return {
        chunks: opened.reader.manifest.counts.chunks,
        openSeconds,
        dense: opened.dense,
        localSource: opened.localSource ?? null,
        lexical: idle,
        hybrid: idle,
        otherCpuCores: null,
        firstAnswerAt: Date.now(),
        ...memory(),
      };
    }
    const reader = opened.reader;
    const e = reader.manifest.embedder;
    if (!e) throw new Error('The benchmark index has no vectors.');
    let next = 0;
    // The retriever searches densely only when the query embedder's id is the index's.
    const queryEmbedder: Embedder = {
      id: e.id,
      dimension: e.dimension,
      maxTokens: 512,
      tokenizer: { id: 'none', count: (text) => text.length },
      embedDocuments: () => Promise.reject(new Error('not used')),
      embedQuery: async () => input.vectors[next++ % input.vectors.length]!,
    };
    // Cold start ends with the first answer (lexical, as a replica's first reader gets it).
    await createRetriever({ getReader: () => reader, embedder: null, options: input.retrieval, logger }).retrieve(input.questions[0]!);
    const firstAnswerAt = Date.now();
    const meter = new OtherCpuMeter();
    const measure = async (embedder: Embedder | null): Promise<ModeLatency> => {
      const retriever = createRetriever({ getReader: () => reader, embedder, options: input.retrieval, logger });
      for (const q of input.questions.slice(0, WARMUP)) await retriever.retrieveDetailed(q);
      const timings: RetrievalTimings[] = [];
      for (const q of input.questions) timings.push((await retriever.retrieveDetailed(q)).timings);
      const pick = (f: (x: RetrievalTimings) => number) => summarize(timings.map(f));
      return { total: pick((x) => x.total), lexical: pick((x) => x.lexical), dense: pick((x) => x.dense), fuse: pick((x) => x.fuse) };
    };
    const lexical = await measure(null);
    const hybrid = await measure(queryEmbedder);
    const otherCpuCores = meter.stop();
    const recall = input.recall ? await denseRecall(reader, input.recall) : null;
    return {
      chunks: reader.manifest.counts.chunks,
      openSeconds,
      dense: opened.dense,
      localSource: opened.localSource ?? null,
      lexical,
      hybrid,
      otherCpuCores,
      firstAnswerAt,
      ...memory(),
      recall,
    };
  } finally {
    await opened.close();
  }
}

/** Mean recall@k of the store's dense search against the exact top k, matched by chunk id. */
export async function denseRecall(reader: SearchIndex, r: RecallInput): Promise<{ k: number; queries: number; mean: number }> {
  let sum = 0;
  for (const [q, vector] of r.vectors.entries()) {
    const hits = await reader.denseSearch(vector, r.k);
    const articles = await reader.articlesOfChunks(hits.map((h) => h.label));
    const idOf = new Map<number, string>();
    for (const articleId of new Set(articles.values())) for (const c of await reader.chunksOf(articleId)) idOf.set(c.label, c.id);
    const exact = r.exact[q]!;
    // recallAtK compares labels: number the ids of both lists in one space.
    const number = new Map<string, number>();
    const label = (id: string | undefined) => {
      if (id === undefined) return -1 - number.size;
      if (!number.has(id)) number.set(id, number.size);
      return number.get(id)!;
    };
    const truth = exact.map((e) => ({ label: label(e.id), score: e.score }));
    sum += recallAtK(
      hits.map((h) => ({ label: label(idOf.get(h.label)), score: h.score })),
      truth,
      r.k,
    );
  }
  return { k: r.k, queries: r.vectors.length, mean: r.vectors.length ? sum / r.vectors.length : 1 };
}

async function openStore(
  input: StoreServeInput,
): Promise<{ reader: SearchIndex; dense: string | null; localSource?: string | null; close: () => Promise<void> }> {
  const ref = input.store;
  if (ref.kind === 'embedded') {
    const r = IndexReader.open(ref.indexDir, { efSearch: input.efSearch });
    if (!(r instanceof IndexReader)) throw new Error(r.message);
    return { reader: r, dense: null, close: async () => r.close() };
  }
  const settings = { ...ref.database, url: ref.url };
  const pool = createPool(settings);
  try {
    const search = ref.search ?? 'database';
    const store = await PgIndexStore.connect(poolDb(pool, settings), {
      efSearch: input.efSearch,
      search,
      ...(ref.localDir ? { localDir: ref.localDir } : {}),
    });
    if (search === 'local') {
      const opened = await store.open(null);
      if (isOpenFailure(opened)) throw new Error(opened.message);
      return {
        reader: opened,
        dense: 'local hnswlib',
        localSource: store.local?.lastOpen?.source ?? null,
        close: async () => {
          opened.close();
          await store.close();
          await pool.end();
        },
      };
    }
    const r = await store.openReader();
    if (!r) throw new Error('The benchmark database has no published generation.');
    return {
      reader: r,
      dense: store.dense,
      close: async () => {
        r.close();
        await pool.end();
      },
    };
  } catch (err) {
    await pool.end();
    throw err;
  }
}
