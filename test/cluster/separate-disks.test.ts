/**
 * Nothing on one machine's disk: two `npm start` replicas in webhook mode, each with its own
 * STATE_DIR, INDEX_DIR and its own copy of the articles folder (as on two machines without a shared
 * mount), one PostgreSQL database, the Bot API emulator and a news site with a feed on 127.0.0.1:
 * - an `/add` on A, then a `/reindex` on B (whose folder never had A's article) leaves the article
 *   answered by both;
 * - `/follow` on A and a new feed item give one alert, sent once, although both replicas poll;
 * - `/remove` on B removes it for both.
 * Then the embedded mode's rule, with one process and no database: a folder sync (`npm run index`
 * over a folder replaced by a fresh copy) after an `/add` keeps the article.
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BRIDGE_HTML, CLUSTER_ARTICLES, Cluster, type Replica, until } from '../support/cluster.js';
import { FeedSite, type StoryItem, storyText } from '../support/feed-server.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { tempDir, writeFiles } from '../support/stack.js';
import { TelegramHarness, textOf } from '../support/telegram.js';

const ADMIN = 9200;
const FOLDER = CLUSTER_ARTICLES;
const BRIDGE_ID = 'fjord-link-bridge-opens-in-nordby';
const BRIDGE_QUESTION = 'When did the Fjord Link bridge in Nordby open?';

let h: TelegramHarness;
let db: TestDatabase;
let root: string;
let site: FeedSite;
let cluster: Cluster;
let a: Replica;
let b: Replica;
const items: StoryItem[] = [];

/** Asks through `replica` (in a chat of its own) and resolves with the answer's text. */
async function askVia(replica: Replica, chatId: number, question: string, through: Cluster = cluster): Promise<string> {
  through.target = replica;
  const chat = h.privateChat(chatId);
  await chat.send(question);
  const reply = await chat.waitFor((m) => !m.text.startsWith('…') && !/^Searching/.test(m.text), 30_000, 'an answer');
  return textOf(reply);
}

beforeAll(async () => {
  root = tempDir('separate-disks-');
  for (const name of ['a', 'b']) writeFiles(path.join(root, `articles-${name}`), FOLDER);
  db = await createTestDatabase();
  h = await TelegramHarness.forProcesses();
  site = await FeedSite.start();
  site.route('/bridge', (_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(BRIDGE_HTML));
  items.push({
    guid: 'old-1',
    title: 'Harbour museum extends opening hours',
    date: '2024-07-01T08:00:00Z',
    path: '/old-1',
    content: storyText('The harbour museum will stay open until nine in the evening on Thursdays this summer.'),
  });
  site.rss('/news.xml', 'Fjord Times', items);
  cluster = new Cluster(root, h, { DATABASE_URL: db.url });
  await cluster.startBalancer();
  const replica = (name: string) =>
    cluster.startReplica(
      name,
      {
        ARTICLES_DIR: path.join(root, `articles-${name}`),
        INDEX_DIR: path.join(root, `index-${name}`),
        FEED_URLS: site.url('/news.xml'),
        FEED_POLL_MINUTES: '1',
      },
      ADMIN,
    );
  // One at a time: the first builds the shared index, the second finds it.
  a = await replica('a');
  b = await replica('b');
}, 240_000);

afterAll(async () => {
  await cluster?.stop();
  await site?.stop();
  await h?.stop();
  await db?.drop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('two replicas with separate disks, one database', () => {
  it('an /add on A, then a /reindex on B, leaves the article answered by both', { timeout: 120_000 }, async () => {
    const admin = h.privateChat(ADMIN, 'Ann');
    cluster.target = a;
    await admin.send(`/add ${site.url('/bridge')}`);
    await admin.waitFor((m) => textOf(m).startsWith('Added'), 60_000, 'the /add confirmation');
    // B's folder never had the article: before, B's reindex removed it ("removed 1").
    expect(fs.readdirSync(path.join(root, 'articles-b')).sort()).toEqual(['chess.md', 'ferry.md']);
    cluster.target = b;
    admin.skipSeen();
    await admin.send('/reindex');
    await admin.waitFor((m) => textOf(m) === 'Reindex finished.', 60_000, 'the reindex on B');
    const reindexed = await until(() => b.events().find((e) => e.event === 'bot.reindexed'), 5000, 'B to log its reindex');
    expect(reindexed).toMatchObject({ removed: 0 });
    await until(
      async () => (await askVia(a, 6001 + Math.floor(Math.random() * 1000), BRIDGE_QUESTION)).includes('Fjord Link bridge opens'),
      15_000,
      'A to answer',
    );
    expect(await askVia(b, 7001, BRIDGE_QUESTION)).toContain('Fjord Link bridge opens in Nordby');
    // Stored once, in the database, with who added it.
    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    try {
      const { rows } = await sql.query('SELECT path, origin, added_by FROM article_sources WHERE origin = $1', ['chat']);
      expect(rows).toEqual([{ path: `${BRIDGE_ID}.md`, origin: 'chat', added_by: `Ann (${ADMIN})` }]);
    } finally {
      await sql.end();
    }
  });

  it('/follow on A and a new feed item give one alert, sent once, although both replicas poll', { timeout: 180_000 }, async () => {
    cluster.target = a;
    const reader = h.privateChat(7101);
    await reader.send('/follow ferry crews strike');
    await reader.waitFor((m) => /Following “ferry crews strike”/.test(textOf(m)), 30_000, 'the follow');
    items.unshift({
      guid: 'strike-1',
      title: 'Ferry crews strike over night shifts in Bergen',
      date: '2024-07-10T08:00:00Z',
      path: '/strike-1',
      content: storyText(
        'Ferry crews in Bergen went on strike on Wednesday over the new night shift rota, stopping every harbour crossing.',
      ),
    });
    // The next scheduled poll (FEED_POLL_MINUTES=1, looked for every 30 s by each replica) imports it.
    const alert = await reader.waitFor((m) => textOf(m).startsWith('🔔'), 150_000, 'the alert');
    expect(textOf(alert)).toContain('Ferry crews strike over night shifts in Bergen');
    await new Promise((r) => setTimeout(r, 3000));
    expect(reader.messages.filter((m) => textOf(m).startsWith('🔔'))).toHaveLength(1);
    // Both replicas ran their poll loop; the item became one article.
    for (const r of [a, b])
      expect(
        r.events().some((e) => e.event === 'feeds.polled'),
        r.name,
      ).toBe(true);
    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    try {
      const sources = await sql.query<{ path: string }>(`SELECT path FROM article_sources WHERE origin = 'feed' ORDER BY path`);
      expect(sources.rows.map((r) => r.path)).toEqual([
        'feeds/ferry-crews-strike-over-night-shifts-in-bergen.md',
        'feeds/harbour-museum-extends-opening-hours.md',
      ]);
      const outbox = await sql.query<{ status: string }>('SELECT status FROM alert_outbox WHERE chat_id = $1', [7101]);
      expect(outbox.rows).toEqual([{ status: 'sent' }]);
    } finally {
      await sql.end();
    }
  });

  it('/remove on B removes the article for both', { timeout: 90_000 }, async () => {
    const admin = h.privateChat(ADMIN, 'Ann');
    cluster.target = b;
    admin.skipSeen();
    await admin.send(`/remove ${BRIDGE_ID}`);
    await admin.waitFor((m) => textOf(m).startsWith(`Removed ${BRIDGE_ID}`), 60_000, 'the removal');
    expect(await askVia(b, 7201, BRIDGE_QUESTION)).toMatch(/^The articles I have don't cover this/);
    await until(
      async () => /^The articles I have don't cover this/.test(await askVia(a, 7300 + Math.floor(Math.random() * 600), BRIDGE_QUESTION)),
      15_000,
      'A to stop answering from it',
    );
    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    try {
      expect((await sql.query(`SELECT 1 FROM article_sources WHERE origin = 'chat'`)).rowCount).toBe(0);
    } finally {
      await sql.end();
    }
  });
});

describe('one process, embedded mode', () => {
  it('a folder sync after an /add keeps the article', { timeout: 180_000 }, async () => {
    const embedded = new Cluster(root, h, {});
    await embedded.startBalancer();
    const dirs = {
      ARTICLES_DIR: path.join(root, 'articles-solo'),
      INDEX_DIR: path.join(root, 'index-solo'),
      STATE_DIR: path.join(root, 'state-solo'),
    };
    writeFiles(dirs.ARTICLES_DIR, FOLDER);
    try {
      const solo = await embedded.startReplica('solo', dirs, ADMIN);
      embedded.target = solo;
      const admin = h.privateChat(ADMIN, 'Ann');
      admin.skipSeen();
      await admin.send(`/add ${site.url('/bridge')}`);
      await admin.waitFor((m) => textOf(m).startsWith('Added'), 60_000, 'the /add confirmation');
      // The folder is replaced by a fresh copy of where it comes from, then synced by another process.
      fs.rmSync(dirs.ARTICLES_DIR, { recursive: true });
      writeFiles(dirs.ARTICLES_DIR, FOLDER);
      // With the replica's chunk size, so the sync patches its index instead of rebuilding it.
      const index = await embedded.run('index', ['index'], { ...dirs, CHUNK_MAX_TOKENS: '96' });
      expect(index.code, index.output).toBe(0);
      expect(index.output).toMatch(/0 added, 0 changed, 0 removed, 3 unchanged/);
      expect(await askVia(solo, 7401, BRIDGE_QUESTION, embedded)).toContain('Fjord Link bridge opens in Nordby');
    } finally {
      await embedded.stop();
    }
  });
});
