/**
 * The article collection as admins manage it: the articles folder and the stored sources (chat
 * and feed additions, `ArticleSources`), plus the index built from both.
 * Serves reads from the current index generation while a reindex builds the next one, then
 * swaps readers. Only one reindex runs at a time (in this process, and across processes via the
 * index lock).
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  articleFromHtml,
  articleId,
  articleToMarkdown,
  assertArticlesFolder,
  parseArticleFile,
  safeArticleFileName,
} from '../articles/index.js';
import type { PublishStep } from '../store/target.js';
import { currentGeneration } from '../store/generations.js';
import { readManifest } from '../store/manifest.js';
import { type IndexStore, isOpenFailure } from '../store/index-store.js';
import { IndexReader } from '../store/reader.js';
import type { IndexView, OpenFailure } from '../store/search-index.js';
import { incompatibility } from '../store/writer.js';
import type { ArticleInfo, Embedder, IndexProgress, IndexSummary, Library, LibraryStats, LoadResult, TokenCounter } from '../types.js';
import { BusyError, DatabaseUnavailableError, errorMessage, UserError } from '../util/errors.js';
import { silentLogger, type Logger } from '../util/log.js';
import { isProcessAlive } from '../util/process.js';
import { formatBytes } from '../util/format.js';
import { type FetchLimits, type Fetched, fetchUrl } from './fetch-url.js';
import { indexArticles, loadForIndexing, storeSettings } from './pipeline.js';
import type { ArticleSources, SourceMeta } from './sources.js';

/** What the library needs; built by the composition root. */
export interface LibraryOptions {
  articlesDir: string;
  embedder: Embedder | null;
  /** True when an embedding model is configured but could not be loaded (as opposed to EMBEDDING_PROVIDER=none). */
  embedderUnavailable?: boolean;
  counter: TokenCounter;
  chunking: { maxTokens: number; overlapSentences: number };
  hnsw: { m: number; efConstruction: number; efSearch: number };
  batchSize: number;
  maxFileBytes: number;
  fetch: FetchLimits;
  logger?: Logger;
  /** Where the index lives (files under INDEX_DIR, or PostgreSQL): the composition root's choice. */
  index: IndexStore;
  /** Where chat and feed additions are kept (never the articles folder, which a sync mirrors). */
  sources: ArticleSources;
}

/** A removal in progress: the source left out of the load, and what deletes it with the publish. */
interface Removal {
  path: string;
  id: string;
  onPublish: PublishStep;
}

/** Options of one reindex run. */
export interface ReindexOptions {
  full?: boolean;
  onProgress?: (p: IndexProgress) => void;
  /** Confirms a run that removes every article, or more than half of them (refused otherwise). */
  allowMassDelete?: boolean;
  /** Stops the run between steps; the previous index stays in use and nothing half-built is left. */
  signal?: AbortSignal;
}

/** What `sync` did: the run's summary (null when it did not run), and why it rebuilt or did not run. */
export interface SyncResult {
  summary: IndexSummary | null;
  /** Why the index was rebuilt from scratch (damaged, other settings), or null. */
  problem: string | null;
  /** Why the index being served was not synced (another process is indexing, the model is missing), or null. */
  notSynced: string | null;
}

/**
 * What the published index in `indexDir` holds, read from its manifest without opening the index
 * (cheap enough for a signal handler): its article count and the folder it was built from (null
 * when it predates that record). Null when there is no readable index.
 */
export function publishedIndex(indexDir: string): { articles: number; articlesDir: string | null } | null {
  const cur = currentGeneration(indexDir);
  if (!cur) return null;
  const read = readManifest(cur.dir, false);
  return 'manifest' in read ? { articles: read.manifest.counts.articles, articlesDir: read.manifest.articlesDir ?? null } : null;
}

/** The `Library` implementation over the articles folder and `index-data/`. */
export class ArticleLibrary implements Library {
  private current: IndexView | null = null;
  /** The reindex in progress: the one record of "a reindex is running" (the bot asks `reindexStatus`). */
  private running: { done: Promise<IndexSummary>; full: boolean; startedAt: number } | null = null;
  private readonly log: Logger;
  private readonly changeListeners = new Set<() => void>();
  /** A published generation that could not be opened, so following reports it once instead of every tick. */
  private unopenable: number | null = null;
  /** Stops the watch `follow()` started. */
  private unwatch: (() => Promise<void>) | null = null;
  /** Bumped by `unfollow`, so a watch that starts after it is dropped. */
  private followToken = 0;
  /** The switch to a newly published generation in progress (one at a time). */
  private switching: Promise<OpenFailure | null> = Promise.resolve(null);
  /** Paths of the stored sources as last loaded (the rest of the index came from the folder). */
  private stored = new Set<string>();

  constructor(private readonly options: LibraryOptions) {
    this.log = options.logger ?? silentLogger;
  }

  /** The index being served, as the embedded store's reader (tests and tools that read its files); null otherwise: use `searchIndex`. */
  reader(): IndexReader | null {
    return this.current instanceof IndexReader ? this.current : null;
  }

  /** The index searches should use now, whichever store holds it (null before the first build). */
  searchIndex(): IndexView | null {
    return this.current;
  }

  /**
   * Serves the published generation unless it is the one served already; returns why not when it
   * is missing or damaged (a failed switch keeps the current one). Switches run one at a time.
   */
  open(verify = true): Promise<OpenFailure | null> {
    const next = this.switching.then(async (): Promise<OpenFailure | null> => {
      const published = await this.options.index.publishedGeneration();
      if (published === null) return { kind: 'missing', message: 'No index yet.' };
      if (this.current && published === this.current.manifest.generation) return null;
      const opened = await this.options.index.open(this.current, verify);
      if (isOpenFailure(opened)) return opened;
      this.swap(opened);
      return null;
    });
    // A failed switch (database away) must not block the next one.
    this.switching = next.catch(() => null);
    return next;
  }

  /**
   * Opens the index, building it first when there is none or it is damaged (a damaged index is
   * rebuilt from the articles rather than served). Returns the build summary when it built.
   */
  async ensure(onProgress?: (p: IndexProgress) => void): Promise<{ built: IndexSummary | null; problem: string | null }> {
    this.removeAbandonedUploads();
    const failure = await this.open();
    let problem: string | null = failure?.kind === 'damaged' ? failure.message : null;
    if (!failure) {
      if (this.wouldDropVectors()) {
        // Serve the existing index lexically until the model is back (see wouldDropVectors).
        this.log.warn('index.serving_lexical', { model: this.current?.manifest.embedder?.id });
        return { built: null, problem: null };
      }
      // An index built with another model or chunker would give wrong results: rebuild it.
      const why = this.mismatch();
      if (!why) return { built: null, problem: null };
      problem = `The index does not match the current settings (${why}).`;
    }
    if (problem) this.log.warn('index.rebuild', { problem, action: 'rebuilding from the articles' });
    const built = await this.reindex({ full: problem !== null, ...(onProgress ? { onProgress } : {}) });
    return { built, problem };
  }

  /**
   * Opens the index and brings it in line with the articles folder before serving: an incremental
   * reindex (a no-change run only reads the folder), a full one when the index is damaged. An
   * index built from another folder is resynced like any other change. Throws `UserError` for a
   * missing folder and `MassDeleteError` when the folder lost most of the indexed articles.
   */
  async sync(options: Omit<ReindexOptions, 'full'> = {}): Promise<SyncResult> {
    this.removeAbandonedUploads();
    const failure = await this.open();
    const problem = failure?.kind === 'damaged' ? failure.message : null;
    if (!failure && this.wouldDropVectors()) {
      this.log.warn('index.serving_lexical', { model: this.current?.manifest.embedder?.id });
      return { summary: null, problem: null, notSynced: 'the embedding model is not loaded, and a sync now would drop its vectors' };
    }
    const why = failure ? null : this.mismatch();
    const rebuild = problem ?? (why ? `The index does not match the current settings (${why}).` : null);
    if (rebuild) this.log.warn('index.rebuild', { problem: rebuild, action: 'rebuilding from the articles' });
    try {
      const summary = await this.reindex({ ...options, full: rebuild !== null });
      return { summary, problem: rebuild, notSynced: null };
    } catch (err) {
      // Another writer (a bot's /reindex, a CLI run) is busy: serve what is published meanwhile.
      if (err instanceof BusyError && this.current) return { summary: null, problem, notSynced: 'another indexing run is in progress' };
      // A replica starting while PostgreSQL is away serves its kept local copy; following catches up once it is back.
      if (err instanceof DatabaseUnavailableError && this.current && !rebuild) {
        this.log.warn('index.sync_skipped', { problem: errorMessage(err) });
        return {
          summary: null,
          problem: null,
          notSynced: /busy/.test(err.message) ? 'the database is busy' : 'the database is unreachable',
        };
      }
      throw err;
    }
  }

  /** Why the open index was built with other settings than the current ones, or null. */
  mismatch(): string | null {
    const r = this.current;
    if (!r) return null;
    return incompatibility(r.manifest, storeSettings(this.options));
  }

  stats(): LibraryStats {
    const r = this.current;
    if (!r) {
      return { articles: 0, chunks: 0, firstDate: null, lastDate: null, indexBytes: 0, embeddingModel: null, dense: false, builtAt: null };
    }
    const dates = r.dateRange();
    return {
      articles: r.manifest.counts.articles,
      chunks: r.manifest.counts.chunks,
      firstDate: dates.first,
      lastDate: dates.last,
      indexBytes: r.sizeBytes(),
      embeddingModel: r.manifest.embedder?.id ?? null,
      dense: r.dense,
      builtAt: r.manifest.builtAt,
    };
  }

  articleLocation(articleId: string): string | null {
    const stored = this.current?.article(articleId);
    if (!stored?.path) return null;
    const full = this.stored.has(stored.path)
      ? this.options.sources.location(stored.path)
      : path.resolve(this.options.articlesDir, stored.path);
    if (!full) return null;
    const rel = path.relative(process.cwd(), full);
    return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : full;
  }

  listArticles(offset: number, limit: number): { total: number; items: ArticleInfo[] } {
    return this.current ? this.current.listArticles(offset, limit) : { total: 0, items: [] };
  }

  reindex(options: ReindexOptions = {}): Promise<IndexSummary> {
    return this.startReindex(options, null);
  }

  /** Starts a reindex unless one runs; `removal` is an article removed by name (not counted by the guard). */
  private startReindex(options: ReindexOptions, removal: Removal | null): Promise<IndexSummary> {
    if (this.running) return Promise.reject(new BusyError('A reindex is already running; try again when it has finished.'));
    const done = this.runReindex(options, removal).finally(() => {
      this.running = null;
    });
    this.running = { done, full: options.full === true, startedAt: Date.now() };
    return done;
  }

  /** The reindex running in this process (started by anyone: /reindex, an upload, a removal), or null. */
  reindexStatus(): { full: boolean; startedAt: number } | null {
    return this.running ? { full: this.running.full, startedAt: this.running.startedAt } : null;
  }

  /**
   * True when the configured model failed to load (offline?) but the index has its vectors:
   * any rebuild now would throw every vector away and re-embed everything later.
   */
  private wouldDropVectors(): boolean {
    return this.options.embedderUnavailable === true && this.options.embedder === null && !!this.current?.manifest.embedder;
  }

  private assertCanReindex(): void {
    if (this.wouldDropVectors()) {
      throw new UserError(
        'The embedding model is not loaded, and reindexing now would drop semantic search from the index. ' +
          'Fix the model (see `npx newsdesk --help`) and retry, or set EMBEDDING_PROVIDER=none to index lexical-only on purpose.',
      );
    }
  }

  private async runReindex(options: ReindexOptions, removal: Removal | null): Promise<IndexSummary> {
    const o = this.options;
    this.assertCanReindex();
    // The whole run counts, reading the folder and opening the result included: the pipeline's own
    // clock starts after loading, which made a no-change sync look like "0.0 s".
    const started = performance.now();
    options.signal?.throwIfAborted();
    // A missing folder is the whole message: no "Reading the articles…" before it.
    assertArticlesFolder(o.articlesDir);
    options.onProgress?.({ phase: 'load', done: 0, total: 0 });
    const loaded = await this.loadAll(removal?.path ?? null);
    options.signal?.throwIfAborted();
    const built = await indexArticles({
      target: o.index.target(),
      loaded,
      embedder: o.embedder,
      counter: o.counter,
      chunking: o.chunking,
      hnsw: o.hnsw,
      batchSize: o.batchSize,
      full: options.full === true,
      articlesDir: path.resolve(o.articlesDir),
      allowMassDelete: options.allowMassDelete === true,
      expectedRemovals: removal ? [removal.id] : [],
      ...(removal ? { onPublish: removal.onPublish } : {}),
      logger: this.log,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    // Nothing changed (same generation): the open reader stays. The build just checksummed what it
    // wrote; verifying again would re-read the whole index.
    const failure = await this.open(false);
    if (failure?.kind === 'damaged') throw new Error(`Index was built but cannot be opened: ${failure.message}`);
    return { ...built, seconds: (performance.now() - started) / 1000 };
  }

  /**
   * What a run indexes: the articles folder plus every stored source (`leaveOut`, an article being
   * removed, excepted). The folder's files come first, so a stored source repeating one is skipped.
   */
  private async loadAll(leaveOut: string | null): Promise<LoadResult> {
    const o = this.options;
    const sources = await o.sources.list();
    this.stored = new Set(sources.map((s) => s.path));
    const extra = sources.filter((s) => s.path !== leaveOut);
    const loaded = await loadForIndexing(o.articlesDir, { maxFileBytes: o.maxFileBytes, logger: this.log, extra });
    if (leaveOut === null || this.stored.has(leaveOut)) return loaded;
    return { ...loaded, articles: loaded.articles.filter((a) => a.path !== leaveOut) };
  }

  async addFile(fileName: string, bytes: Uint8Array, addedBy?: string): Promise<{ article: ArticleInfo; summary: IndexSummary }> {
    if (bytes.byteLength > this.options.maxFileBytes) {
      throw new UserError(`The file is too large (${formatBytes(bytes.byteLength)} > ${formatBytes(this.options.maxFileBytes)} limit).`);
    }
    const name = safeArticleFileName(fileName);
    // Parse before saving: a file that cannot be read never enters the articles folder.
    const parsed = await parseArticleFile(name, bytes);
    if (parsed.articles.length === 0) {
      throw new UserError(`Could not add ${fileName}: ${parsed.skipped[0]?.reason ?? 'no article found in it'}.`);
    }
    if (this.running) throw new BusyError('A reindex is already running; try again when it has finished.');
    this.assertCanReindex();
    const rel = await this.store(name, '', bytes, { origin: 'chat', addedBy: addedBy ?? null });
    return this.indexAdded(rel, fileName);
  }

  async addUrl(url: string, addedBy?: string): Promise<{ article: ArticleInfo; summary: IndexSummary }> {
    const fetched = await this.fetchPage(url.trim());
    const type = fetched.contentType.toLowerCase();
    if (type.includes('pdf')) return this.addFile(fileNameFromUrl(fetched.url, '.pdf'), fetched.bytes, addedBy);
    if (type.includes('text/plain')) return this.addFile(fileNameFromUrl(fetched.url, '.txt'), fetched.bytes, addedBy);
    const draft = extractArticle(fetched);
    // Saved as Markdown with front matter: the extracted text is what we index, and the file
    // stays readable and editable by admins.
    if (this.running) throw new BusyError('A reindex is already running; try again when it has finished.');
    const markdown = new TextEncoder().encode(articleToMarkdown(draft));
    const rel = await this.store(safeArticleFileName(slug(draft.title) + '.md'), '', markdown, { origin: 'chat', addedBy: addedBy ?? url });
    return this.indexAdded(rel, url);
  }

  /** Fetches an HTML page through the safe fetcher (as /add does) and extracts its article, without saving it. */
  async fetchArticle(url: string): Promise<ArticleDraft> {
    return extractArticle(await this.fetchPage(url.trim()));
  }

  /**
   * Stores new articles (from feeds) as Markdown sources under `folder` and indexes them in one
   * reindex (waiting for one already running). Sources that were not indexed (a duplicate text) are
   * taken back out; on a failed reindex every new one is.
   */
  async importArticles(drafts: readonly ArticleDraft[], folder: string): Promise<{ saved: ImportedArticle[]; summary: IndexSummary }> {
    while (this.running) await this.running.done.catch(() => undefined);
    this.assertCanReindex();
    const rels: string[] = [];
    for (const d of drafts) {
      const markdown = new TextEncoder().encode(articleToMarkdown(d));
      rels.push(
        await this.store(safeArticleFileName(slug(d.title) + '.md'), folder, markdown, { origin: 'feed', addedBy: d.url ?? d.source }),
      );
    }
    let summary: IndexSummary;
    try {
      summary = await this.reindex({});
    } catch (err) {
      for (const rel of rels) await this.options.sources.delete(rel);
      throw err;
    }
    const saved: ImportedArticle[] = [];
    for (const rel of rels) {
      const article = this.current?.articlesInFile(rel)[0] ?? null;
      if (!article) await this.options.sources.delete(rel);
      saved.push({ path: rel, article });
    }
    return { saved, summary };
  }

  /** Stores a new source under a name whose id neither the folder nor the index has. */
  private async store(name: string, folder: string, bytes: Uint8Array, meta: SourceMeta): Promise<string> {
    const dir = path.join(this.options.articlesDir, folder);
    let inFolder: Set<string>;
    try {
      inFolder = new Set(fs.readdirSync(dir).map((e) => articleId(folder ? path.posix.join(folder, e) : e)));
    } catch {
      inFolder = new Set();
    }
    // Ids drop the extension, so budget.md beside budget.txt would steal the older article's id.
    return this.options.sources.add(name, folder, bytes, meta, (id) => inFolder.has(id) || this.current?.article(id) !== undefined);
  }

  /** The URLs of every indexed article (feeds skip items whose link is already in the folder). */
  knownUrls(): Set<string> {
    const urls = new Set<string>();
    const r = this.current;
    if (!r) return urls;
    const { total } = r.listArticles(0, 1);
    for (let at = 0; at < total; at += 1000) for (const a of r.listArticles(at, 1000).items) if (a.url) urls.add(a.url);
    return urls;
  }

  private fetchPage(url: string): Promise<Fetched> {
    return fetchUrl(url, { ...this.options.fetch, maxBytes: Math.min(this.options.fetch.maxBytes, this.options.maxFileBytes) });
  }

  async remove(id: string): Promise<{ summary: IndexSummary }> {
    const r = this.current;
    const art = r?.article(id.trim());
    if (!r || !art) throw new UserError(`No article with id "${id}". Use /sources to see the ids.`);
    const siblings = r.articlesInFile(art.path);
    if (siblings.length > 1) {
      throw new UserError(`Article ${id} is one of ${siblings.length} records in ${art.path}; edit or remove that file instead.`);
    }
    if (this.running) throw new BusyError('A reindex is already running; try again when it has finished.');
    this.assertCanReindex();
    // The source goes with the publish of the generation without it, never before: a refused or
    // failed run leaves both. A folder file is deleted after the publish (the folder is this machine's).
    const sources = await this.options.sources.list();
    const stored = sources.some((s) => s.path === art.path);
    const file = stored ? null : this.resolveInside(art.path);
    const onPublish: PublishStep = stored ? this.options.sources.deleteOnPublish(art.path) : async () => fs.rmSync(file!, { force: true });
    const summary = await this.startReindex({}, { path: art.path, id: art.id, onPublish });
    return { summary };
  }

  /**
   * Keeps serving what is published: when another process (the CLI's `index` while the bot runs,
   * another replica) publishes a newer generation, switches to it. The store says when to look
   * (the embedded one every `intervalMs`, PostgreSQL on NOTIFY). Returns a function that stops
   * following (so does `close()`).
   */
  follow(intervalMs = 1000): () => void {
    this.unfollow();
    const token = this.followToken;
    this.options.index
      .watch(() => void this.refresh().catch((err) => this.log.warn('index.follow_failed', { problem: errorMessage(err) })), intervalMs)
      .then(
        (stop) => {
          // Stopped (or restarted) while the watch started: this one is not wanted.
          if (token !== this.followToken) {
            void stop();
            return;
          }
          this.unwatch = stop;
          // A generation published while the watch started would otherwise wait for the next one.
          void this.refresh().catch(() => false);
        },
        (err) => this.log.warn('index.follow_failed', { problem: errorMessage(err) }),
      );
    return () => this.unfollow();
  }

  /**
   * Switches to the published generation if it is not the one being served (another process
   * published it). Searches in flight finish on the old generation, which closes after the last
   * of them. Resolves to true when it switched.
   */
  async refresh(): Promise<boolean> {
    // A reindex in this process switches by itself when it finishes.
    if (this.running) return false;
    const published = await this.options.index.publishedGeneration();
    if (published === null || published === this.current?.manifest.generation || published === this.unopenable) return false;
    // The publisher checksummed every file as it wrote them; re-reading the whole index here would
    // stall answers for as long as that takes.
    const failure = await this.open(false);
    if (failure) {
      this.unopenable = published;
      this.log.warn('index.follow_failed', { generation: published, problem: failure.message });
      return false;
    }
    const s = this.current?.manifest;
    this.log.info('index.followed', {
      generation: s?.generation,
      articles: s?.counts.articles,
      chunks: s?.counts.chunks,
      mismatch: this.mismatch(),
    });
    return true;
  }

  /** Stops using the index (for shutdown). */
  close(): void {
    this.unfollow();
    this.current?.close();
    this.current = null;
  }

  private unfollow(): void {
    this.followToken++;
    const stop = this.unwatch;
    this.unwatch = null;
    stop?.().catch(() => {});
  }

  private async indexAdded(rel: string, shownName: string): Promise<{ article: ArticleInfo; summary: IndexSummary }> {
    let summary: IndexSummary;
    try {
      summary = await this.reindex({});
    } catch (err) {
      // The user is told the add failed, so the source must not be picked up by a later reindex.
      await this.options.sources.delete(rel);
      throw err;
    }
    const article = this.current?.articlesInFile(rel)[0];
    if (!article) {
      // Not indexed (for example a duplicate of an existing article): take the source back out.
      await this.options.sources.delete(rel);
      const why = summary.skipped.find((s) => s.file === rel)?.reason ?? 'it produced no article';
      throw new UserError(`Could not add ${shownName}: ${why}.`);
    }
    return { article, summary };
  }

  /** Deletes temp files of uploads that a killed process never renamed into place. */
  private removeAbandonedUploads(): void {
    let entries: string[] = [];
    try {
      entries = fs.readdirSync(this.options.articlesDir);
    } catch {
      return;
    }
    for (const e of entries) {
      const m = /^\..+\.tmp-(\d+)$/.exec(e);
      if (m && !isProcessAlive(Number(m[1]))) fs.rmSync(path.join(this.options.articlesDir, e), { force: true });
    }
  }

  private resolveInside(rel: string): string {
    const root = path.resolve(this.options.articlesDir);
    const file = path.resolve(root, rel);
    if (!file.startsWith(root + path.sep)) throw new UserError('Refusing to touch a file outside the articles folder.');
    return file;
  }

  /**
   * Calls `listener` whenever another index generation starts serving (a reindex here, or one
   * another process published and `follow()` picked up). Topic alerts look for new articles then.
   * Returns a function that unsubscribes.
   */
  onIndexChanged(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  private swap(next: IndexView): void {
    const old = this.current;
    this.current = next;
    old?.retire();
    for (const listener of this.changeListeners) {
      try {
        listener();
      } catch (err) {
        this.log.error('index.change_listener_failed', { error: err instanceof Error ? err.message : String(err) });
      }
    }
  }
}

/** An article to save into the folder, as extracted from a page or a feed item. */
export interface ArticleDraft {
  title: string;
  date: string | null;
  url: string | null;
  source: string | null;
  text: string;
}

/** Where an imported article was saved, and the article as indexed (null when it was not, e.g. a duplicate). */
export interface ImportedArticle {
  path: string;
  article: ArticleInfo | null;
}

/** The article of a fetched HTML page; UserError when the page is not one. */
function extractArticle(fetched: Fetched): ArticleDraft {
  const type = fetched.contentType.toLowerCase();
  if (!type.includes('html') && !type.includes('xml') && type !== '') {
    throw new UserError(`That link is not an article page (content type ${fetched.contentType}).`);
  }
  const article = articleFromHtml(new TextDecoder('utf-8').decode(fetched.bytes), fetched.url, 'fetched.html');
  if (!article || article.text.trim().length < 20) throw new UserError('No article text could be found on that page.');
  return { title: article.title, date: article.date, url: fetched.url, source: article.source ?? hostOf(fetched.url), text: article.text };
}

function slug(title: string): string {
  const s = title
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80);
  return s || 'article';
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return 'web';
  }
}

function fileNameFromUrl(url: string, ext: string): string {
  try {
    const last = new URL(url).pathname.split('/').filter(Boolean).pop() ?? 'article';
    return last.toLowerCase().endsWith(ext) ? last : `${last}${ext}`;
  } catch {
    return `article${ext}`;
  }
}
