/**
 * What feed polling must remember across restarts: the feeds (from FEED_URLS and from the chat),
 * each one's conditional-request validators, schedule, failures and last error, who is polling it
 * now (a lease), and every item already handled (by guid and by link), so an item becomes an
 * article once, whichever process polled it. `FeedStore` is the seam; `SqliteFeedStore` (here,
 * `feeds.sqlite` under the state folder) is the embedded implementation and `PgFeedStore`
 * (pg-store.ts) the one replicas share. Both pass test/feeds/store-contract.test.ts.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';

/** One feed as stored. */
export interface FeedRecord {
  url: string;
  /** 'config' feeds come from FEED_URLS and are removed there; 'chat' feeds with /feed remove. */
  origin: 'config' | 'chat';
  title: string | null;
  etag: string | null;
  lastModified: string | null;
  lastCheckedAt: number | null;
  lastOkAt: number | null;
  nextPollAt: number;
  /** Consecutive failed polls. */
  failures: number;
  lastError: string | null;
  /** Articles this feed has added so far. */
  articles: number;
}

/** What became of a feed item ('claimed': a poll is turning it into an article right now). */
export type ItemStatus = 'added' | 'duplicate' | 'failed' | 'claimed';

/** A claim older than this was left by a process that died mid-poll; the item may be taken again. */
export const CLAIM_TTL_MS = 10 * 60_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS feeds (
  url TEXT PRIMARY KEY,
  origin TEXT NOT NULL,
  added_at INTEGER NOT NULL,
  title TEXT,
  etag TEXT,
  last_modified TEXT,
  last_checked_at INTEGER,
  last_ok_at INTEGER,
  next_poll_at INTEGER NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  error_reported INTEGER NOT NULL DEFAULT 0,
  articles INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT,
  lease_until INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS feed_items (
  feed_url TEXT NOT NULL,
  item_key TEXT NOT NULL,
  link TEXT,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 1,
  article_path TEXT,
  seen_at INTEGER NOT NULL,
  PRIMARY KEY (feed_url, item_key)
);
CREATE INDEX IF NOT EXISTS feed_items_link ON feed_items(link);
`;

/** A feed row as both databases return it (times in ms). */
export interface FeedRow {
  url: string;
  origin: 'config' | 'chat';
  title: string | null;
  etag: string | null;
  last_modified: string | null;
  last_checked_at: number | null;
  last_ok_at: number | null;
  next_poll_at: number;
  failures: number;
  last_error: string | null;
  articles: number;
}

/** The record of a row. */
export const toRecord = (r: FeedRow): FeedRecord => ({
  url: r.url,
  origin: r.origin,
  title: r.title,
  etag: r.etag,
  lastModified: r.last_modified,
  lastCheckedAt: r.last_checked_at,
  lastOkAt: r.last_ok_at,
  nextPollAt: r.next_poll_at,
  failures: r.failures,
  lastError: r.last_error,
  articles: r.articles,
});

/** Items that failed this many times are given up on (a dead link must not be fetched forever). */
export const MAX_ITEM_ATTEMPTS = 3;

/** The feeds' state as the poller and the chat commands use it, whichever database holds it. */
export interface FeedStore {
  /** Makes the FEED_URLS feeds match `configured` (a chat feed put in FEED_URLS becomes a config one). */
  syncConfigured(configured: readonly string[], now?: number): Promise<void>;
  /** Every feed, oldest first. */
  list(): Promise<FeedRecord[]>;
  /** One feed, or null. */
  get(url: string): Promise<FeedRecord | null>;
  /** Adds a chat feed; false when it is already there. */
  add(url: string, now?: number): Promise<boolean>;
  /** Removes a chat feed (its items stay remembered, so re-adding it does not re-import them). */
  remove(url: string): Promise<boolean>;
  /**
   * Takes the right to poll `url` for `leaseMs`, so one process polls a feed at a time however many
   * run. False when another owner's lease is still running, or (with `dueBy`) when the feed's next
   * poll is later than `dueBy` (another process polled it meanwhile).
   */
  lease(url: string, owner: string, leaseMs: number, now: number, dueBy?: number): Promise<boolean>;
  /** Gives the lease back (only `owner`'s). */
  releaseLease(url: string, owner: string): Promise<void>;
  /** A successful poll: new validators and title, the error cleared, the next poll scheduled. */
  recordSuccess(
    url: string,
    s: { title?: string | null; etag?: string; lastModified?: string; nextPollAt: number; now: number },
  ): Promise<void>;
  /**
   * A failed poll. Resolves to true when this failure should be reported: the first one since the
   * feed last worked (a failing feed is reported once, not on every poll).
   */
  recordFailure(url: string, error: string, nextPollAt: number, now: number): Promise<boolean>;
  /**
   * Claims a new item for this poll, so another process polling at the same time does not import
   * it too. False when it was handled already (by this feed's guid, or its link by any feed) or is
   * claimed by a live poll.
   */
  claimItem(feedUrl: string, key: string, link: string | null, now?: number): Promise<boolean>;
  /** Gives a claimed item back (its import failed; the next poll tries again). */
  releaseItem(feedUrl: string, key: string): Promise<void>;
  /** Remembers what became of an item (failed ones count their attempts). */
  recordItem(
    feedUrl: string,
    key: string,
    link: string | null,
    status: ItemStatus,
    articlePath: string | null,
    now?: number,
  ): Promise<void>;
  /** Stops using the store (does not end a shared pool). */
  close(): Promise<void>;
}

/** The embedded feeds database, `feeds.sqlite` in the state folder. */
export class SqliteFeedStore implements FeedStore {
  private readonly db: Database.Database;

  private constructor(db: Database.Database) {
    this.db = db;
  }

  /** Opens (creating) `feeds.sqlite` in `stateDir` and makes the FEED_URLS feeds match `configured`. */
  static open(stateDir: string, configured: readonly string[], now = Date.now()): SqliteFeedStore {
    fs.mkdirSync(stateDir, { recursive: true });
    const db = new Database(path.join(stateDir, 'feeds.sqlite'));
    // The bot and `npm run index -- --feeds` may use the file at the same time.
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    db.exec(SCHEMA);
    // Files from before leases: add the columns in place, keeping every row.
    const columns = new Set((db.prepare('PRAGMA table_info(feeds)').all() as { name: string }[]).map((c) => c.name));
    if (!columns.has('lease_owner')) db.exec('ALTER TABLE feeds ADD COLUMN lease_owner TEXT');
    if (!columns.has('lease_until')) db.exec('ALTER TABLE feeds ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0');
    const store = new SqliteFeedStore(db);
    store.syncNow(configured, now);
    return store;
  }

  async syncConfigured(configured: readonly string[], now = Date.now()): Promise<void> {
    this.syncNow(configured, now);
  }

  private syncNow(configured: readonly string[], now: number): void {
    const wanted = new Set(configured);
    this.db.transaction(() => {
      for (const url of wanted) {
        // A feed first added in the chat and later put in FEED_URLS becomes a config feed.
        this.db
          .prepare(`INSERT INTO feeds(url, origin, added_at) VALUES (?, 'config', ?) ON CONFLICT(url) DO UPDATE SET origin = 'config'`)
          .run(url, now);
      }
      const rows = this.db.prepare(`SELECT url FROM feeds WHERE origin = 'config'`).all() as { url: string }[];
      for (const { url } of rows) if (!wanted.has(url)) this.db.prepare('DELETE FROM feeds WHERE url = ?').run(url);
    })();
  }

  async list(): Promise<FeedRecord[]> {
    return (this.db.prepare('SELECT * FROM feeds ORDER BY added_at, url').all() as FeedRow[]).map(toRecord);
  }

  async get(url: string): Promise<FeedRecord | null> {
    const row = this.db.prepare('SELECT * FROM feeds WHERE url = ?').get(url) as FeedRow | undefined;
    return row ? toRecord(row) : null;
  }

  async add(url: string, now = Date.now()): Promise<boolean> {
    return this.db.prepare(`INSERT OR IGNORE INTO feeds(url, origin, added_at) VALUES (?, 'chat', ?)`).run(url, now).changes === 1;
  }

  async remove(url: string): Promise<boolean> {
    return this.db.prepare(`DELETE FROM feeds WHERE url = ? AND origin = 'chat'`).run(url).changes === 1;
  }

  async lease(url: string, owner: string, leaseMs: number, now: number, dueBy?: number): Promise<boolean> {
    return (
      this.db
        .prepare(
          `UPDATE feeds SET lease_owner = ?, lease_until = ?
           WHERE url = ? AND (lease_owner IS NULL OR lease_owner = ? OR lease_until <= ?) AND (? IS NULL OR next_poll_at <= ?)`,
        )
        .run(owner, now + leaseMs, url, owner, now, dueBy ?? null, dueBy ?? null).changes === 1
    );
  }

  async releaseLease(url: string, owner: string): Promise<void> {
    this.db.prepare('UPDATE feeds SET lease_owner = NULL, lease_until = 0 WHERE url = ? AND lease_owner = ?').run(url, owner);
  }

  async recordSuccess(
    url: string,
    s: { title?: string | null; etag?: string; lastModified?: string; nextPollAt: number; now: number },
  ): Promise<void> {
    this.db
      .prepare(
        `UPDATE feeds SET title = COALESCE(?, title), etag = COALESCE(?, etag), last_modified = COALESCE(?, last_modified),
           last_checked_at = ?, last_ok_at = ?, next_poll_at = ?, failures = 0, last_error = NULL, error_reported = 0 WHERE url = ?`,
      )
      .run(s.title ?? null, s.etag ?? null, s.lastModified ?? null, s.now, s.now, s.nextPollAt, url);
  }

  async recordFailure(url: string, error: string, nextPollAt: number, now: number): Promise<boolean> {
    return this.db.transaction(() => {
      const row = this.db.prepare('SELECT error_reported FROM feeds WHERE url = ?').get(url) as { error_reported: number } | undefined;
      if (!row) return false;
      this.db
        .prepare(
          'UPDATE feeds SET last_checked_at = ?, next_poll_at = ?, failures = failures + 1, last_error = ?, error_reported = 1 WHERE url = ?',
        )
        .run(now, nextPollAt, error, url);
      return row.error_reported === 0;
    })();
  }

  private isKnown(feedUrl: string, key: string, link: string | null, now: number): boolean {
    const own = this.db.prepare('SELECT status, attempts, seen_at FROM feed_items WHERE feed_url = ? AND item_key = ?').get(feedUrl, key) as
      | { status: ItemStatus; attempts: number; seen_at: number }
      | undefined;
    if (own && own.status === 'claimed') return own.seen_at > now - CLAIM_TTL_MS;
    if (own && (own.status !== 'failed' || own.attempts >= MAX_ITEM_ATTEMPTS)) return true;
    if (!link) return false;
    return (
      this.db
        .prepare(
          `SELECT 1 FROM feed_items WHERE link = ? AND (status IN ('added', 'duplicate') OR (status = 'claimed' AND seen_at > ?)) LIMIT 1`,
        )
        .get(link, now - CLAIM_TTL_MS) !== undefined
    );
  }

  async claimItem(feedUrl: string, key: string, link: string | null, now = Date.now()): Promise<boolean> {
    return this.db.transaction(() => {
      if (this.isKnown(feedUrl, key, link, now)) return false;
      this.db
        .prepare(
          `INSERT INTO feed_items(feed_url, item_key, link, status, attempts, seen_at) VALUES (?, ?, ?, 'claimed', 0, ?)
           ON CONFLICT(feed_url, item_key) DO UPDATE SET status = 'claimed', seen_at = excluded.seen_at`,
        )
        .run(feedUrl, key, link, now);
      return true;
    })();
  }

  async releaseItem(feedUrl: string, key: string): Promise<void> {
    this.db.prepare(`DELETE FROM feed_items WHERE feed_url = ? AND item_key = ? AND status = 'claimed' AND attempts = 0`).run(feedUrl, key);
    this.db.prepare(`UPDATE feed_items SET status = 'failed' WHERE feed_url = ? AND item_key = ? AND status = 'claimed'`).run(feedUrl, key);
  }

  async recordItem(
    feedUrl: string,
    key: string,
    link: string | null,
    status: ItemStatus,
    articlePath: string | null,
    now = Date.now(),
  ): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO feed_items(feed_url, item_key, link, status, article_path, seen_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(feed_url, item_key) DO UPDATE SET status = excluded.status, article_path = excluded.article_path,
           attempts = attempts + 1, seen_at = excluded.seen_at`,
      )
      .run(feedUrl, key, link, status, articlePath, now);
    if (status === 'added') this.db.prepare('UPDATE feeds SET articles = articles + 1 WHERE url = ?').run(feedUrl);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
