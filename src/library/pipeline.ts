/**
 * The indexing pipeline, one named step each: load → plan (what changed since the stored
 * generation) → chunk → embed → write. Unchanged articles (same content hash) keep their chunks
 * and vectors; changed ones are re-chunked and re-embedded; deleted ones leave both halves. The
 * store only writes and reads generations; this is where articles become chunks and vectors.
 */
import { type ExtraSource, loadArticles } from '../articles/index.js';
import { chunkArticle, chunkerSettingsId, UNCHUNKABLE } from '../chunking/index.js';
import { lengthSortedBatches } from '../embedding/batches.js';
import { detectArticleLanguage } from '../language/index.js';
import { type BaseGeneration, fileTarget, type IndexTarget, type PublishStep } from '../store/target.js';
import { type ArticleRecord, incompatibility, type StoreSettings } from '../store/writer.js';
import type { Article, Chunk, Embedder, IndexProgress, IndexSummary, LoadIssue, LoadResult, TokenCounter } from '../types.js';
import { errorMessage, MassDeleteError } from '../util/errors.js';
import { type Logger, silentLogger } from '../util/log.js';

/** Everything an indexing run needs (besides the loaded articles). */
export interface IndexOptions {
  /** The embedded store's folder, used when no `target` is given. */
  indexDir?: string;
  /** Where to write; default the embedded store in `indexDir`. */
  target?: IndexTarget;
  loaded: LoadResult;
  /** null builds a lexical-only index. */
  embedder: Embedder | null;
  /**
   * Token counter for chunk sizes. The app passes a model-independent WordPiece estimate, so an
   * index built before the model arrives keeps its chunk boundaries once it does and only gains
   * vectors; a chunk the embedder's own tokenizer finds too long for the model is re-chunked with
   * that tokenizer instead (see `chunkFor`).
   */
  counter: TokenCounter;
  chunking: { maxTokens: number; overlapSentences: number };
  hnsw: { m: number; efConstruction: number };
  batchSize?: number;
  /** Rebuild everything instead of reusing unchanged articles. */
  full?: boolean;
  /** The folder the articles were loaded from: recorded in the manifest and named by the mass-delete guard. */
  articlesDir?: string;
  /** Lifts the guard that refuses to remove every article, or more than half, from a non-empty index. */
  allowMassDelete?: boolean;
  /** Ids whose removal was asked for by name (an admin's /remove): the guard does not count them. */
  expectedRemovals?: readonly string[];
  /** Runs with the publish of the new generation (never when the run publishes nothing): a removed article's source goes with it. */
  onPublish?: PublishStep;
  /** Stops the run between steps (never inside the write, which publishes or leaves nothing). */
  signal?: AbortSignal;
  onProgress?: (p: IndexProgress) => void;
  logger?: Logger;
  /** Test hook: called between steps so crash tests can kill the process at a chosen point. */
  onStep?: (step: string) => void;
}

/** What changed between the stored generation and the loaded articles. */
interface Plan {
  /** The generation to patch; null for a full build. */
  base: BaseGeneration | null;
  /** The generation serving now (patched or not): what the mass-delete guard protects. */
  current: { ids: ReadonlySet<string>; articlesDir: string | null } | null;
  added: Article[];
  changed: Article[];
  removed: string[];
  unchanged: number;
}

/** The articles to write, chunked, and those the chunker could not split. */
interface Chunked {
  /** `lang`: the article's language, detected once it is known to be written (step 3b). */
  items: { article: Article; chunks: Chunk[]; lang?: string | null }[];
  skipped: LoadIssue[];
  /** Ids of the articles that could not be chunked (they are not written). */
  failed: ReadonlySet<string>;
}

/** The settings, logger and callbacks every step shares. */
interface Run {
  options: IndexOptions;
  target: IndexTarget;
  settings: StoreSettings;
  log: Logger;
  progress: (p: IndexProgress) => void;
  started: number;
}

/** Step 1, load: reads the articles folder (plus `extra` sources kept elsewhere) and logs every file skipped or warned about. */
export async function loadForIndexing(
  articlesDir: string,
  options: { maxFileBytes: number; logger?: Logger; extra?: readonly ExtraSource[] },
): Promise<LoadResult> {
  const log = options.logger ?? silentLogger;
  const loaded = await loadArticles(articlesDir, {
    maxFileBytes: options.maxFileBytes,
    ...(options.extra ? { extra: options.extra } : {}),
  });
  for (const s of loaded.skipped) log.warn('article.skipped', { file: s.file, reason: s.reason });
  for (const w of loaded.warnings) log.warn('article.warning', { file: w.file, reason: w.reason });
  return loaded;
}

/** Where a run writes: its `target`, else the embedded store in `indexDir`. */
function targetOf(options: IndexOptions): IndexTarget {
  if (options.target) return options.target;
  if (!options.indexDir) throw new Error('indexArticles needs a target or an indexDir.');
  return fileTarget(options.indexDir);
}

/** What the store records about these options: embedding model, chunker settings, graph settings. */
export function storeSettings(options: Pick<IndexOptions, 'embedder' | 'counter' | 'chunking' | 'hnsw'>): StoreSettings {
  const { embedder } = options;
  return {
    embedder: embedder ? { id: embedder.id, dimension: embedder.dimension } : null,
    chunker: chunkerSettingsId({ ...options.chunking, counter: options.counter }),
    hnsw: { m: options.hnsw.m, efConstruction: options.hnsw.efConstruction },
  };
}

/**
 * Steps 2–5 on loaded articles: plan, chunk, embed, write a new generation (none when nothing
 * changed). Throws `BusyError` when another process is writing the index.
 */
export async function indexArticles(options: IndexOptions): Promise<IndexSummary> {
  const run: Run = {
    options,
    target: targetOf(options),
    settings: storeSettings(options),
    log: options.logger ?? silentLogger,
    progress: options.onProgress ?? (() => {}),
    started: performance.now(),
  };
  return run.target.withWriteLock(async () => {
    const plan = await planChanges(run);
    const chunked = chunkChanged(run, plan);
    guardMassDelete(run, plan, chunked);
    options.signal?.throwIfAborted();
    await detectLanguages(chunked);
    // A generation from another folder is rewritten even when no article changed, so it records this one.
    const sameFolder = options.articlesDir === undefined || plan.base?.manifest.articlesDir === options.articlesDir;
    if (plan.base && sameFolder && plan.added.length === 0 && plan.changed.length === 0 && plan.removed.length === 0) {
      run.progress({ phase: 'done', done: 0, total: 0 });
      return summarize(run, plan, chunked, plan.base.manifest.counts.chunks);
    }
    // A target that embeds after writing gets the chunks first: a killed run or a slow model
    // leaves them stored, and separate workers can embed them.
    const records = run.target.embedsAfterWrite
      ? chunked.items.map((item) => ({ ...item, vectors: null }))
      : await embedChunks(run, chunked);
    options.signal?.throwIfAborted();
    const chunks = await writeGeneration(run, plan, records);
    return summarize(run, plan, chunked, chunks);
  });
}

/** Step 2, plan: which articles are new, changed or gone since the generation being patched. */
async function planChanges(run: Run): Promise<Plan> {
  const { options, log } = run;
  // Checked even for --full: a damaged index is worth a line in the log either way.
  const current = await run.target.current(log);
  let base = options.full === true ? null : current;
  const why = base ? incompatibility(base.manifest, run.settings) : null;
  if (why) {
    log.info('index.full_rebuild', { reason: why });
    base = null;
  }
  const stored = base ? await run.target.storedHashes(base) : new Map<string, string>();
  const articles = options.loaded.articles;
  const present = new Set(articles.map((a) => a.id));
  const added = articles.filter((a) => !stored.has(a.id));
  const changed = articles.filter((a) => stored.has(a.id) && stored.get(a.id) !== a.hash);
  const removed = [...stored.keys()].filter((id) => !present.has(id));
  const currentIds = current === base ? stored : current ? await run.target.storedHashes(current) : null;
  return {
    base,
    current: current && currentIds ? { ids: new Set(currentIds.keys()), articlesDir: current.manifest.articlesDir ?? null } : null,
    added,
    changed,
    removed,
    unchanged: articles.length - added.length - changed.length,
  };
}

/** Share of a non-empty index a run may remove without `allowMassDelete`. */
const MASS_DELETE_SHARE = 0.5;

/**
 * After planning and chunking, before anything is embedded or written: refuses a run that would
 * remove every article, or more than half of them, from the index serving now (an empty, wrong or
 * unmounted folder looks exactly like that). A switch to another folder (ARTICLES_DIR changed since
 * the index was built) that holds articles replaces the index: that is what the user configured, and
 * the old folder's articles are still on disk. A switch to an empty folder is refused like any wipe.
 * Articles removed by name (`expectedRemovals`) do not count.
 */
function guardMassDelete(run: Run, plan: Plan, chunked: Chunked): void {
  const { options } = run;
  const current = plan.current;
  if (options.allowMassDelete === true || !current || current.ids.size === 0) return;
  const kept = new Set(options.loaded.articles.map((a) => a.id).filter((id) => !chunked.failed.has(id)));
  const expected = new Set(options.expectedRemovals ?? []);
  const lost = [...current.ids].filter((id) => !kept.has(id) && !expected.has(id)).length;
  const indexed = current.ids.size;
  const switched = options.articlesDir !== undefined && current.articlesDir !== null && current.articlesDir !== options.articlesDir;
  if (lost === 0 || (switched && kept.size > 0) || (lost < indexed && lost <= indexed * MASS_DELETE_SHARE)) return;
  const inFolder = options.loaded.articles.length;
  const folder = options.articlesDir ? `${options.articlesDir} holds ${inFolder}` : `the folder holds ${inFolder}`;
  run.log.info('index.mass_delete_refused', { removed: lost, indexed, in_folder: inFolder });
  throw new MassDeleteError(
    // Front ends add how to confirm (the CLI's flag, the bot's button).
    `Refusing to remove ${lost === indexed ? 'all' : lost} of the ${indexed} indexed articles: ${folder} article${inFolder === 1 ? '' : 's'} now. ` +
      'Nothing was removed; check ARTICLES_DIR.',
    lost,
    indexed,
    inFolder,
  );
}

/**
 * Step 3, chunk, before anything is written: an article the chunker cannot handle is skipped with
 * a reason instead of failing this build and every one after it. A changed article that can no
 * longer be chunked leaves the index rather than keep its stale text, so the plan is updated.
 */
function chunkChanged(run: Run, plan: Plan): Chunked {
  const { log, progress } = run;
  const todo = [...plan.added, ...plan.changed];
  const items: Chunked['items'] = [];
  const skipped: LoadIssue[] = [];
  const failed = new Set<string>();
  for (const [i, article] of todo.entries()) {
    try {
      items.push({ article, chunks: chunkFor(run, article) });
    } catch (err) {
      skipped.push({ file: article.path, reason: `${UNCHUNKABLE} (${errorMessage(err).split('\n')[0]})` });
      log.warn('article.unchunkable', { file: article.path, error: errorMessage(err) });
      failed.add(article.id);
    }
    if (i % 20 === 0 || i === todo.length - 1) progress({ phase: 'chunk', done: i + 1, total: todo.length });
  }
  for (const a of plan.changed) if (failed.has(a.id)) plan.removed.push(a.id);
  plan.added = plan.added.filter((a) => !failed.has(a.id));
  plan.changed = plan.changed.filter((a) => !failed.has(a.id));
  return { items, skipped, failed };
}

/**
 * An article's chunks, sized by `options.counter`. When the embedder's own tokenizer counts a chunk
 * longer than the model's input (the estimate can undercount unusual text), the article is chunked
 * again with that tokenizer: a truncated chunk would be embedded without its end.
 */
function chunkFor(run: Run, article: Article): Chunk[] {
  const { options, log } = run;
  const chunks = chunkArticle(article, { ...options.chunking, counter: options.counter });
  const embedder = options.embedder;
  if (!embedder || embedder.tokenizer.id === options.counter.id) return chunks;
  const tooLong = chunks.filter((c) => embedder.tokenizer.count(c.embedText) > embedder.maxTokens).length;
  if (tooLong === 0) return chunks;
  log.info('chunk.rechunked_for_model', { file: article.path, tooLong, maxTokens: embedder.maxTokens });
  return chunkArticle(article, { ...options.chunking, counter: embedder.tokenizer });
}

/**
 * Step 3b: the language of every article to write, so the index knows which languages it holds
 * (a question in another one is translated, or the reader told what would make it work).
 */
async function detectLanguages(chunked: Chunked): Promise<void> {
  for (const item of chunked.items) item.lang = await detectArticleLanguage(item.article);
}

/** Step 4, embed: every new chunk, in batches of similar length (less padding), with progress. */
async function embedChunks(run: Run, chunked: Chunked): Promise<ArticleRecord[]> {
  const { options, progress } = run;
  const embedder = options.embedder;
  if (!embedder) return chunked.items.map((item) => ({ ...item, vectors: null }));
  const chunks = chunked.items.flatMap((item) => item.chunks);
  const vectors: Float32Array[] = new Array<Float32Array>(chunks.length);
  const batches = lengthSortedBatches(
    chunks.map((c) => c.tokens),
    Math.max(1, options.batchSize ?? 16),
  );
  let done = 0;
  for (const batch of batches) {
    const out = await embedder.embedDocuments(batch.map((i) => chunks[i]!.embedText));
    for (const [j, i] of batch.entries()) vectors[i] = out[j]!;
    done += batch.length;
    progress({ phase: 'embed', done, total: chunks.length });
    options.onStep?.('embedded-batch');
    // A turn of the event loop per batch: inference can finish without one, and then a signal
    // (Ctrl-C) or any other waiting work would only be seen after the whole embed.
    await new Promise((resolve) => setImmediate(resolve));
    options.signal?.throwIfAborted();
  }
  let next = 0;
  return chunked.items.map((item) => {
    const own = vectors.slice(next, next + item.chunks.length);
    next += item.chunks.length;
    return { ...item, vectors: own };
  });
}

/**
 * Step 5, write: a new generation with the removals and additions, published atomically (for a
 * target that embeds after writing, step 4 runs here, between writing and publishing). Returns
 * its chunk count.
 */
async function writeGeneration(run: Run, plan: Plan, records: ArticleRecord[]): Promise<number> {
  const { options, log, progress } = run;
  const total = records.reduce((n, r) => n + r.chunks.length, 0);
  progress({ phase: 'write', done: 0, total });
  const writer = await run.target.begin(plan.base, run.settings, {
    ...(options.articlesDir ? { articlesDir: options.articlesDir } : {}),
    ...(options.onStep ? { onStep: options.onStep } : {}),
    ...(options.onPublish ? { onPublish: options.onPublish } : {}),
  });
  try {
    await writer.removeArticles([...plan.removed, ...plan.changed.map((a) => a.id)]);
    await writer.addArticles(records);
    const embedder = options.embedder;
    if (embedder && writer.embedPending) {
      await writer.embedPending(
        (texts) => embedder.embedDocuments(texts),
        Math.max(1, options.batchSize ?? 16),
        (done, all) => {
          progress({ phase: 'embed', done, total: all });
          options.onStep?.('embedded-batch');
        },
      );
    }
    const { generation, counts } = await writer.commit();
    progress({ phase: 'done', done: counts.chunks, total: counts.chunks });
    log.info('index.built', {
      generation,
      full: plan.base === null,
      ...counts,
      added: plan.added.length,
      changed: plan.changed.length,
      removed: plan.removed.length,
    });
    return counts.chunks;
  } catch (err) {
    await writer.abort();
    throw err;
  }
}

function summarize(run: Run, plan: Plan, chunked: Chunked, chunks: number): IndexSummary {
  const loaded = run.options.loaded;
  return {
    added: plan.added.length,
    changed: plan.changed.length,
    removed: plan.removed.length,
    unchanged: plan.unchanged,
    skipped: [...loaded.skipped, ...chunked.skipped],
    warnings: loaded.warnings,
    articles: loaded.articles.length - chunked.skipped.length,
    chunks,
    seconds: (performance.now() - run.started) / 1000,
    dense: run.settings.embedder !== null,
  };
}
