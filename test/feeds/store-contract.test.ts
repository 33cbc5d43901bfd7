/**
 * The feeds' state behind `FeedStore`, one suite for every implementation (SQLite for one machine,
 * PostgreSQL for replicas), as storage adapter kits do: a backend added later runs the same cases.
 * "Two processes" are two stores over one state folder (SQLite) or two pools on one database
 * (PostgreSQL), as the bot and a cron run, or two replicas, see it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type FeedStore, PgFeedStore, SqliteFeedStore } from '../../src/feeds/index.js';
import { migratedDatabase } from '../support/postgres.js';
import { tempDir } from '../support/stack.js';

const database = migratedDatabase();
const newPool = () => database.pool();
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Two processes' views of one fresh, empty feeds state (FEED_URLS = `configured`). */
interface Backend {
  name: string;
  open(configured: readonly string[]): Promise<[FeedStore, FeedStore]>;
}

const backends: Backend[] = [
  {
    name: 'SQLite',
    open: async (configured) => {
      const dir = tempDir('feeds-contract-');
      dirs.push(dir);
      return [SqliteFeedStore.open(dir, configured), SqliteFeedStore.open(dir, configured)];
    },
  },
  {
    name: 'PostgreSQL',
    open: async (configured) => {
      const admin = newPool();
      await admin.query('TRUNCATE feeds, feed_items');
      return [await PgFeedStore.open(newPool(), configured), await PgFeedStore.open(newPool(), configured)];
    },
  },
];

const FEED = 'https://news.example/feed.xml';
const T0 = 1_700_000_000_000;

describe.each(backends)('FeedStore on $name', (backend) => {
  it('keeps chat feeds, follows FEED_URLS for config feeds, and removes only chat feeds', async () => {
    const [a, b] = await backend.open(['https://a.example/feed']);
    expect(await a.add('https://b.example/feed', T0)).toBe(true);
    expect(await b.add('https://b.example/feed', T0 + 1)).toBe(false);
    await b.syncConfigured(['https://c.example/feed'], T0 + 2);
    expect((await a.list()).map((f) => [f.url, f.origin])).toEqual([
      ['https://b.example/feed', 'chat'],
      ['https://c.example/feed', 'config'],
    ]);
    expect(await a.remove('https://c.example/feed')).toBe(false);
    expect(await b.remove('https://b.example/feed')).toBe(true);
    expect(await a.get('https://b.example/feed')).toBeNull();
    // A chat feed later put in FEED_URLS becomes a config feed.
    await a.add('https://d.example/feed', T0 + 3);
    await a.syncConfigured(['https://c.example/feed', 'https://d.example/feed'], T0 + 4);
    expect((await b.get('https://d.example/feed'))?.origin).toBe('config');
  });

  it('records polls: validators and schedule on success, a failure reported once until the feed works again', async () => {
    const [a, b] = await backend.open([FEED]);
    await a.recordSuccess(FEED, {
      title: 'News',
      etag: '"v1"',
      lastModified: 'Mon, 01 Jul 2024 08:00:00 GMT',
      nextPollAt: T0 + 900,
      now: T0,
    });
    expect(await b.get(FEED)).toMatchObject({
      title: 'News',
      etag: '"v1"',
      lastModified: 'Mon, 01 Jul 2024 08:00:00 GMT',
      lastCheckedAt: T0,
      lastOkAt: T0,
      nextPollAt: T0 + 900,
      failures: 0,
      lastError: null,
    });
    expect(await a.recordFailure(FEED, 'HTTP 500', T0 + 2000, T0 + 1000)).toBe(true);
    expect(await b.recordFailure(FEED, 'HTTP 502', T0 + 4000, T0 + 3000)).toBe(false);
    expect(await a.get(FEED)).toMatchObject({ failures: 2, lastError: 'HTTP 502', nextPollAt: T0 + 4000, title: 'News', etag: '"v1"' });
    await b.recordSuccess(FEED, { nextPollAt: T0 + 9000, now: T0 + 5000 });
    expect(await a.recordFailure(FEED, 'timeout', T0 + 7000, T0 + 6000)).toBe(true);
    expect(await a.recordFailure('https://unknown.example/feed', 'x', T0, T0)).toBe(false);
  });

  it('leases a feed to one process at a time; a due-only lease fails once another process polled it', async () => {
    const [a, b] = await backend.open([FEED]);
    expect(await a.lease(FEED, 'A', 60_000, T0)).toBe(true);
    expect(await b.lease(FEED, 'B', 60_000, T0 + 1)).toBe(false);
    // The holder may renew; an expired lease is taken over (its holder died mid-poll).
    expect(await a.lease(FEED, 'A', 60_000, T0 + 2)).toBe(true);
    expect(await b.lease(FEED, 'B', 60_000, T0 + 60_003)).toBe(true);
    await a.releaseLease(FEED, 'A');
    expect(await a.lease(FEED, 'A', 60_000, T0 + 60_004)).toBe(false);
    await b.recordSuccess(FEED, { nextPollAt: T0 + 120_000, now: T0 + 60_005 });
    await b.releaseLease(FEED, 'B');
    // A scheduled poll that read the list before B's poll finished finds the feed no longer due.
    expect(await a.lease(FEED, 'A', 60_000, T0 + 60_006, T0 + 60_006)).toBe(false);
    expect(await a.lease(FEED, 'A', 100_000, T0 + 60_007)).toBe(true);
    expect(await b.lease(FEED, 'B', 60_000, T0 + 130_000, T0 + 130_000)).toBe(false);
    await a.releaseLease(FEED, 'A');
    expect(await b.lease(FEED, 'B', 60_000, T0 + 130_001, T0 + 130_001)).toBe(true);
  });

  it('lets one of two processes claim a new item, by guid or by link across feeds', async () => {
    const [a, b] = await backend.open([FEED, 'https://other.example/rss']);
    const claims = await Promise.all([
      a.claimItem(FEED, 'guid-1', 'https://news.example/1', T0),
      b.claimItem(FEED, 'guid-1', 'https://news.example/1', T0),
    ]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    // The same story linked from another feed is not taken while claimed, nor once added.
    expect(await b.claimItem('https://other.example/rss', 'other-guid', 'https://news.example/1', T0 + 1)).toBe(false);
    await a.recordItem(FEED, 'guid-1', 'https://news.example/1', 'added', 'feeds/one.md', T0 + 2);
    expect(await b.claimItem('https://other.example/rss', 'other-guid', 'https://news.example/1', T0 + 3)).toBe(false);
    expect(await b.claimItem(FEED, 'guid-1', 'https://news.example/1', T0 + 3)).toBe(false);
    expect((await a.get(FEED))?.articles).toBe(1);
  });

  it('gives a released item back, retries failed ones a few times, and takes over a stale claim', async () => {
    const [a, b] = await backend.open([FEED]);
    expect(await a.claimItem(FEED, 'g2', null, T0)).toBe(true);
    await a.releaseItem(FEED, 'g2');
    expect(await b.claimItem(FEED, 'g2', null, T0 + 1)).toBe(true);
    await b.recordItem(FEED, 'g2', null, 'failed', null, T0 + 2);
    expect(await a.claimItem(FEED, 'g2', null, T0 + 3)).toBe(true);
    await a.recordItem(FEED, 'g2', null, 'failed', null, T0 + 4);
    expect(await a.claimItem(FEED, 'g2', null, T0 + 5)).toBe(true);
    await a.recordItem(FEED, 'g2', null, 'failed', null, T0 + 6);
    // Three failures: given up.
    expect(await b.claimItem(FEED, 'g2', null, T0 + 7)).toBe(false);
    // A claim whose poller died is free again after the claim TTL (10 minutes).
    expect(await a.claimItem(FEED, 'g3', 'https://news.example/3', T0)).toBe(true);
    expect(await b.claimItem(FEED, 'g3', 'https://news.example/3', T0 + 60_000)).toBe(false);
    expect(await b.claimItem(FEED, 'g3', 'https://news.example/3', T0 + 11 * 60_000)).toBe(true);
  });
});

describe('FeedStore upgrades in place', () => {
  it('adds the lease columns to a feeds.sqlite written before leases, keeping its feeds', async () => {
    const dir = tempDir('feeds-old-');
    dirs.push(dir);
    const { default: Database } = await import('better-sqlite3');
    const old = new Database(path.join(dir, 'feeds.sqlite'));
    old.exec(`CREATE TABLE feeds (url TEXT PRIMARY KEY, origin TEXT NOT NULL, added_at INTEGER NOT NULL, title TEXT, etag TEXT,
      last_modified TEXT, last_checked_at INTEGER, last_ok_at INTEGER, next_poll_at INTEGER NOT NULL DEFAULT 0,
      failures INTEGER NOT NULL DEFAULT 0, last_error TEXT, error_reported INTEGER NOT NULL DEFAULT 0, articles INTEGER NOT NULL DEFAULT 0);
      INSERT INTO feeds (url, origin, added_at, articles) VALUES ('https://kept.example/feed', 'chat', 1, 7);`);
    old.close();
    const store = SqliteFeedStore.open(dir, []);
    expect(await store.get('https://kept.example/feed')).toMatchObject({ origin: 'chat', articles: 7 });
    expect(await store.lease('https://kept.example/feed', 'A', 1000, T0)).toBe(true);
    await store.close();
  });
});
