/**
 * Indexing benchmark: a full build of an articles folder, then an incremental reindex with no
 * changes and one with about 1% of the articles edited, each compared with the full build.
 * Works on a copy of the folder in a temporary directory, so the user's articles and
 * `index-data/` are never touched.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadArticles } from '../articles/index.js';
import type { Config } from '../config/index.js';
import { MODEL_RUN_SIZE } from '../embedding/batches.js';
import { estimatedWordPieceCounter } from '../embedding/index.js';
import { indexArticles } from '../library/pipeline.js';
import type { Embedder, IndexProgress, IndexSummary, LoadResult } from '../types.js';
import type { Logger } from '../util/log.js';
import { OtherCpuMeter } from './machine.js';
import { PeakRssSampler } from './memory.js';

/** What the indexing benchmark needs. */
export interface IndexingOptions {
  articlesDir: string;
  /** Scratch folder (created); the copy of the articles and the index go here. */
  workDir: string;
  /** Use only the first N files (sorted by path); all when undefined. */
  maxArticles?: number;
  /** Share of articles edited for the incremental run (default 0.01). */
  changeShare?: number;
  embedder: Embedder | null;
  config: Config;
  logger: Logger;
  /** Progress lines for the user. */
  note?: (line: string) => void;
}

/** Time split of a full build, in seconds. */
export interface BuildPhases {
  /** Reading and parsing the files (`loadArticles`). */
  parse: number;
  chunk: number;
  embed: number;
  /** Writing SQLite + FTS and the HNSW graph, fsync and the generation switch. */
  index: number;
}

/** Results of the indexing section. */
export interface IndexingResult {
  status: 'ok';
  articlesDir: string;
  files: number;
  articles: number;
  chunks: number;
  skippedFiles: number;
  dense: boolean;
  full: {
    seconds: number;
    articlesPerSecond: number;
    chunksPerSecond: number;
    /** Chunks embedded per second during the embed phase alone (null without a model). */
    embedChunksPerSecond: number | null;
    phases: BuildPhases;
    peakRssBytes: number;
    /** Cores other processes kept busy during the full build (null off Linux). */
    otherCpuCores: number | null;
    /**
     * Token positions the model computed (each batch padded to its longest input) against the
     * inputs' real tokens, by the model's own tokenizer (null without a model).
     */
    tokens: { real: number; computed: number; paddingShare: number } | null;
  };
  noChange: { seconds: number; ratio: number };
  changed: { articlesEdited: number; share: number; seconds: number; ratio: number; reembeddedArticles: number };
}

/** Runs the indexing benchmark. */
export async function benchIndexing(o: IndexingOptions): Promise<IndexingResult> {
  const note = o.note ?? (() => {});
  const articles = path.join(o.workDir, 'articles');
  const indexDir = path.join(o.workDir, 'index');
  const files = copyArticles(o.articlesDir, articles, o.maxArticles);
  const maxFileBytes = o.config.intake.maxUploadBytes;
  const counted = o.embedder ? countingTokens(o.embedder, o.config.embedding.batchSize) : null;
  const build = (loaded: LoadResult, onProgress?: (p: IndexProgress) => void): Promise<IndexSummary> =>
    indexArticles({
      indexDir,
      loaded,
      embedder: counted?.embedder ?? null,
      counter: estimatedWordPieceCounter,
      chunking: o.config.chunking,
      hnsw: o.config.hnsw,
      batchSize: o.config.embedding.batchSize,
      logger: o.logger,
      ...(onProgress ? { onProgress } : {}),
    });

  note(`indexing: full build of ${files.length} files${o.embedder ? ` with ${o.embedder.id}` : ' (lexical-only)'}…`);
  const sampler = new PeakRssSampler();
  const meter = new OtherCpuMeter();
  const t0 = performance.now();
  const loaded = await loadArticles(articles, { maxFileBytes });
  const tLoaded = performance.now();
  let lastChunk = tLoaded;
  let writeStart: number | null = null;
  let lastEmbedNote = 0;
  const summary = await build(loaded, (p) => {
    const now = performance.now();
    // Progress events fire after each step completes: the last 'chunk' marks the end of chunking,
    // the first 'write' the end of embedding.
    if (p.phase === 'chunk') lastChunk = now;
    if (p.phase === 'write' && writeStart === null) writeStart = now;
    if (p.phase === 'embed' && now - lastEmbedNote > 15_000) {
      lastEmbedNote = now;
      note(`indexing: embedded ${p.done}/${p.total} chunks`);
    }
  });
  const tDone = performance.now();
  const tokens = counted ? { ...counted.tokens } : null;
  const otherCpuCores = meter.stop();
  const peakRssBytes = await sampler.stop();
  const embedEnd = writeStart ?? lastChunk;
  const fullSeconds = (tDone - t0) / 1000;
  const phases: BuildPhases = {
    parse: (tLoaded - t0) / 1000,
    chunk: (lastChunk - tLoaded) / 1000,
    embed: (embedEnd - lastChunk) / 1000,
    index: (tDone - embedEnd) / 1000,
  };

  note('indexing: reindex with no changes…');
  const t1 = performance.now();
  await build(await loadArticles(articles, { maxFileBytes }));
  const noChangeSeconds = (performance.now() - t1) / 1000;

  const share = o.changeShare ?? 0.01;
  const edited = editSome(articles, loaded, share);
  note(`indexing: reindex with ${edited} of ${loaded.articles.length} articles edited…`);
  const t2 = performance.now();
  const changed = await build(await loadArticles(articles, { maxFileBytes }));
  const changedSeconds = (performance.now() - t2) / 1000;

  return {
    status: 'ok',
    articlesDir: o.articlesDir,
    files: files.length,
    articles: summary.articles,
    chunks: summary.chunks,
    skippedFiles: loaded.skipped.length,
    dense: summary.dense,
    full: {
      seconds: fullSeconds,
      articlesPerSecond: summary.articles / fullSeconds,
      chunksPerSecond: summary.chunks / fullSeconds,
      embedChunksPerSecond: o.embedder && phases.embed > 0 ? summary.chunks / phases.embed : null,
      phases,
      peakRssBytes,
      otherCpuCores,
      tokens: tokens ? { ...tokens, paddingShare: tokens.real > 0 ? tokens.computed / tokens.real - 1 : 0 } : null,
    },
    noChange: { seconds: noChangeSeconds, ratio: noChangeSeconds / fullSeconds },
    changed: {
      articlesEdited: edited,
      share: loaded.articles.length ? edited / loaded.articles.length : 0,
      seconds: changedSeconds,
      ratio: changedSeconds / fullSeconds,
      reembeddedArticles: changed.changed + changed.added,
    },
  };
}

/**
 * The embedder with a count of the tokens it is given: real ones per input (the model's tokenizer,
 * special tokens included, capped at its input limit) and computed ones (each model run pads to
 * its longest input; the embedder runs `batchSize` inputs at a time, a local model 4 of them). Counting costs a
 * tokenization per chunk, inside the embed phase's time.
 */
function countingTokens(embedder: Embedder, batchSize: number): { embedder: Embedder; tokens: { real: number; computed: number } } {
  const tokens = { real: 0, computed: 0 };
  const cap = embedder.maxTokens;
  // A local model runs each batch in pieces of MODEL_RUN_SIZE.
  const runSize = Math.max(1, embedder.id.startsWith('transformers:') ? Math.min(batchSize, MODEL_RUN_SIZE) : batchSize);
  return {
    tokens,
    embedder: {
      ...embedder,
      embedDocuments: (texts) => {
        const lengths = texts.map((t) => Math.min(cap, embedder.tokenizer.count(t)));
        for (let i = 0; i < lengths.length; i += runSize) {
          const run = lengths.slice(i, i + runSize);
          tokens.real += run.reduce((a, b) => a + b, 0);
          tokens.computed += run.length * Math.max(...run);
        }
        return embedder.embedDocuments(texts);
      },
    },
  };
}

/** Copies the (first `limit`) article files into `dest`, keeping relative paths; returns them. */
function copyArticles(src: string, dest: string, limit?: number): string[] {
  if (!fs.existsSync(src) || !fs.statSync(src).isDirectory()) throw new Error(`Articles folder not found: ${src}`);
  const all = listFiles(src).sort();
  const files = limit !== undefined ? all.slice(0, Math.max(0, limit)) : all;
  for (const rel of files) {
    const to = path.join(dest, rel);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(path.join(src, rel), to);
  }
  fs.mkdirSync(dest, { recursive: true });
  return files;
}

function listFiles(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    // Hidden files are not articles (the loader skips them too).
    if (e.name.startsWith('.')) continue;
    const r = rel ? path.join(rel, e.name) : e.name;
    if (e.isDirectory()) out.push(...listFiles(root, r));
    else if (e.isFile()) out.push(r);
  }
  return out;
}

/**
 * Edits about `share` of the articles (at least one), spread evenly through the collection, by
 * appending a paragraph to their text files. Only plain-text formats are edited: appending to
 * HTML, PDF or JSON would not change the text the same simple way. Returns how many were edited.
 */
function editSome(dir: string, loaded: LoadResult, share: number): number {
  const editable = [...new Set(loaded.articles.map((a) => a.path))].filter((p) => /\.(md|markdown|txt)$/i.test(p)).sort();
  if (editable.length === 0) return 0;
  const want = Math.min(editable.length, Math.max(1, Math.ceil(loaded.articles.length * share)));
  const step = editable.length / want;
  for (let i = 0; i < want; i++) {
    const rel = editable[Math.floor(i * step)]!;
    fs.appendFileSync(path.join(dir, rel), `\n\nUpdate ${i + 1}: this paragraph was added by the benchmark so that the article changes.\n`);
  }
  return want;
}
