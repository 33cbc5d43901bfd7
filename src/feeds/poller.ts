/**
 * Polling feeds and turning their new items into articles. Each poll fetches the feeds through
 * the same safe fetcher as /add (SSRF rules, size and time caps, redirect limit) with
 * conditional requests, keeps the items it has not handled before, fetches the item's page when
 * the feed carries no full text, and saves everything new in one import (one reindex). A feed
 * that fails is recorded with its error, backed off, reported once, and never stops the others.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { ArticleDraft, ImportedArticle } from '../library/index.js';
import { fetchUrl } from '../library/fetch-url.js';
import type { IndexSummary } from '../types.js';
import { errorMessage, UserError } from '../util/errors.js';
import { silentLogger, type Logger } from '../util/log.js';
import { type FeedItem, parseFeedDocument } from './parse.js';
import type { FeedRecord, FeedStore } from './store.js';

/** The library as feeds use it. */
export interface FeedLibrary {
  fetchArticle(url: string): Promise<ArticleDraft>;
  importArticles(drafts: readonly ArticleDraft[], folder: string): Promise<{ saved: ImportedArticle[]; summary: IndexSummary }>;
  knownUrls(): Set<string>;
}

/** What the poller needs; built by the front end that runs it. */
export interface FeedPollerOptions {
  store: FeedStore;
  library: FeedLibrary;
  fetch: { timeoutMs: number; allowPrivate: boolean };
  /** FEED_POLL_MINUTES in ms. */
  intervalMs: number;
  logger?: Logger;
  /** Called once when a feed starts failing (not again until it has worked in between). */
  onProblem?: (feed: FeedRecord) => void;
  /** How often the running poller looks for due feeds (default 30 s). */
  tickMs?: number;
  /** How long a feed's poll stays this poller's before another process may take it over (default 10 min). */
  leaseMs?: number;
  random?: () => number;
}

/** What one feed's poll did. */
export interface FeedResult {
  url: string;
  ok: boolean;
  /** The server said nothing changed (304). */
  notModified: boolean;
  /** Items this poll saved as articles. */
  added: number;
  error?: string;
}

/** What a poll did. */
export interface PollReport {
  feeds: FeedResult[];
  /** The new articles, as indexed. */
  added: ImportedArticle[];
  /** The reindex that indexed them (null when nothing was new). */
  summary: IndexSummary | null;
}

/** Largest feed document accepted: real feeds are well under 1 MB. */
export const FEED_MAX_BYTES = 5 * 1024 * 1024;
/** New items taken from one feed per poll (the first poll of a long feed would otherwise import its whole archive). */
export const MAX_ITEMS_PER_POLL = 30;
/** Below this many characters a feed's own content is a teaser: the item's page is fetched instead. */
export const FULL_TEXT_MIN_CHARS = 200;
/** The folder (inside the articles folder) feed articles are saved in. */
export const FEEDS_FOLDER = 'feeds';
const MAX_BACKOFF_MS = 24 * 60 * 60 * 1000;
/** A poll (fetches, page fetches and the import's reindex) normally ends well within this. */
const DEFAULT_LEASE_MS = 10 * 60_000;
const FEED_ACCEPT =
  'application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5';

interface Collected {
  result: FeedResult;
  drafts: { feedUrl: string; key: string; link: string | null; draft: ArticleDraft }[];
  validators: { title: string | null; etag?: string; lastModified?: string };
}

/** Polls the stored feeds, on demand (`pollAll`) or on a schedule (`start`). */
export class FeedPoller {
  private readonly log: Logger;
  private readonly random: () => number;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<PollReport> | null = null;
  private stopped = true;
  private readonly problemListeners: ((feed: FeedRecord) => void)[] = [];
  /** Whose lease a feed's poll is (unique per poller, so two processes never share one). */
  private readonly owner = randomUUID();

  constructor(private readonly options: FeedPollerOptions) {
    this.log = options.logger ?? silentLogger;
    this.random = options.random ?? Math.random;
    if (options.onProblem) this.problemListeners.push(options.onProblem);
  }

  /** The stored feeds. */
  get store(): FeedStore {
    return this.options.store;
  }

  /** FEED_POLL_MINUTES in ms. */
  get intervalMs(): number {
    return this.options.intervalMs;
  }

  /** Also calls `listener` when a feed starts failing (the bot tells its admins). */
  onProblem(listener: (feed: FeedRecord) => void): void {
    this.problemListeners.push(listener);
  }

  /** Polls one stored feed now (a feed just added in the chat). */
  async pollOne(url: string): Promise<FeedResult | null> {
    // Whoever asked sees the result; problem listeners are not told about this first failure too.
    const report = await this.exclusive(async () => (await this.options.store.list()).filter((f) => f.url === url), false);
    return report.feeds[0] ?? null;
  }

  /** Polls every feed once, due or not (`npm run index -- --feeds`, tests). */
  pollAll(): Promise<PollReport> {
    return this.exclusive(() => this.options.store.list());
  }

  /** Polls the feeds whose next poll time has come. */
  pollDue(now = Date.now()): Promise<PollReport> {
    return this.exclusive(async () => (await this.options.store.list()).filter((f) => f.nextPollAt <= now), true, now);
  }

  /** Starts polling due feeds every tick until `stop()`. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(Math.floor(this.random() * 1000));
  }

  /** Stops the schedule and waits for a poll in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.polling?.catch(() => undefined);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.pollDue()
        .catch((err: unknown) => this.log.error('feeds.poll_failed', { error: errorMessage(err) }))
        .finally(() => this.schedule(this.options.tickMs ?? 30_000));
    }, delayMs);
    this.timer.unref();
  }

  /**
   * One poll at a time in this process: a poll asked for while one runs waits for it, then runs.
   * Across processes, each picked feed is leased first (only when still due, for a scheduled
   * poll), so a feed another replica is polling, or has just polled, is left to it.
   */
  private async exclusive(pick: () => Promise<FeedRecord[]>, notify = true, dueBy?: number): Promise<PollReport> {
    while (this.polling) await this.polling.catch(() => undefined);
    const run = (async () => {
      const now = Date.now();
      const leased: FeedRecord[] = [];
      for (const feed of await pick()) {
        if (await this.options.store.lease(feed.url, this.owner, this.options.leaseMs ?? DEFAULT_LEASE_MS, now, dueBy)) leased.push(feed);
      }
      try {
        return await this.poll(leased, notify);
      } finally {
        for (const feed of leased) await this.options.store.releaseLease(feed.url, this.owner).catch(() => undefined);
      }
    })();
    this.polling = run;
    try {
      return await run;
    } finally {
      this.polling = null;
    }
  }

  private async poll(feeds: FeedRecord[], notify: boolean): Promise<PollReport> {
    if (feeds.length === 0) return { feeds: [], added: [], summary: null };
    const known = this.options.library.knownUrls();
    const collected: Collected[] = new Array(feeds.length);
    // A few at a time: one slow feed must not hold up the rest, nor may a long list open dozens of sockets.
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < feeds.length; i = next++) collected[i] = await this.collect(feeds[i]!, known);
    };
    await Promise.all(Array.from({ length: Math.min(4, feeds.length) }, worker));
    const drafts = collected.flatMap((c) => c.drafts);
    let added: ImportedArticle[] = [];
    let summary: IndexSummary | null = null;
    let importFailed = false;
    if (drafts.length > 0) {
      try {
        const imported = await this.options.library.importArticles(
          drafts.map((d) => d.draft),
          FEEDS_FOLDER,
        );
        summary = imported.summary;
        for (const [i, s] of imported.saved.entries()) {
          const d = drafts[i]!;
          await this.options.store.recordItem(d.feedUrl, d.key, d.link, s.article ? 'added' : 'duplicate', s.article ? s.path : null);
          const result = collected.find((c) => c.result.url === d.feedUrl)?.result;
          if (result && s.article) result.added++;
        }
        added = imported.saved.filter((s) => s.article !== null);
      } catch (err) {
        // Not the feeds' fault: their items stay new and the next poll tries again.
        importFailed = true;
        for (const d of drafts) await this.options.store.releaseItem(d.feedUrl, d.key);
        this.log.error('feeds.import_failed', { error: errorMessage(err), items: drafts.length });
      }
    }
    await this.finish(collected, importFailed, notify);
    this.log.info('feeds.polled', { feeds: feeds.length, failed: collected.filter((c) => !c.result.ok).length, added: added.length });
    return { feeds: collected.map((c) => c.result), added, summary };
  }

  /** Records each feed's outcome and schedules its next poll. */
  private async finish(collected: Collected[], importFailed: boolean, notify: boolean): Promise<void> {
    const now = Date.now();
    const interval = this.options.intervalMs;
    for (const c of collected) {
      const { url } = c.result;
      if (c.result.ok) {
        // After a failed import the old validators stay, so the next request gets the items again instead of a 304.
        const validators = importFailed ? { title: c.validators.title } : c.validators;
        await this.options.store.recordSuccess(url, { ...validators, nextPollAt: now + this.jittered(interval), now });
        continue;
      }
      const failures = ((await this.options.store.get(url))?.failures ?? 0) + 1;
      const backoff = Math.min(interval * 2 ** Math.min(failures, 10), MAX_BACKOFF_MS);
      const report = await this.options.store.recordFailure(url, c.result.error ?? 'failed', now + this.jittered(backoff), now);
      const record = await this.options.store.get(url);
      if (report && record) {
        this.log.warn('feeds.feed_failing', { url, error: c.result.error });
        if (notify) for (const listener of this.problemListeners) listener(record);
      } else {
        this.log.debug('feeds.feed_still_failing', { url, error: c.result.error, failures });
      }
    }
  }

  /** ±10%, so feeds added together do not all poll in the same second forever. */
  private jittered(ms: number): number {
    return Math.round(ms * (0.9 + 0.2 * this.random()));
  }

  /** Fetches and parses one feed and builds drafts for its new items; failures become the result's error. */
  private async collect(feed: FeedRecord, known: Set<string>): Promise<Collected> {
    const result: FeedResult = { url: feed.url, ok: false, notModified: false, added: 0 };
    const conditional: Record<string, string> = {};
    if (feed.etag) conditional['if-none-match'] = feed.etag;
    if (feed.lastModified) conditional['if-modified-since'] = feed.lastModified;
    try {
      const fetched = await fetchUrl(
        feed.url,
        {
          maxBytes: FEED_MAX_BYTES,
          timeoutMs: this.options.fetch.timeoutMs,
          allowPrivate: this.options.fetch.allowPrivate,
          maxRedirects: 5,
        },
        { accept: FEED_ACCEPT, ...(Object.keys(conditional).length ? { headers: conditional } : {}) },
      );
      const validators = {
        title: null as string | null,
        ...(fetched.etag ? { etag: fetched.etag } : {}),
        ...(fetched.lastModified ? { lastModified: fetched.lastModified } : {}),
      };
      if (fetched.status === 304) return { result: { ...result, ok: true, notModified: true }, drafts: [], validators };
      const parsed = parseFeedDocument(fetched.bytes, fetched.url);
      validators.title = parsed.title;
      const drafts = await this.newDrafts(feed.url, parsed.title, parsed.items, known);
      return { result: { ...result, ok: true }, drafts, validators };
    } catch (err) {
      const error = err instanceof UserError ? err.message : `Unexpected error: ${errorMessage(err)}`;
      return { result: { ...result, error }, drafts: [], validators: { title: null } };
    }
  }

  private async newDrafts(feedUrl: string, feedTitle: string | null, items: FeedItem[], known: Set<string>): Promise<Collected['drafts']> {
    const store = this.options.store;
    const out: Collected['drafts'] = [];
    const seenNow = new Set<string>();
    for (const item of items) {
      if (out.length >= MAX_ITEMS_PER_POLL) break;
      const link = item.link ? normalizeLink(item.link) : null;
      const key = item.guid ?? link ?? `hash:${sha1(`${item.title ?? ''}\n${item.content ?? ''}`)}`;
      if (seenNow.has(key) || (link && seenNow.has(link)) || !(await store.claimItem(feedUrl, key, link))) continue;
      seenNow.add(key);
      if (link) seenNow.add(link);
      if (link && (known.has(link) || known.has(item.link!))) {
        // Already in the folder (an /add, an upload, another feed before this database existed).
        await store.recordItem(feedUrl, key, link, 'duplicate', null);
        continue;
      }
      const draft = await this.draftOf(item, link, feedTitle ?? hostOf(feedUrl));
      if (typeof draft === 'string') {
        this.log.info('feeds.item_skipped', { feed: feedUrl, link, reason: draft });
        await store.recordItem(feedUrl, key, link, 'failed', null);
        continue;
      }
      out.push({ feedUrl, key, link, draft });
    }
    return out;
  }

  /** The article for an item: the feed's full text when it has it, else the linked page; a reason string when neither works. */
  private async draftOf(item: FeedItem, link: string | null, source: string): Promise<ArticleDraft | string> {
    const own = item.content ?? '';
    const base = { date: item.date, url: link, source };
    if (item.fullContent && own.length >= FULL_TEXT_MIN_CHARS) return { ...base, title: item.title ?? firstWords(own), text: own };
    if (link) {
      try {
        const page = await this.options.library.fetchArticle(link);
        return { ...base, title: item.title ?? page.title, date: item.date ?? page.date, text: page.text };
      } catch (err) {
        if (own.length >= 20) return { ...base, title: item.title ?? firstWords(own), text: own };
        return `could not fetch the item's page: ${errorMessage(err)}`;
      }
    }
    if (own.length >= 20) return { ...base, title: item.title ?? firstWords(own), text: own };
    return 'the item has neither text nor a link';
  }
}

/** The link without its #fragment, so the same story is recognised however it is linked. */
export function normalizeLink(link: string): string {
  try {
    const u = new URL(link);
    u.hash = '';
    return u.href;
  } catch {
    return link;
  }
}

function sha1(s: string): string {
  return createHash('sha1').update(s).digest('hex');
}

function firstWords(text: string): string {
  const line = text.split('\n')[0] ?? text;
  return line.length <= 80 ? line : `${line.slice(0, 80).replace(/\s+\S*$/, '')}…`;
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return 'feed';
  }
}
