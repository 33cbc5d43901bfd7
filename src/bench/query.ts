/**
 * Query-latency benchmark at several index sizes. Each index is built through the real code path
 * (`indexArticles`: chunking, SQLite + FTS5, HNSW with the configured parameters) from synthetic
 * articles and synthetic vectors, so it runs at 100k chunks without a model; serving is then
 * measured in a fresh process per size, with the real (or real-shape) model embedding the queries.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/index.js';
import { approximateTokenCounter } from '../embedding/index.js';
import { indexArticles } from '../library/pipeline.js';
import type { IndexTarget } from '../store/target.js';
import type { Article } from '../types.js';
import type { Logger } from '../util/log.js';
import { runChild } from './child.js';
import { PeakRssSampler } from './memory.js';
import type { ServeInput, ServeResult } from './serve.js';
import {
  createRng,
  sentencePool,
  SyntheticSpace,
  syntheticArticles,
  syntheticEmbedder,
  syntheticQuestions,
  type SpaceSpec,
} from './synthetic.js';

/** What the query benchmark needs. */
export interface QueryBenchOptions {
  /** Index sizes in chunks. */
  sizes: number[];
  /** Timed retrievals per size. */
  queries: number;
  /** Queries for recall@10 per size. */
  recallQueries: number;
  workDir: string;
  config: Config;
  /** Settings of the model that embeds queries (loaded in each serving process), or null. */
  embedding: Config['embedding'] | null;
  /** That model's vector width; the synthetic vectors use it so model query vectors fit the index. */
  dimension: number | null;
  /** Real articles whose sentences make up the synthetic ones. */
  corpus: Article[];
  logger: Logger;
  note?: (line: string) => void;
  seed?: number;
}

/** Results at one index size. */
export interface SizeResult extends ServeResult {
  target: number;
  build: { seconds: number; peakRssBytes: number; indexBytes: number };
}

/** Results of the query section. */
export interface QueryResult {
  status: 'ok';
  synthetic: { note: string; space: SpaceSpec; questions: string };
  hnsw: Config['hnsw'];
  queries: number;
  sizes: SizeResult[];
}

const DEFAULT_DIMENSION = 384;
const SERVE_TIMEOUT_MS = 15 * 60_000;

/**
 * Writes `articles` as a full index through the product's pipeline, with the synthetic space's
 * vectors as embeddings: the index both query sections time (embedded or, with `target`, PostgreSQL).
 */
export async function buildSyntheticIndex(o: {
  indexDir: string;
  target?: IndexTarget;
  articles: Article[];
  space: SyntheticSpace;
  seed: number;
  config: Pick<Config, 'chunking' | 'hnsw'>;
  logger?: Logger;
}): Promise<void> {
  await indexArticles({
    indexDir: o.indexDir,
    ...(o.target ? { target: o.target } : {}),
    loaded: { articles: o.articles, skipped: [], warnings: [] },
    embedder: syntheticEmbedder(o.space, approximateTokenCounter, o.seed + 2),
    counter: approximateTokenCounter,
    chunking: o.config.chunking,
    hnsw: o.config.hnsw,
    batchSize: 1024,
    full: true,
    ...(o.logger ? { logger: o.logger } : {}),
  });
}

/** Runs the query benchmark. */
export async function benchQueries(o: QueryBenchOptions): Promise<QueryResult> {
  const note = o.note ?? (() => {});
  const seed = o.seed ?? 20240501;
  const space: SpaceSpec = { dimension: o.dimension ?? DEFAULT_DIMENSION, clusters: 256, seed };
  const pool = sentencePool(o.corpus);
  const questions = syntheticQuestions(pool, o.queries, createRng(seed + 1));
  const chunking = { ...o.config.chunking, counter: approximateTokenCounter };
  const queryRng = createRng(seed + 3);
  const synth = new SyntheticSpace(space);
  const vectors = Array.from({ length: Math.max(o.queries, o.recallQueries) }, () => synth.randomVector(queryRng));
  const sizes: SizeResult[] = [];
  for (const target of o.sizes) {
    const dir = path.join(o.workDir, `index-${target}`);
    fs.rmSync(dir, { recursive: true, force: true });
    note(`query: building a ${formatCount(target)}-chunk synthetic index…`);
    const articles = syntheticArticles(pool, target, chunking, createRng(seed + target));
    const sampler = new PeakRssSampler();
    const t = performance.now();
    await buildSyntheticIndex({ indexDir: dir, articles, space: synth, seed, config: o.config, logger: o.logger });
    const buildSeconds = (performance.now() - t) / 1000;
    const buildPeak = await sampler.stop();
    note(`query: built in ${buildSeconds.toFixed(1)} s; measuring ${o.queries} queries in a fresh process…`);
    const input: ServeInput = {
      indexDir: dir,
      efSearch: o.config.hnsw.efSearch,
      retrieval: o.config.retrieval,
      embedding: o.embedding,
      llm: o.config.llm,
      questions,
      vectors,
      recallQueries: o.recallQueries,
    };
    const served = await runChild<ServeInput, ServeResult>(
      new URL('./serve-child.ts', import.meta.url),
      input,
      SERVE_TIMEOUT_MS,
      `the ${formatCount(target)} serving process`,
    );
    sizes.push({ target, build: { seconds: buildSeconds, peakRssBytes: buildPeak, indexBytes: dirBytes(dir) }, ...served });
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return {
    status: 'ok',
    synthetic: {
      note: 'Synthetic index: articles of sampled corpus sentences, clustered random unit vectors (not model output) written through indexArticles; query text is embedded by the model when there is one.',
      space,
      questions: '4–6 content words of a random corpus sentence',
    },
    hnsw: o.config.hnsw,
    queries: questions.length,
    sizes,
  };
}

/** `1000` → `1k`, `100000` → `100k`. */
export function formatCount(n: number): string {
  return n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n);
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += fs.statSync(path.join(e.parentPath ?? e.path, e.name)).size;
  }
  return total;
}
