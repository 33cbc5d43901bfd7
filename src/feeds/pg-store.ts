/**
 * The feeds' state in PostgreSQL (DATABASE_URL), shared by every replica: one feed list, so a
 * `/feed add` on one replica is polled by the fleet; one lease per feed, so a feed is polled by one
 * replica at a time; and one item table whose claims are serialised by a transaction-scoped
 * advisory lock, so an item becomes an article once however many replicas poll. Same rules as
 * `SqliteFeedStore` (store.ts); both pass test/feeds/store-contract.test.ts. Times are ms since
 * epoch, as the poller's clock gives them.
 */
import type pg from 'pg';
import { ADVISORY_LOCKS } from '../db/locks.js';
import { queryRows, withTransaction } from '../db/pool.js';
import { CLAIM_TTL_MS, type FeedRecord, type FeedRow, type FeedStore, type ItemStatus, MAX_ITEM_ATTEMPTS, toRecord } from './store.js';

/** The feeds' tables (a migration the composition root lists). */
export const FEEDS_SQL = `
CREATE TABLE feeds (
  url text PRIMARY KEY,
  origin text NOT NULL CHECK (origin IN ('config', 'chat')),
  added_at bigint NOT NULL,
  title text,
  etag text,
  last_modified text,
  last_checked_at bigint,
  last_ok_at bigint,
  next_poll_at bigint NOT NULL DEFAULT 0,
  failures integer NOT NULL DEFAULT 0,
  last_error text,
  error_reported boolean NOT NULL DEFAULT false,
  articles integer NOT NULL DEFAULT 0,
  lease_owner text,
  lease_until bigint NOT NULL DEFAULT 0
);
CREATE TABLE feed_items (
  feed_url text NOT NULL,
  item_key text NOT NULL,
  link text,
  status text NOT NULL,
  attempts integer NOT NULL DEFAULT 1,
  article_path text,
  seen_at bigint NOT NULL,
  PRIMARY KEY (feed_url, item_key)
);
CREATE INDEX feed_items_link ON feed_items (link);
`;

const COLUMNS = `url, origin, title, etag, last_modified, last_checked_at::float8 AS last_checked_at, last_ok_at::float8 AS last_ok_at,
  next_poll_at::float8 AS next_poll_at, failures, last_error, articles`;

/** The feeds over a pool (migrations must have run). */
export class PgFeedStore implements FeedStore {
  constructor(private readonly pool: pg.Pool) {}

  /** A store over `pool` whose FEED_URLS feeds match `configured`. */
  static async open(pool: pg.Pool, configured: readonly string[], now = Date.now()): Promise<PgFeedStore> {
    const store = new PgFeedStore(pool);
    await store.syncConfigured(configured, now);
    return store;
  }

  async syncConfigured(configured: readonly string[], now = Date.now()): Promise<void> {
    const wanted = [...new Set(configured)];
    await withTransaction(this.pool, async (c) => {
      for (const url of wanted) {
        await c.query(
          `INSERT INTO feeds (url, origin, added_at) VALUES ($1, 'config', $2) ON CONFLICT (url) DO UPDATE SET origin = 'config'`,
          [url, now],
        );
      }
      await c.query(`DELETE FROM feeds WHERE origin = 'config' AND NOT (url = ANY($1::text[]))`, [wanted]);
    });
  }

  async list(): Promise<FeedRecord[]> {
    return (await queryRows<FeedRow>(this.pool, `SELECT ${COLUMNS} FROM feeds ORDER BY added_at, url`)).map(toRecord);
  }

  async get(url: string): Promise<FeedRecord | null> {
    const [row] = await queryRows<FeedRow>(this.pool, `SELECT ${COLUMNS} FROM feeds WHERE url = $1`, [url]);
    return row ? toRecord(row) : null;
  }

  async add(url: string, now = Date.now()): Promise<boolean> {
    const rows = await queryRows(
      this.pool,
      `INSERT INTO feeds (url, origin, added_at) VALUES ($1, 'chat', $2) ON CONFLICT DO NOTHING RETURNING url`,
      [url, now],
    );
    return rows.length === 1;
  }

  async remove(url: string): Promise<boolean> {
    return (await queryRows(this.pool, `DELETE FROM feeds WHERE url = $1 AND origin = 'chat' RETURNING url`, [url])).length === 1;
  }

  async lease(url: string, owner: string, leaseMs: number, now: number, dueBy?: number): Promise<boolean> {
    const rows = await queryRows(
      this.pool,
      `UPDATE feeds SET lease_owner = $2, lease_until = $3
       WHERE url = $1 AND (lease_owner IS NULL OR lease_owner = $2 OR lease_until <= $4) AND ($5::bigint IS NULL OR next_poll_at <= $5)
       RETURNING url`,
      [url, owner, now + leaseMs, now, dueBy ?? null],
    );
    return rows.length === 1;
  }

  async releaseLease(url: string, owner: string): Promise<void> {
    await queryRows(this.pool, 'UPDATE feeds SET lease_owner = NULL, lease_until = 0 WHERE url = $1 AND lease_owner = $2', [url, owner]);
  }

  async recordSuccess(
    url: string,
    s: { title?: string | null; etag?: string; lastModified?: string; nextPollAt: number; now: number },
  ): Promise<void> {
    await queryRows(
      this.pool,
      `UPDATE feeds SET title = COALESCE($2, title), etag = COALESCE($3, etag), last_modified = COALESCE($4, last_modified),
         last_checked_at = $5, last_ok_at = $5, next_poll_at = $6, failures = 0, last_error = NULL, error_reported = false WHERE url = $1`,
      [url, s.title ?? null, s.etag ?? null, s.lastModified ?? null, s.now, s.nextPollAt],
    );
  }

  async recordFailure(url: string, error: string, nextPollAt: number, now: number): Promise<boolean> {
    // The row's old error_reported, read in the same statement that sets it: one replica reports.
    const rows = await queryRows<{ reported: boolean }>(
      this.pool,
      `UPDATE feeds f SET last_checked_at = $2, next_poll_at = $3, failures = f.failures + 1, last_error = $4, error_reported = true
       FROM (SELECT url, error_reported FROM feeds WHERE url = $1 FOR UPDATE) old
       WHERE f.url = old.url RETURNING old.error_reported AS reported`,
      [url, now, nextPollAt, error],
    );
    return rows.length === 1 && !rows[0]!.reported;
  }

  async claimItem(feedUrl: string, key: string, link: string | null, now = Date.now()): Promise<boolean> {
    return withTransaction(this.pool, async (c) => {
      // Claims are rare and quick: one at a time across replicas makes "known by link" exact.
      await c.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.feedItems.toString()]);
      const own = (
        await c.query<{ status: ItemStatus; attempts: number; seen_at: number }>(
          'SELECT status, attempts, seen_at::float8 AS seen_at FROM feed_items WHERE feed_url = $1 AND item_key = $2',
          [feedUrl, key],
        )
      ).rows[0];
      if (own && own.status === 'claimed' && own.seen_at > now - CLAIM_TTL_MS) return false;
      if (own && own.status !== 'claimed' && (own.status !== 'failed' || own.attempts >= MAX_ITEM_ATTEMPTS)) return false;
      // A stale claim of this item (its poller died) is taken over as it is.
      if (link && own?.status !== 'claimed') {
        const byLink = await c.query(
          `SELECT 1 FROM feed_items WHERE link = $1 AND (status IN ('added', 'duplicate') OR (status = 'claimed' AND seen_at > $2)) LIMIT 1`,
          [link, now - CLAIM_TTL_MS],
        );
        if (byLink.rows.length > 0) return false;
      }
      await c.query(
        `INSERT INTO feed_items (feed_url, item_key, link, status, attempts, seen_at) VALUES ($1, $2, $3, 'claimed', 0, $4)
         ON CONFLICT (feed_url, item_key) DO UPDATE SET status = 'claimed', seen_at = excluded.seen_at`,
        [feedUrl, key, link, now],
      );
      return true;
    });
  }

  async releaseItem(feedUrl: string, key: string): Promise<void> {
    await withTransaction(this.pool, async (c) => {
      await c.query(`DELETE FROM feed_items WHERE feed_url = $1 AND item_key = $2 AND status = 'claimed' AND attempts = 0`, [feedUrl, key]);
      await c.query(`UPDATE feed_items SET status = 'failed' WHERE feed_url = $1 AND item_key = $2 AND status = 'claimed'`, [feedUrl, key]);
    });
  }

  async recordItem(
    feedUrl: string,
    key: string,
    link: string | null,
    status: ItemStatus,
    articlePath: string | null,
    now = Date.now(),
  ): Promise<void> {
    await withTransaction(this.pool, async (c) => {
      await c.query(
        `INSERT INTO feed_items (feed_url, item_key, link, status, article_path, seen_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (feed_url, item_key) DO UPDATE SET status = excluded.status, article_path = excluded.article_path,
           attempts = feed_items.attempts + 1, seen_at = excluded.seen_at`,
        [feedUrl, key, link, status, articlePath, now],
      );
      if (status === 'added') await c.query('UPDATE feeds SET articles = articles + 1 WHERE url = $1', [feedUrl]);
    });
  }

  async close(): Promise<void> {}
}
