/**
 * What feed polling must remember across restarts, in `feeds.sqlite` under the state folder:
 * the feeds (from FEED_URLS and from the chat), each one's conditional-request validators,
 * schedule, failures and last error, and every item already handled (by guid and by link),
 * so an item becomes an article once, whichever process polled it.
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
  articles INTEGER NOT NULL DEFAULT 0
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

interface FeedRow {
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

const toRecord = (r: FeedRow): FeedRecord => ({
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

/** The feeds database. */
export class FeedStore {
  private readonly db: Database.Database;

  private constructor(db: Database.Database) {
    this.db = db;
  }

  /** Opens (creating) `feeds.sqlite` in `stateDir` and makes the FEED_URLS feeds match `configured`. */
  static open(stateDir: string, configured: readonly string[], now = Date.now()): FeedStore {
    fs.mkdirSync(stateDir, { recursive: true });
    const db = new Database(path.join(stateDir, 'feeds.sqlite'));
    // The bot and `npm run index -- --feeds` may use the file at the same time.
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    db.exec(SCHEMA);
    const store = new FeedStore(db);
    store.syncConfigured(configured, now);
    return store;
  }

  private syncConfigured(configured: readonly string[], now: number): void {
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

  /** Every feed, oldest first. */
  list(): FeedRecord[] {
    return (this.db.prepare('SELECT * FROM feeds ORDER BY added_at, url').all() as FeedRow[]).map(toRecord);
  }

  /** One feed, or null. */
  get(url: string): FeedRecord | null {
    const row = this.db.prepare('SELECT * FROM feeds WHERE url = ?').get(url) as FeedRow | undefined;
    return row ? toRecord(row) : null;
  }

  /** Adds a chat feed; false when it is already there. */
  add(url: string, now = Date.now()): boolean {
    return this.db.prepare(`INSERT OR IGNORE INTO feeds(url, origin, added_at) VALUES (?, 'chat', ?)`).run(url, now).changes === 1;
  }

  /** Removes a chat feed (its items stay remembered, so re-adding it does not re-import them). */
  remove(url: string): boolean {
    return this.db.prepare(`DELETE FROM feeds WHERE url = ? AND origin = 'chat'`).run(url).changes === 1;
  }

  /** A successful poll: new validators and title, the error cleared, the next poll scheduled. */
  recordSuccess(url: string, s: { title?: string | null; etag?: string; lastModified?: string; nextPollAt: number; now: number }): void {
    this.db
      .prepare(
        `UPDATE feeds SET title = COALESCE(?, title), etag = COALESCE(?, etag), last_modified = COALESCE(?, last_modified),
           last_checked_at = ?, last_ok_at = ?, next_poll_at = ?, failures = 0, last_error = NULL, error_reported = 0 WHERE url = ?`,
      )
      .run(s.title ?? null, s.etag ?? null, s.lastModified ?? null, s.now, s.now, s.nextPollAt, url);
  }

  /**
   * A failed poll. Returns true when this failure should be reported: the first one since the
   * feed last worked (a failing feed is reported once, not on every poll).
   */
  recordFailure(url: string, error: string, nextPollAt: number, now: number): boolean {
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

  /** True when this item was handled already (by this feed's guid, or its link by any feed) and needs no retry. */
  isKnown(feedUrl: string, key: string, link: string | null, now = Date.now()): boolean {
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

  /**
   * Claims a new item for this poll, so another process polling the same feed at the same time
   * (the bot and a cron `npm run index -- --feeds`) does not import it too. False when it is taken.
   */
  claimItem(feedUrl: string, key: string, link: string | null, now = Date.now()): boolean {
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

  /** Gives a claimed item back (its import failed; the next poll tries again). */
  releaseItem(feedUrl: string, key: string): void {
    this.db.prepare(`DELETE FROM feed_items WHERE feed_url = ? AND item_key = ? AND status = 'claimed' AND attempts = 0`).run(feedUrl, key);
    this.db.prepare(`UPDATE feed_items SET status = 'failed' WHERE feed_url = ? AND item_key = ? AND status = 'claimed'`).run(feedUrl, key);
  }

  /** Remembers what became of an item (failed ones count their attempts). */
  recordItem(feedUrl: string, key: string, link: string | null, status: ItemStatus, articlePath: string | null, now = Date.now()): void {
    this.db
      .prepare(
        `INSERT INTO feed_items(feed_url, item_key, link, status, article_path, seen_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(feed_url, item_key) DO UPDATE SET status = excluded.status, article_path = excluded.article_path,
           attempts = attempts + 1, seen_at = excluded.seen_at`,
      )
      .run(feedUrl, key, link, status, articlePath, now);
    if (status === 'added') this.db.prepare('UPDATE feeds SET articles = articles + 1 WHERE url = ?').run(feedUrl);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
