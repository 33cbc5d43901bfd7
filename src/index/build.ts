/**
 * Builds a new index generation from loaded articles, reusing everything that did not change:
 * unchanged articles keep their chunks and vectors, changed ones are re-chunked and re-embedded,
 * deleted ones leave both the vector and the lexical half. The switch to the new generation is
 * one atomic rename, so a crash at any point leaves the previous index serving.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import hnswlib from 'hnswlib-node';
import { chunkArticle, chunkerSettingsId } from '../chunking/index.js';
import type { Article, Chunk, Embedder, IndexProgress, IndexSummary, LoadResult, TokenCounter } from '../types.js';
import { BusyError, UserError } from '../util/errors.js';
import { silentLogger, type Logger } from '../util/log.js';
import { acquireLock, cleanup, currentGeneration, fsyncPath, genName, highestGeneration, switchTo } from './generations.js';
import { DB_FILE, describeFiles, FORMAT_VERSION, MANIFEST_FILE, readManifest, VECTORS_FILE, type Manifest } from './manifest.js';
import { SCHEMA_SQL } from './schema.js';

const { HierarchicalNSW } = hnswlib;

/** Everything a build needs; built by the composition root. */
export interface BuildOptions {
  indexDir: string;
  loaded: LoadResult;
  /** null builds a lexical-only index. */
  embedder: Embedder | null;
  /** Token counter used for chunking (the embedder's tokenizer when there is one). */
  counter: TokenCounter;
  chunking: { maxTokens: number; overlapSentences: number };
  hnsw: { m: number; efConstruction: number };
  batchSize?: number;
  /** Rebuild everything instead of reusing unchanged articles. */
  full?: boolean;
  onProgress?: (p: IndexProgress) => void;
  logger?: Logger;
  /** Test hook: called between steps so crash tests can kill the process at a chosen point. */
  onStep?: (step: string) => void;
}

/** Share of HNSW points that may be marked deleted before the vector index is rebuilt compactly. */
const COMPACT_AT = 0.3;

/** Builds (or incrementally updates) the index under `indexDir`. Throws `BusyError` when another build runs. */
export async function buildIndex(options: BuildOptions): Promise<IndexSummary> {
  const started = performance.now();
  let release: (() => void) | null = null;
  try {
    release = acquireLock(options.indexDir);
    if (!release) throw new BusyError('Another indexing run is already in progress.');
    return await buildLocked(options, started);
  } catch (err) {
    throw storageError(err, options.indexDir) ?? err;
  } finally {
    try {
      release?.();
    } catch {
      // A lock file we cannot delete (read-only disk) is taken over by the next run: its pid is dead.
    }
  }
}

/** Turns a full or read-only disk into a message for the admin; the previous index stays in use. */
function storageError(err: unknown, indexDir: string): UserError | null {
  const code = (err as { code?: unknown }).code;
  if (code === 'ENOSPC' || code === 'SQLITE_FULL' || code === 'EDQUOT') {
    return new UserError('Indexing failed: the disk is full. The previous index is still in use.');
  }
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM' || code === 'SQLITE_READONLY' || code === 'SQLITE_CANTOPEN') {
    return new UserError(`Indexing failed: cannot write to ${indexDir} (${String(code)}). The previous index is still in use.`);
  }
  if (err instanceof Error && /std::bad_alloc|No space left|Cannot open file/i.test(err.message)) {
    // hnswlib reports write failures as plain exceptions.
    return new UserError(`Indexing failed: could not write the vector index in ${indexDir} (${err.message}). The previous index is still in use.`);
  }
  return null;
}

async function buildLocked(options: BuildOptions, started: number): Promise<IndexSummary> {
  const { indexDir, loaded, embedder } = options;
  const log = options.logger ?? silentLogger;
  const step = options.onStep ?? (() => {});
  const progress = options.onProgress ?? (() => {});
  const chunker = chunkerSettingsId({ ...options.chunking, counter: options.counter });
  const embedderInfo = embedder ? { id: embedder.id, dimension: embedder.dimension } : null;
  cleanup(indexDir);

  const prev = usablePrevious(indexDir, log);
  let full = options.full === true || prev === null;
  if (!full && prev) {
    const why = incompatibility(prev.manifest, embedderInfo, chunker, options.hnsw);
    if (why) {
      log.info('index.full_rebuild', { reason: why });
      full = true;
    }
  }

  const prevArticles = !full && prev ? readArticleHashes(path.join(prev.dir, DB_FILE)) : new Map<string, string>();
  const next = new Map(loaded.articles.map((a) => [a.id, a]));
  let added: Article[] = [];
  let changed: Article[] = [];
  const removed: string[] = [];
  for (const a of loaded.articles) {
    const h = prevArticles.get(a.id);
    if (h === undefined) added.push(a);
    else if (h !== a.hash) changed.push(a);
  }
  for (const id of prevArticles.keys()) if (!next.has(id)) removed.push(id);
  const unchanged = loaded.articles.length - added.length - changed.length;

  // Chunk before touching anything: one article the chunker cannot handle is skipped with a
  // reason instead of failing the whole build (and every build after it).
  const skipped = [...loaded.skipped];
  const chunksOf = new Map<string, Chunk[]>();
  const todoAll = [...added, ...changed];
  for (let i = 0; i < todoAll.length; i++) {
    const article = todoAll[i]!;
    try {
      chunksOf.set(article.id, chunkArticle(article, { ...options.chunking, counter: options.counter }));
    } catch (err) {
      skipped.push({ file: article.path, reason: `could not be chunked (${(err as Error).message.split('\n')[0]})` });
      log.warn('article.unchunkable', { file: article.path, error: (err as Error).message });
    }
    if (i % 20 === 0 || i === todoAll.length - 1) progress({ phase: 'chunk', done: i + 1, total: todoAll.length });
  }
  // A changed article that can no longer be chunked leaves the index rather than keep stale text.
  for (const a of changed) if (!chunksOf.has(a.id)) removed.push(a.id);
  added = added.filter((a) => chunksOf.has(a.id));
  changed = changed.filter((a) => chunksOf.has(a.id));
  const indexedArticles = loaded.articles.length - (todoAll.length - chunksOf.size);

  const summary = (chunks: number): IndexSummary => ({
    added: added.length,
    changed: changed.length,
    removed: removed.length,
    unchanged,
    skipped,
    warnings: loaded.warnings,
    articles: indexedArticles,
    chunks,
    seconds: (performance.now() - started) / 1000,
    dense: embedderInfo !== null,
  });

  if (!full && prev && added.length === 0 && changed.length === 0 && removed.length === 0) {
    progress({ phase: 'done', done: 0, total: 0 });
    return summary(prev.manifest.counts.chunks);
  }

  const n = highestGeneration(indexDir) + 1;
  const tmpDir = path.join(indexDir, `${genName(n)}.tmp-${process.pid}`);
  fs.mkdirSync(tmpDir, { recursive: true });
  let db: Database.Database | undefined;
  try {
    if (!full && prev) {
      fs.copyFileSync(path.join(prev.dir, DB_FILE), path.join(tmpDir, DB_FILE));
      if (prev.manifest.embedder) fs.copyFileSync(path.join(prev.dir, VECTORS_FILE), path.join(tmpDir, VECTORS_FILE));
    }
    step('copied');
    db = new Database(path.join(tmpDir, DB_FILE));
    // The generation is private until the rename; durability comes from the fsync before it.
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.exec(SCHEMA_SQL);

    const vectors = embedderInfo ? openVectors(tmpDir, embedderInfo.dimension, options.hnsw, !full && prev !== null) : null;
    let deleted = !full && prev?.manifest.hnsw ? prev.manifest.hnsw.deleted : 0;

    // 1. Drop removed and changed articles from both halves.
    const dropIds = [...removed, ...changed.map((a) => a.id)];
    const labelsOf = db.prepare<[string], { rowid: number }>('SELECT rowid FROM chunks WHERE article_id = ?');
    const delFts = db.prepare('DELETE FROM chunks_fts WHERE rowid = ?');
    const delChunks = db.prepare('DELETE FROM chunks WHERE article_id = ?');
    const delArticle = db.prepare('DELETE FROM articles WHERE id = ?');
    const delArticleFts = db.prepare('DELETE FROM articles_fts WHERE rowid = (SELECT rowid FROM articles WHERE id = ?)');
    db.transaction(() => {
      for (const id of dropIds) {
        delArticleFts.run(id);
        for (const { rowid } of labelsOf.all(id)) {
          delFts.run(rowid);
          if (vectors) {
            vectors.markDelete(rowid);
            deleted++;
          }
        }
        delChunks.run(id);
        delArticle.run(id);
      }
    })();
    step('dropped');

    // 2. What is new, already chunked above.
    const chunked = [...added, ...changed].map((article) => ({ article, chunks: chunksOf.get(article.id)! }));
    const allChunks = chunked.flatMap((c) => c.chunks);

    // 3. Embed in batches, then write everything in one transaction.
    const embeddings: Float32Array[] = [];
    if (embedder) {
      const batch = Math.max(1, options.batchSize ?? 16);
      for (let i = 0; i < allChunks.length; i += batch) {
        const part = allChunks.slice(i, i + batch).map((c) => c.embedText);
        embeddings.push(...(await embedder.embedDocuments(part)));
        progress({ phase: 'embed', done: Math.min(i + batch, allChunks.length), total: allChunks.length });
        step('embedded-batch');
      }
    }
    progress({ phase: 'write', done: 0, total: allChunks.length });
    const insArticle = db.prepare(
      'INSERT INTO articles (id, title, date, url, source, path, hash, text) VALUES (@id, @title, @date, @url, @source, @path, @hash, @text)',
    );
    const insChunk = db.prepare(
      'INSERT INTO chunks (id, article_id, ordinal, start, end, text, embed_text, tokens, vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const insFts = db.prepare('INSERT INTO chunks_fts (rowid, embed_text) VALUES (?, ?)');
    const insArticleFts = db.prepare('INSERT INTO articles_fts (rowid, title, text) VALUES (?, ?, ?)');
    const labelled: { label: number; vector: Float32Array }[] = [];
    db.transaction(() => {
      let k = 0;
      for (const { article, chunks } of chunked) {
        const { lastInsertRowid: articleRow } = insArticle.run(article);
        insArticleFts.run(articleRow, article.title, article.text);
        for (const c of chunks) {
          const vec = embedder ? embeddings[k] : undefined;
          k++;
          const blob = vec ? Buffer.from(vec.buffer, vec.byteOffset, vec.byteLength) : null;
          const { lastInsertRowid } = insChunk.run(c.id, c.articleId, c.ordinal, c.start, c.end, c.text, c.embedText, c.tokens, blob);
          insFts.run(lastInsertRowid, c.embedText);
          if (vec) labelled.push({ label: Number(lastInsertRowid), vector: vec });
        }
      }
    })();
    step('inserted');

    if (vectors && embedderInfo) {
      const live = (db.prepare('SELECT count(*) AS n FROM chunks').get() as { n: number }).n;
      if (deleted > 0 && deleted / Math.max(1, live + deleted) > COMPACT_AT) {
        // Marked-deleted points still cost search time and memory; rebuild from the stored vectors.
        vectors.rebuildFrom(db);
        deleted = 0;
      } else {
        vectors.add(labelled);
      }
      vectors.write();
    }
    step('vectors-written');

    const counts = {
      articles: (db.prepare('SELECT count(*) AS n FROM articles').get() as { n: number }).n,
      chunks: (db.prepare('SELECT count(*) AS n FROM chunks').get() as { n: number }).n,
    };
    db.close();
    const names = embedderInfo ? [DB_FILE, VECTORS_FILE] : [DB_FILE];
    const manifest: Manifest = {
      formatVersion: FORMAT_VERSION,
      generation: n,
      builtAt: new Date().toISOString(),
      embedder: embedderInfo,
      chunker,
      hnsw: embedderInfo ? { m: options.hnsw.m, efConstruction: options.hnsw.efConstruction, deleted } : null,
      counts,
      files: describeFiles(tmpDir, names),
    };
    fs.writeFileSync(path.join(tmpDir, MANIFEST_FILE), JSON.stringify(manifest, null, 2));
    for (const name of [...names, MANIFEST_FILE]) fsyncPath(path.join(tmpDir, name));
    step('manifest-written');
    const finalDir = path.join(indexDir, genName(n));
    fs.renameSync(tmpDir, finalDir);
    fsyncPath(indexDir);
    step('renamed');
    switchTo(indexDir, n);
    step('switched');
    cleanup(indexDir);
    progress({ phase: 'done', done: counts.chunks, total: counts.chunks });
    log.info('index.built', { generation: n, full, ...counts, added: added.length, changed: changed.length, removed: removed.length });
    return summary(counts.chunks);
  } catch (err) {
    // Free the space (and leave no half-built generation) before reporting.
    if (db?.open) db.close();
    fs.rmSync(tmpDir, { recursive: true, force: true });
    throw err;
  }
}

/** The current generation when it is intact; a damaged one is reported and ignored (forcing a full rebuild). */
function usablePrevious(indexDir: string, log: Logger): { dir: string; manifest: Manifest } | null {
  const cur = currentGeneration(indexDir);
  if (!cur) return null;
  const checked = readManifest(cur.dir);
  if ('problem' in checked) {
    log.warn('index.damaged', { generation: cur.n, problem: checked.problem, action: 'full rebuild' });
    return null;
  }
  return { dir: cur.dir, manifest: checked.manifest };
}

/** Why an existing index cannot be updated incrementally with these settings, or null when it can. */
export function incompatibility(
  manifest: Manifest,
  embedder: { id: string; dimension: number } | null,
  chunker: string,
  hnsw: { m: number; efConstruction: number },
): string | null {
  const had = manifest.embedder ? `${manifest.embedder.id} (${manifest.embedder.dimension}d)` : 'no embedding model';
  const has = embedder ? `${embedder.id} (${embedder.dimension}d)` : 'no embedding model';
  if (had !== has) return `the index was built with ${had}, the current setting is ${has}`;
  if (manifest.chunker !== chunker) return `the index was built with chunker settings ${manifest.chunker}, the current ones are ${chunker}`;
  // The graph is patched in place on incremental builds, so new graph settings need a rebuild to apply.
  const g = manifest.hnsw;
  if (g && (g.m !== hnsw.m || g.efConstruction !== hnsw.efConstruction)) {
    return `the vector index was built with HNSW_M=${g.m}, HNSW_EF_CONSTRUCTION=${g.efConstruction}; the current ones are ${hnsw.m}, ${hnsw.efConstruction}`;
  }
  return null;
}

function readArticleHashes(dbFile: string): Map<string, string> {
  const db = new Database(dbFile, { readonly: true });
  try {
    const rows = db.prepare('SELECT id, hash FROM articles').all() as { id: string; hash: string }[];
    return new Map(rows.map((r) => [r.id, r.hash]));
  } finally {
    db.close();
  }
}

interface VectorWriter {
  markDelete(label: number): void;
  add(points: { label: number; vector: Float32Array }[]): void;
  rebuildFrom(db: Database.Database): void;
  write(): void;
}

function openVectors(dir: string, dim: number, params: { m: number; efConstruction: number }, reuse: boolean): VectorWriter {
  const file = path.join(dir, VECTORS_FILE);
  let index = new HierarchicalNSW('ip', dim);
  if (reuse && fs.existsSync(file)) index.readIndexSync(file);
  else index.initIndex({ maxElements: 1024, m: params.m, efConstruction: params.efConstruction, randomSeed: 100 });
  const ensure = (extra: number) => {
    const need = index.getCurrentCount() + extra;
    if (need > index.getMaxElements()) index.resizeIndex(Math.max(need, Math.ceil(index.getMaxElements() * 1.5)));
  };
  const addAll = (points: { label: number; vector: Float32Array }[]) => {
    ensure(points.length);
    for (const p of points) index.addPoint(Array.from(p.vector), p.label);
  };
  return {
    markDelete: (label) => {
      try {
        index.markDelete(label);
      } catch {
        // A chunk written without a vector has no point to delete.
      }
    },
    add: addAll,
    rebuildFrom: (db) => {
      const rows = db.prepare('SELECT rowid, vector FROM chunks WHERE vector IS NOT NULL').all() as { rowid: number; vector: Buffer }[];
      index = new HierarchicalNSW('ip', dim);
      index.initIndex({ maxElements: Math.max(1024, rows.length), m: params.m, efConstruction: params.efConstruction, randomSeed: 100 });
      addAll(rows.map((r) => ({ label: r.rowid, vector: bufferToVector(r.vector) })));
    },
    write: () => index.writeIndexSync(file),
  };
}

/** Reads a float32 vector stored as a BLOB. */
export function bufferToVector(buf: Buffer): Float32Array {
  // Copy: SQLite's buffer may not be 4-byte aligned.
  const copy = new Uint8Array(buf.byteLength);
  copy.set(buf);
  return new Float32Array(copy.buffer);
}
